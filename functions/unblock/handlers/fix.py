"""FixFunction: ApplyFixes and ApplyApprovedFixes, each followed by its verification.

The one function that may change the platform. It applies (or, where a guardrail holds,
proposes) the fixes, each audited and idempotent per case and fix, then in the same
invocation runs the three checks again and probes the gateway: only a verified fix closes a
case as auto_fixed. A fix held for staff is not verified (nothing changed yet).
"""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from unblock import composition
from unblock.observability import logger, metrics
from unblock.workflow import states as steps
from unblock.workflow.models import FixStep, HeldFix, Remedy, Verification


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@event_parser(model=FixStep)
def handler(event: FixStep, context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(case_id=event.case.case_id, team_id=event.case.team_id)
    platform, cases, clock = composition.platform(), composition.cases(), composition.clock()
    records = steps.apply_case_fixes(platform, cases, cases, clock, event.case.case_id, event.fixes,
                                     composition.fix_policy(), event.actor, event.approved)
    for r in records:
        logger.info("fix", extra={"fix": r.fix, "status": r.status, "actor": r.actor})
    metrics.add_metric(name="FixesApplied", unit=MetricUnit.Count, value=sum(r.status == "applied" for r in records))
    remedy = Remedy(applied=[r.fix for r in records if r.status in ("applied", "already_done")],
                    held=[HeldFix(fix=r.fix, status=r.status, reason=r.reason)
                          for r in records if r.status in ("proposed", "refused")])
    remedy.needs_staff = bool(remedy.held)
    if not remedy.needs_staff:
        outcome, reason, after, probe = steps.verify_case(platform, cases, clock, event.case.case_id)
        logger.info("verified", extra={"outcome": outcome, "probe_status": probe.status})
        metrics.add_metric(name="Verifications", unit=MetricUnit.Count, value=1)
        remedy.verification = Verification(outcome=outcome, reason=reason, probe_status=probe.status,
                                           codes=[f.code for f in after])
    return remedy.model_dump(mode="json")

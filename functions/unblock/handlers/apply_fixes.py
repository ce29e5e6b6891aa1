"""ApplyFixes: apply (or propose) the safe fixes, each audited and idempotent per case and fix."""

from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from unblock import composition
from unblock.observability import logger, metrics, tracer
from unblock.workflow import states as steps
from unblock.workflow.models import ApplyFixesInput


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=ApplyFixesInput)
def handler(event: ApplyFixesInput, context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(case_id=event.case.case_id, team_id=event.case.team_id)
    cases = composition.cases()  # the case store keeps the fix ledger too
    records = steps.apply_case_fixes(composition.platform(), cases, cases, composition.clock(), event.case.case_id,
                                     event.fixes, composition.fix_policy(), event.actor, event.approved)
    held = [r for r in records if r.status in ("proposed", "refused")]
    for r in records:
        logger.info("fix", extra={"fix": r.fix, "status": r.status, "actor": r.actor})
    metrics.add_metric(name="FixesApplied", unit="Count", value=sum(r.status == "applied" for r in records))
    return {
        "applied": [r.fix for r in records if r.status in ("applied", "already_done")],
        "held": [{"fix": r.fix, "status": r.status, "reason": r.reason} for r in held],
        "needs_staff": bool(held),
    }

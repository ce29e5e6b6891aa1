"""FixFunction: ApplyFixes and ApplyApprovedFixes, each followed by its verification
(workflow/remedies.py). The one function that may change the platform."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from unblock import composition
from unblock.observability import logger, metrics
from unblock.workflow import remedies
from unblock.workflow.models import FixStep


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@event_parser(model=FixStep)
def handler(event: FixStep, context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(case_id=event.case.case_id, team_id=event.case.team_id)
    cases = composition.cases()
    done = remedies.fix_and_verify(composition.platform(), cases, cases, composition.clock(), event.case.case_id,
                                   event.fixes, composition.fix_policy(event.case.mode), event.actor, event.approved)
    for r in done.records:
        logger.info("fix", extra={"fix": r.fix, "status": r.status, "actor": r.actor})
    metrics.add_metric(name="FixesApplied", unit=MetricUnit.Count,
                       value=sum(r.status == "applied" for r in done.records))
    if done.probe is not None and done.remedy.verification is not None:
        logger.info("verified", extra={"outcome": done.remedy.verification.outcome, "probe_status": done.probe.status})
        metrics.add_metric(name="Verifications", unit=MetricUnit.Count, value=1)
    return done.remedy.model_dump(mode="json")

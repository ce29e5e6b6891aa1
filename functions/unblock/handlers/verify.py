"""Verify: the checks again plus a probe; only a verified fix closes a case as auto_fixed."""

from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from unblock import composition
from unblock.observability import logger, metrics, tracer
from unblock.workflow import states as steps
from unblock.workflow.models import CheckInput


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=CheckInput)
def handler(event: CheckInput, context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(case_id=event.case.case_id, team_id=event.case.team_id)
    outcome, reason, after, probe = steps.verify_case(composition.platform(), composition.cases(), composition.clock(),
                                                      event.case.case_id)
    logger.info("verified", extra={"outcome": outcome, "probe_status": probe.status})
    metrics.add_dimension(name="outcome", value=outcome)
    metrics.add_metric(name="Verifications", unit="Count", value=1)
    return {"outcome": outcome, "reason": reason, "probe_status": probe.status,
            "codes": [f.code for f in after]}

"""CheckBilling, CheckKey, CheckRestrictions: one finding each (three handlers, one module)."""

from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from unblock import composition
from unblock.observability import logger, metrics, tracer
from unblock.workflow import states as steps
from unblock.workflow.models import CheckInput


def _run(check: str, event: CheckInput) -> dict[str, Any]:
    case = event.case
    logger.append_keys(case_id=case.case_id, team_id=case.team_id)
    finding = steps.run_check(composition.platform(), composition.clock(), check, str(case.team_id), case.key_prefix)
    logger.info("check done", extra={"check": check, "code": finding.code, "disposition": finding.disposition})
    metrics.add_dimension(name="code", value=finding.code)
    metrics.add_metric(name="Findings", unit="Count", value=1)
    return finding.model_dump(mode="json")


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=CheckInput)
def billing(event: CheckInput, context: LambdaContext) -> dict[str, Any]:
    return _run("billing", event)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=CheckInput)
def key(event: CheckInput, context: LambdaContext) -> dict[str, Any]:
    return _run("key", event)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=CheckInput)
def restrictions(event: CheckInput, context: LambdaContext) -> dict[str, Any]:
    return _run("restrictions", event)

"""OpenCase: identify the team from the redacted report and open the case (idempotent)."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from unblock import composition
from unblock.observability import logger, metrics, tracer
from unblock.workflow import states as steps
from unblock.workflow.models import CaseRef, OpenCaseInput


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=OpenCaseInput)
def handler(event: OpenCaseInput, context: LambdaContext) -> dict[str, Any]:
    case = steps.open_case(composition.platform(), composition.cases(), composition.clock(), event.report,
                           execution_arn=event.execution_arn)
    logger.append_keys(case_id=case.case_id, team_id=case.team_id)
    logger.info("case opened", extra={"source": case.report.source, "team_identified": case.team_id is not None})
    metrics.add_metric(name="CasesOpened", unit=MetricUnit.Count, value=1)
    return CaseRef(case_id=case.case_id, team_id=case.team_id, key_prefix=case.key_prefix).model_dump()

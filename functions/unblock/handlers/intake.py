"""Intake for ticket events (EventBridge rule) and staff starts: validate, redact, start the workflow.

Nothing unredacted passes this point: the execution input (kept by AWS in its history)
is the redacted Report.
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from unblock import runtime
from unblock.intake.events import TicketEvent
from unblock.models import Report
from unblock.observability import logger, metrics, tracer
from unblock.reports import report_from_ticket
from unblock.staff import execution_name


def start_workflow(report: Report) -> dict[str, Any]:
    import json
    import os

    sfn = runtime.stepfunctions()
    name = execution_name(report.case_id)
    try:
        arn = sfn.start_execution(stateMachineArn=os.environ["STATE_MACHINE_ARN"], name=name,
                                  input=json.dumps({"report": report.model_dump(mode="json")}))["executionArn"]
        started = True
    except sfn.exceptions.ExecutionAlreadyExists:  # a redelivered ticket: one case, one execution
        arn = os.environ["STATE_MACHINE_ARN"].replace(":stateMachine:", ":execution:") + ":" + name
        started = False
    return {"case_id": report.case_id, "execution_arn": arn, "started": started}


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if "report" in event:  # a staff start: the StartExecution input itself
        report = Report.model_validate(event["report"])
    else:
        ticket = TicketEvent.model_validate(event)
        report = report_from_ticket(ticket, runtime.clock().now())
    logger.append_keys(case_id=report.case_id)
    result = start_workflow(report)
    logger.info("workflow started" if result["started"] else "duplicate delivery", extra={"source": report.source})
    metrics.add_metric(name="TicketsReceived", unit="Count", value=1)
    return result

"""Decide: the next step from the three findings (DESIGN.md "Decision")."""

from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from unblock import composition
from unblock.observability import logger, metrics, tracer
from unblock.workflow import incidents
from unblock.workflow import states as steps
from unblock.workflow.models import DecideInput


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=DecideInput)
def handler(event: DecideInput, context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(case_id=event.case.case_id, team_id=event.case.team_id)
    f = event.findings
    plan = steps.decide_case(composition.platform(), composition.cases(), composition.clock(), event.case.case_id,
                             [f.billing, f.key, f.restrictions])
    incidents.track(composition.incidents(), composition.staff_alerts(), composition.clock(), event.case.case_id,
                    event.case.team_id, [f.billing, f.key, f.restrictions], composition.console_url())
    logger.info("decided", extra={"action": plan.action, "fixes": plan.fixes})
    metrics.add_dimension(name="action", value=plan.action)
    metrics.add_metric(name="Decisions", unit="Count", value=1)
    return plan.model_dump(mode="json")

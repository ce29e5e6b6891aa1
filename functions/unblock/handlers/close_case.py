"""CloseCase: set the outcome, compose the reply, close (or wait for the customer)."""

from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from unblock import composition
from unblock.domain.models import Outcome
from unblock.observability import logger, metrics, tracer
from unblock.workflow import states as steps
from unblock.workflow.models import StateInput


def outcome_of(state: dict[str, Any]) -> tuple[Outcome, str | None]:
    """The outcome from the path the execution took."""
    staff = state.get("staff") or {}
    decision = staff.get("decision")
    if decision in ("resolve", "reject", "timed_out"):
        # the re-check resolves with its own reason (checks_pass, stale); staff with "resolved"
        default = {"resolve": "resolved", "reject": "rejected"}.get(decision, decision)
        return "escalated", staff.get("resolution") or default
    if not (state.get("case") or {}).get("team_id"):
        return "needs_info", None
    if "verification" in state:
        outcome: Outcome = state["verification"]["outcome"]
        return outcome, "approved" if decision == "approve" else "verified"
    action = state.get("plan", {}).get("action")
    if action in ("customer_action", "already_working", "needs_info"):
        return action, None
    return "escalated", None


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=StateInput)
def handler(event: StateInput, context: LambdaContext) -> dict[str, Any]:
    case_id = event.case_id()
    logger.append_keys(case_id=case_id)
    outcome, resolution = outcome_of(event.state)
    case = steps.close_case(composition.cases(), composition.clock(), case_id, outcome, resolution)
    steps.send_reply(composition.outbox(), case)
    logger.info("case closed", extra={"outcome": outcome, "status": case.status, "resolution": resolution})
    metrics.add_dimension(name="outcome", value=outcome)
    metrics.add_metric(name="CasesClosed", unit="Count", value=1)
    return {"case_id": case_id, "outcome": outcome, "status": case.status, "resolution": resolution}

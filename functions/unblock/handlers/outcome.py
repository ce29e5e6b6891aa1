"""OutcomeFunction: Escalate (and Failed) and CloseCase.

The function that writes the case's outcome and queues what follows from it: the evidence
bundle on the human queue and the staff alert (Escalate, invoked with
`lambda:invoke.waitForTaskToken`: the execution waits until staff decide, which resumes it
with SendTaskSuccess or SendTaskFailure), the customer's reply on the outbox (CloseCase).
It never reads or changes the platform.
"""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from unblock import composition
from unblock.domain.models import Outcome
from unblock.domain.staff_alerts import alert_for
from unblock.observability import logger, metrics
from unblock.workflow import states as steps
from unblock.workflow.models import CloseStep, EscalateStep, ExecutionState, OutcomeInput


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@event_parser(model=OutcomeInput)  # a discriminated union: pydantic picks the model by `step`
def handler(event: EscalateStep | CloseStep, context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(case_id=event.state.case_id())
    if isinstance(event, EscalateStep):
        return escalate(event.state, event.task_token)
    return close(event.state)


def escalation_reason(state: ExecutionState) -> str:
    """Why the case waits for staff, from the path the execution took."""
    if state.error:
        return f"A step failed after retries ({state.error.get('Error')}); partial evidence attached."
    if state.remedy and state.remedy.needs_staff:
        return "Fixes need staff approval: " + "; ".join(f"{h.fix} ({h.status}: {h.reason})" for h in state.remedy.held)
    if state.remedy and state.remedy.verification and state.remedy.verification.outcome == "escalated":
        return state.remedy.verification.reason
    plan = state.plan()
    return plan.reason if plan else "Needs a person."


def escalate(state: ExecutionState, task_token: str) -> dict[str, Any]:
    case_id = state.case_id()
    case = steps.escalate_case(composition.cases(), composition.human_queue(), composition.clock(), case_id,
                               escalation_reason(state), task_token, report=state.report,
                               partial=state.findings())
    if (state.staff_error or {}).get("Error") != "States.HeartbeatTimeout":
        steps.send_reply(composition.outbox(), case)  # queued for staff again after a lapsed wait: nothing new to say
    composition.staff_alerts().publish(alert_for(case, "escalated", composition.console_url()))
    logger.info("escalated", extra={"priority": case.priority,
                                    "reason": case.escalation.reason if case.escalation else None})
    metrics.add_metric(name="Escalations", unit=MetricUnit.Count, value=1)
    return {"case_id": case_id, "status": case.status}


def outcome_of(state: ExecutionState) -> tuple[Outcome, str | None]:
    """The outcome from the path the execution took."""
    decision = state.staff.decision if state.staff else None
    if decision in ("resolve", "reject", "timed_out"):
        # the re-check resolves with its own reason (checks_pass, stale); staff with "resolved"
        default = {"resolve": "resolved", "reject": "rejected"}.get(str(decision), str(decision))
        return "escalated", (state.staff.resolution if state.staff else None) or default
    if not (state.case and state.case.team_id):
        return "needs_info", None
    if state.remedy and state.remedy.verification:
        return state.remedy.verification.outcome, "approved" if decision == "approve" else "verified"
    plan = state.plan()
    if plan and plan.action in ("customer_action", "already_working", "needs_info"):
        return plan.action, None
    return "escalated", None


def close(state: ExecutionState) -> dict[str, Any]:
    case_id = state.case_id()
    outcome, resolution = outcome_of(state)
    case = steps.close_case(composition.cases(), composition.clock(), case_id, outcome, resolution)
    outcome = case.outcome or outcome  # a case with no team may be answered by its signals alone
    steps.send_reply(composition.outbox(), case)
    logger.info("case closed", extra={"outcome": outcome, "status": case.status, "resolution": resolution})
    metrics.add_dimension(name="outcome", value=outcome)
    metrics.add_metric(name="CasesClosed", unit=MetricUnit.Count, value=1)
    return {"case_id": case_id, "outcome": outcome, "status": case.status, "resolution": resolution}

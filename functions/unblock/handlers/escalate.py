"""Escalate: record the case as awaiting staff with its task token, queue the evidence bundle.

Invoked with `lambda:invoke.waitForTaskToken`: the execution then waits until staff decide
(`unblock decide`), which resumes it with SendTaskSuccess (approve, resolve) or
SendTaskFailure (reject).
"""

from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from unblock import composition
from unblock.domain.models import CHECKS, Finding
from unblock.domain.staff_alerts import alert_for
from unblock.observability import logger, metrics, tracer
from unblock.workflow import states as steps
from unblock.workflow.models import StateInput


def _reason(state: dict[str, Any]) -> str:
    if "error" in state:
        err = state["error"]
        return f"A step failed after retries ({err.get('Error')}); partial evidence attached."
    if state.get("applied", {}).get("needs_staff"):
        held = state["applied"]["held"]
        return "Fixes need staff approval: " + "; ".join(f"{h['fix']} ({h['status']}: {h['reason']})" for h in held)
    if "verification" in state and state["verification"].get("outcome") == "escalated":
        return str(state["verification"]["reason"])
    return str(state.get("plan", {}).get("reason", "Needs a person."))


def _partial_findings(state: dict[str, Any]) -> list[Finding]:
    """Findings gathered before a failure (a check that never ran is not evidence)."""
    return [Finding.model_validate(state[c]) for c in CHECKS if isinstance(state.get(c), dict) and "code" in state[c]]


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=StateInput)
def handler(event: StateInput, context: LambdaContext) -> dict[str, Any]:
    case_id = event.case_id()
    logger.append_keys(case_id=case_id)
    case = steps.escalate_case(composition.cases(), composition.human_queue(), composition.clock(), case_id,
                               _reason(event.state), str(event.task_token), report=event.state.get("report"),
                               partial=_partial_findings(event.state))
    reason = case.escalation.reason if case.escalation else None
    if (event.state.get("staff_error") or {}).get("Error") != "States.HeartbeatTimeout":
        steps.send_reply(composition.outbox(), case)  # queued for staff again after a lapsed wait: nothing new to say
    composition.staff_alerts().publish(alert_for(case, "escalated", composition.console_url()))
    logger.info("escalated", extra={"priority": case.priority, "reason": reason})
    metrics.add_metric(name="Escalations", unit="Count", value=1)
    return {"case_id": case_id, "status": case.status}

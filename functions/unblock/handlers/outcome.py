"""OutcomeFunction: Escalate (and Failed) and CloseCase (workflow/outcomes.py).

Escalate is invoked with `lambda:invoke.waitForTaskToken`: the execution waits until staff
decide, which resumes it with SendTaskSuccess or SendTaskFailure. It never reads or changes
the platform.
"""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from unblock import composition
from unblock.domain.cases import Case
from unblock.observability import logger, metrics
from unblock.workflow import causes, conversations, outcomes, policies, proactive
from unblock.workflow.models import CloseStep, EscalateStep, OutcomeInput


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@event_parser(model=OutcomeInput)  # a discriminated union: pydantic picks the model by `step`
def handler(event: EscalateStep | CloseStep, context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(case_id=event.state.case_id())
    if isinstance(event, EscalateStep):
        return escalate(event)
    return close(event)


def escalate(event: EscalateStep) -> dict[str, Any]:
    case = outcomes.escalate(event.state, event.task_token, cases=composition.cases(),
                             queue=composition.human_queue(), outbox=composition.outbox(),
                             alerts=composition.staff_alerts(), clock=composition.clock(),
                             console_url=composition.console_url(), policies=consult_policies)
    take_in_follow_ups(case.case_id)
    logger.info("escalated", extra={"priority": case.priority,
                                    "reason": case.escalation.reason if case.escalation else None})
    metrics.add_metric(name="Escalations", unit=MetricUnit.Count, value=1)
    return {"case_id": case.case_id, "status": case.status}


def consult_policies(case: Case, failed: bool) -> bool:
    """A live standing policy of the case's cause may approve its proposal now (docs/causes.md)."""
    try:
        stack_mode = composition.mode()
    except Exception:  # noqa: BLE001 - the mode cannot be read: no policy acts, staff decide
        logger.exception("stack mode not read: standing policies not consulted")
        return False
    return policies.consult(composition.policies(), composition.cases(), composition.workflow(),
                            composition.cases(), composition.clock(), case,
                            lift_cap=composition.fix_policy(stack_mode).max_auto_lifts_per_hour, stack_mode=stack_mode,
                            failed=failed) is not None


def take_in_follow_ups(case_id: str) -> None:
    """The follow-ups that came while this run ran, taken in now that it settled the case (the case
    runs again if its new state says so). Never fails the step: the re-check takes in whatever is
    left over (the outcome and the reply are written already)."""
    try:
        taken = conversations.drain(composition.cases(), composition.workflow(), composition.clock(), case_id)
    except Exception:  # noqa: BLE001 - the run's outcome stands; the re-check drains later
        logger.exception("follow-ups not taken in; the re-check will")
        return
    if taken is not None:
        logger.info("follow-ups taken in after the run", extra={"action": taken.action})


def close(event: CloseStep) -> dict[str, Any]:
    if event.state.staff is not None and event.state.staff.decision == "requester":
        # a verified requester's ticket joined the proactive case: their run replaces the staff wait
        arn = proactive.run_for_requester(composition.cases(), composition.workflow(), composition.clock(),
                                          event.state.case_id())
        logger.info("staff wait replaced by the requester's run", extra={"execution_arn": arn})
        return {"case_id": event.state.case_id(), "outcome": None, "status": "open", "resolution": None}
    closed = outcomes.close(event.state, cases=composition.cases(), outbox=composition.outbox(),
                            clock=composition.clock())
    take_in_follow_ups(closed.case.case_id)
    if closed.case.decisions:  # staff decided it: does its cause now look like a misfiring rule?
        causes.after_staff_decision(composition.causes(), composition.cases(), composition.clock(), closed.case,
                                    rule=composition.misfiring_rule(), owners=composition.rule_owners(),
                                    notices=composition.owner_notices(), alerts=composition.staff_alerts(),
                                    console_url=composition.console_url())
    logger.info("case closed", extra={"outcome": closed.outcome, "status": closed.case.status,
                                      "resolution": closed.resolution})
    metrics.add_dimension(name="outcome", value=closed.outcome)
    metrics.add_metric(name="CasesClosed", unit=MetricUnit.Count, value=1)
    return {"case_id": closed.case.case_id, "outcome": closed.outcome, "status": closed.case.status,
            "resolution": closed.resolution}

"""Escalate (and Failed) and CloseCase: the outcome from the path the execution took, written to the
case, and what follows it queued (the evidence for staff and their alert; the customer's reply).
Served by the OutcomeFunction (handlers/outcome.py); never reads or changes the platform."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from unblock.domain.cases import Case
from unblock.domain.denials import is_proactive
from unblock.domain.models import Outcome
from unblock.domain.staff_alerts import alert_for
from unblock.ports import CaseStore, Clock, HumanQueue, Outbox, StaffAlerts
from unblock.workflow import steps
from unblock.workflow.models import ExecutionState


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


@dataclass
class _HeldQueue:
    """The evidence for staff, held until no standing policy decided the case (then nobody needs it)."""

    queue: HumanQueue
    held: list[tuple[dict[str, Any], str]] = field(default_factory=list)

    def send(self, message: dict[str, Any], *, priority: str) -> None:
        self.held.append((message, priority))

    def remove(self, case_id: str) -> int:
        return self.queue.remove(case_id)

    def remove_cases(self, case_ids: Collection[str]) -> int:
        return self.queue.remove_cases(case_ids)

    def flush(self) -> None:
        for message, priority in self.held:
            self.queue.send(message, priority=priority)


# a standing policy's say on a waiting case (workflow.policies.consult): True when it approved it
PolicyConsult = Callable[[Case, bool], bool]


def escalate(state: ExecutionState, task_token: str, *, cases: CaseStore, queue: HumanQueue, outbox: Outbox,
             alerts: StaffAlerts, clock: Clock, console_url: str | None,
             policies: PolicyConsult | None = None) -> Case:
    """The case waits for staff (with the task token): queued with its evidence, staff alerted, and
    the customer told (unless this is a lapsed wait queued again: nothing new to say). Where a live
    standing policy approves the proposal first (`policies`), the case is decided at once as staff
    would: nothing is queued, no one alerted, and the customer hears once, when it closes."""
    held = _HeldQueue(queue)
    case = steps.escalate_case(cases, held, clock, state.case_id(), escalation_reason(state), task_token,
                               report=state.report, partial=state.findings(),
                               status="open" if policies is not None else "awaiting_staff")
    if case.status == "open":  # recorded, not yet waiting: nobody sees it until the policies had their say
        if policies is not None and policies(case, state.error is not None):
            return case
        case = steps.wait_for_staff(cases, clock, case)
    held.flush()
    if (state.staff_error or {}).get("Error") != "States.HeartbeatTimeout":
        steps.send_reply(outbox, case)
    if not is_proactive(case.case_id):
        # nobody waits on a proactive case: it waits on the queue (and alerts once past the SLA), and a
        # wave of them is told once, by its incident; a flood of signals never floods staff
        alerts.publish(alert_for(case, "escalated", console_url))
    return case


def outcome_of(state: ExecutionState) -> tuple[Outcome, str | None]:
    """The outcome (and its resolution) from the path the execution took."""
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
    if plan and plan.action in ("customer_action", "already_working", "needs_info", "handed_off"):
        return plan.action, None
    return "escalated", None


@dataclass(frozen=True)
class Closed:
    case: Case
    outcome: Outcome
    resolution: str | None


# what each next step would have ended in (shadow mode: nothing was applied, so nothing was verified)
WOULD: dict[str, Outcome] = {"auto_fix": "auto_fixed", "escalate": "escalated", "customer_action": "customer_action",
                             "already_working": "already_working", "needs_info": "needs_info",
                             "handed_off": "handed_off"}


def close(state: ExecutionState, *, cases: CaseStore, outbox: Outbox, clock: Clock) -> Closed:
    """The case closes with the outcome of its path; its reply goes on the outbox. A shadow case
    closes with what unblock would have done: only the help desk's internal note goes out."""
    if state.case is not None and state.case.mode == "shadow":
        plan = state.plan() if state.case.team_id else steps.decide_without_team(cases, state.case_id())
        would: Outcome = WOULD[plan.action] if plan else "needs_info"
        reason = plan.reason if plan else "The team is not identified."
        case = steps.close_shadow(cases, clock, state.case_id(), would, reason, list(plan.fixes) if plan else [])
        steps.send_reply(outbox, case)
        return Closed(case, would, "shadow")
    outcome, resolution = outcome_of(state)
    case = steps.close_case(cases, clock, state.case_id(), outcome, resolution)
    steps.send_reply(outbox, case)
    # a case with no team may be answered by its signals alone (close_case decides)
    return Closed(case, case.outcome or outcome, resolution)

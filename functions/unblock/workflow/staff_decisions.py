"""Staff decisions on escalated cases: approve, resolve or reject, exactly once.

Used by the staff console (ConsoleFunction) and `unblock decide`. Pure of AWS: the case store,
the workflow (Step Functions) and the human queue are ports.

A decision first claims the case with one conditional write (status `awaiting_staff` ->
`deciding`, recording the decision, actor, note and time), and only then resumes the waiting
task. Two racing decisions: one write wins, the other is refused ("already decided"). A case
that moved on since the staff member read it (closed, re-escalated, re-queued) refuses the
stale decision. Once decided, the case's messages leave the human queue.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from unblock.domain.cases import Case
from unblock.domain.models import STAFF_DECISIONS, CaseStatus, Mode, StaffDecision, StaffDecisionName
from unblock.domain.modes import staff_may_decide
from unblock.domain.staff_errors import AlreadyDecided, NoSuchCase, StaffError, StaleDecision
from unblock.domain.tickets.redaction import redact
from unblock.ports import CaseConflict, CaseStore, Clock, HumanQueue, TaskGone, Workflow

Decision = StaffDecisionName
DECISIONS = STAFF_DECISIONS
MAX_NOTE = 2000


def decide(store: CaseStore, workflow: Workflow, queue: HumanQueue | None, clock: Clock, case_id: str,
           decision: Decision, actor: str, note: str | None = None, *, stack_mode: Mode,
           expected_version: int | None = None, expected_proposal: str | None = None,
           incident_id: str | None = None, waiting: CaseStatus = "awaiting_staff") -> Case:
    """Apply one staff decision; returns the case as it was claimed (status `deciding`).

    `expected_version` is the case version the staff member saw: a case written since (re-queued,
    re-escalated, closed) refuses the decision as stale; `expected_proposal` the proposal a Slack button
    was drawn from (`Case.proposal_id`): a later run's proposal refuses it. `incident_id` marks a member's share of
    a bulk decision on an incident (workflow.incidents): its fixes still pass the guardrails.
    `stack_mode` is the stack's mode now: the run the decision resumes takes it, so a shadow stack
    refuses every decision (DESIGN.md "Modes").
    """
    staff_may_decide(stack_mode)
    if decision not in DECISIONS:
        raise StaffError(f"unknown decision {decision!r}: approve, resolve or reject")
    if not actor:
        raise StaffError("a decision needs the staff member's identity")
    # what staff type is kept on the case and in the execution history: redacted first (a key read
    # out on the phone and pasted into the note)
    actor = redact(actor)[0]
    note = redact((note or "").strip())[0][:MAX_NOTE] or None
    case = store.get(case_id)
    if case is None:
        raise NoSuchCase(f"no case {case_id!r}")
    _check_waiting(case, expected_version, expected_proposal, waiting)
    token = str(case.task_token)
    fixes = list(case.escalation.proposed_fixes) if case.escalation else []
    if decision == "approve" and not fixes:
        raise StaffError(f"case {case_id} has no proposed fix to approve; resolve it once mended by hand")

    record = StaffDecision(decision=decision, actor=actor, note=note, decided_at=clock.now(),
                           fixes=fixes if decision == "approve" else [], incident_id=incident_id)
    try:
        claimed = store.save(case.model_copy(update={"status": "deciding", "decisions": [*case.decisions, record],
                                                     "updated_at": record.decided_at}))
    except CaseConflict:
        now = store.get(case_id)
        if now is not None and now.status in ("deciding", "closed") and now.decisions:
            raise AlreadyDecided(_decided_message(now)) from None
        raise StaleDecision(f"case {case_id} changed while you decided (status now: "
                            f"{now.status if now else 'gone'}); reload it and decide again") from None

    try:
        if decision == "reject":
            workflow.send_task_failure(token, "StaffRejected", json.dumps({"actor": actor, "note": note}))
        else:
            workflow.send_task_success(token, {"decision": decision, "actor": actor, "fixes": record.fixes,
                                               "note": note})
    except TaskGone as err:
        _release(store, claimed)
        raise StaleDecision(f"case {case_id}: the waiting task is gone ({err}); it was already decided or "
                            "timed out") from err
    except Exception:
        _release(store, claimed)  # the workflow never heard of it: let staff decide again
        raise
    if queue is not None:
        queue.remove(case_id)
    return claimed


CHANGED = "this case changed: see the latest alert"


def _check_waiting(case: Case, expected_version: int | None, expected_proposal: str | None = None,
                   waiting: CaseStatus = "awaiting_staff") -> None:
    if case.status == "deciding" or (case.status == "closed" and case.decisions):
        raise AlreadyDecided(_decided_message(case))
    # `waiting` open: a standing policy decides the case Escalate just recorded, before it waits for staff
    if case.status != waiting or not case.task_token:
        raise StaleDecision(f"case {case.case_id} is not waiting for staff (status: {case.status})")
    if expected_proposal is not None and case.proposal_id != expected_proposal:
        raise StaleDecision(f"{CHANGED} (case {case.case_id} proposes {', '.join(_fixes(case)) or 'no fix'} "
                            "now, not what the clicked alert showed)")
    if expected_version is not None and case.version != expected_version:
        raise StaleDecision(f"case {case.case_id} changed since you opened it (it was re-queued or escalated "
                            "again); reload it and decide again")


def _fixes(case: Case) -> list[str]:
    return list(case.escalation.proposed_fixes) if case.escalation else []


def _decided_message(case: Case) -> str:
    last = case.decisions[-1] if case.decisions else None
    head = f"case {case.case_id} is not waiting for staff (status: {case.status}): it was already decided"
    if last is None:
        return head
    return f"{head} ({last.decision} by {last.actor} at {last.decided_at.isoformat(timespec='seconds')})"


def _release(store: CaseStore, claimed: Case) -> None:
    """Undo a claim whose decision never reached the workflow (only if nothing wrote since)."""
    with contextlib.suppress(CaseConflict):  # the workflow moved the case on meanwhile: keep what it wrote
        store.save(claimed.model_copy(update={"status": "awaiting_staff", "decisions": claimed.decisions[:-1]}))


def public_view(case: Case) -> dict[str, Any]:
    """The case as staff tooling may show or return it: never the task token."""
    return case.model_dump(mode="json", exclude={"task_token"})

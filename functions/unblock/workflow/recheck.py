"""The scheduled re-check of pending cases (every 15 minutes; `unblock recheck` runs one pass).

Due cases come from a query on the pending-cases index, never a scan. For each:
- pending for more than 14 days (a case waiting for the customer: 14 days after their last
  message): closed as stale, with a reply;
- a needs_info case waiting for the customer's answer: nothing to check until it comes;
- checks and probe now pass: a customer case closes with "access is back"; a staff case
  completes its waiting task (resolved externally) and the execution closes it;
- a customer case whose checks now find only safe fixes (the customer mended billing, the
  automated hold is now stale): the workflow runs again for the case, to fix and verify;
- an open case whose execution died (a crash, a failed escalation): the workflow runs again;
- a case with customer follow-ups no run took in (the run's end failed to): taken in now;
- a staff case past its SLA: re-queued with a higher priority; its task gets a heartbeat;
- a staff case with an incident's bulk decision pending (it did not wait for staff yet when the
  decision was made): the decision is applied (DESIGN.md "Incidents");
- otherwise the next re-check backs off: 15 min, 30 min, 1 h ... at most 24 h; a staff case's
  at most 4 h, since its re-check is also its task's heartbeat (the wait's HeartbeatSeconds is
  24 h: the customer's back-off never lets it lapse).

A re-check pass takes the stack's mode when it starts (DESIGN.md "Modes"): in shadow mode it changes
nothing and tells no one about any case, whatever mode the case was opened in: it keeps waiting tasks
alive (a heartbeat) and puts every due case off to its next re-check (`held_shadow`); no reply, no
re-run, no staff task completed, no re-queue. Once the stack is live again the next pass acts.
Approval mode acts as live: a re-run takes the stack's mode and proposes its fixes.

Each case is re-checked on its own: an error on one case (a dead task token, a throttled
call, a bad document) is recorded in the report (`failures`), the case is recovered where
it can be (a staff case whose waiting task is gone runs the workflow again, to be queued
for staff anew) and put off to its next re-check, and the pass goes on to the next case.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from unblock.domain import replies
from unblock.domain.cases import Case
from unblock.domain.conversations import unseen, waiting_since
from unblock.domain.models import Finding, Mode
from unblock.domain.staff_alerts import alert_for
from unblock.ports import CaseStore, Clock, HumanQueue, IncidentStore, Outbox, Platform, StaffAlerts, TaskGone, Workflow
from unblock.workflow import conversations as follow_ups
from unblock.workflow import incidents as incident_flow
from unblock.workflow import steps

STALE_AFTER = timedelta(days=14)
FIRST_BACKOFF = timedelta(minutes=15)
MAX_BACKOFF = timedelta(hours=24)
STAFF_MAX_BACKOFF = timedelta(hours=4)  # well below the staff wait's HeartbeatSeconds (contract test)
DECISION_LOST_AFTER = timedelta(minutes=15)
PRIORITY_UP = {"normal": "high", "high": "urgent", "urgent": "urgent"}

Action = Literal["closed_stale", "closed_access_back", "staff_task_completed", "rerun", "requeued", "backed_off",
                 "skipped_conflict", "decision_released", "recovered", "incident_decision", "held_shadow",
                 "failed"]
log = logging.getLogger(__name__)


@dataclass
class RecheckReport:
    due: int = 0
    actions: dict[str, Action] = field(default_factory=dict)  # case id -> action
    failures: dict[str, str] = field(default_factory=dict)  # case id -> error (class name: message)


def backoff(rechecks: int, cap: timedelta = MAX_BACKOFF) -> timedelta:
    """15 min after the first re-check, doubling each time, capped at 24 h (or `cap`)."""
    return min(FIRST_BACKOFF * (2 ** max(0, min(rechecks, 20) - 1)), cap)


def recheck_due(platform: Platform, store: CaseStore, queue: HumanQueue, workflow: Workflow,
                clock: Clock, *, sla: timedelta, outbox: Outbox, limit: int = 100,
                mode: Mode, alerts: StaffAlerts | None = None, console_url: str | None = None,
                incidents: IncidentStore | None = None) -> RecheckReport:
    now = clock.now()
    report = RecheckReport()
    for case in store.due(now, limit):
        report.due += 1
        try:
            if mode == "shadow":
                report.actions[case.case_id] = _hold(store, workflow, case, now)
                continue
            action = _recheck(platform, store, queue, workflow, clock, case, sla, outbox, mode, incidents)
            report.actions[case.case_id] = action
            if action == "requeued" and alerts is not None:
                alerts.publish(alert_for(store.get(case.case_id) or case, "requeued", console_url))
        except steps.CaseConflict:
            report.actions[case.case_id] = "skipped_conflict"  # someone else moved it; next pass sees it
        except Exception as err:  # noqa: BLE001 - one case's failure must not stop the pass
            report.actions[case.case_id] = "failed"
            report.failures[case.case_id] = f"{type(err).__name__}: {str(err)[:200]}"
            log.warning("re-check failed for a case", extra={"case_id": case.case_id, "error": type(err).__name__})
            _put_off(store, case, now)
    return report


def _hold(store: CaseStore, workflow: Workflow, case: Case, now: datetime) -> Action:
    """Shadow mode: the case waits as it is for a pass in live or approval mode. Its waiting task
    stays alive (a gone one is recovered by that later pass)."""
    if case.status == "awaiting_staff" and case.task_token:
        with contextlib.suppress(TaskGone):
            workflow.heartbeat(case.task_token)
    _back_off(store, case, now)
    return "held_shadow"


def _put_off(store: CaseStore, case: Case, now: datetime) -> None:
    """A case whose re-check failed waits for its next turn (it must not hold the head of the index)."""
    try:
        _back_off(store, case, now)
    except Exception:  # noqa: BLE001 - already recorded; the next pass tries again
        log.warning("could not put off a failed case", extra={"case_id": case.case_id})


def _recheck(platform: Platform, store: CaseStore, queue: HumanQueue, workflow: Workflow, clock: Clock,
             case: Case, sla: timedelta, outbox: Outbox, mode: Mode, incidents: IncidentStore | None = None
             ) -> Action:
    now = clock.now()
    if now - waiting_since(case) > STALE_AFTER:
        if case.status == "awaiting_staff" and case.task_token:
            try:
                workflow.complete_staff_task(case.task_token, {"decision": "resolve", "actor": "unblock:recheck",
                                                               "resolution": "stale"})
            except TaskGone:
                return _recover(store, workflow, case, now)
        else:
            closed = steps.save_if_unchanged(store, case, status="closed", resolution="stale", next_check_at=None,
                                             closed_at=now, customer_reply=replies.stale_reply(), updated_at=now)
            steps.send_reply(outbox, closed)
        return "closed_stale"

    if case.status == "deciding":
        # a staff decision is resuming the workflow, which moves the case on within seconds; one
        # claimed long ago never reached the workflow (its sender died): staff may decide again
        last = case.decisions[-1].decided_at if case.decisions else case.updated_at
        if now - last > DECISION_LOST_AFTER and case.task_token and workflow.is_running(case):
            _back_off(store, case, now, status="awaiting_staff", decisions=case.decisions[:-1])
            return "decision_released"
        _back_off(store, case, now)
        return "backed_off"

    if case.status == "open":
        # an open case past its first re-check time: its execution died before the case settled
        return "rerun" if _rerun(store, workflow, case, now) else "backed_off"

    if unseen(case):
        # follow-ups the run's end did not take in (its last step failed after settling the case)
        taken = follow_ups.drain(store, workflow, clock, case.case_id)
        if taken is not None and taken.action == "run":
            return "rerun"
        case = store.get(case.case_id) or case

    if case.status == "awaiting_staff" and case.task_token and incidents is not None and \
            incident_flow.apply_pending(incidents, store, workflow, queue, clock, case, stack_mode=mode) is not None:
        return "incident_decision"

    if case.team_id is None or (case.plan is not None and not case.plan.recheck):
        # needs_info waits for the customer's answer (a follow-up runs it again), stale after 14 days;
        # so does a case whose steps are the customer's own (a key never loaded, a wrong base URL):
        # nothing on the team can change, and its checks passing says nothing of their client
        _back_off(store, case, now)
        return "backed_off"

    team_id = str(case.team_id)
    findings = steps.run_all_checks(platform, clock, team_id, case.key_prefix)
    probe = steps.probe_case(platform, case)
    passing = probe.ok and all(f.disposition == "ok" for f in findings)
    evidence = {"recheck_at": now.isoformat(), "codes": [f.code for f in findings], "probe_status": probe.status}

    if case.status == "awaiting_staff" and case.task_token:
        try:
            if passing:
                workflow.complete_staff_task(case.task_token, {"decision": "resolve", "actor": "unblock:recheck",
                                                               "resolution": "checks_pass"})
                return "staff_task_completed"
            workflow.heartbeat(case.task_token)
        except TaskGone:
            return _recover(store, workflow, case, now)
        queued_at = case.escalation.queued_at if case.escalation and case.escalation.queued_at else case.updated_at
        if now - queued_at > sla and case.escalation is not None:
            priority = PRIORITY_UP[case.priority]
            escalation = case.escalation.model_copy(update={"priority": priority, "queued_at": now})
            saved = _back_off(store, case, now, priority=priority, escalation=escalation)
            queue.send(steps.evidence_bundle(saved) | {"requeued": True, "recheck": evidence}, priority=priority)
            return "requeued"
        _back_off(store, case, now)
        return "backed_off"

    # waiting for the customer
    if passing:
        closed = steps.save_if_unchanged(store, case, status="closed", resolution="checks_pass", next_check_at=None,
                                         closed_at=now, customer_reply=replies.access_restored_reply(), updated_at=now)
        steps.send_reply(outbox, closed)
        return "closed_access_back"
    if _only_safe_fixes(findings):
        return "rerun" if _rerun(store, workflow, case, now) else "backed_off"
    _back_off(store, case, now)
    return "backed_off"


def _recover(store: CaseStore, workflow: Workflow, case: Case, now: datetime) -> Action:
    """The staff task this case waits on is gone (its execution failed after the case was
    written, or the wait lapsed): run the workflow again, which checks anew and, if the case
    still needs a person, queues it for staff with a live task."""
    return "recovered" if _rerun(store, workflow, case, now) else "backed_off"


def _rerun(store: CaseStore, workflow: Workflow, case: Case, now: datetime) -> bool:
    """Run the workflow again for the case, one run at a time: not while its last execution (the
    first, or the last re-run) still runs, and only after a conditional write on the case claims
    the re-run (a concurrent pass loses that write and starts nothing). False when backed off."""
    if workflow.is_running(case):
        _back_off(store, case, now)
        return False
    # the claim: CaseConflict if it lost; "open" while it runs, so a follow-up waits for it
    claimed = _back_off(store, case, now, execution_arn=workflow.rerun_arn(case), runs=case.runs + 1,
                        status="open", seen_follow_ups=case.follow_ups)
    workflow.rerun(claimed)
    return True


def _back_off(store: CaseStore, case: Case, now: datetime, **changes: object) -> Case:
    """Count the re-check and set the next one further off (with any other changes)."""
    cap = STAFF_MAX_BACKOFF if case.status == "awaiting_staff" else MAX_BACKOFF
    return steps.save_if_unchanged(store, case, rechecks=case.rechecks + 1, updated_at=now,
                                   next_check_at=now + backoff(case.rechecks + 1, cap), **changes)


def _only_safe_fixes(findings: list[Finding]) -> bool:
    return any(f.disposition == "auto_fix" for f in findings) and not any(
        f.disposition == "escalate" for f in findings)

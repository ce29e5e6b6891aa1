"""Proactive cases: a denial signal opens (or joins) the team's case; the team's ticket joins it.

- `take_signal` (SignalsFunction): a signal that is a real, steady refusal (`denials.assess`) opens
  the team's proactive case `gateway:<team id>:<window start>` and starts the same state machine
  as a ticket; while that case is open, the team's later signals join it (counted on the team's
  record, one conditional write each) and start nothing.
- `open_cases_of_team` (OpenCase of a proactive case): a team that already has an open case of
  its own (it wrote first) gets no proactive ticket to its owner; the case is linked to it instead.
- `join_open_case` (OpenCase of a ticket): a ticket from a team with an open proactive case joins
  it: one case, one requester, one reply on the ticket (`run_for_requester` when a verified
  requester replaces the staff wait).
- `join_ticket` (OpenCase of a ticket): a ticket written within `TICKET_JOINS_CLOSED_FOR` after the
  team's proactive case closed is linked to it both ways, so its reply says what unblock had
  already found and done ("fixed at 10:07, your calls work again").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from unblock.domain import conversations as domain_conversations
from unblock.domain.cases import Case, ProactiveLink
from unblock.domain.conversation_replies import JOINED_TICKET
from unblock.domain.denials import (
    DenialDetail,
    InvalidDenialSignal,
    ProactiveRecord,
    Thresholds,
    assess,
    is_proactive,
    parse_denial_event,
    proactive_case_id,
    report_from_signal,
)
from unblock.domain.limits import MAX_EVENT_BYTES, InputRejected, check_json_value
from unblock.domain.models import Report
from unblock.ports import CaseConflict, CaseStore, Clock, DeadLetters, Platform, ProactiveCases, Workflow
from unblock.workflow import conversations

# a team's ticket written soon after its proactive case closed (fixed before the customer looked)
# is still about it: the reply says what was done instead of starting from nothing
TICKET_JOINS_CLOSED_FOR = timedelta(hours=24)
# a record whose case never opened (the start failed after the claim, and was not given back)
# stops holding the team after this long
UNSTARTED_AFTER = timedelta(minutes=5)


@dataclass(frozen=True)
class SignalOutcome:
    action: Literal["opened", "joined", "ignored", "kept", "unknown_team"]
    case_id: str | None
    reason: str
    started: bool = False
    team_id: str | None = None
    dead_lettered: bool = False  # kept on the intake DLQ now (a failing replay stays where it is kept)

    def answer(self) -> dict[str, Any]:
        if self.action == "kept":
            return {"error": self.reason, "kept": True}
        if self.action in ("ignored", "unknown_team"):
            return {"ignored": self.reason}
        return {"case_id": self.case_id, "action": self.action, "started": self.started}


def take_in(event: Any, *, records: ProactiveCases, store: CaseStore, clock: Clock, thresholds: Thresholds,
            workflow: Workflow, dead_letters: DeadLetters, platform: Platform | None = None) -> SignalOutcome:
    """One `Requests Denied` event (or the replay of a kept one): open or join the team's case, or
    keep it on the intake DLQ with the reason (a bad signal; or a case that could not be started, its
    claim given back, so the replay opens it). Never raises."""
    now = clock.now()
    replay = event.get("replay") if isinstance(event, dict) and isinstance(event.get("replay"), dict) else None
    payload = replay.get("payload") if replay is not None else event

    def kept(reason: str) -> SignalOutcome:
        if replay is None:
            dead_letters.keep("denial", payload, reason, now)
        return SignalOutcome("kept", None, reason, dead_lettered=replay is None)

    try:
        check_json_value(payload, "event", MAX_EVENT_BYTES)
        signal = parse_denial_event(payload, now).detail
    except (InvalidDenialSignal, InputRejected) as err:
        return kept(str(err))
    known = None if platform is None else (lambda team_id: platform.find_team(team_id=team_id) is not None)
    try:
        outcome = take_signal(records, store, clock, signal, thresholds,
                              lambda report: workflow.start_case(report)[1], team_known=known)
    except Exception as err:  # noqa: BLE001 - a flood throttles StartExecution: keep the signal, never lose it
        return kept(f"could not open or join the team's case: {type(err).__name__}")
    return SignalOutcome(outcome.action, outcome.case_id, outcome.reason, outcome.started, signal.team_id)


def take_signal(records: ProactiveCases, store: CaseStore, clock: Clock, signal: DenialDetail,
                thresholds: Thresholds, start: Callable[[Report], bool],
                team_known: Callable[[str], bool] | None = None) -> SignalOutcome:
    """Open the team's proactive case, join the open one, or open nothing (and say why). A signal for a
    team the platform does not know opens nothing (`unknown_team`: the handler logs and counts it): a
    case about no team would wait 14 days for nobody."""
    verdict, why = assess(signal, thresholds)
    if verdict == "not_denied_by_state":
        return SignalOutcome("ignored", None, why)
    now = clock.now()
    for _ in range(5):  # each pass loses at most one race on the team's record
        current = records.get(signal.team_id)
        if current is not None and _still_open(store, current, now):
            if current.last_window_end is not None and signal.window_end <= current.last_window_end:
                # EventBridge delivers at least once: a window already counted is not counted again
                return SignalOutcome("ignored", current.case_id, "this window is already counted")
            # the refusal goes on: a later window joins the open case, however few requests it saw
            if records.join(signal.team_id, current.case_id, signal.denied, signal.window_end):
                return SignalOutcome("joined", current.case_id, why)
            continue
        if verdict != "case":
            return SignalOutcome("ignored", None, why)
        record = ProactiveRecord(team_id=signal.team_id, case_id=proactive_case_id(signal), opened_at=now,
                                 signals=1, denied=signal.denied, last_window_end=signal.window_end)
        if current is not None and current.case_id == record.case_id:
            # the same window again after its case closed (a redelivery): nothing new to open
            return SignalOutcome("ignored", None, f"case {record.case_id} already took this window")
        if team_known is not None and not team_known(signal.team_id):
            return SignalOutcome("unknown_team", None, f"no team {signal.team_id} on the platform: no case opened")
        if not records.claim(record, replacing=current.case_id if current else None):
            continue
        try:
            started = start(report_from_signal(signal, now))
        except Exception:
            records.release(signal.team_id, record.case_id)  # the next signal opens it instead
            raise
        return SignalOutcome("opened", record.case_id, why, started=started)
    raise RuntimeError(f"team {signal.team_id}: too many concurrent signals")


def _still_open(store: CaseStore, record: ProactiveRecord, now: datetime) -> bool:
    case = store.get(record.case_id)
    if case is None:  # claimed, its execution not yet at OpenCase: open, unless it never started
        return record.opened_at + UNSTARTED_AFTER > now
    return case.status != "closed"


# a team's own case counts as open for this long after it last moved (a conversation's 14 days: older,
# it is stale, and the re-check closes it)
OWN_CASE_ACTIVE_FOR = timedelta(days=14)


def open_cases_of_team(store: CaseStore, team_id: str, but: str, now: datetime) -> list[str]:
    """The team's own open cases (its tickets), newest first: while one is open, a proactive case
    sends the owner no ticket of its own (one story per team, DESIGN.md "Proactive cases")."""
    return [c.case_id for c in store.search(team_id)
            if c.team_id == team_id and c.status != "closed" and c.case_id != but and not is_proactive(c.case_id)
            and c.created_at <= now and now - c.updated_at <= OWN_CASE_ACTIVE_FOR]


def _link(proactive: Case) -> ProactiveLink:
    """What the proactive case had found and done so far (a ticket's reply starts from it)."""
    applied = [r for r in proactive.fixes if r.status == "applied"]
    return ProactiveLink(case_id=proactive.case_id, noticed_at=proactive.created_at, status=proactive.status,
                         outcome=proactive.outcome, fixes=[r.fix for r in applied],
                         fixed_at=max((r.at for r in applied), default=None), verified=proactive.verified)


def join_open_case(records: ProactiveCases, store: CaseStore, workflow: Workflow, clock: Clock,
                   ticket: Case) -> str | None:
    """A ticket of a team whose proactive case is open joins that case (DESIGN.md "Proactive cases"):
    the ticket is the case's follow-up, its requester the case's requester, and the case answers on
    the ticket. The case runs again as a follow-up's state says; a case waiting for staff keeps the
    ticket as evidence, unless its requester is verified: then their run replaces the staff wait (the
    waiting task is resumed with `requester`, and CloseCase starts the run, `run_for_requester`).
    Returns the joined case's id, or None when there is no open case to join."""
    if ticket.team_id is None or is_proactive(ticket.case_id) or ticket.report.source == "gateway":
        return None
    record = records.get(ticket.team_id)
    if record is None:
        return None
    message_id = f"{JOINED_TICKET}{ticket.case_id}"
    for _ in range(conversations.ATTEMPTS):
        proactive = store.get(record.case_id)
        if proactive is None or proactive.status == "closed" or proactive.team_id != ticket.team_id:
            return None
        if domain_conversations.already_taken(proactive, message_id):
            return proactive.case_id  # a redelivered ticket: joined already
        now = clock.now()
        joined = domain_conversations.add_follow_up(proactive, ticket.report, message_id, now)
        joined = joined.model_copy(update={
            "proactive": proactive.proactive or _link(proactive), "notify_email": None,
            "reply_ticket": proactive.reply_ticket or ticket.case_id,
            "joined_tickets": [*proactive.joined_tickets, ticket.case_id][-50:]})
        try:
            if proactive.status == "awaiting_staff" and proactive.task_token and ticket.requester_verified:
                store.save(joined.model_copy(update={"status": "deciding", "updated_at": now}))
                workflow.complete_staff_task(proactive.task_token, {"decision": "requester",
                                                                    "actor": "requester:ticket"})
            else:
                conversations.take_in(store, workflow, joined, now)
        except CaseConflict:
            continue
        return proactive.case_id
    raise CaseConflict(record.case_id)


def run_for_requester(store: CaseStore, workflow: Workflow, clock: Clock, case_id: str) -> str:
    """CloseCase of a proactive case whose staff wait a verified requester's ticket replaced: the
    workflow runs again for the case, now with its requester (one run at a time: claimed first)."""
    for _ in range(conversations.ATTEMPTS):
        case = store.get(case_id)
        if case is None:
            raise CaseConflict(case_id)
        try:
            return conversations.claim_run(store, workflow, case, clock.now())
        except CaseConflict:
            continue
    raise CaseConflict(case_id)


def join_ticket(records: ProactiveCases, store: CaseStore, clock: Clock, case: Case) -> Case:
    """Link a ticket's new case to its team's proactive case, when there is one to join."""
    if case.team_id is None or is_proactive(case.case_id) or case.proactive is not None:
        return case
    record = records.get(case.team_id)
    proactive = store.get(record.case_id) if record is not None else None
    now = clock.now()
    if proactive is None or (proactive.status == "closed"
                             and not timedelta(0) <= now - proactive.updated_at <= TICKET_JOINS_CLOSED_FOR):
        return case
    link = _link(proactive)
    for _ in range(5):
        try:
            if case.case_id not in proactive.joined_tickets:
                store.save(proactive.model_copy(update={"joined_tickets": [*proactive.joined_tickets, case.case_id],
                                                        "updated_at": now}))
            break
        except CaseConflict:
            proactive = store.get(proactive.case_id) or proactive
    for _ in range(5):
        try:
            return store.save(case.model_copy(update={"proactive": link, "updated_at": now}))
        except CaseConflict:
            case = store.get(case.case_id) or case
    return case

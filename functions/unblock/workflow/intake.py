"""Where a ticket enters: any accepted shape of event -> the redacted Report -> the case's execution.

The IntakeFunction (EventBridge ticket events, staff starts, replays of kept events) and the
WebhookFunction (verified help-desk deliveries) both end here. Nothing unredacted passes this
point: the execution input (kept by AWS in its history) is the redacted Report. An event that
cannot be processed is kept, redacted, on the intake dead-letter queue with its reason
(`unblock replay` re-drives it), and never raises: an async retry would only keep it twice.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import ValidationError

from unblock.domain import conversations as domain_conversations
from unblock.domain import helpdesks
from unblock.domain.helpdesks import HelpDesk
from unblock.domain.helpdesks.desk import ForumFollowUp
from unblock.domain.limits import (
    MAX_EVENT_BYTES,
    MAX_EXECUTION_INPUT_BYTES,
    InputRejected,
    check_json_value,
    check_size,
)
from unblock.domain.models import Report, ReportInput
from unblock.domain.tickets import webhooks
from unblock.domain.tickets.redaction import redact
from unblock.domain.tickets.reports import redact_report, report_from_ticket
from unblock.domain.tickets.ticket_event import FOLLOW_UP, InvalidTicketEvent, TicketEvent, parse_ticket_event
from unblock.ports import INTAKE_KINDS, CaseStore, Clock, DeadLetters, IntakeKind, Workflow
from unblock.workflow import conversations


class UnprocessableEvent(ValueError):
    pass


@dataclass(frozen=True)
class Started:
    case_id: str
    execution_arn: str
    started: bool  # False: a redelivery found the case's execution already started

    def as_dict(self) -> dict[str, Any]:
        return {"case_id": self.case_id, "execution_arn": self.execution_arn, "started": self.started}


def start(workflow: Workflow, report: Report) -> Started:
    """Start the case's execution; a redelivered ticket finds it started (one case, one execution)."""
    arn, started = workflow.start_case(report)
    return Started(report.case_id, arn, started)


# --- follow-ups (DESIGN.md "Conversations") ------------------------------------------------------

CASE_OPENS_WITHIN = 10.0  # seconds: OpenCase, the first state, writes the case well within this


def wait_for_case(store: CaseStore, case_id: str, within: float = CASE_OPENS_WITHIN) -> bool:
    """Whether the case opens within `within` seconds (its execution started a moment ago)."""
    import time

    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if store.get(case_id) is not None:
            return True
        time.sleep(0.2)
    return False


def take_follow_up(store: CaseStore, workflow: Workflow, clock: Clock, report: Report, message_id: str, *,
                   private: bool = False, open_if_new: bool = True,
                   requester_email: Callable[[], str | None] | None = None) -> dict[str, Any]:
    """A follow-up reaches its case (workflow.conversations); one naming no case the stack knows
    opens one when `open_if_new` (a normalized `Customer Replied` is a report too; a help desk's
    reply in a ticket or topic without a case is not), and one after the 14 days opens the new
    case it was followed by, its requester's email looked up (`requester_email`, the help desk's
    user API) as for a new ticket. A follow-up that races its ticket's first run waits for its case."""
    if (own := _someone_elses(store, report)) is not None:
        # "same here" from another requester: their own case, with their own verification
        if store.get(own.case_id) is None:
            conversations.link_topic_case(store, report.case_id, own.case_id, clock.now())
            return {**start(workflow, own).as_dict(), "follow_up": "same_here"}
        report = own
    taken = conversations.take_follow_up(store, workflow, clock, report, message_id, private=private)
    if taken.action == "new_case" and taken.new_case is not None:
        new_case = with_looked_up_email(taken.new_case, requester_email)
        return {**start(workflow, new_case).as_dict(), "follow_up": taken.action}
    if taken.action == "no_case":
        if not open_if_new:
            return {"case_id": report.case_id, "execution_arn": None, "started": False, "follow_up": "no_case"}
        started = start(workflow, report)
        if started.started or not wait_for_case(store, report.case_id):
            return {**started.as_dict(), "follow_up": "no_case"}
        # the ticket's first run had just started: its case is open now, and the follow-up joins it
        return take_follow_up(store, workflow, clock, report, message_id, private=private, open_if_new=False)
    return {"case_id": taken.case_id, "execution_arn": taken.execution_arn, "started": taken.action == "run",
            "follow_up": taken.action}


def _someone_elses(store: CaseStore, report: Report) -> Report | None:
    """The follow-up as its author's own case when it names a requester other than the case's
    (DESIGN.md "Conversations": someone else's "same here" is their own case), else None."""
    case = store.get(report.case_id)
    if case is None or domain_conversations.same_requester(case.report, report):
        return None
    return report.model_copy(update={"case_id": conversations.other_requester_case_id(report.case_id, report)})


def with_looked_up_email(report: Report, requester_email: Callable[[], str | None] | None) -> Report:
    """The report with its requester's email from the help desk's user API, when it has none yet.
    A failed look-up leaves it unknown (not verified), as for a new ticket; never drops the report."""
    if report.requester_email or requester_email is None:
        return report
    try:
        email = requester_email()
    except Exception:  # noqa: BLE001 - a look-up must never cost the follow-up
        return report
    if not email or redact(email)[1]:
        return report
    return report.model_copy(update={"requester_email": email})


@dataclass(frozen=True)
class ForumCase:
    """Whose case a reply in a forum topic is: `follow_up` (the topic's requester's case, or the
    author's own case in the topic) with the follow-up's report naming it, `same_here` (another
    author's first post there: a case of its own, `case_id`, linked to `topic_case_id`), or
    `private_message` (the first post of a customer's private message: a case of its own when
    staff are among its recipients, which the webhook asks the desk)."""

    action: Literal["follow_up", "same_here", "private_message"]
    case_id: str
    topic_case_id: str
    report: Report


def forum_case(store: CaseStore, found: ForumFollowUp, now: datetime, own_username: str) -> ForumCase:
    """A reply in a topic, or in unblock's private message: the case of its author in that topic.
    The topic's requester follows up their own case; anyone else's post ("same here") is a case of
    its own, `<topic case>/u/<username>`, with its own requester and verification; unblock's own
    posts are never follow-ups (WebhookIgnored, as for a reply in a topic without a case)."""
    if own_username and found.username.lower() == own_username.lower():
        raise webhooks.WebhookIgnored("unblock's own post")
    report = report_from_ticket(found.event, now, source=found.event.case_source)
    if found.own_message:
        return _private_message_case(store, found, report)
    topic_case = store.get(report.case_id)
    if topic_case is None:
        raise webhooks.WebhookIgnored("a reply in a topic that has no case")
    if (topic_case.report.requested_by or "").lower() == found.username.lower():
        return ForumCase("follow_up", report.case_id, topic_case.case_id, report)
    own_case_id = conversations.same_here_case_id(report.case_id, found.username)
    if store.get(own_case_id) is not None:
        return ForumCase("follow_up", own_case_id, topic_case.case_id,
                         report.model_copy(update={"case_id": own_case_id}))
    if found.private:
        raise webhooks.WebhookIgnored("a private message from someone without a case in the topic")
    return ForumCase("same_here", own_case_id, topic_case.case_id, report)


def _private_message_case(store: CaseStore, found: ForumFollowUp, report: Report) -> ForumCase:
    """A post in a customer's own private message (DESIGN.md "Conversations", issue 36): its first
    post may open the message's case (`<desk>:<message topic>`); later posts by its requester
    follow that case up; anyone else's post there (staff answering by hand, another participant)
    is not the customer's follow-up."""
    case = store.get(report.case_id)
    if case is not None:
        if (case.report.requested_by or "").lower() == found.username.lower():
            return ForumCase("follow_up", case.case_id, case.case_id, report)
        raise webhooks.WebhookIgnored("a post by someone other than the requester in their private message")
    if not found.opening:
        raise webhooks.WebhookIgnored("a private message that is not an answer to unblock's")
    return ForumCase("private_message", report.case_id, report.case_id, report)


# --- the intake's events -----------------------------------------------------------------------


def replay_envelope(event: Any) -> dict[str, Any] | None:
    """A replay's envelope ({"replay": {"kind", "payload", ...}}, as `unblock replay` sends it), else None."""
    replay = event.get("replay") if isinstance(event, dict) else None
    return replay if isinstance(replay, dict) else None


def is_follow_up(event: Any) -> bool:
    """A normalized `Customer Replied` event, or a replay of one or of a help desk's kept follow-up."""
    replay = replay_envelope(event)
    payload = replay.get("payload") if replay is not None else event
    if isinstance(payload, dict) and payload.get("detail-type") == FOLLOW_UP:
        return True
    desk = helpdesks.find(replay.get("kind")) if replay is not None else None
    return desk is not None and _is_follow_up(desk, payload)


def _is_follow_up(desk: HelpDesk, payload: Any) -> bool:
    """A kept delivery the desk says is a follow-up (DESIGN.md "Conversations")."""
    try:
        _, body = _delivery(payload)
    except (UnprocessableEvent, webhooks.WebhookRejected):
        return False
    return desk.follow_up is not None and desk.is_follow_up(body)


def _follow_up_event(desk: HelpDesk, payload: Any) -> TicketEvent:
    """A kept follow-up delivery as its follow-up event (UnprocessableEvent names what is wrong)."""
    _, body = _delivery(payload)
    assert desk.follow_up is not None  # _is_follow_up said so
    try:
        return desk.follow_up(body)
    except webhooks.WebhookRejected as err:
        raise UnprocessableEvent(err.reason) from err


def kind_of(event: Any) -> IntakeKind:
    if (replay := replay_envelope(event)) is not None:
        kind = replay.get("kind")
        if isinstance(kind, str) and (kind in INTAKE_KINDS or helpdesks.find(kind) is not None):
            return kind
        return "unknown"
    if isinstance(event, dict):
        if "detail-type" in event:
            return "ticket"
        if "report" in event:
            return "report"
    return "unknown"


def _delivery(payload: Any) -> tuple[dict[str, str], dict[str, Any]]:
    """A kept webhook delivery ({"headers", "body"}): its headers and its body as a JSON object."""
    if not isinstance(payload, dict) or "body" not in payload:
        raise UnprocessableEvent("invalid kept delivery: expected {\"headers\", \"body\"}")
    headers = payload.get("headers")
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        headers = {}
    return headers, webhooks.kept_payload(payload["body"])


def to_report(kind: IntakeKind, payload: Any, now: datetime) -> Report:
    """Any accepted shape -> the redacted Report; UnprocessableEvent names the problem."""
    try:
        check_json_value(payload, "event", MAX_EVENT_BYTES)
        report = _report(kind, payload, now)
        check_size(len(report.model_dump_json().encode()), "execution input", MAX_EXECUTION_INPUT_BYTES)
    except InputRejected as err:
        raise UnprocessableEvent(str(err)) from err
    return report


def _report(kind: IntakeKind, payload: Any, now: datetime) -> Report:
    try:
        if kind == "ticket":
            return report_from_ticket(parse_ticket_event(payload), now)
        if kind == "report":
            staff = payload.get("report", payload) if isinstance(payload, dict) else payload
            return redact_report(ReportInput.model_validate(staff))
        if (desk := helpdesks.find(kind)) is not None:
            headers, body = _delivery(payload)
            return report_from_ticket(desk.opening(headers, body), now, source=desk.name)
    except webhooks.WebhookRejected as err:
        raise UnprocessableEvent(err.reason) from err
    except InvalidTicketEvent as err:
        raise UnprocessableEvent(str(err)) from err
    except ValidationError as err:
        first = err.errors(include_input=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "event"
        raise UnprocessableEvent(f"invalid {kind}: {where}: {first['msg']}") from err
    except (KeyError, TypeError) as err:
        raise UnprocessableEvent(f"invalid {kind}: missing {err}") from err
    raise UnprocessableEvent("unrecognized event: expected a normalized ticket event (detail-type "
                             "'Access Denied Reported' or 'Customer Replied'), a staff start "
                             "{\"report\": ...} or a replay")


@dataclass(frozen=True)
class Intake:
    """What the intake did with one event."""

    kind: IntakeKind
    replay: bool
    status: Literal["started", "duplicate", "ignored", "kept", "failed_again", "follow_up"]
    report: Report | None = None
    started: Started | None = None
    reason: str | None = None  # why it opens no case (ignored), or why it was kept
    follow_up: dict[str, Any] | None = None  # a `Customer Replied` event: what its case did with it

    @property
    def dead_lettered(self) -> bool:
        """Kept on the dead-letter queue now (a replay that fails again stays where it is kept)."""
        return self.status == "kept"

    def answer(self) -> dict[str, Any]:
        if self.follow_up is not None:
            return self.follow_up
        if self.started is not None:
            return self.started.as_dict()
        if self.status == "ignored":
            return {"ignored": self.reason}
        return {"error": self.reason, "kept": True}


def take_in(event: Any, now: datetime, workflow: Workflow, dead_letters: DeadLetters, *,
            store: CaseStore | None = None, clock: Clock | None = None) -> Intake:
    """One intake event (a ticket event, a staff start, or a replay of a kept one) -> its case's
    execution, or kept on the dead-letter queue with the reason. Never raises for bad input."""
    kind = kind_of(event)
    replay = replay_envelope(event)
    payload = replay.get("payload") if replay is not None else event
    try:
        desk = helpdesks.find(kind)
        if desk is not None and _is_follow_up(desk, payload) and store is not None and clock is not None:
            # a kept follow-up (the requester's comment): it reaches its case as it would have then
            comment = _follow_up_event(desk, payload)
            report = report_from_ticket(comment, now, source=desk.name)
            taken = take_follow_up(store, workflow, clock, report, comment.id)
            return Intake(kind, replay is not None, "follow_up", report, follow_up=taken)
        report = to_report(kind, payload, now)
    except webhooks.NeedsFetch:  # only the webhook can read the ticket from the desk: kept, never dropped
        label = helpdesks.desk(kind).label
        reason = f"the delivery carries no text and only the webhook function can read the ticket from {label}"
        if replay is not None:
            return Intake(kind, True, "failed_again", reason=reason)
        dead_letters.keep(kind, payload, reason, now)
        return Intake(kind, False, "kept", reason=reason)
    except webhooks.WebhookIgnored as err:  # a kept delivery that now opens no case: done, nothing lost
        return Intake(kind, replay is not None, "ignored", reason=err.reason)
    except UnprocessableEvent as err:
        if replay is not None:  # a replay that fails again stays where it is kept: one copy, not two
            return Intake(kind, True, "failed_again", reason=str(err))
        dead_letters.keep(kind, payload, str(err), now)
        return Intake(kind, False, "kept", reason=str(err))
    if kind == "ticket" and isinstance(payload, dict) and is_follow_up(payload) and store is not None \
            and clock is not None:
        taken = take_follow_up(store, workflow, clock, report, str(payload.get("id") or report.case_id))
        return Intake(kind, replay is not None, "follow_up", report, follow_up=taken)
    started = start(workflow, report)
    return Intake(kind, replay is not None, "started" if started.started else "duplicate", report, started)


# --- verified help-desk deliveries ---------------------------------------------------------------



def keep_delivery(dead_letters: DeadLetters, kind: IntakeKind, headers: Mapping[str, str], raw: bytes,
                  reason: str, now: datetime) -> None:
    """A verified delivery that cannot be mapped is kept (redacted) on the intake DLQ: nothing lost.
    Of its headers, what a replay needs to map it again (the desk's `kept_headers`), never a signature."""
    prefixes = helpdesks.desk(kind).kept_headers
    kept_headers = {k: v for k, v in headers.items()
                    if k.lower().startswith(prefixes) and "signature" not in k.lower()}
    dead_letters.keep(kind, {"headers": kept_headers, "body": webhooks.kept_body(raw)}, reason, now)

"""A verified help-desk delivery, read by its desk, becomes a report to start or a follow-up on a
case (moved here from the webhook handler, which logs, counts and answers).

- An opening: the desk's event with the requester's email (the desk's user API, `email_for`,
  which never raises), as a report of the desk's namespace.
- A follow-up (the requester's comment on a ticket): the report naming the ticket's case.
- A forum's reply (`ForumFollowUp`): `intake.forum_case` says whose case it is in the topic. The
  topic's requester, or an author with a case of their own there, follows it up; anyone else's
  first post ("same here") is a report of its own, by its own requester, linked to the topic's case;
  the first post of a customer's own private message is a case of its own when staff are among its
  recipients (read from the desk: `recipients`), answered in the message itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from unblock.domain.helpdesks import HelpDesk
from unblock.domain.helpdesks.desk import Delivery, FollowUp, ForumFollowUp, to_staff
from unblock.domain.models import Report
from unblock.domain.tickets import webhooks
from unblock.domain.tickets.reports import report_from_ticket
from unblock.domain.tickets.ticket_event import DETAIL_TYPE, with_requester_email
from unblock.ports import CaseStore
from unblock.workflow import intake
from unblock.workflow.conversations import link_topic_case

EmailFor = Callable[[str | None], str | None]
Recipients = Callable[[str], tuple[list[str], list[str]] | None]  # a private message's users and groups


@dataclass(frozen=True)
class Opens:
    """A report that opens its case (its execution is started)."""

    report: Report


@dataclass(frozen=True)
class FollowsUp:
    """A follow-up on the case its report names."""

    report: Report
    message_id: str
    private: bool = False
    handle: str | None = None  # the requester on the desk: their email, should it open a new case


def route(desk: HelpDesk, delivery: Delivery, cases: Callable[[], CaseStore], now: datetime, email_for: EmailFor,
          own_username: str, *, recipients: Recipients | None = None,
          staff_groups: tuple[str, ...] = ()) -> Opens | FollowsUp:
    """What the delivery becomes (WebhookIgnored when nothing: unblock's own post, a reply in a
    topic without a case, a private message from someone without a case in the topic). The case
    store is asked for (`cases()`) only by a forum's reply: an opening needs none (cold start)."""
    if isinstance(delivery, ForumFollowUp):
        return _forum_follow_up(desk, delivery, cases(), now, email_for, own_username, recipients, staff_groups)
    if isinstance(delivery, FollowUp):
        return FollowsUp(report_from_ticket(delivery.event, now, source=desk.name), delivery.message_id,
                         delivery.private, delivery.handle)
    opening = with_requester_email(delivery.event, email_for(delivery.handle))
    return Opens(report_from_ticket(opening, now, source=desk.name))


def _forum_follow_up(desk: HelpDesk, found: ForumFollowUp, store: CaseStore, now: datetime, email_for: EmailFor,
                     own_username: str, recipients: Recipients | None,
                     staff_groups: tuple[str, ...]) -> Opens | FollowsUp:
    """A reply in a topic, or in unblock's private message (workflow.intake.forum_case says whose)."""
    case = intake.forum_case(store, found, now, own_username)
    if case.action == "follow_up":
        return FollowsUp(case.report, found.event.id, found.private, found.username)
    if case.action == "private_message":
        return _private_message(desk, found, case.case_id, now, email_for, own_username, recipients, staff_groups)
    # "same here": a report of its own, by its own requester (their email looked up as for a topic)
    opening = found.event.model_copy(update={"detail_type": DETAIL_TYPE})
    opening = with_requester_email(opening, email_for(found.username))
    new = report_from_ticket(opening, now, source=desk.name).model_copy(update={"case_id": case.case_id})
    link_topic_case(store, case.topic_case_id, case.case_id, now)
    return Opens(new)


def _private_message(desk: HelpDesk, found: ForumFollowUp, case_id: str, now: datetime, email_for: EmailFor,
                     own_username: str, recipients: Recipients | None, staff_groups: tuple[str, ...]) -> Opens:
    """A customer's own private message: a case of its own when staff are among its recipients
    (read from the desk: the webhook's post carries none), answered in the message itself."""
    try:
        found_recipients = recipients(found.topic_id) if recipients is not None else None
    except Exception:  # noqa: BLE001 - unknown recipients: not to staff
        found_recipients = None
    if not to_staff(found_recipients, own_username, staff_groups):
        raise webhooks.WebhookIgnored("a private message not addressed to staff")
    opening = found.event.model_copy(update={"detail_type": DETAIL_TYPE})
    opening = with_requester_email(opening, email_for(found.username))
    report = report_from_ticket(opening, now, source=desk.name)
    return Opens(report.model_copy(update={"case_id": case_id}))

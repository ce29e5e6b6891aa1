"""What a help desk is to unblock: the one shape every desk's module fills in (`HelpDesk`), and
what a verified delivery from a desk turns out to be (`Opening`, `FollowUp`, `ForumFollowUp`).

Pure: a desk's functions take the headers, the body and, where a delivery leaves something out,
the desk's API as a port (`unblock.ports.HelpDeskReader`); they never log, store or read the
environment. The registry (`unblock.domain.helpdesks`) lists the desks; composition.py builds
each desk's HTTP adapter from the module `HelpDesk.adapter` names.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from unblock.domain.tickets.ticket_event import TicketEvent

if TYPE_CHECKING:
    from unblock.ports import HelpDeskReader

Headers = Mapping[str, str]


class UnknownHelpDesk(LookupError):
    """A desk the registry does not list: an error, never another desk's behaviour."""

    def __init__(self, name: object) -> None:
        super().__init__(f"no help desk named {str(name)[:40]!r}")
        self.name = name


@dataclass(frozen=True)
class Opening:
    """A delivery that opens a case: its event, and the requester's handle on the desk (a user id,
    a username) for the desk's user API to resolve to an email (None: nobody to look up)."""

    event: TicketEvent
    handle: str | None


@dataclass(frozen=True)
class FollowUp:
    """The requester's next message on a ticket: it reaches the case its event names. `handle`:
    the requester's handle on the desk, for their email should the message open a new case (after
    the 14 days, DESIGN.md "Conversations")."""

    event: TicketEvent
    message_id: str
    private: bool = False
    handle: str | None = None


class ForumFollowUp:
    """A reply in a topic or in unblock's private message, as the webhook resolves it to a case:
    `topic_id` (the topic the case is about), `username` (who wrote), `private`, and `event` (a
    normalized event with the post's text, ticket_id the topic). `own_message`: a post in a private
    message that is not unblock's (a customer writing to staff privately): its case, if any, is the
    message's own (`topic_id` is the message's topic); `opening`: the message's first post, which
    may open that case when staff are among its recipients."""

    def __init__(self, topic_id: str, username: str, private: bool, event: TicketEvent, *,
                 own_message: bool = False, opening: bool = False) -> None:
        self.topic_id, self.username, self.private, self.event = topic_id, username, private, event
        self.own_message, self.opening = own_message, opening


Delivery = Opening | FollowUp | ForumFollowUp


def to_staff(recipients: tuple[list[str], list[str]] | None, own_username: str,
             staff_groups: tuple[str, ...]) -> bool:
    """Whether a private message is addressed to staff: one of its groups is a staff group, or
    unblock's own user is among its users. Unknown recipients (the look-up failed): not to staff,
    so a conversation between customers is never read as a report."""
    if recipients is None:
        return False
    users, groups = recipients
    wanted = {g.lower() for g in staff_groups}
    return any(g.lower() in wanted for g in groups) or bool(
        own_username and own_username.lower() in {u.lower() for u in users})


@dataclass(frozen=True)
class Settings:
    """The environment variables that configure a desk (read by composition.py only): its API URL,
    the user unblock acts as, the secret holding its API credential, the secret its webhooks are
    signed with."""

    api_url: str
    api_user: str
    api_secret: str
    webhook_secret: str


def _no_follow_ups(body: Mapping[str, Any]) -> bool:
    return False


@dataclass(frozen=True)
class HelpDesk:
    """One help desk: everything unblock does with it, behind one name.

    `name` is the case namespace (`<name>:<ticket id>`), the Report's `source`, the reply's
    `destination`, the webhook's path (`POST /<name>`) and the dead-letter kind of its kept
    deliveries. `verify(headers, raw, secret, now)` raises WebhookRejected; `read(headers, payload,
    reader)` says what a verified delivery is (WebhookIgnored when nothing); `replay(headers, payload)`
    maps a kept delivery again (no API at hand: a delivery that needs one is kept);
    `is_follow_up(payload)` tells a kept follow-up from an opening.
    """

    name: str
    adapter: str  # the module of its HTTP adapter (replies, user look-ups), built by composition.py
    settings: Settings
    verify: Callable[[Headers, bytes, str, datetime], None]
    read: Callable[[Headers, dict[str, Any], HelpDeskReader], Delivery]
    opening: Callable[[Headers, dict[str, Any]], TicketEvent]
    is_follow_up: Callable[[Mapping[str, Any]], bool] = _no_follow_ups
    follow_up: Callable[[dict[str, Any]], TicketEvent] | None = None
    kept_headers: tuple[str, ...] = ()  # header prefixes a kept delivery keeps (never a signature)
    event_header: str | None = None  # the unsigned header naming the event: logged, never trusted
    internal_notes: bool = False  # the evidence goes to staff as an internal note on the ticket
    private_messages: bool = False  # a public channel: the specifics go privately to the poster
    opens_tickets: bool = False  # a proactive case's notice to the team's owner opens a ticket here
    title: str = ""  # its name as people write it, in messages (the name itself when empty)
    # its own groups of staff: a customer's private message to one of them opens a case (to_staff)
    staff_groups: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return self.title or self.name

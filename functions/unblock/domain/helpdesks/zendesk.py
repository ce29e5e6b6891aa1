"""Zendesk: everything unblock does with a Zendesk Support account that is not I/O.

Its webhook (an event subscription: `ticket.created` opens a case, `ticket.comment_added` follows
one up) is signed with `X-Zendesk-Webhook-Signature` = base64 HMAC-SHA256 of the signature
timestamp + the raw body, and is refused more than five minutes from that timestamp. A ticket's
case is `zendesk:<ticket id>` however the ticket reached Zendesk (web form, e-mail, its API). The
requester is named by user id, resolved to an email through the Users API; a delivery without
its text is completed from the Tickets API. Replies go as ticket comments: the internal note (the
evidence, for staff), then the public reply; a proactive case's notice opens a ticket to the
team's owner. The HTTP side is unblock.adapters.zendesk.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from unblock.domain.helpdesks.desk import FollowUp, HelpDesk, Opening, Settings
from unblock.domain.tickets.ticket_event import Channel, TicketDetail, TicketEvent, clip_text
from unblock.domain.tickets.webhooks import (
    TIMESTAMP_TOLERANCE,
    NeedsFetch,
    WebhookIgnored,
    WebhookRejected,
    check_secret,
    check_size,
    event_id,
    header,
    help_desk_id,
    parse_time,
    same_digest,
)

if TYPE_CHECKING:
    from unblock.ports import HelpDeskReader

ZENDESK_SIGNATURE = "X-Zendesk-Webhook-Signature"
ZENDESK_TIMESTAMP = "X-Zendesk-Webhook-Signature-Timestamp"
ZENDESK_TICKET_CREATED = "zen:event-type:ticket.created"
ZENDESK_COMMENT_ADDED = "zen:event-type:ticket.comment_added"


def zendesk_signature(raw_body: bytes, secret: str, timestamp: str) -> str:
    """base64(HMAC-SHA256(secret, timestamp + raw body)), as Zendesk sends it."""
    digest = hmac.new(secret.encode("utf-8"), timestamp.encode("utf-8") + raw_body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def verify_zendesk(headers: Mapping[str, str], raw_body: bytes, secret: str, now: datetime,
                   *, tolerance: timedelta = TIMESTAMP_TOLERANCE) -> None:
    """Accept the request only if Zendesk signed it, recently. Raises WebhookRejected."""
    check_secret(secret)
    check_size(raw_body)
    signature = header(headers, ZENDESK_SIGNATURE)
    timestamp = header(headers, ZENDESK_TIMESTAMP)
    if not signature:
        raise WebhookRejected(401, f"missing {ZENDESK_SIGNATURE} header")
    if not timestamp:
        raise WebhookRejected(401, f"missing {ZENDESK_TIMESTAMP} header")
    sent_at = parse_time(timestamp.strip())
    if sent_at is None:
        raise WebhookRejected(401, "signature timestamp is not an ISO-8601 time")
    current = now if now.tzinfo else now.replace(tzinfo=UTC)
    if abs(current - sent_at) > tolerance:
        raise WebhookRejected(401, "signature timestamp is more than 5 minutes away")
    if not same_digest(zendesk_signature(raw_body, secret, timestamp.strip()), signature.strip()):
        raise WebhookRejected(401, "signature does not match")


# Zendesk `via.channel` -> our channel. Anything else a customer types into (web form, widget,
# messaging, chat, mobile SDK, social) is `web`.
_ZENDESK_CHANNELS: dict[str, Channel] = {"email": "email", "api": "api", "web_service": "api"}


def zendesk_channel(via_channel: Any) -> Channel:
    return _ZENDESK_CHANNELS.get(str(via_channel or "").strip().lower(), "web")


def _detail_digits(payload: Mapping[str, Any], field: str) -> str | None:
    detail = payload.get("detail")
    value = detail.get(field) if isinstance(detail, Mapping) else None
    text = str(value) if isinstance(value, int | str) and not isinstance(value, bool) else ""
    return text if text.isascii() and text.isdigit() and len(text) <= 20 else None


def zendesk_ticket_id(payload: Mapping[str, Any]) -> str | None:
    return _detail_digits(payload, "id")


def map_zendesk_comment(payload: Mapping[str, Any], *, requester_email: str | None = None,
                        fetched_body: str | None = None) -> TicketEvent:
    """A `zen:event-type:ticket.comment_added` payload as a follow-up (`Customer Replied`) on the
    ticket's case, when it is the requester's own public comment (DESIGN.md "Conversations").

    The payload: `detail` is the ticket (its `requester_id`, its `description`, the first comment),
    `event.comment` the comment: `id`, `body`, `is_public`, `author` {`id`, `is_staff`, `name`}.
    Ignored (WebhookIgnored): a private comment (an internal note), an agent's or any staff
    member's comment (unblock's own API user is an agent), a comment by anyone but the requester,
    and the ticket's first comment (its description: the report itself). A comment whose body the
    delivery leaves out raises NeedsFetch; the handler passes the fetched body back.
    """
    if payload.get("type") != ZENDESK_COMMENT_ADDED:
        raise WebhookIgnored(f"Zendesk event {str(payload.get('type'))[:80]!r} is not a comment")
    ticket_id = zendesk_ticket_id(payload)
    event = payload.get("event")
    comment = event.get("comment") if isinstance(event, Mapping) else None
    if ticket_id is None or not isinstance(comment, Mapping) or comment.get("id") in (None, ""):
        raise WebhookRejected(400, "Zendesk comment payload has no detail.id and event.comment.id")
    detail = payload["detail"]
    given = comment.get("author")
    author: Mapping[str, Any] = given if isinstance(given, Mapping) else {}
    if comment.get("is_public") is not True:
        raise WebhookIgnored("a private comment (an internal note), not the customer's")
    if author.get("is_staff") is True:
        raise WebhookIgnored("an agent's comment (unblock's own replies included), not the customer's")
    requester = zendesk_requester_id(payload)
    if requester is None or str(author.get("id")) != requester:
        raise WebhookIgnored("a comment by someone other than the ticket's requester")
    body = comment.get("body") if isinstance(comment.get("body"), str) else fetched_body
    if body is None:
        raise NeedsFetch(ticket_id, str(comment["id"]))
    if body.strip() and body.strip() == str(detail.get("description") or "").strip():
        raise WebhookIgnored("the ticket's first comment: the report itself")
    time = parse_time(payload.get("time")) or parse_time(detail.get("updated_at"))
    if time is None:
        raise WebhookRejected(400, "Zendesk payload has no valid time")
    via = detail.get("via")
    try:
        ticket = TicketDetail(ticket_id=ticket_id, channel=zendesk_channel(via.get("channel") if isinstance(
            via, Mapping) else None), subject=str(detail.get("subject") or "")[:1000], text=clip_text(body),
            requester_email=requester_email)
    except ValueError:
        raise WebhookRejected(400, "Zendesk comment does not map to a ticket event") from None
    return TicketEvent(id=event_id("zendesk", payload.get("account_id", ""), "comment", ticket_id, comment["id"]),
                       source="zendesk", detail_type="Customer Replied", time=time, detail=ticket)


def zendesk_ticket_text(ticket: Mapping[str, Any], comments: list[dict[str, Any]]) -> dict[str, Any]:
    """What Zendesk's API says of a ticket (`GET /api/v2/tickets/{id}.json`'s `ticket`, and
    `GET /api/v2/tickets/{id}/comments.json`'s `comments`) as the `detail` fields a delivery with no
    text left out: subject, the requester, and the requester's public comments as the text."""
    requester = str(ticket.get("requester_id") or "")
    said = [str(c.get("plain_body") or c.get("body") or "") for c in comments
            if c.get("public") is True and str(c.get("author_id")) == requester]
    return {"subject": str(ticket.get("subject") or ""), "requester_id": requester or None,
            "description": "\n\n".join(t for t in said if t.strip()) or str(ticket.get("description") or ""),
            "via": ticket.get("via") if isinstance(ticket.get("via"), Mapping) else None,
            "created_at": ticket.get("created_at"),
            # who opened it: unblock's own tickets are recognised by these (`own_ticket`)
            "submitter_id": str(ticket.get("submitter_id") or "") or None,
            "tags": ticket.get("tags") if isinstance(ticket.get("tags"), list) else None}


def map_zendesk(payload: Mapping[str, Any], *, requester_email: str | None = None) -> TicketEvent:
    """A `zen:event-type:ticket.created` event-subscription payload as a normalized event.

    The payload names the requester only by `requester_id`; a handler that looks the user up
    passes `requester_email`. The ticket text is the ticket's `description` (its first comment).
    """
    event_type = payload.get("type")
    if event_type != ZENDESK_TICKET_CREATED:
        raise WebhookIgnored(f"Zendesk event {str(event_type)[:80]!r} opens no case")
    detail = payload.get("detail")
    if not isinstance(detail, Mapping) or detail.get("id") in (None, ""):
        raise WebhookRejected(400, "Zendesk payload has no detail.id")
    ticket_id = help_desk_id(detail["id"], "Zendesk detail.id")
    if not str(detail.get("description") or "").strip() and not str(detail.get("subject") or "").strip():
        raise NeedsFetch(ticket_id)
    time = parse_time(payload.get("time")) or parse_time(detail.get("created_at"))
    if time is None:
        raise WebhookRejected(400, "Zendesk payload has no valid time")
    via = detail.get("via")
    channel = zendesk_channel(via.get("channel") if isinstance(via, Mapping) else None)
    try:
        ticket = TicketDetail(
            ticket_id=ticket_id,
            channel=channel,
            subject=str(detail.get("subject") or "")[:1000],
            text=clip_text(str(detail.get("description") or "")),
            requester_email=requester_email,
        )
    except ValueError:
        raise WebhookRejected(400, "Zendesk ticket does not map to a ticket event") from None
    return TicketEvent(
        id=event_id("zendesk", payload.get("account_id", ""), "ticket", ticket_id, "created"),
        source="zendesk",
        time=time,
        detail=ticket,
    )




def zendesk_requester_id(payload: Mapping[str, Any]) -> str | None:
    """The Zendesk user id of the ticket's requester (`detail.requester_id`), digits only."""
    return _detail_digits(payload, "requester_id")


# unblock's own tickets carry this tag (adapters.zendesk: a proactive notice to a team's owner)
OWN_TICKET_TAG = "unblock_proactive"


def own_ticket(payload: Mapping[str, Any], submitter_email: str | None, own_email: str | None) -> bool:
    """A `ticket.created` delivery of a ticket unblock itself opened (issue 35 item 4): it carries
    unblock's tag, or unblock's help-desk user submitted it for someone else. Never a customer's ticket."""
    detail = payload.get("detail")
    tags = detail.get("tags") if isinstance(detail, Mapping) else None
    if isinstance(tags, list) and OWN_TICKET_TAG in tags:
        return True
    return bool(submitter_email and own_email and submitter_email.strip().lower() == own_email.strip().lower())



# --- what the webhook reads (the handler's part, moved here: the desk's API is a port) --------


def _fetched_zendesk(payload: dict[str, Any], ticket_id: str, reader: HelpDeskReader) -> dict[str, Any]:
    """A ticket.created delivery without text, completed from Zendesk's API (400, kept, if it cannot be)."""
    found = reader.ticket(ticket_id)
    if found is None:
        raise WebhookRejected(400, "Zendesk delivery has no text and the ticket could not be read")
    fields = zendesk_ticket_text(*found)
    detail = {**payload["detail"], **{k: v for k, v in fields.items() if v}}
    return {**payload, "detail": detail}


def _zendesk_comment(payload: dict[str, Any], reader: HelpDeskReader) -> FollowUp:
    try:
        event = map_zendesk_comment(payload)
    except NeedsFetch as need:
        found = reader.ticket(need.ticket_id)
        body = next((str(c.get("plain_body") or c.get("body") or "") for c in (found[1] if found else [])
                     if str(c.get("id")) == need.comment_id), None)
        if body is None:
            raise WebhookRejected(400, "Zendesk comment has no body and could not be read") from None
        event = map_zendesk_comment(payload, fetched_body=body)
    return FollowUp(event, event.id, handle=zendesk_requester_id(payload))


def read(headers: Mapping[str, str], payload: dict[str, Any], reader: HelpDeskReader) -> Opening | FollowUp:
    """A verified delivery: the requester's comment (a follow-up) or a new ticket (an opening)."""
    if payload.get("type") == ZENDESK_COMMENT_ADDED:
        return _zendesk_comment(payload, reader)
    try:
        ticket = map_zendesk(payload)
    except NeedsFetch as need:
        payload = _fetched_zendesk(payload, need.ticket_id, reader)
        ticket = map_zendesk(payload)
    requester, submitter = zendesk_requester_id(payload), _detail_digits(payload, "submitter_id")
    if own_ticket(payload, reader.email_for(submitter) if submitter and submitter != requester else None,
                  reader.account_user()):
        raise WebhookIgnored("unblock's own ticket (a notice to a team's owner), not a customer's")
    return Opening(ticket, requester)


def is_comment(payload: Mapping[str, Any]) -> bool:
    """A delivery of the comment event (a follow-up, DESIGN.md "Conversations")."""
    return payload.get("type") == ZENDESK_COMMENT_ADDED


DESK = HelpDesk(
    title="Zendesk",
    name="zendesk",
    adapter="unblock.adapters.zendesk",
    settings=Settings(api_url="ZENDESK_API_URL", api_user="ZENDESK_API_EMAIL", api_secret="ZENDESK_API_TOKEN_SECRET",
                      webhook_secret="ZENDESK_SECRET_NAME"),
    verify=verify_zendesk,
    read=read,
    opening=lambda headers, payload: map_zendesk(payload),
    is_follow_up=is_comment,
    follow_up=map_zendesk_comment,
    kept_headers=("x-zendesk",),
    internal_notes=True,
    opens_tickets=True,
)

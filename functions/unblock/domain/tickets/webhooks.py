"""Help-desk webhooks: verify the signature, then map the payload to the normalized ticket event.

Pure functions: the signing secret and the clock are passed in; nothing here reads the
environment, logs or stores. A handler does, in this order:

    verify_zendesk(headers, raw_body, secret, now)      # or verify_discourse(headers, raw_body, secret)
    event = map_zendesk(parse_json(raw_body))            # or map_discourse(headers, parse_json(raw_body))
    event, secrets = redact_event(event)                 # before anything is logged or stored

and answers `WebhookRejected.status` for a WebhookRejected, 200 for a WebhookIgnored (a
WebhookPing, Discourse's "Ping" button, with a pong).

Outcomes:
- `WebhookRejected(status, reason)`: the request is refused. 401 for a missing, malformed or
  wrong signature or a timestamp more than five minutes away; 413 for a body over
  MAX_BODY_BYTES; 400 for a signed body that is not the JSON it should be; 500 when no signing
  secret is configured (an empty secret would accept any sender's signature).
- `WebhookIgnored(reason)`: signed and well-formed, but not a ticket to open. Answered 200 so
  the sender neither marks the delivery failed nor retries it: Zendesk event types other than
  `ticket.created` (and `ticket.comment_added`, a follow-up: `map_zendesk_comment`); Discourse
  deliveries that are not about a post (a topic, a user, ...); and the Discourse posts that are
  not a new opening post of a regular, visible topic by a non-staff user (edited posts,
  whispers, small actions, staff announcements, hidden or deleted posts). A new reply or a post
  in a private message raises NotAnOpeningPost: it may follow a case up
  (`map_discourse_follow_up`, DESIGN.md "Conversations"); the handler tells whose case it is.

What a Discourse delivery is, is read from the signed body alone. Discourse sends the body
`{"<event type>": <object>}` (`{"post": {...}}` for every post event, `{"ping": "OK"}` for a
ping) and names the event in the `X-Discourse-Event` header too, but no signature covers the
headers: anyone holding one signed delivery could relabel it. So a "post_created" header on a
body that is not a post opens nothing, and a post is judged by its own fields whatever the
header says (`post_edited`, `post_destroyed` and the rest send the same post object, with
`version` above 1 once edited and `deleted_at` once deleted).

Case identity (stable across redelivery, both senders retry): the case id is
`<source>:<ticket_id>` with ticket_id the Zendesk ticket id (`zendesk:4711`) or the Discourse
topic id (`discourse:8812`), and the envelope id is a UUID derived from the same identity, so a
redelivered webhook yields the very same event.

Signed body: both senders sign the exact bytes sent; verification therefore runs on the raw
body, before it is parsed. The sample events in events/ keep the payload as an object; their
signatures are over `canonical_body(payload)` (compact JSON, UTF-8, keys in file order).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

from unblock.domain.limits import MAX_WEBHOOK_BODY_BYTES, InputRejected, check_json_text, check_json_value
from unblock.domain.models import DISCOURSE_USERNAME
from unblock.domain.tickets.ticket_event import (
    Channel,
    TicketDetail,
    TicketEvent,
    clip_text,
)

__all__ = [
    "DISCOURSE_EVENT",
    "DISCOURSE_SIGNATURE",
    "MAX_BODY_BYTES",
    "TIMESTAMP_TOLERANCE",
    "ZENDESK_SIGNATURE",
    "ZENDESK_TIMESTAMP",
    "ZENDESK_TICKET_CREATED",
    "ZENDESK_COMMENT_ADDED",
    "DiscourseFollowUp",
    "NeedsFetch",
    "NotAnOpeningPost",
    "PRIVATE_TITLE",
    "map_discourse_follow_up",
    "map_zendesk_comment",
    "zendesk_ticket_id",
    "zendesk_ticket_text",
    "WebhookIgnored",
    "WebhookPing",
    "WebhookRejected",
    "canonical_body",
    "discourse_delivery",
    "discourse_event_name",
    "discourse_signature",
    "header",
    "is_ping",
    "kept_body",
    "kept_payload",
    "map_discourse",
    "map_zendesk",
    "parse_json",
    "verify_discourse",
    "verify_zendesk",
    "zendesk_channel",
    "zendesk_signature",
]

ZENDESK_SIGNATURE = "X-Zendesk-Webhook-Signature"
ZENDESK_TIMESTAMP = "X-Zendesk-Webhook-Signature-Timestamp"
ZENDESK_TICKET_CREATED = "zen:event-type:ticket.created"
ZENDESK_COMMENT_ADDED = "zen:event-type:ticket.comment_added"
DISCOURSE_SIGNATURE = "X-Discourse-Event-Signature"
DISCOURSE_EVENT = "X-Discourse-Event"
DISCOURSE_INSTANCE = "X-Discourse-Instance"
TIMESTAMP_TOLERANCE = timedelta(minutes=5)
MAX_BODY_BYTES = MAX_WEBHOOK_BODY_BYTES

_NAMESPACE = uuid.UUID("6f3c1f9e-2a7b-4b8e-9a51-0c5d7e2b4a10")  # unblock's own uuid5 namespace


class WebhookRejected(Exception):
    """Refuse the request with this HTTP status; `reason` is safe to log and to answer."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"{status}: {reason}")
        self.status = status
        self.reason = reason


class WebhookIgnored(Exception):
    """A genuine delivery that opens no case: acknowledge it (200) and do nothing."""

    status = 200

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class WebhookPing(WebhookIgnored):
    """Discourse's "Ping" button: signed, answered 200 with a pong."""

    def __init__(self) -> None:
        super().__init__("ping")


# --- shared -------------------------------------------------------------------------------


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header's value, whatever the case of its name (Function URLs and API Gateway v2
    lower-case them, API Gateway v1 keeps them as sent)."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def _check_size(raw_body: bytes) -> None:
    if len(raw_body) > MAX_BODY_BYTES:
        raise WebhookRejected(413, f"body larger than {MAX_BODY_BYTES} bytes")


def _check_secret(secret: str) -> None:
    if not secret:
        raise WebhookRejected(500, "webhook signing secret is not configured")


def _same(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode("ascii"), given.encode("utf-8", errors="replace"))


def parse_json(raw_body: bytes) -> dict[str, Any]:
    """The body as a JSON object (400 otherwise, naming why: not JSON, nested deeper than
    MAX_JSON_DEPTH, not valid Unicode, not an object). Call it after verifying the signature."""
    try:
        check_json_text(raw_body, "body", MAX_BODY_BYTES)
        data = json.loads(raw_body, parse_constant=_no_constant)
        check_json_value(data, "body")
    except InputRejected as err:
        raise WebhookRejected(400, str(err)) from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise WebhookRejected(400, "body is not valid JSON") from None
    if not isinstance(data, dict):
        raise WebhookRejected(400, "body is not a JSON object")
    return data


def _no_constant(name: str) -> Any:
    """NaN, Infinity and -Infinity are not JSON (RFC 8259); Python's parser takes them by default."""
    raise json.JSONDecodeError(f"{name} is not JSON", name, 0)


def kept_body(raw_body: bytes) -> Any:
    """What the intake dead-letter queue keeps of a verified body that cannot be processed: its
    JSON when it parses within the limits (a lone surrogate and all: the queue keeps it escaped),
    else its text."""
    try:
        check_json_text(raw_body, "body", MAX_BODY_BYTES)
        return json.loads(raw_body)
    except ValueError:  # InputRejected, UnicodeDecodeError, JSONDecodeError
        return raw_body.decode("utf-8", errors="replace")


def kept_payload(body: Any) -> dict[str, Any]:
    """A kept delivery's body (see `kept_body`) as the JSON object to map, for a replay:
    WebhookRejected(400) names why it is not one, as it did when the delivery arrived."""
    if isinstance(body, str):
        return parse_json(body.encode("utf-8", errors="surrogatepass"))
    if not isinstance(body, dict):
        raise WebhookRejected(400, "body is not a JSON object")
    try:
        check_json_value(body, "body")
    except InputRejected as err:
        raise WebhookRejected(400, str(err)) from None
    return body


def canonical_body(payload: Any) -> bytes:
    """Compact UTF-8 JSON, keys in the given order: how the sample events' bodies are sent and signed."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def help_desk_id(value: Any, what: str) -> str:
    """A Zendesk or Discourse id (a ticket, topic or post id: a positive integer, or its digits),
    as text. `true`, `NaN`, `Infinity`, a float or anything else is a 400 naming the field: it would
    open case `zendesk:True`."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 10**20:
        return str(value)
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 20 and int(value) > 0:
        return str(int(value))
    raise WebhookRejected(400, f"{what} is not a positive integer id")


def _event_id(*identity: object) -> str:
    return str(uuid.uuid5(_NAMESPACE, ":".join(str(part) for part in identity)))


# --- Zendesk ------------------------------------------------------------------------------


def zendesk_signature(raw_body: bytes, secret: str, timestamp: str) -> str:
    """base64(HMAC-SHA256(secret, timestamp + raw body)), as Zendesk sends it."""
    digest = hmac.new(secret.encode("utf-8"), timestamp.encode("utf-8") + raw_body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def verify_zendesk(headers: Mapping[str, str], raw_body: bytes, secret: str, now: datetime,
                   *, tolerance: timedelta = TIMESTAMP_TOLERANCE) -> None:
    """Accept the request only if Zendesk signed it, recently. Raises WebhookRejected."""
    _check_secret(secret)
    _check_size(raw_body)
    signature = header(headers, ZENDESK_SIGNATURE)
    timestamp = header(headers, ZENDESK_TIMESTAMP)
    if not signature:
        raise WebhookRejected(401, f"missing {ZENDESK_SIGNATURE} header")
    if not timestamp:
        raise WebhookRejected(401, f"missing {ZENDESK_TIMESTAMP} header")
    sent_at = _time(timestamp.strip())
    if sent_at is None:
        raise WebhookRejected(401, "signature timestamp is not an ISO-8601 time")
    current = now if now.tzinfo else now.replace(tzinfo=UTC)
    if abs(current - sent_at) > tolerance:
        raise WebhookRejected(401, "signature timestamp is more than 5 minutes away")
    if not _same(zendesk_signature(raw_body, secret, timestamp.strip()), signature.strip()):
        raise WebhookRejected(401, "signature does not match")


# Zendesk `via.channel` -> our channel. Anything else a customer types into (web form, widget,
# messaging, chat, mobile SDK, social) is `web`.
_ZENDESK_CHANNELS: dict[str, Channel] = {"email": "email", "api": "api", "web_service": "api"}


def zendesk_channel(via_channel: Any) -> Channel:
    return _ZENDESK_CHANNELS.get(str(via_channel or "").strip().lower(), "web")


class NeedsFetch(WebhookIgnored):
    """The delivery names a ticket (or a comment) but carries no text: the handler fetches it from
    Zendesk's API (`ticket.created` with only id, status and via is a real shape)."""

    def __init__(self, ticket_id: str, comment_id: str | None = None) -> None:
        super().__init__("no text in the delivery")
        self.ticket_id, self.comment_id = ticket_id, comment_id


def zendesk_ticket_id(payload: Mapping[str, Any]) -> str | None:
    detail = payload.get("detail")
    value = detail.get("id") if isinstance(detail, Mapping) else None
    text = str(value) if isinstance(value, int | str) and not isinstance(value, bool) else ""
    return text if text.isascii() and text.isdigit() and len(text) <= 20 else None


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
    time = _time(payload.get("time")) or _time(detail.get("updated_at"))
    if time is None:
        raise WebhookRejected(400, "Zendesk payload has no valid time")
    via = detail.get("via")
    try:
        ticket = TicketDetail(ticket_id=ticket_id, channel=zendesk_channel(via.get("channel") if isinstance(
            via, Mapping) else None), subject=str(detail.get("subject") or "")[:1000], text=clip_text(body),
            requester_email=requester_email)
    except ValueError:
        raise WebhookRejected(400, "Zendesk comment does not map to a ticket event") from None
    return TicketEvent(id=_event_id("zendesk", payload.get("account_id", ""), "comment", ticket_id, comment["id"]),
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
            "created_at": ticket.get("created_at")}


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
    time = _time(payload.get("time")) or _time(detail.get("created_at"))
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
        id=_event_id("zendesk", payload.get("account_id", ""), "ticket", ticket_id, "created"),
        source="zendesk",
        time=time,
        detail=ticket,
    )


# --- Discourse ----------------------------------------------------------------------------


def discourse_signature(raw_body: bytes, secret: str) -> str:
    """`sha256=` + hex HMAC-SHA256(secret, raw body), as Discourse sends it."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), raw_body, hashlib.sha256).hexdigest()


def verify_discourse(headers: Mapping[str, str], raw_body: bytes, secret: str) -> None:
    """Accept the request only if Discourse signed it (pings are signed too). Raises WebhookRejected.

    Discourse sends no timestamp, so there is no replay window: a replayed delivery maps to
    the same case id and intake's idempotency makes it a no-op.
    """
    _check_secret(secret)
    _check_size(raw_body)
    signature = header(headers, DISCOURSE_SIGNATURE)
    if not signature:
        raise WebhookRejected(401, f"missing {DISCOURSE_SIGNATURE} header")
    scheme, _, digest = signature.strip().partition("=")
    if scheme.lower() != "sha256" or not digest:
        raise WebhookRejected(401, "signature is not of the form sha256=<hex>")
    if not _same(discourse_signature(raw_body, secret), f"sha256={digest.lower()}"):
        raise WebhookRejected(401, "signature does not match")


def discourse_event_name(headers: Mapping[str, str]) -> str | None:
    """The event the (unsigned) `X-Discourse-Event` header names: for logs only, never to decide."""
    value = header(headers, DISCOURSE_EVENT)
    return value.strip().lower() if value else None


def discourse_delivery(payload: Mapping[str, Any]) -> str:
    """What a Discourse delivery is about, from its signed body alone: "post", "ping", another
    event type (the body's one key, "topic", "user", ...), or "" when the body has none of
    Discourse's shapes."""
    if "post" in payload:
        return "post"
    if len(payload) == 1:
        ((name, value),) = payload.items()
        if name == "ping":
            return "ping"
        if isinstance(value, Mapping) and isinstance(name, str):
            return name
    return ""


def is_ping(payload: Mapping[str, Any]) -> bool:
    """Discourse's "Ping" button (body `{"ping": "OK"}`): answer 200 after verifying, open nothing."""
    return discourse_delivery(payload) == "ping"


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"p", "br", "pre", "li", "div", "blockquote", "h1", "h2", "h3", "tr"}:
            self.parts.append("\n")


def _cooked_text(cooked: str) -> str:
    parser = _Text()
    parser.feed(cooked)
    parser.close()
    return "".join(parser.parts).strip()


class NotAnOpeningPost(WebhookIgnored):
    """A new post that opens no case but may follow one up: a reply in a topic, or a reply in a
    private message (`map_discourse_follow_up` tells which case, if any)."""


def _ignore_reason(post: Mapping[str, Any]) -> str | None:
    """Why the post is nothing to take in at all, else None (a reply or a private message raises
    NotAnOpeningPost from `map_discourse`)."""
    version = post.get("version")
    if isinstance(version, int) and not isinstance(version, bool) and version > 1:
        return "an edited post, not a new one"
    if post.get("post_type", 1) != 1:
        return "not a regular post (whisper, moderator action or small action)"
    if post.get("hidden") or post.get("deleted_at") or post.get("user_deleted"):
        return "a hidden or deleted post"
    if post.get("staff") or post.get("admin") or post.get("moderator"):
        return "posted by staff"
    return None


def _not_opening(post: Mapping[str, Any]) -> str | None:
    if post.get("topic_archetype", "regular") not in ("regular", None):
        return "not a regular topic (private message)"
    if post.get("post_number", 1) != 1:
        return "a reply, not the opening post of a topic"
    return None


# the title of unblock's private message (adapters.helpdesks.DiscourseNotifier): the answer to it
# names the topic whose case it follows up
PRIVATE_TITLE = "About your report in topic {topic}"
_PRIVATE_TITLE = re.compile(r"^(?:Re: )?About your report in topic ([1-9][0-9]{0,19})$")


class DiscourseFollowUp:
    """A reply in a topic or in unblock's private message, as the handler resolves it to a case:
    `topic_id` (the topic the case is about), `username` (who wrote), `private`, and `event` (a
    normalized event with the post's text, ticket_id the topic). `own_message`: a post in a
    private message that is not unblock's (a customer writing to staff privately): its case, if
    any, is the message's own (`topic_id` is the message's topic), and `opening` says it is the
    message's first post (which may open that case, when staff are among its recipients)."""

    def __init__(self, topic_id: str, username: str, private: bool, event: TicketEvent, *,
                 own_message: bool = False, opening: bool = False) -> None:
        self.topic_id, self.username, self.private, self.event = topic_id, username, private, event
        self.own_message, self.opening = own_message, opening


def map_discourse_follow_up(headers: Mapping[str, str], payload: Mapping[str, Any]) -> DiscourseFollowUp:
    """A new reply post (`post_number` > 1 in a regular topic, or any post in a private message
    whose title is unblock's, `PRIVATE_TITLE`) as a follow-up for the handler to resolve: whose
    case it is depends on the cases the topic has. Edits, whispers, staff posts, hidden or deleted
    posts, and private messages that are not answers to unblock's are ignored."""
    post = payload.get("post")
    if not isinstance(post, Mapping) or post.get("id") in (None, "") or post.get("topic_id") in (None, ""):
        raise WebhookRejected(400, "Discourse payload has no post.id and post.topic_id")
    reason = _ignore_reason(post)
    if reason:
        raise WebhookIgnored(reason)
    private = post.get("topic_archetype") == "private_message"
    found = _PRIVATE_TITLE.match(str(post.get("topic_title") or "")) if private else None
    own_message = private and found is None  # a private message of the customer's own (to staff?)
    topic_id = found.group(1) if found else help_desk_id(post["topic_id"], "Discourse post.topic_id")
    username = discourse_username(payload)
    if username is None:
        raise WebhookIgnored("a post without a plain username")
    raw = post.get("raw")
    text = str(raw) if isinstance(raw, str) and raw.strip() else _cooked_text(str(post.get("cooked") or ""))
    time = _time(post.get("created_at"))
    if time is None:
        raise WebhookRejected(400, "Discourse post has no valid created_at")
    instance = (header(headers, DISCOURSE_INSTANCE) or "").rstrip("/")
    if not (instance.isascii() and instance.isprintable()):
        instance = ""
    try:
        # a private message of the customer's own is read by them and staff only: not a public channel
        ticket = TicketDetail(ticket_id=topic_id, channel="private_message" if own_message else "forum",
                              subject=str(post.get("topic_title") or "")[:1000],
                              text=clip_text(text), requester_username=username)
    except ValueError:
        raise WebhookRejected(400, "Discourse post does not map to a ticket event") from None
    event = TicketEvent(id=_event_id("discourse", instance, "post", post["id"]), source="discourse",
                        detail_type="Customer Replied", time=time, detail=ticket)
    return DiscourseFollowUp(topic_id, username, private, event, own_message=own_message,
                             opening=own_message and post.get("post_number", 1) == 1)


def zendesk_requester_id(payload: Mapping[str, Any]) -> str | None:
    """The Zendesk user id of the ticket's requester (`detail.requester_id`), digits only."""
    detail = payload.get("detail")
    value = detail.get("requester_id") if isinstance(detail, Mapping) else None
    text = str(value) if isinstance(value, int | str) and not isinstance(value, bool) else ""
    return text if text.isascii() and text.isdigit() and len(text) <= 20 else None


def discourse_username(payload: Mapping[str, Any]) -> str | None:
    """The poster's Discourse username (`post.username`), when it is a plain one."""
    post = payload.get("post")
    value = post.get("username") if isinstance(post, Mapping) else None
    if isinstance(value, str) and re.fullmatch(DISCOURSE_USERNAME, value):
        return value
    return None


def map_discourse(headers: Mapping[str, str], payload: Mapping[str, Any]) -> TicketEvent:
    """A new opening post (`{"post": {...}}`, judged by the body: see the module's docstring)
    as a normalized event, channel `forum`; the headers give only the instance's URL.

    ticket_id is the topic id (case `discourse:<topic_id>`, where the reply goes); subject the
    topic title; text the post's markdown `raw` (or the text of `cooked` HTML when `raw` is
    absent). The payload gives no e-mail address: a handler that looks the poster up through
    Discourse's admin API adds it (`with_requester_email`). The username is kept for a private
    message.
    """
    delivery = discourse_delivery(payload)
    if delivery == "ping":
        raise WebhookPing()
    if delivery not in ("post", ""):
        raise WebhookIgnored(f"a Discourse {delivery[:80]!r} delivery, not a post: opens no case")
    post = payload.get("post")
    if not isinstance(post, Mapping) or post.get("id") in (None, "") or post.get("topic_id") in (None, ""):
        raise WebhookRejected(400, "Discourse payload has no post.id and post.topic_id")
    topic_id = help_desk_id(post["topic_id"], "Discourse post.topic_id")
    post_id = help_desk_id(post["id"], "Discourse post.id")
    reason = _ignore_reason(post)
    if reason:
        raise WebhookIgnored(reason)
    if (reason := _not_opening(post)) is not None:
        raise NotAnOpeningPost(reason)
    raw = post.get("raw")
    text = str(raw) if isinstance(raw, str) and raw.strip() else _cooked_text(str(post.get("cooked") or ""))
    time = _time(post.get("created_at"))
    if time is None:
        raise WebhookRejected(400, "Discourse post has no valid created_at")
    instance = (header(headers, DISCOURSE_INSTANCE) or "").rstrip("/")
    if not (instance.isascii() and instance.isprintable()):  # unsigned: only a plain URL goes into the event id
        instance = ""
    try:
        ticket = TicketDetail(
            ticket_id=topic_id,
            channel="forum",
            subject=str(post.get("topic_title") or "")[:1000],
            text=clip_text(text),
            requester_username=discourse_username(payload),
        )
    except ValueError:
        raise WebhookRejected(400, "Discourse post does not map to a ticket event") from None
    return TicketEvent(
        id=_event_id("discourse", instance, "post", post_id),
        source="discourse",
        time=time,
        detail=ticket,
    )

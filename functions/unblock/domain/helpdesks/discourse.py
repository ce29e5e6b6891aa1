"""Discourse: everything unblock does with a Discourse forum that is not I/O.

Its webhook ("Post is created") is signed with `X-Discourse-Event-Signature: sha256=<hex
HMAC-SHA256 of the raw body>`; Discourse sends no timestamp, so there is no replay window (a
replayed delivery maps to the same case id, and intake's idempotency makes it a no-op).

What a delivery is, is read from the signed body alone. Discourse sends the body `{"<event type>":
<object>}` (`{"post": {...}}` for every post event, `{"ping": "OK"}` for a ping) and names the event
in the `X-Discourse-Event` header too, but no signature covers the headers: anyone holding one
signed delivery could relabel it. So a "post_created" header on a body that is not a post opens
nothing, and a post is judged by its own fields whatever the header says (`post_edited`,
`post_destroyed` and the rest send the same post object, with `version` above 1 once edited and
`deleted_at` once deleted). A new opening post of a regular, visible topic by a non-staff user
opens case `discourse:<topic id>`; a reply in the topic, or an answer to unblock's private message,
follows a case up (`map_discourse_follow_up`: the workflow tells whose case it is); the first post
of a customer's own private message to staff opens a case of its own (`desk.to_staff`); edits,
whispers, small actions, staff posts, hidden or deleted posts open nothing; a ping is answered.

The poster is named by username, resolved to an email through the admin API. A forum is a public
channel: the public reply is general and the specifics go to the poster as a private message;
Discourse has no internal notes. The HTTP side is unblock.adapters.discourse.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from datetime import datetime
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any

from unblock.domain.helpdesks.desk import ForumFollowUp, HelpDesk, Opening, Settings
from unblock.domain.models import REQUESTER_USERNAME
from unblock.domain.tickets.ticket_event import TicketDetail, TicketEvent, clip_text
from unblock.domain.tickets.webhooks import (
    WebhookIgnored,
    WebhookPing,
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

DISCOURSE_SIGNATURE = "X-Discourse-Event-Signature"
DISCOURSE_EVENT = "X-Discourse-Event"
DISCOURSE_INSTANCE = "X-Discourse-Instance"
DiscourseFollowUp = ForumFollowUp  # the name the follow-up had here


def discourse_signature(raw_body: bytes, secret: str) -> str:
    """`sha256=` + hex HMAC-SHA256(secret, raw body), as Discourse sends it."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), raw_body, hashlib.sha256).hexdigest()


def verify_discourse(headers: Mapping[str, str], raw_body: bytes, secret: str) -> None:
    """Accept the request only if Discourse signed it (pings are signed too). Raises WebhookRejected.

    Discourse sends no timestamp, so there is no replay window: a replayed delivery maps to
    the same case id and intake's idempotency makes it a no-op.
    """
    check_secret(secret)
    check_size(raw_body)
    signature = header(headers, DISCOURSE_SIGNATURE)
    if not signature:
        raise WebhookRejected(401, f"missing {DISCOURSE_SIGNATURE} header")
    scheme, _, digest = signature.strip().partition("=")
    if scheme.lower() != "sha256" or not digest:
        raise WebhookRejected(401, "signature is not of the form sha256=<hex>")
    if not same_digest(discourse_signature(raw_body, secret), f"sha256={digest.lower()}"):
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


def _post_text_time(headers: Mapping[str, str], post: Mapping[str, Any]) -> tuple[str, datetime, str]:
    """A post's text (its markdown `raw`, else the text of its `cooked` HTML), its time, and the
    instance's URL from the (unsigned) header: only a plain URL goes into the event id."""
    raw = post.get("raw")
    text = str(raw) if isinstance(raw, str) and raw.strip() else _cooked_text(str(post.get("cooked") or ""))
    time = parse_time(post.get("created_at"))
    if time is None:
        raise WebhookRejected(400, "Discourse post has no valid created_at")
    instance = (header(headers, DISCOURSE_INSTANCE) or "").rstrip("/")
    if not (instance.isascii() and instance.isprintable()):
        instance = ""
    return text, time, instance


# the title of unblock's private message (adapters.helpdesks.DiscourseNotifier): the answer to it
# names the topic whose case it follows up
PRIVATE_TITLE = "About your report in topic {topic}"
_PRIVATE_TITLE = re.compile(r"^(?:Re: )?About your report in topic ([1-9][0-9]{0,19})$")


def map_discourse_follow_up(headers: Mapping[str, str], payload: Mapping[str, Any]) -> ForumFollowUp:
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
    text, time, instance = _post_text_time(headers, post)
    try:
        # a private message of the customer's own is read by them and staff only: not a public channel
        ticket = TicketDetail(ticket_id=topic_id, channel="private_message" if own_message else "forum",
                              subject=str(post.get("topic_title") or "")[:1000],
                              text=clip_text(text), requester_username=username)
    except ValueError:
        raise WebhookRejected(400, "Discourse post does not map to a ticket event") from None
    event = TicketEvent(id=event_id("discourse", instance, "post", post["id"]), source="discourse",
                        detail_type="Customer Replied", time=time, detail=ticket)
    return ForumFollowUp(topic_id, username, private, event, own_message=own_message,
                         opening=own_message and post.get("post_number", 1) == 1)


# Discourse's own groups of staff: a private message to one of them is to staff (the webhook's post
# names no recipients: the adapter reads them from `GET /t/{topic_id}.json`)
STAFF_GROUPS = ("staff", "moderators", "admins")



def discourse_username(payload: Mapping[str, Any]) -> str | None:
    """The poster's Discourse username (`post.username`), when it is a plain one."""
    post = payload.get("post")
    value = post.get("username") if isinstance(post, Mapping) else None
    if isinstance(value, str) and re.fullmatch(REQUESTER_USERNAME, value):
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
    text, time, instance = _post_text_time(headers, post)
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
        id=event_id("discourse", instance, "post", post_id),
        source="discourse",
        time=time,
        detail=ticket,
    )


def read(headers: Mapping[str, str], payload: dict[str, Any], reader: HelpDeskReader) -> Opening | ForumFollowUp:
    """A verified delivery: a new topic's opening post, or a reply whose case the workflow resolves."""
    poster = discourse_username(payload)
    try:
        ticket = map_discourse(headers, payload)
    except NotAnOpeningPost:
        return map_discourse_follow_up(headers, payload)
    return Opening(ticket, poster)


def _verify(headers: Mapping[str, str], raw_body: bytes, secret: str, now: datetime) -> None:
    verify_discourse(headers, raw_body, secret)  # no timestamp to hold against `now`


DESK = HelpDesk(
    title="Discourse",
    name="discourse",
    adapter="unblock.adapters.discourse",
    settings=Settings(api_url="DISCOURSE_API_URL", api_user="DISCOURSE_API_USERNAME",
                      api_secret="DISCOURSE_API_KEY_SECRET", webhook_secret="DISCOURSE_SECRET_NAME"),
    verify=_verify,
    read=read,
    opening=map_discourse,
    kept_headers=("x-discourse-event",),
    event_header=DISCOURSE_EVENT,
    private_messages=True,
    staff_groups=STAFF_GROUPS,
)

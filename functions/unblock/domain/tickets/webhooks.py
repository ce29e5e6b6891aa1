"""What every help desk's webhook shares: the outcomes of a delivery, and the pure steps around
each desk's own signature check and mapping (unblock.domain.helpdesks.<desk>).

Pure functions: the signing secret and the clock are passed in; nothing here reads the
environment, logs or stores. The webhook handler does, in this order:

    desk.verify(headers, raw_body, secret, now)     # the desk's signature check
    delivery = desk.read(headers, parse_json(raw_body), reader)   # mapped to the normalized event
    event, secrets = redact_event(event)             # before anything is logged or stored

and answers `WebhookRejected.status` for a WebhookRejected, 200 for a WebhookIgnored (a
WebhookPing, a forum's "Ping" button, with a pong).

Outcomes:
- `WebhookRejected(status, reason)`: the request is refused. 401 for a missing, malformed or
  wrong signature or a timestamp too far away; 413 for a body over MAX_BODY_BYTES; 400 for a
  signed body that is not the JSON it should be; 500 when no signing secret is configured (an
  empty secret would accept any sender's signature).
- `WebhookIgnored(reason)`: signed and well-formed, but not a ticket to open. Answered 200 so the
  sender neither marks the delivery failed nor retries it (other event types, edits, staff posts).
- `NeedsFetch`: the delivery names a ticket but carries no text; the desk's API completes it.

Case identity (stable across redelivery, senders retry): the case id is `<desk>:<ticket_id>`,
and the envelope id is a UUID derived from the same identity (`event_id`), so a redelivered
webhook yields the very same event.

Signed body: senders sign the exact bytes sent; verification therefore runs on the raw body,
before it is parsed. The sample events in events/ keep the payload as an object; their
signatures are over `canonical_body(payload)` (compact JSON, UTF-8, keys in file order).
"""

from __future__ import annotations

import hmac
import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from unblock.domain.limits import MAX_WEBHOOK_BODY_BYTES, InputRejected, check_json_text, check_json_value

__all__ = [
    "MAX_BODY_BYTES",
    "TIMESTAMP_TOLERANCE",
    "NeedsFetch",
    "WebhookIgnored",
    "WebhookPing",
    "WebhookRejected",
    "canonical_body",
    "check_secret",
    "check_size",
    "event_id",
    "header",
    "help_desk_id",
    "kept_body",
    "kept_payload",
    "parse_json",
    "parse_time",
    "same_digest",
]

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
    """A forum's "Ping" button: signed, answered 200 with a pong."""

    def __init__(self) -> None:
        super().__init__("ping")


class NeedsFetch(WebhookIgnored):
    """The delivery names a ticket (or a comment) but carries no text: the desk's API reads it
    (a ticket event with only its id, status and channel is a real shape)."""

    def __init__(self, ticket_id: str, comment_id: str | None = None) -> None:
        super().__init__("no text in the delivery")
        self.ticket_id, self.comment_id = ticket_id, comment_id




def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header's value, whatever the case of its name (Function URLs and API Gateway v2
    lower-case them, API Gateway v1 keeps them as sent)."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def check_size(raw_body: bytes) -> None:
    if len(raw_body) > MAX_BODY_BYTES:
        raise WebhookRejected(413, f"body larger than {MAX_BODY_BYTES} bytes")


def check_secret(secret: str) -> None:
    if not secret:
        raise WebhookRejected(500, "webhook signing secret is not configured")


def same_digest(expected: str, given: str) -> bool:
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


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def help_desk_id(value: Any, what: str) -> str:
    """A help desk's id (a ticket, topic or post id: a positive integer, or its digits), as text.
    `true`, `NaN`, `Infinity`, a float or anything else is a 400 naming the field: it would open
    case `<desk>:True`."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 10**20:
        return str(value)
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 20 and int(value) > 0:
        return str(int(value))
    raise WebhookRejected(400, f"{what} is not a positive integer id")


def event_id(*identity: object) -> str:
    return str(uuid.uuid5(_NAMESPACE, ":".join(str(part) for part in identity)))

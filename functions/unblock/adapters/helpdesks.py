"""Replies go back where the ticket came from: the notifier port and its help-desk adapters.

A closed (or re-checked) case has a `customer_reply` for the customer and an `internal_note`
with the evidence for staff. `reply_for(case, reply_id)` turns them into one OutgoingReply,
the body of one message on the outbox queue; the NotifyFunction hands it to the notifier of
its destination:

- Zendesk (`ZendeskNotifier`): the internal note, then the public reply, each as a ticket
  comment (`PUT /api/v2/tickets/{id}.json` with `{"ticket": {"comment": {"body", "public"}}}`),
  basic auth `{email}/token:{api_token}`.
- Discourse (`DiscourseNotifier`): the public reply as a post in the topic
  (`POST /posts.json` with `{"topic_id", "raw"}`, headers `Api-Key` / `Api-Username`).
  Discourse has no internal notes (a whisper needs whispers enabled and a staff API user),
  so the evidence stays on the case, where staff read it; `reply_for` leaves it out.

Errors (both mean "not delivered"; the handler reports the message as failed either way, so
SQS keeps it and the redrive policy moves it to the dead-letter queue after maxReceiveCount):
- `DeliveryFailed`: worth retrying as is: timeouts, dropped or refused connections, 429, 5xx,
  a Secrets Manager error. SQS redelivers after the visibility timeout.
- `DeliveryRejected`: the help desk refused the request (4xx other than 429: bad credentials,
  ticket or topic gone, a closed Zendesk ticket, validation) or the adapter is misconfigured.
  Retrying cannot mend it; it is logged as an error and ends in the DLQ, from where it can
  be redriven once the cause is fixed. The reply is never dropped silently.

Delivery is at least once. No HTTP request is retried inside the adapter (urllib3 retries
off): SQS is the only retry, so a request the help desk may have applied is not repeated at
once. Each part of a reply (by `reply_id`) is sent once: the NotifyFunction keeps a Powertools
idempotency record per part in the cases table (unblock.adapters.idempotency), so a redelivered
message whose internal note went through and whose public reply failed sends only the public
reply, in whichever container it lands; without a table an adapter remembers per container.
Only after a read timeout on a request the help desk did apply can a part be posted twice; the
Zendesk order (note first, public reply last) keeps such a duplicate on the staff side.

Errors, logs and exceptions never carry a reply's text (it may quote the customer): only
the case id, the destination, the HTTP status and the help desk's short error code.
"""

from __future__ import annotations

import base64
import json
import os
import re
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

import urllib3

from unblock.adapters.secrets import SECRET_MAX_AGE, read_credential
from unblock.domain.replies import Destination, OutgoingReply, destination_of, reply_for
from unblock.ports import DeliveryError, DeliveryFailed, DeliveryRejected, Notifier

__all__ = [
    "DeliveryError",
    "DeliveryFailed",
    "DeliveryRejected",
    "Destination",
    "DiscourseNotifier",
    "Misconfigured",
    "Notifier",
    "OutgoingReply",
    "SecretValue",
    "ZendeskNotifier",
    "destination_of",
    "notifiers_from_env",
    "reply_for",
    "secret_reader",
]

CONNECT_TIMEOUT = 2.0  # seconds
READ_TIMEOUT = 5.0  # seconds
USER_AGENT = "unblock-notifier/1"
_ERROR_CODE = re.compile(r"[A-Za-z][A-Za-z0-9_.:-]{0,63}")
_REMEMBERED = 1000  # delivered parts kept per adapter (per warm container)


# --- the port ------------------------------------------------------------------------------


# --- credentials ---------------------------------------------------------------------------

SecretValue = str | Callable[[], str]


def secret_reader(secret_name: str, destination: str, max_age: int = SECRET_MAX_AGE) -> Callable[[], str]:
    """Reads the credential from Secrets Manager through Powertools Parameters (cached for
    `max_age` seconds, so a rotated secret is picked up without a redeploy)."""

    def read() -> str:
        try:
            return read_credential(secret_name, max_age=max_age)
        except Exception as err:  # noqa: BLE001 - Secrets Manager down or denied: try again later
            raise DeliveryFailed(f"cannot read secret {secret_name!r}: {type(err).__name__}",
                                 destination=destination) from err

    return read


def _credential(value: SecretValue, what: str, destination: str) -> str:
    text = value() if callable(value) else value
    if not text:
        raise DeliveryRejected(f"the {what} is empty", destination=destination)
    return text


# --- HTTP ----------------------------------------------------------------------------------


def _error_code(data: bytes) -> str | None:
    """The help desk's error code (Zendesk `error`, Discourse `error_type`) if it is a code: never
    details or free text, which may echo what we sent."""
    try:
        body = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(body, dict):
        return None
    for key in ("error_type", "error"):
        value = body.get(key)
        if isinstance(value, dict):
            value = value.get("title")
        if isinstance(value, str) and _ERROR_CODE.fullmatch(value):
            return value
    return None


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


class _Http:
    """urllib3 with connect/read timeouts, no retries and no redirects; maps failures to the port."""

    def __init__(self, destination: str, base_url: str, http: urllib3.PoolManager | None,
                 connect_timeout: float, read_timeout: float) -> None:
        if not base_url.startswith(("https://", "http://")):
            raise ValueError(f"the {destination} API URL must start with https://: {base_url!r}")
        self.destination = destination
        self.base_url = base_url.rstrip("/")
        self.pool = http or urllib3.PoolManager(num_pools=2, maxsize=4)
        self.timeout = urllib3.Timeout(connect=connect_timeout, read=read_timeout)

    def send(self, method: str, path: str, payload: dict[str, Any], headers: dict[str, str]) -> int:
        dest = self.destination
        try:
            response = self.pool.request(
                method, self.base_url + path,
                body=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
                headers={"Content-Type": "application/json; charset=utf-8", "Accept": "application/json",
                         "User-Agent": USER_AGENT, **headers},
                timeout=self.timeout, retries=False, redirect=False, preload_content=True,
            )
        except urllib3.exceptions.HTTPError as err:  # timeouts, refused or dropped connections, TLS
            raise DeliveryFailed(f"{dest} {method} {path} failed: {type(err).__name__}", destination=dest) from None
        status = response.status
        if 200 <= status < 300:
            return status
        code = _error_code(response.data)
        detail = f"{dest} {method} {path} answered {status}" + (f" ({code})" if code else "")
        if status == 429 or status >= 500:
            raise DeliveryFailed(detail, destination=dest, status=status, code=code,
                                 retry_after=_retry_after(response.headers))
        raise DeliveryRejected(detail, destination=dest, status=status, code=code)


class _Delivered:
    """The parts of replies this adapter delivered (bounded; per warm container)."""

    def __init__(self, size: int = _REMEMBERED) -> None:
        self._seen: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._size = size

    def __contains__(self, key: tuple[str, str]) -> bool:
        return key in self._seen

    def add(self, key: tuple[str, str]) -> None:
        self._seen[key] = None
        self._seen.move_to_end(key)
        while len(self._seen) > self._size:
            self._seen.popitem(last=False)

    def once(self, reply_id: str, part: str, send: Callable[[], None]) -> None:
        if (reply_id, part) not in self:
            send()
            self.add((reply_id, part))


# `once(reply_id, part, send)`: send that part unless it was delivered (per container by default;
# across containers with unblock.adapters.idempotency.PersistentOnce, as the NotifyFunction does)
DeliverOnce = Callable[[str, str, Callable[[], None]], None]


# --- adapters ------------------------------------------------------------------------------


# the ticket's status for the case's outcome (with the reply), and its tags
ZENDESK_STATUS = {"auto_fixed": "solved", "already_working": "solved", "customer_action": "pending",
                  "needs_info": "pending", "escalated": "open"}


class ZendeskNotifier:
    """Zendesk Support: the internal note, then the public reply, as ticket comments; with the last
    of them, the ticket's status for the outcome and the tags `unblock`, `unblock_<outcome>`."""

    destination: Destination = "zendesk"

    def __init__(self, base_url: str, email: str, api_token: SecretValue, http: urllib3.PoolManager | None = None,
                 *, connect_timeout: float = CONNECT_TIMEOUT, read_timeout: float = READ_TIMEOUT,
                 once: DeliverOnce | None = None, console_url: str | None = None) -> None:
        self._http = _Http("zendesk", base_url, http, connect_timeout, read_timeout)
        self.console_url = console_url.rstrip("/") if console_url else None
        self.email = email
        self._token = api_token
        self._delivered = _Delivered()
        self._once: DeliverOnce = once or self._delivered.once

    def _auth(self) -> dict[str, str]:
        token = _credential(self._token, "Zendesk API token", "zendesk")
        credentials = base64.b64encode(f"{self.email}/token:{token}".encode()).decode("ascii")
        return {"Authorization": f"Basic {credentials}"}

    def deliver(self, reply: OutgoingReply) -> None:
        if reply.destination != "zendesk":
            raise DeliveryRejected(f"a {reply.destination} reply sent to Zendesk", destination="zendesk")
        # Note first, public reply last: if a retry repeats a part, it is the one staff see.
        note = reply.internal_note
        if note and self.console_url:
            from urllib.parse import quote

            note += f"\n\nIn the staff console: {self.console_url}/cases/{quote(reply.case_id, safe='')}"
        parts = (("internal_note", note, False), ("public", reply.public_body, True))
        last = "public" if reply.public_body else "internal_note"
        for part, body, public in parts:
            if not body:
                continue
            ticket: dict[str, Any] = {"comment": {"body": body, "public": public}}
            if part == last and reply.outcome in ZENDESK_STATUS:
                ticket["status"] = ZENDESK_STATUS[reply.outcome]
                ticket["additional_tags"] = ["unblock", f"unblock_{reply.outcome}"]
            self._once(reply.reply_id, part, self._update(reply.ticket_id, ticket))

    def _update(self, ticket_id: str, ticket: dict[str, Any]) -> Callable[[], None]:
        def send() -> None:
            self._http.send("PUT", f"/api/v2/tickets/{ticket_id}.json", {"ticket": ticket}, self._auth())

        return send


class DiscourseNotifier:
    """Discourse: the public reply as a post in the topic, the specifics as a private message to the
    poster (`POST /posts.json` with `archetype: private_message`); no internal notes on Discourse."""

    destination: Destination = "discourse"

    def __init__(self, base_url: str, api_key: SecretValue, api_username: str,
                 http: urllib3.PoolManager | None = None, *, connect_timeout: float = CONNECT_TIMEOUT,
                 read_timeout: float = READ_TIMEOUT, once: DeliverOnce | None = None) -> None:
        self._http = _Http("discourse", base_url, http, connect_timeout, read_timeout)
        self._key = api_key
        self.api_username = api_username
        self._delivered = _Delivered()
        self._once: DeliverOnce = once or self._delivered.once

    def deliver(self, reply: OutgoingReply) -> None:
        if reply.destination != "discourse":
            raise DeliveryRejected(f"a {reply.destination} reply sent to Discourse", destination="discourse")
        headers = {"Api-Key": _credential(self._key, "Discourse API key", "discourse"),
                   "Api-Username": self.api_username}

        def post(body: dict[str, Any]) -> Callable[[], None]:
            def send() -> None:
                self._http.send("POST", "/posts.json", body, headers)
            return send

        if reply.private_body and reply.private_to:
            # the specifics first, privately (a new private-message topic to the poster)
            self._once(reply.reply_id, "private", post({
                "title": f"About your report in topic {reply.ticket_id}", "raw": reply.private_body,
                "target_recipients": reply.private_to, "archetype": "private_message"}))
        if reply.public_body:
            self._once(reply.reply_id, "public", post({"topic_id": int(reply.ticket_id), "raw": reply.public_body}))


class Misconfigured:
    """A help desk whose URL is set but whose other settings are missing: every delivery is
    rejected (so replies end in the DLQ, to be redriven once the settings are fixed)."""

    def __init__(self, destination: Destination, problem: str) -> None:
        self.destination = destination
        self.problem = problem

    def deliver(self, reply: OutgoingReply) -> None:
        raise DeliveryRejected(f"{self.destination} notifier is misconfigured: {self.problem}",
                               destination=self.destination)


# --- configuration -------------------------------------------------------------------------

# (help desk, its API URL, the user unblock acts as, the secret holding its credential): read by
# the replies here and by the requester look-ups (composition.requester_directory)
HELPDESK_ENV: tuple[tuple[Destination, str, str, str], ...] = (
    ("zendesk", "ZENDESK_API_URL", "ZENDESK_API_EMAIL", "ZENDESK_API_TOKEN_SECRET"),
    ("discourse", "DISCOURSE_API_URL", "DISCOURSE_API_USERNAME", "DISCOURSE_API_KEY_SECRET"),
)


def notifiers_from_env(environ: Mapping[str, str] | None = None, *, once: DeliverOnce | None = None
                       ) -> dict[str, Notifier]:
    """The notifiers the environment configures, by destination.

    Zendesk: ZENDESK_API_URL (https://<subdomain>.zendesk.com), ZENDESK_API_EMAIL (the agent
    the comments are posted as) and ZENDESK_API_TOKEN_SECRET (Secrets Manager secret holding
    the API token). Discourse: DISCOURSE_API_URL, DISCOURSE_API_USERNAME (e.g. `system`) and
    DISCOURSE_API_KEY_SECRET. A help desk without its URL is absent (its replies stay on the
    case); one with the URL but not the rest is `Misconfigured`. Secrets are read at delivery,
    not here, through Powertools Parameters (cached for SECRET_MAX_AGE seconds).
    """
    from unblock.observability import logger

    env = os.environ if environ is None else environ
    found: dict[str, Notifier] = {}
    for destination, url_var, user_var, secret_var in HELPDESK_ENV:
        url = env.get(url_var, "").strip()
        if not url:
            logger.info("help desk not configured: its replies stay on the case",
                        extra={"destination": destination, "missing": url_var})
            continue
        user = env.get(user_var, "").strip()
        secret = env.get(secret_var, "").strip()
        missing = [name for name, value in ((user_var, user), (secret_var, secret)) if not value]
        if missing or not url.startswith(("https://", "http://")):
            problem = f"missing {', '.join(missing)}" if missing else f"{url_var} is not an http(s) URL"
            logger.error("help desk misconfigured", extra={"destination": destination, "problem": problem})
            found[destination] = Misconfigured(destination, problem)
            continue
        if destination == "zendesk":
            found[destination] = ZendeskNotifier(url, user, secret_reader(secret, destination), once=once,
                                                 console_url=env.get("CONSOLE_URL", "").strip() or None)
        else:
            found[destination] = DiscourseNotifier(url, secret_reader(secret, destination), user, once=once)
    return found

"""What every help desk's adapter shares beyond HTTP (adapters/helpdesk_http.py): how a
reply's answer maps to the Notifier port's errors, each reply part delivered once, a help desk
configured by halves, and the requester look-ups' cache.

Delivery errors (both mean "not delivered"; the NotifyFunction reports the message as failed
either way, so SQS keeps it and the redrive policy moves it to the dead-letter queue):
- `DeliveryFailed`: worth retrying as is: timeouts, dropped or refused connections, 429, 5xx,
  a Secrets Manager error. SQS redelivers after the visibility timeout.
- `DeliveryRejected`: the help desk refused the request (4xx other than 429: bad credentials,
  ticket or topic gone, a closed ticket, validation) or the adapter is misconfigured.
  Retrying cannot mend it; it is logged as an error and ends in the DLQ, from where it can
  be redriven once the cause is fixed. The reply is never dropped silently.

Delivery is at least once. Each part of a reply (by `reply_id`) is sent once: the NotifyFunction
keeps a Powertools idempotency record per part in the cases table (unblock.adapters.idempotency),
so a redelivered message whose internal note went through and whose public reply failed sends
only the public reply, in whichever container it lands; without a table an adapter remembers per
container. Errors, logs and exceptions never carry a reply's text (it may quote the customer):
only the case id, the destination, the HTTP status and the help desk's short error code.

Requester look-ups never raise: any failure is None (the requester is then unverified), logged
by its kind only; only successes are cached, in memory per warm container, for `ttl` seconds.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol

from unblock.adapters.helpdesk_http import Answer, EmptySecret, HelpDeskAccount, HelpDeskHttp, Unreachable
from unblock.domain.platform_model import email_key
from unblock.domain.replies import OutgoingReply
from unblock.ports import DeliveryFailed, DeliveryRejected

log = logging.getLogger(__name__)

DEFAULT_TTL_SECONDS = 600.0
DEFAULT_MAX_ENTRIES = 1024
_REMEMBERED = 1000  # delivered parts kept per adapter (per warm container)
# One @, no whitespace or control characters, a dot in the domain, no empty labels at the ends.
_EMAIL = re.compile(r"[^@\s\x00-\x1f\x7f]{1,64}@[^@\s\x00-\x1f\x7f.]+(?:\.[^@\s\x00-\x1f\x7f.]+)+")


# --- replies -------------------------------------------------------------------------------


def secret_for_delivery(account: HelpDeskAccount, what: str, destination: str) -> str:
    """The account's secret for a write: unreadable is worth a retry, empty is not."""
    try:
        return account.read_secret()
    except EmptySecret:
        raise DeliveryRejected(f"the {what} is empty", destination=destination) from None
    except DeliveryFailed:
        raise
    except Exception as err:  # noqa: BLE001 - Secrets Manager down or denied: try again later
        raise DeliveryFailed(f"cannot read the {what}: {type(err).__name__}", destination=destination) from err


def send(http: HelpDeskHttp, method: str, path: tuple[str, ...], payload: dict[str, Any],
         headers: dict[str, str]) -> Answer:
    """One write; a 2xx answer, else the port's error for what came back."""
    dest = http.helpdesk
    where = "/" + "/".join(path)
    try:
        answer = http.request(method, path, payload=payload, headers=headers)
    except Unreachable as err:
        raise DeliveryFailed(f"{dest} {method} {where} failed: {err.error}", destination=dest) from None
    status = answer.status
    if 200 <= status < 300:
        return answer
    code = answer.error_code()
    detail = f"{dest} {method} {where} answered {status}" + (f" ({code})" if code else "")
    if status == 429 or status >= 500:
        raise DeliveryFailed(detail, destination=dest, status=status, code=code, retry_after=answer.retry_after())
    raise DeliveryRejected(detail, destination=dest, status=status, code=code)


class Delivered:
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


class Misconfigured:
    """A help desk whose URL is set but whose other settings are missing: every delivery is
    rejected (so replies end in the DLQ, to be redriven once the settings are fixed)."""

    def __init__(self, destination: str, problem: str) -> None:
        self.destination = destination
        self.problem = problem

    def deliver(self, reply: OutgoingReply) -> None:
        raise DeliveryRejected(f"{self.destination} notifier is misconfigured: {self.problem}",
                               destination=self.destination)


# --- requester look-ups --------------------------------------------------------------------


class LookupFailed(Exception):
    """A look-up failed; `kind` is logged (never the body, the id's email or a secret)."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


def looks_like_email(value: object) -> str | None:
    """`value` stripped and (its ASCII letters) lowercased when it looks like an email address, else None."""
    if not isinstance(value, str):
        return None
    email = email_key(value)  # only ASCII folds: no non-ASCII character turns into an ASCII one
    if len(email) > 254 or not _EMAIL.fullmatch(email):
        return None
    return email


def secret_for_lookup(account: HelpDeskAccount) -> str:
    try:
        return account.read_secret()
    except EmptySecret:
        raise LookupFailed("no credential") from None
    except Exception:  # noqa: BLE001 - the secret cannot be read now: this look-up only
        raise LookupFailed("credential unreadable") from None


def get_json(http: HelpDeskHttp, path: tuple[str, ...], headers: dict[str, str], timeout: float) -> Any:
    """A GET that must answer 200 with a JSON body of at most MAX_RESPONSE_BYTES, within `timeout`."""
    try:
        answer = http.request("GET", path, headers=headers, deadline=timeout)
    except Unreachable as err:
        raise LookupFailed(err.kind) from None
    if answer.status != 200:
        raise LookupFailed(f"status {answer.status}")
    if not answer.complete:
        raise LookupFailed("response too large")
    try:
        return answer.json()
    except (ValueError, RecursionError):
        raise LookupFailed("not json") from None


class LookupCache:
    """Resolved emails by id: `ttl` seconds, at most `max_entries`, least recently used evicted;
    `lookup` never raises (a failure is None and is not cached)."""

    def __init__(self, helpdesk: str, now: Callable[[], float], ttl: float, max_entries: int) -> None:
        if ttl < 0 or max_entries < 1:
            raise ValueError("ttl must be non-negative and max_entries at least 1")
        self.helpdesk = helpdesk
        self._now = now
        self._ttl = float(ttl)
        self._max_entries = max_entries
        self._cache: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self._lock = threading.Lock()

    def _cached(self, key: str) -> str | None:
        with self._lock:
            entry = self._cache.get(key)
            if entry is None:
                return None
            expires_at, email = entry
            if self._now() >= expires_at:
                del self._cache[key]
                return None
            self._cache.move_to_end(key)
            return email

    def _remember(self, key: str, email: str) -> None:
        with self._lock:
            self._cache[key] = (self._now() + self._ttl, email)
            self._cache.move_to_end(key)
            while len(self._cache) > self._max_entries:
                self._cache.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()

    def lookup(self, key: str, fetch: Callable[[], str | None]) -> str | None:
        cached = self._cached(key)
        if cached is not None:
            return cached
        try:
            email = fetch()
        except LookupFailed as failed:
            log.warning("%s user look-up failed: %s", self.helpdesk, failed.kind)
            return None
        except Exception:  # never raise to the workflow: an unexpected failure is "unverified"
            log.exception("%s user look-up failed unexpectedly", self.helpdesk)
            return None
        if email is None:
            return None
        self._remember(key, email)
        return email


class UserLookup(Protocol):
    def email_for(self, handle: str) -> str | None: ...


class DeskReader:
    """The HelpDeskReader port over one desk's look-ups (None when the desk is not configured: it
    reads nothing, and the requester is unverified)."""

    def __init__(self, lookup: UserLookup | None = None, account_user: str | None = None) -> None:
        self.lookup = lookup
        self._account_user = account_user

    def email_for(self, handle: str | None) -> str | None:
        return self.lookup.email_for(handle) if self.lookup and handle else None

    def ticket(self, ticket_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
        read = getattr(self.lookup, "ticket", None)  # a desk whose look-ups read tickets too
        return read(ticket_id) if callable(read) else None

    def message_recipients(self, topic_id: str) -> tuple[list[str], list[str]] | None:
        read = getattr(self.lookup, "message_recipients", None)  # a desk with private messages
        return read(topic_id) if callable(read) else None

    def account_user(self) -> str | None:
        return self._account_user

"""Who wrote the ticket: a help-desk requester resolved to an email address.

The workflow verifies a requester when their email is the email of a member of the team the
ticket is about (DESIGN.md, "Who may act on which team"). A ticket event carries only the
help desk's handle for the requester; these adapters turn it into an email:

- Zendesk (`ZendeskUsers`): the ticket's `requester_id` is a user id. Users API, Show User:
  `GET {base_url}/api/v2/users/{user_id}.json`, basic auth `{email}/token:{api_token}`
  (an agent's API token), answers `{"user": {"id", "email", "verified", "active", ...}}`
  (developer.zendesk.com/api-reference/ticketing/users/users/). `email` is the primary email.
  `verified` is false while no identity of the user has been proven (Zendesk: verification
  method "none", "an email address has been added to a user's profile, but without proof of
  ownership"), which is what a web form or an inbound mail with a forged From creates; such
  a user resolves to None unless the adapter is built with `require_verified=False`.
  A user whose `active` is false (deleted) or whose `id` is not the one asked for resolves
  to None as well.
- Discourse (`DiscourseUsers`): a post carries the author's username. The email comes from
  `GET {base_url}/u/{username}/emails.json` (operation `getUserEmails` in Discourse's
  OpenAPI document, github.com/discourse/discourse_api_docs, openapi.yml), headers `Api-Key`
  and `Api-Username`, which answers `{"email", "secondary_emails", "unconfirmed_emails",
  "associated_accounts"}`; `email` is the primary one. One request, and no user id needed.
  The alternative, `GET /u/{username}.json` for the id then the admin endpoint
  `GET /admin/users/{id}.json`, is two requests and does not carry the email: that
  endpoint's documented response (additionalProperties: false) has no `email` field, since
  Discourse keeps addresses out of its user serializers and serves them only from
  `UsersController#check_emails`, the action behind `emails.json`. That action requires
  `guardian.can_check_emails?` (an admin, or a moderator when `moderators_view_emails` is
  on), so `Api-Username` must name such a staff user; Discourse answers 403 otherwise, and
  records every look-up in the staff action log ("check email"), one more reason for the
  cache. Secondary and unconfirmed addresses are ignored. Usernames are matched as
  Discourse matches them, case-insensitively; a forum with `unicode_usernames` enabled can
  have names outside the accepted alphabet, and those resolve to None.

Both adapters:
- use the standard library only (`urllib.request`; the Lambda package stays small);
- validate the id before building a URL (Zendesk: 1 to 20 ASCII digits; Discourse: 1 to 60
  of `[A-Za-z0-9_.-]`, starting with a letter, digit or underscore, so `.` and `..` are out),
  and percent-quote every path part;
- bound each look-up: `timeout` seconds per socket operation and, for the body, in total
  (read in chunks against a deadline), and at most 1 MiB of body;
- follow no redirect (a 3xx is a failure: the credentials are never replayed to another
  location);
- cache resolved emails in memory per instance (per warm Lambda container) for `ttl`
  seconds (default 10 minutes), at most `max_entries` ids, least recently used evicted.
  Only successes are cached: an unknown, unverified or failed look-up is asked again next
  time, so a requester who verifies their address is not held back by the cache;
- never raise from `email_for`: any failure (invalid id, HTTP error status, timeout, refused
  connection, oversized or non-JSON body, missing or malformed field, something that does
  not look like an email) returns None, which the caller treats as "not verified".
  A base URL that is not http(s) is a configuration error and raises ValueError in the
  constructor.

Returned emails are stripped and lowercased (the workflow compares them case-insensitively).
Logs name the help desk and the kind of failure only: never an email, a token or a body.
"""

from __future__ import annotations

import base64
import http.client
import json
import logging
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

from unblock.domain.models import DISCOURSE_USERNAME

__all__ = ["MAX_RESPONSE_BYTES", "DiscourseUsers", "ZendeskUsers", "looks_like_email"]

log = logging.getLogger(__name__)

MAX_RESPONSE_BYTES = 1024 * 1024
DEFAULT_TTL_SECONDS = 600.0
DEFAULT_MAX_ENTRIES = 1024
_CHUNK_BYTES = 64 * 1024
_USER_AGENT = "unblock-helpdesk-users/1"

_ZENDESK_ID = re.compile(r"[0-9]{1,20}")
_DISCOURSE_USERNAME = re.compile(DISCOURSE_USERNAME)
# One @, no whitespace or control characters, a dot in the domain, no empty labels at the ends.
_EMAIL = re.compile(r"[^@\s\x00-\x1f\x7f]{1,64}@[^@\s\x00-\x1f\x7f.]+(?:\.[^@\s\x00-\x1f\x7f.]+)+")


# The credential itself, or how to read it at each look-up (a rotated secret is picked up, and
# a failed read costs that look-up only)
Credential = str | Callable[[], str]


def _read(credential: Credential) -> str:
    value = credential() if callable(credential) else credential
    if not value:
        raise _Failed("no credential")
    return value


def looks_like_email(value: object) -> str | None:
    """`value` stripped and lowercased when it looks like an email address, else None."""
    if not isinstance(value, str):
        return None
    email = value.strip().lower()
    if len(email) > 254 or not _EMAIL.fullmatch(email):
        return None
    return email


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    """A 3xx ends the look-up: urllib would otherwise resend our auth headers to the new URL."""

    def redirect_request(self, req: urllib.request.Request, fp: Any, code: int, msg: str,
                         headers: Any, newurl: str) -> urllib.request.Request | None:
        return None


class _Failed(Exception):
    """Internal: a look-up failed; `kind` is logged (never the body, the id's email or a secret)."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


def _normalize_base_url(base_url: str) -> str:
    parts = urllib.parse.urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("base_url must be an http(s) URL with a host")
    if parts.username is not None or parts.password is not None or parts.query or parts.fragment:
        raise ValueError("base_url must carry no credentials, query or fragment")
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


class _CachedUserLookup:
    """What both adapters share: the cache, the bounded GET and the never-raise wrapper."""

    helpdesk = "helpdesk"

    def __init__(self, base_url: str, timeout: float, now: Callable[[], float], ttl: float,
                 max_entries: int) -> None:
        if timeout <= 0 or ttl < 0 or max_entries < 1:
            raise ValueError("timeout must be positive, ttl non-negative and max_entries at least 1")
        self._base_url = _normalize_base_url(base_url)
        self._timeout = float(timeout)
        self._now = now
        self._ttl = float(ttl)
        self._max_entries = max_entries
        self._cache: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self._lock = threading.Lock()
        self._opener = urllib.request.build_opener(_RefuseRedirects)

    # --- cache --------------------------------------------------------------------------
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

    def clear_cache(self) -> None:
        with self._lock:
            self._cache.clear()

    # --- HTTP ---------------------------------------------------------------------------
    def _url(self, *path: str) -> str:
        return self._base_url + "/" + "/".join(urllib.parse.quote(part, safe="") for part in path)

    def _get_json(self, url: str, headers: Mapping[str, str]) -> Any:
        request = urllib.request.Request(url, method="GET", headers={
            "Accept": "application/json", "User-Agent": _USER_AGENT, **headers})
        deadline = time.monotonic() + self._timeout
        try:
            with self._opener.open(request, timeout=self._timeout) as response:
                status = response.status
                if status != 200:
                    raise _Failed(f"status {status}")
                body = bytearray()
                while True:
                    chunk = response.read1(_CHUNK_BYTES)
                    if not chunk:
                        break
                    body += chunk
                    if len(body) > MAX_RESPONSE_BYTES:
                        raise _Failed("response too large")
                    if time.monotonic() > deadline:
                        raise _Failed("timeout")
        except urllib.error.HTTPError as exc:
            exc.close()
            raise _Failed(f"status {exc.code}") from None
        except TimeoutError:
            raise _Failed("timeout") from None
        except urllib.error.URLError as exc:
            kind = "timeout" if isinstance(exc.reason, TimeoutError) else "connection"
            raise _Failed(kind) from None
        except (OSError, ValueError, http.client.HTTPException):  # resets, protocol errors, bad headers
            raise _Failed("connection") from None
        try:
            return json.loads(bytes(body))
        except (ValueError, RecursionError):
            raise _Failed("not json") from None

    def _lookup(self, key: str, fetch: Callable[[], str | None]) -> str | None:
        cached = self._cached(key)
        if cached is not None:
            return cached
        try:
            email = fetch()
        except _Failed as failed:
            log.warning("%s user look-up failed: %s", self.helpdesk, failed.kind)
            return None
        except Exception:  # never raise to the workflow: an unexpected failure is "unverified"
            log.exception("%s user look-up failed unexpectedly", self.helpdesk)
            return None
        if email is None:
            return None
        self._remember(key, email)
        return email


class ZendeskUsers(_CachedUserLookup):
    """Zendesk requester id -> primary email, through the Users API (Show User)."""

    helpdesk = "zendesk"

    def __init__(self, base_url: str, email: str, token: Credential, timeout: float = 3.0, *,
                 now: Callable[[], float] = time.monotonic, ttl: float = DEFAULT_TTL_SECONDS,
                 max_entries: int = DEFAULT_MAX_ENTRIES, require_verified: bool = True) -> None:
        super().__init__(base_url, timeout, now, ttl, max_entries)
        self._email, self._token = email, token
        self._require_verified = require_verified

    def _authorization(self) -> str:
        credentials = f"{self._email}/token:{_read(self._token)}".encode()
        return "Basic " + base64.b64encode(credentials).decode("ascii")

    def email_for(self, requester_id: str | int) -> str | None:
        """The requester's primary email, lowercased; None when it cannot be resolved."""
        try:
            if isinstance(requester_id, bool):
                return None
            user_id = str(requester_id) if isinstance(requester_id, int) else requester_id
            if not isinstance(user_id, str) or not _ZENDESK_ID.fullmatch(user_id):
                return None
            return self._lookup(user_id, lambda: self._fetch(user_id))
        except Exception:  # belt and braces: email_for never raises
            log.exception("zendesk user look-up failed unexpectedly")
            return None

    def _fetch(self, user_id: str) -> str | None:
        document = self._get_json(self._url("api", "v2", "users", f"{user_id}.json"),
                                  {"Authorization": self._authorization()})
        user = document.get("user") if isinstance(document, dict) else None
        if not isinstance(user, dict):
            raise _Failed("no user object")
        returned_id = user.get("id")
        if returned_id is not None and str(returned_id) != str(int(user_id)):
            raise _Failed("another user's id")
        if user.get("active") is False:
            raise _Failed("user deleted")
        if self._require_verified and user.get("verified") is not True:
            raise _Failed("user not verified")
        email = looks_like_email(user.get("email"))
        if email is None:
            raise _Failed("no usable email")
        return email


    # --- the ticket itself, for a delivery that carries no text (DESIGN.md "Conversations") -------
    def ticket(self, ticket_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
        """The ticket and its comments: Show Ticket (`GET /api/v2/tickets/{id}.json`, `{"ticket":
        {...}}`) and List Comments (`GET /api/v2/tickets/{id}/comments.json`, `{"comments": [{"id",
        "author_id", "body", "plain_body", "public", "created_at"}], "next_page"}`; the first page,
        oldest first, is what a new ticket has). None when either cannot be read; never raises."""
        try:
            if not _ZENDESK_ID.fullmatch(ticket_id):
                return None
            auth = {"Authorization": self._authorization()}
            shown = self._get_json(self._url("api", "v2", "tickets", f"{ticket_id}.json"), auth)
            listed = self._get_json(self._url("api", "v2", "tickets", ticket_id, "comments.json"), auth)
            ticket = shown.get("ticket") if isinstance(shown, dict) else None
            comments = listed.get("comments") if isinstance(listed, dict) else None
            if not isinstance(ticket, dict) or not isinstance(comments, list):
                raise _Failed("no ticket or comments")
            return ticket, [c for c in comments if isinstance(c, dict)]
        except _Failed as failed:
            log.warning("zendesk ticket read failed: %s", failed.kind)
        except Exception:  # never raise to the webhook: the delivery is kept instead
            log.exception("zendesk ticket read failed unexpectedly")
        return None


class DiscourseUsers(_CachedUserLookup):
    """Discourse username -> primary email, through `GET /u/{username}/emails.json` (staff API key)."""

    helpdesk = "discourse"

    def __init__(self, base_url: str, api_username: str, api_key: Credential, timeout: float = 3.0, *,
                 now: Callable[[], float] = time.monotonic, ttl: float = DEFAULT_TTL_SECONDS,
                 max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        super().__init__(base_url, timeout, now, ttl, max_entries)
        self._api_username, self._api_key = api_username, api_key

    def email_for(self, username: str) -> str | None:
        """The user's primary email, lowercased; None when it cannot be resolved."""
        try:
            if not isinstance(username, str) or not _DISCOURSE_USERNAME.fullmatch(username):
                return None
            return self._lookup(username.lower(), lambda: self._fetch(username))
        except Exception:  # belt and braces: email_for never raises
            log.exception("discourse user look-up failed unexpectedly")
            return None

    def _fetch(self, username: str) -> str | None:
        headers = {"Api-Key": _read(self._api_key), "Api-Username": self._api_username}
        document = self._get_json(self._url("u", username, "emails.json"), headers)
        if not isinstance(document, dict):
            raise _Failed("no emails object")
        email = looks_like_email(document.get("email"))
        if email is None:
            raise _Failed("no usable email")
        return email


class RequesterDirectory:
    """The requester's email, from the help desk the ticket came through (None when unknown)."""

    def __init__(self, *, zendesk: ZendeskUsers | None = None, discourse: DiscourseUsers | None = None) -> None:
        self.zendesk, self.discourse = zendesk, discourse

    def zendesk_email(self, requester_id: str | None) -> str | None:
        return self.zendesk.email_for(requester_id) if self.zendesk and requester_id else None

    def zendesk_ticket(self, ticket_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
        return self.zendesk.ticket(ticket_id) if self.zendesk else None

    def discourse_email(self, username: str | None) -> str | None:
        return self.discourse.email_for(username) if self.discourse and username else None

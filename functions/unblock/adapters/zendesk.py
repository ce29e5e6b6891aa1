"""Zendesk Support: one API client (`ZendeskApi`: the account, basic auth
`{email}/token:{api_token}`, the shared HTTP client) and what unblock does with it.

- Replies (`ZendeskNotifier`, the Notifier port): the internal note, then the public reply, each
  as a ticket comment (`PUT /api/v2/tickets/{id}.json` with `{"ticket": {"comment": {"body",
  "public"}}}`); with the last of them, the ticket's status for the outcome and the tags
  `unblock`, `unblock_<outcome>`. Note first, public reply last: after a read timeout on a
  request Zendesk did apply, a part can be posted twice, and the order keeps such a duplicate on
  the staff side. No request is retried here (SQS is the only retry).
- Requesters (`ZendeskUsers`): the ticket's `requester_id` is a user id. Users API, Show User:
  `GET /api/v2/users/{user_id}.json` answers `{"user": {"id", "email", "verified", "active", ...}}`
  (developer.zendesk.com/api-reference/ticketing/users/users/). `email` is the primary email.
  `verified` is false while no identity of the user has been proven (Zendesk: verification
  method "none", "an email address has been added to a user's profile, but without proof of
  ownership"), which is what a web form or an inbound mail with a forged From creates; such a
  user resolves to None unless built with `require_verified=False`. A user whose `active` is
  false (deleted) or whose `id` is not the one asked for resolves to None as well. The id is
  1 to 20 ASCII digits before any URL is built; the look-up is bounded by `timeout` seconds in
  all and 1 MiB of body, never follows a redirect, and never raises (None: "not verified").

Other Zendesk calls (a ticket's comments for follow-ups, creating a ticket for a proactive
case) are methods of `ZendeskApi`, beside `update_ticket` and `show_user`.
"""

from __future__ import annotations

import base64
import logging
import re
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import urllib3

from unblock.adapters.helpdesk_http import CONNECT_TIMEOUT, READ_TIMEOUT, HelpDeskAccount, HelpDeskHttp, Secret
from unblock.adapters.helpdesk_shared import (
    DEFAULT_MAX_ENTRIES,
    DEFAULT_TTL_SECONDS,
    Delivered,
    DeliverOnce,
    DeskReader,
    LookupCache,
    LookupFailed,
    get_json,
    looks_like_email,
    secret_for_delivery,
    secret_for_lookup,
    send,
)
from unblock.domain.replies import OutgoingReply
from unblock.ports import DeliveryRejected

log = logging.getLogger(__name__)
_USER_ID = re.compile(r"[0-9]{1,20}")

# the ticket's status for the case's outcome (with the reply), and its tags
ZENDESK_STATUS = {"auto_fixed": "solved", "already_working": "solved", "customer_action": "pending",
                  "needs_info": "pending", "escalated": "open", "handed_off": "open"}


class ZendeskApi:
    """The Zendesk Support API as unblock's agent: one account, one HTTP client."""

    def __init__(self, account: HelpDeskAccount, pool: urllib3.PoolManager | None = None, *,
                 connect_timeout: float = CONNECT_TIMEOUT, read_timeout: float = READ_TIMEOUT) -> None:
        self.account = account
        self.http = HelpDeskHttp("zendesk", account.base_url, pool, connect_timeout=connect_timeout,
                                 read_timeout=read_timeout)

    @staticmethod
    def authorization(email: str, token: str) -> dict[str, str]:
        credentials = base64.b64encode(f"{email}/token:{token}".encode()).decode("ascii")
        return {"Authorization": f"Basic {credentials}"}

    # --- writes (replies): errors are the Notifier port's ----------------------------------
    def update_ticket(self, ticket_id: str, ticket: dict[str, Any]) -> None:
        token = secret_for_delivery(self.account, "Zendesk API token", "zendesk")
        send(self.http, "PUT", ("api", "v2", "tickets", f"{ticket_id}.json"), {"ticket": ticket},
             self.authorization(self.account.user, token))

    def create_ticket(self, ticket: dict[str, Any], idempotency_key: str) -> str:
        """Tickets API, Create Ticket: `POST /api/v2/tickets.json` with `{"ticket": {...}}` (a `requester`
        `{"email", "name"}` is found or created by Zendesk); 201 `{"ticket": {"id", ...}}`. The
        `Idempotency-Key` header makes a retried create answer with the ticket it made the first time."""
        token = secret_for_delivery(self.account, "Zendesk API token", "zendesk")
        answer = send(self.http, "POST", ("api", "v2", "tickets.json"), {"ticket": ticket},
                      {**self.authorization(self.account.user, token), "Idempotency-Key": idempotency_key})
        try:
            created = answer.json()["ticket"]["id"]
        except (ValueError, KeyError, TypeError):
            raise DeliveryRejected("zendesk POST /api/v2/tickets.json answered without a ticket id",
                                   destination="zendesk", status=answer.status) from None
        return str(created)

    # --- reads (requester look-ups): errors are LookupFailed -------------------------------
    def show_user(self, user_id: str, timeout: float) -> dict[str, Any]:
        headers = self.authorization(self.account.user, secret_for_lookup(self.account))
        document = get_json(self.http, ("api", "v2", "users", f"{user_id}.json"), headers, timeout)
        user = document.get("user") if isinstance(document, dict) else None
        if not isinstance(user, dict):
            raise LookupFailed("no user object")
        return user


    def show_ticket(self, ticket_id: str, timeout: float) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The ticket and its comments, for a delivery that carried no text (DESIGN.md "Conversations"):
        Show Ticket (`GET /api/v2/tickets/{id}.json`, `{"ticket": {...}}`) and List Comments
        (`GET /api/v2/tickets/{id}/comments.json`, `{"comments": [{"id", "author_id", "body",
        "plain_body", "public", "created_at"}], "next_page"}`: the first page, oldest first)."""
        headers = self.authorization(self.account.user, secret_for_lookup(self.account))
        shown = get_json(self.http, ("api", "v2", "tickets", f"{ticket_id}.json"), headers, timeout)
        listed = get_json(self.http, ("api", "v2", "tickets", ticket_id, "comments.json"), headers, timeout)
        ticket = shown.get("ticket") if isinstance(shown, dict) else None
        comments = listed.get("comments") if isinstance(listed, dict) else None
        if not isinstance(ticket, dict) or not isinstance(comments, list):
            raise LookupFailed("no ticket or comments")
        return ticket, [c for c in comments if isinstance(c, dict)]


def signal_tags(reply: OutgoingReply) -> list[str]:
    """A handed-off ticket is tagged with what it shows, so staff find it on their own views
    (`unblock_signal_gateway_server_error`): Zendesk tags are lowercase words without dots."""
    if reply.outcome != "handed_off":
        return []
    return [f"unblock_signal_{code.replace('.', '_')}" for code in reply.signals]


class ZendeskNotifier:
    """Zendesk Support: the internal note, then the public reply, as ticket comments; with the last
    of them, the ticket's status for the outcome and the tags `unblock`, `unblock_<outcome>`."""

    destination = "zendesk"

    def __init__(self, base_url: str, email: str, api_token: Secret, http: urllib3.PoolManager | None = None,
                 *, connect_timeout: float = CONNECT_TIMEOUT, read_timeout: float = READ_TIMEOUT,
                 once: DeliverOnce | None = None, console_url: str | None = None) -> None:
        self.api = ZendeskApi(HelpDeskAccount(base_url, email, api_token), http,
                              connect_timeout=connect_timeout, read_timeout=read_timeout)
        self._http = self.api.http
        self.console_url = console_url.rstrip("/") if console_url else None
        self._delivered = Delivered()
        self._once: DeliverOnce = once or self._delivered.once

    def deliver(self, reply: OutgoingReply) -> None:
        if reply.destination != "zendesk":
            raise DeliveryRejected(f"a {reply.destination} reply sent to Zendesk", destination="zendesk")
        # Note first, public reply last: if a retry repeats a part, it is the one staff see.
        note = reply.internal_note
        if note and self.console_url:
            note += f"\n\nIn the staff console: {self.console_url}/cases/{quote(reply.case_id, safe='')}"
        if reply.new_ticket is not None:
            return self._open_ticket(reply, note)
        assert reply.ticket_id is not None  # the model holds a ticket_id or a new_ticket
        parts = (("internal_note", note, False), ("public", reply.public_body, True))
        last = "public" if reply.public_body else "internal_note"
        for part, body, public in parts:
            if not body:
                continue
            ticket: dict[str, Any] = {"comment": {"body": body, "public": public}}
            if part == last and reply.outcome in ZENDESK_STATUS:
                ticket["status"] = ZENDESK_STATUS[reply.outcome]
                ticket["additional_tags"] = ["unblock", f"unblock_{reply.outcome}", *signal_tags(reply)]
            self._once(reply.reply_id, part, self._update(reply.ticket_id, ticket))

    def _open_ticket(self, reply: OutgoingReply, note: str | None) -> None:
        """A proactive case's news for the team's owner: a new ticket whose requester is the owner
        (the public reply is its first comment), then the internal note on it. Public first here:
        the ticket does not exist before it; a retry finds it again by the idempotency key."""
        assert reply.new_ticket is not None and reply.public_body
        ticket: dict[str, Any] = {
            "subject": reply.new_ticket.subject, "comment": {"body": reply.public_body, "public": True},
            "requester": {"email": reply.new_ticket.requester_email,
                          "name": reply.new_ticket.requester_email.split("@", 1)[0]},
            "tags": ["unblock", "unblock_proactive"] + ([f"unblock_{reply.outcome}"] if reply.outcome else [])}
        if reply.outcome in ZENDESK_STATUS:
            ticket["status"] = ZENDESK_STATUS[reply.outcome]
        ticket_id = self.api.create_ticket(ticket, reply.reply_id)
        if note:
            self._once(reply.reply_id, "internal_note",
                       self._update(ticket_id, {"comment": {"body": note, "public": False}}))

    def _update(self, ticket_id: str, ticket: dict[str, Any]) -> Callable[[], None]:
        return lambda: self.api.update_ticket(ticket_id, ticket)


class ZendeskUsers:
    """Zendesk requester id -> primary email, through the Users API (Show User)."""

    helpdesk = "zendesk"

    def __init__(self, base_url: str, email: str, token: Secret, timeout: float = 3.0, *,
                 now: Callable[[], float] = time.monotonic, ttl: float = DEFAULT_TTL_SECONDS,
                 max_entries: int = DEFAULT_MAX_ENTRIES, require_verified: bool = True) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self.api = ZendeskApi(HelpDeskAccount(base_url, email, token), connect_timeout=timeout,
                              read_timeout=timeout)
        self._timeout = float(timeout)
        self._cache = LookupCache("zendesk", now, ttl, max_entries)
        self._require_verified = require_verified

    def clear_cache(self) -> None:
        self._cache.clear()

    def email_for(self, requester_id: str | int) -> str | None:
        """The requester's primary email, lowercased; None when it cannot be resolved."""
        if isinstance(requester_id, bool):
            return None
        user_id = str(requester_id) if isinstance(requester_id, int) else requester_id
        if not isinstance(user_id, str) or not _USER_ID.fullmatch(user_id):
            return None
        return self._cache.lookup(user_id, lambda: self._fetch(user_id))

    def ticket(self, ticket_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
        """The ticket and its comments (ZendeskApi.show_ticket); None when they cannot be read. Never raises."""
        if not _USER_ID.fullmatch(ticket_id):  # a ticket id has a user id's shape: 1 to 20 digits
            return None
        try:
            return self.api.show_ticket(ticket_id, self._timeout)
        except LookupFailed as failed:
            log.warning("zendesk ticket read failed: %s", failed.kind)
        except Exception:  # never raise to the webhook: the delivery is kept instead
            log.exception("zendesk ticket read failed unexpectedly")
        return None

    def _fetch(self, user_id: str) -> str | None:
        user = self.api.show_user(user_id, self._timeout)
        returned_id = user.get("id")
        if returned_id is not None and str(returned_id) != str(int(user_id)):
            raise LookupFailed("another user's id")
        if user.get("active") is False:
            raise LookupFailed("user deleted")
        if self._require_verified and user.get("verified") is not True:
            raise LookupFailed("user not verified")
        email = looks_like_email(user.get("email"))
        if email is None:
            raise LookupFailed("no usable email")
        return email


# --- the registry's entry points (composition.py builds them for the desk named "zendesk") ----


def notifier(account: HelpDeskAccount, *, once: DeliverOnce | None = None,
             console_url: str | None = None) -> ZendeskNotifier:
    return ZendeskNotifier(account.base_url, account.user, account.secret, once=once, console_url=console_url)


def reader(account: HelpDeskAccount) -> DeskReader:
    return DeskReader(ZendeskUsers(account.base_url, account.user, account.secret), account_user=account.user)

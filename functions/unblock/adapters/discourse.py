"""Discourse: one API client (`DiscourseApi`: the account, headers `Api-Key` / `Api-Username`,
the shared HTTP client) and what unblock does with it.

- Replies (`DiscourseNotifier`, the Notifier port): the public reply as a post in the topic
  (`POST /posts.json` with `{"topic_id", "raw"}`), the specifics as a private message to the
  poster (`POST /posts.json` with `archetype: private_message`). Discourse has no internal notes
  (a whisper needs whispers enabled and a staff API user), so the evidence stays on the case,
  where staff read it; `reply_for` leaves it out.
- Requesters (`DiscourseUsers`): a post carries the author's username. The email comes from
  `GET /u/{username}/emails.json` (operation `getUserEmails` in Discourse's OpenAPI document,
  github.com/discourse/discourse_api_docs, openapi.yml), which answers `{"email",
  "secondary_emails", "unconfirmed_emails", "associated_accounts"}`; `email` is the primary one.
  One request, and no user id needed. The alternative, `GET /u/{username}.json` for the id then
  the admin endpoint `GET /admin/users/{id}.json`, is two requests and does not carry the email:
  that endpoint's documented response (additionalProperties: false) has no `email` field, since
  Discourse keeps addresses out of its user serializers and serves them only from
  `UsersController#check_emails`, the action behind `emails.json`. That action requires
  `guardian.can_check_emails?` (an admin, or a moderator when `moderators_view_emails` is on), so
  `Api-Username` must name such a staff user; Discourse answers 403 otherwise, and records every
  look-up in the staff action log ("check email"), one more reason for the cache. Secondary and
  unconfirmed addresses are ignored. Usernames are matched as Discourse matches them,
  case-insensitively; a forum with `unicode_usernames` enabled can have names outside the
  accepted alphabet (models.REQUESTER_USERNAME), and those resolve to None.

- Private messages to staff (`DiscourseUsers.message_recipients`): a post webhook names no
  recipients, so `GET /t/{topic_id}.json` is read: for a private message its `details` carry
  `allowed_users` (`username`) and `allowed_groups` (`name`) (Discourse's TopicViewDetailsSerializer
  includes both when the topic is a personal message; the API user, an admin, may read any).

Other Discourse calls are methods of `DiscourseApi`, beside `create_post` and `user_emails`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

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
from unblock.domain.models import REQUESTER_USERNAME
from unblock.domain.replies import OutgoingReply
from unblock.ports import DeliveryRejected

_USERNAME = re.compile(REQUESTER_USERNAME)


class DiscourseApi:
    """The Discourse API as unblock's API user: one account, one HTTP client."""

    def __init__(self, account: HelpDeskAccount, pool: urllib3.PoolManager | None = None, *,
                 connect_timeout: float = CONNECT_TIMEOUT, read_timeout: float = READ_TIMEOUT) -> None:
        self.account = account
        self.http = HelpDeskHttp("discourse", account.base_url, pool, connect_timeout=connect_timeout,
                                 read_timeout=read_timeout)

    def _headers(self, key: str) -> dict[str, str]:
        return {"Api-Key": key, "Api-Username": self.account.user}

    # --- writes (replies): errors are the Notifier port's ----------------------------------
    def create_post(self, post: dict[str, Any]) -> None:
        key = secret_for_delivery(self.account, "Discourse API key", "discourse")
        send(self.http, "POST", ("posts.json",), post, self._headers(key))

    # --- reads (requester look-ups): errors are LookupFailed -------------------------------
    def user_emails(self, username: str, timeout: float) -> dict[str, Any]:
        headers = self._headers(secret_for_lookup(self.account))
        document = get_json(self.http, ("u", username, "emails.json"), headers, timeout)
        if not isinstance(document, dict):
            raise LookupFailed("no emails object")
        return document


    def topic(self, topic_id: str, timeout: float) -> dict[str, Any]:
        headers = self._headers(secret_for_lookup(self.account))
        document = get_json(self.http, ("t", f"{topic_id}.json"), headers, timeout)
        if not isinstance(document, dict):
            raise LookupFailed("no topic object")
        return document


class DiscourseNotifier:
    """Discourse: the public reply as a post in the topic, the specifics as a private message to the
    poster (`POST /posts.json` with `archetype: private_message`); no internal notes on Discourse."""

    destination = "discourse"

    def __init__(self, base_url: str, api_key: Secret, api_username: str,
                 http: urllib3.PoolManager | None = None, *, connect_timeout: float = CONNECT_TIMEOUT,
                 read_timeout: float = READ_TIMEOUT, once: DeliverOnce | None = None) -> None:
        self.api = DiscourseApi(HelpDeskAccount(base_url, api_username, api_key), http,
                                connect_timeout=connect_timeout, read_timeout=read_timeout)
        self._http = self.api.http
        self.api_username = api_username
        self._delivered = Delivered()
        self._once: DeliverOnce = once or self._delivered.once

    def deliver(self, reply: OutgoingReply) -> None:
        if reply.destination != "discourse":
            raise DeliveryRejected(f"a {reply.destination} reply sent to Discourse", destination="discourse")
        if reply.ticket_id is None:  # a new ticket (a proactive case's) goes to a desk that opens tickets
            raise DeliveryRejected("a new-ticket reply sent to Discourse", destination="discourse")

        def post(body: dict[str, Any]) -> Callable[[], None]:
            return lambda: self.api.create_post(body)

        if reply.private_body and reply.private_to:
            # the specifics first, privately (a new private-message topic to the poster)
            self._once(reply.reply_id, "private", post({
                "title": f"About your report in topic {reply.ticket_id}", "raw": reply.private_body,
                "target_recipients": reply.private_to, "archetype": "private_message"}))
        if reply.public_body:
            self._once(reply.reply_id, "public", post({"topic_id": int(reply.ticket_id), "raw": reply.public_body}))


class DiscourseUsers:
    """Discourse username -> primary email, through `GET /u/{username}/emails.json` (staff API key)."""

    helpdesk = "discourse"

    def __init__(self, base_url: str, api_username: str, api_key: Secret, timeout: float = 3.0, *,
                 now: Callable[[], float] = time.monotonic, ttl: float = DEFAULT_TTL_SECONDS,
                 max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self.api = DiscourseApi(HelpDeskAccount(base_url, api_username, api_key), connect_timeout=timeout,
                                read_timeout=timeout)
        self._timeout = float(timeout)
        self._cache = LookupCache("discourse", now, ttl, max_entries)

    def clear_cache(self) -> None:
        self._cache.clear()

    def email_for(self, username: str) -> str | None:
        """The user's primary email, lowercased; None when it cannot be resolved."""
        if not isinstance(username, str) or not _USERNAME.fullmatch(username):
            return None
        return self._cache.lookup(username.lower(), lambda: self._fetch(username))

    def message_recipients(self, topic_id: str) -> tuple[list[str], list[str]] | None:
        """A private message's recipients: (usernames, group names); None when it cannot be read or
        is no private message. Not cached: asked once per private message that opens a case."""
        if not (isinstance(topic_id, str) and topic_id.isascii() and topic_id.isdigit()):
            return None
        try:
            topic = self.api.topic(topic_id, self._timeout)
        except LookupFailed:
            return None
        details = topic.get("details")
        if topic.get("archetype") != "private_message" or not isinstance(details, dict):
            return None

        def names(key: str, field: str) -> list[str]:
            found = details.get(key)
            return [str(x[field]) for x in found if isinstance(x, dict) and isinstance(x.get(field), str)] \
                if isinstance(found, list) else []

        return names("allowed_users", "username"), names("allowed_groups", "name")

    def _fetch(self, username: str) -> str | None:
        email = looks_like_email(self.api.user_emails(username, self._timeout).get("email"))
        if email is None:
            raise LookupFailed("no usable email")
        return email



# --- the registry's entry points (composition.py builds them for the desk named "discourse") --


def notifier(account: HelpDeskAccount, *, once: DeliverOnce | None = None,
             console_url: str | None = None) -> DiscourseNotifier:
    return DiscourseNotifier(account.base_url, account.secret, account.user, once=once)


def reader(account: HelpDeskAccount) -> DeskReader:
    return DeskReader(DiscourseUsers(account.base_url, account.user, account.secret))

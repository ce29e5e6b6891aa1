"""The help-desk user adapters against real local HTTP servers that answer as Zendesk and
Discourse do: same paths, same auth headers, same JSON shapes and error statuses.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from unblock.adapters.discourse import DiscourseUsers
from unblock.adapters.helpdesk_http import MAX_RESPONSE_BYTES
from unblock.adapters.helpdesk_shared import looks_like_email
from unblock.adapters.zendesk import ZendeskUsers

ZD_AGENT = "agent@unblock.example"
ZD_TOKEN = "zd-token-123"
DC_USER = "system"
DC_KEY = "dc-key-456"
TIMEOUT = 0.5


# --- a fake help desk --------------------------------------------------------------------
@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0          # before the status line
    drip: float = 0.0           # between body bytes (headers go out at once)


@dataclass
class Seen:
    path: str
    headers: dict[str, str]


def json_reply(document: Any, status: int = 200) -> Reply:
    return Reply(status, json.dumps(document).encode(), {"Content-Type": "application/json; charset=utf-8"})


class FakeHelpDesk:
    """A help desk on 127.0.0.1: `answer(path, headers) -> Reply` decides, every request is recorded."""

    def __init__(self, answer: Callable[[str, dict[str, str]], Reply]) -> None:
        self.answer = answer
        self.seen: list[Seen] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                headers = {k.lower(): v for k, v in self.headers.items()}
                fake.seen.append(Seen(self.path, headers))
                reply = fake.answer(self.path, headers)
                time.sleep(reply.delay)
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                if reply.drip:
                    for i in range(len(reply.body)):
                        self.wfile.write(reply.body[i:i + 1])
                        self.wfile.flush()
                        time.sleep(reply.drip)
                else:
                    self.wfile.write(reply.body)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            block_on_close = False

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # the client gave up (timeout tests): a broken pipe is expected

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02},
                                       daemon=True)

    def __enter__(self) -> FakeHelpDesk:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    @property
    def paths(self) -> list[str]:
        return [seen.path for seen in self.seen]


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture(autouse=True)
def _no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    # urllib honours *_proxy variables; the fake help desks are on loopback
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


# --- Zendesk -----------------------------------------------------------------------------
ZD_USERS: dict[str, dict[str, Any]] = {
    "4711": {"id": 4711, "email": "  Alice@Example.COM ", "verified": True, "active": True, "role": "end-user"},
    "4712": {"id": 4712, "email": "bob@example.com", "verified": False, "active": True},
    "4713": {"id": 4713, "email": "carol@example.com", "verified": True, "active": False},
    "4714": {"id": 4714, "email": None, "verified": True, "active": True},
    "4715": {"id": 4715, "email": "not-an-email", "verified": True, "active": True},
    "4716": {"id": 9999, "email": "mallory@example.com", "verified": True, "active": True},
    "4717": {"id": 4717, "email": "dave@example.com", "verified": True},
}
ZD_SPECIAL: dict[str, Reply] = {
    "5000": json_reply({"error": "InternalError"}, 500),
    "5001": Reply(200, b"<html>maintenance</html>", {"Content-Type": "text/html"}),
    "5002": json_reply({"user": {"id": 5002, "email": "slow@example.com", "verified": True}}) ,
    "5003": json_reply({"user": {"id": 5003, "email": "drip@example.com", "verified": True}}),
    "5004": json_reply({"users": []}),
    "5005": json_reply({"user": "4711"}),
    "5006": json_reply(["user"]),
    "5007": Reply(302, b"", {"Location": "/api/v2/users/4711.json"}),
    "5008": json_reply({"user": {"id": 5008, "email": "big@example.com", "verified": True,
                                 "notes": "x" * MAX_RESPONSE_BYTES}}),
    "5009": json_reply({"user": {"id": 5009, "email": "created@example.com", "verified": True}}, 201),
}
ZD_SPECIAL["5002"].delay = TIMEOUT * 3
ZD_SPECIAL["5003"].drip = 0.05


def zendesk_answer(path: str, headers: dict[str, str]) -> Reply:
    expected = "Basic " + base64.b64encode(f"{ZD_AGENT}/token:{ZD_TOKEN}".encode()).decode()
    if headers.get("authorization") != expected:
        return json_reply({"error": "Couldn't authenticate you"}, 401)
    prefix, suffix = "/api/v2/users/", ".json"
    if not (path.startswith(prefix) and path.endswith(suffix)):
        return json_reply({"error": "InvalidEndpoint", "description": "Not found"}, 404)
    user_id = path[len(prefix):-len(suffix)]
    if user_id in ZD_SPECIAL:
        return ZD_SPECIAL[user_id]
    if user_id in ZD_USERS:
        return json_reply({"user": ZD_USERS[user_id]})
    return json_reply({"error": "RecordNotFound", "description": "Not found"}, 404)


@pytest.fixture
def zendesk() -> Iterator[FakeHelpDesk]:
    with FakeHelpDesk(zendesk_answer) as desk:
        yield desk


@pytest.fixture
def clock() -> Clock:
    return Clock()


def zd(desk: FakeHelpDesk, clock: Clock | None = None, **kwargs: Any) -> ZendeskUsers:
    return ZendeskUsers(desk.base_url, ZD_AGENT, ZD_TOKEN, timeout=TIMEOUT, now=clock or Clock(), **kwargs)


def test_zendesk_resolves_the_requester_email_with_token_auth(zendesk: FakeHelpDesk) -> None:
    assert zd(zendesk).email_for("4711") == "alice@example.com"
    assert zendesk.paths == ["/api/v2/users/4711.json"]
    seen = zendesk.seen[0].headers
    user, _, secret = base64.b64decode(seen["authorization"].removeprefix("Basic ")).decode().partition(":")
    assert (user, secret) == (f"{ZD_AGENT}/token", ZD_TOKEN)
    assert seen["accept"] == "application/json"


def test_zendesk_accepts_an_integer_id(zendesk: FakeHelpDesk) -> None:
    assert zd(zendesk).email_for(4717) == "dave@example.com"
    assert zendesk.paths == ["/api/v2/users/4717.json"]


def test_zendesk_base_url_may_end_with_a_slash(zendesk: FakeHelpDesk) -> None:
    users = ZendeskUsers(zendesk.base_url + "/", ZD_AGENT, ZD_TOKEN, timeout=TIMEOUT)
    assert users.email_for("4711") == "alice@example.com"
    assert zendesk.paths == ["/api/v2/users/4711.json"]


@pytest.mark.parametrize(("requester_id", "why"), [
    ("404040", "unknown user: 404"),
    ("5000", "server error: 500"),
    ("5001", "not JSON"),
    ("5004", "no user object"),
    ("5005", "user is not an object"),
    ("5006", "document is not an object"),
    ("5007", "redirect is not followed"),
    ("5008", "body over 1 MiB"),
    ("5009", "a status other than 200"),
    ("4712", "unverified user"),
    ("4713", "deleted (inactive) user"),
    ("4714", "null email"),
    ("4715", "email that is not an email"),
    ("4716", "answer about another user"),
])
def test_zendesk_failures_resolve_to_none(zendesk: FakeHelpDesk, requester_id: str, why: str) -> None:
    assert zd(zendesk).email_for(requester_id) is None, why
    assert zendesk.paths == [f"/api/v2/users/{requester_id}.json"], "one request, no redirect followed"


def test_zendesk_bad_credentials_resolve_to_none(zendesk: FakeHelpDesk) -> None:
    users = ZendeskUsers(zendesk.base_url, ZD_AGENT, "wrong-token", timeout=TIMEOUT)
    assert users.email_for("4711") is None
    assert len(zendesk.seen) == 1


def test_the_credential_is_read_at_each_look_up_so_a_rotation_or_a_failed_read_costs_one(
        zendesk: FakeHelpDesk) -> None:
    tokens = iter(["wrong-token", "", ZD_TOKEN])

    def read() -> str:
        token = next(tokens, None)
        if token is None:
            raise RuntimeError("Secrets Manager is down")
        return token

    users = ZendeskUsers(zendesk.base_url, ZD_AGENT, read, timeout=TIMEOUT)
    assert users.email_for("4711") is None  # the old token: 401
    assert users.email_for("4711") is None  # an empty secret: never sent
    assert len(zendesk.seen) == 1
    assert users.email_for("4711") == "alice@example.com"  # the rotated token, no new adapter
    users.clear_cache()
    assert users.email_for("4711") is None  # the read fails: this look-up only, never raised


def test_zendesk_unverified_user_resolves_when_verification_is_not_required(zendesk: FakeHelpDesk) -> None:
    assert zd(zendesk, require_verified=False).email_for("4712") == "bob@example.com"


def test_zendesk_slow_answer_times_out(zendesk: FakeHelpDesk) -> None:
    started = time.monotonic()
    assert zd(zendesk).email_for("5002") is None
    assert time.monotonic() - started < TIMEOUT * 2.5


def test_zendesk_body_dripping_past_the_timeout_is_cut_off(zendesk: FakeHelpDesk) -> None:
    # every byte arrives well within the socket timeout; the total read is what is bounded
    body_seconds = len(ZD_SPECIAL["5003"].body) * ZD_SPECIAL["5003"].drip
    assert body_seconds > TIMEOUT * 4
    started = time.monotonic()
    assert zd(zendesk).email_for("5003") is None
    assert time.monotonic() - started < TIMEOUT * 2.5


def test_zendesk_unreachable_host_resolves_to_none() -> None:
    with FakeHelpDesk(zendesk_answer) as desk:
        base_url = desk.base_url
    assert ZendeskUsers(base_url, ZD_AGENT, ZD_TOKEN, timeout=TIMEOUT).email_for("4711") is None


@pytest.mark.parametrize("requester_id", [
    "../admin", "4711/../../admin", "4711.json", "4711?x=1", "4711#", " 4711", "4711\n", "", "-1", "1e3",
    "４７１１", "٤٧١١", "1" * 21, -1, True, None, 4.5, ["4711"],
])
def test_zendesk_invalid_ids_never_reach_the_server(zendesk: FakeHelpDesk, requester_id: Any) -> None:
    assert zd(zendesk).email_for(requester_id) is None
    assert zendesk.seen == []


def test_zendesk_cache_answers_within_ttl_and_expires_after(zendesk: FakeHelpDesk, clock: Clock) -> None:
    users = zd(zendesk, clock, ttl=600)
    assert users.email_for("4711") == "alice@example.com"
    clock.t += 599
    assert users.email_for(4711) == "alice@example.com"
    assert len(zendesk.seen) == 1
    clock.t += 1
    assert users.email_for("4711") == "alice@example.com"
    assert len(zendesk.seen) == 2


def test_zendesk_failures_are_not_cached(zendesk: FakeHelpDesk, clock: Clock) -> None:
    users = zd(zendesk, clock)
    assert users.email_for("4712") is None
    assert users.email_for("4712") is None
    assert len(zendesk.seen) == 2


def test_zendesk_cache_is_bounded(zendesk: FakeHelpDesk, clock: Clock) -> None:
    users = zd(zendesk, clock, max_entries=2)
    for requester_id in ("4711", "4717", "4711", "4713"):  # 4713 fails: not cached, evicts nothing
        users.email_for(requester_id)
    assert len(zendesk.seen) == 3
    ZD_USERS["4718"] = {"id": 4718, "email": "erin@example.com", "verified": True}
    try:
        assert users.email_for("4718") == "erin@example.com"  # evicts 4717, the least recently used
    finally:
        del ZD_USERS["4718"]
    assert len(zendesk.seen) == 4
    assert users.email_for("4711") == "alice@example.com"  # still cached
    assert len(zendesk.seen) == 4
    assert users.email_for("4717") == "dave@example.com"  # evicted: asked again
    assert zendesk.paths[-1] == "/api/v2/users/4717.json"
    assert len(zendesk.seen) == 5


@pytest.mark.parametrize("base_url", ["ftp://zendesk.example", "zendesk.example", "https://", "file:///etc",
                                      "https://u:p@zendesk.example", "https://zendesk.example/?x=1"])
def test_a_base_url_that_is_not_plain_http_is_a_configuration_error(base_url: str) -> None:
    with pytest.raises(ValueError):
        ZendeskUsers(base_url, ZD_AGENT, ZD_TOKEN)
    with pytest.raises(ValueError):
        DiscourseUsers(base_url, DC_USER, DC_KEY)


# --- Discourse ---------------------------------------------------------------------------
DC_EMAILS: dict[str, dict[str, Any]] = {
    "alice_1": {"email": "Alice@Example.com", "secondary_emails": ["alice@other.example"],
                "unconfirmed_emails": [], "associated_accounts": []},
    "no.email": {"secondary_emails": [], "unconfirmed_emails": [], "associated_accounts": []},
    "bad-email": {"email": "alice at example", "secondary_emails": [], "unconfirmed_emails": [],
                  "associated_accounts": []},
    "listy": {"email": ["alice@example.com"], "secondary_emails": [], "unconfirmed_emails": [],
              "associated_accounts": []},
}
DC_SPECIAL: dict[str, Reply] = {
    "boom": json_reply({"errors": ["internal error"]}, 500),
    "html": Reply(200, b"<!DOCTYPE html><html></html>", {"Content-Type": "text/html"}),
    "slow": json_reply({"email": "slow@example.com"}),
    "limited": json_reply({"errors": ["You've performed this action too many times."],
                           "error_type": "rate_limit"}, 429),
    "forbidden": json_reply({"failed": "FAILED"}, 403),
}
DC_SPECIAL["slow"].delay = TIMEOUT * 3


def discourse_answer(path: str, headers: dict[str, str]) -> Reply:
    if headers.get("api-key") != DC_KEY or headers.get("api-username") != DC_USER:
        return json_reply({"errors": ["You are not permitted to view the requested resource. "
                                      "The API username or key is invalid."], "error_type": "invalid_access"}, 403)
    for prefix in ("/u/", "/forum/u/"):
        if path.startswith(prefix) and path.endswith("/emails.json"):
            username = path[len(prefix):-len("/emails.json")].lower()
            break
    else:
        return json_reply({"errors": ["The requested URL or resource could not be found."],
                           "error_type": "not_found"}, 404)
    if username in DC_SPECIAL:
        return DC_SPECIAL[username]
    if username in DC_EMAILS:
        return json_reply(DC_EMAILS[username])
    return json_reply({"errors": ["The requested URL or resource could not be found."],
                       "error_type": "not_found"}, 404)


@pytest.fixture
def discourse() -> Iterator[FakeHelpDesk]:
    with FakeHelpDesk(discourse_answer) as desk:
        yield desk


def dc(desk: FakeHelpDesk, clock: Clock | None = None, base_url: str | None = None, **kwargs: Any) -> DiscourseUsers:
    return DiscourseUsers(base_url or desk.base_url, DC_USER, DC_KEY, timeout=TIMEOUT, now=clock or Clock(),
                          **kwargs)


def test_discourse_resolves_the_primary_email_with_api_headers(discourse: FakeHelpDesk) -> None:
    assert dc(discourse).email_for("Alice_1") == "alice@example.com"
    assert discourse.paths == ["/u/Alice_1/emails.json"]
    seen = discourse.seen[0].headers
    assert (seen["api-key"], seen["api-username"]) == (DC_KEY, DC_USER)
    assert "authorization" not in seen


def test_discourse_subfolder_install(discourse: FakeHelpDesk) -> None:
    assert dc(discourse, base_url=discourse.base_url + "/forum/").email_for("alice_1") == "alice@example.com"
    assert discourse.paths == ["/forum/u/alice_1/emails.json"]


@pytest.mark.parametrize(("username", "why"), [
    ("nobody", "unknown user: 404"),
    ("boom", "server error: 500"),
    ("html", "not JSON"),
    ("limited", "rate limited: 429"),
    ("forbidden", "API user may not see emails: 403"),
    ("no.email", "no email field"),
    ("bad-email", "email that is not an email"),
    ("listy", "email is not a string"),
])
def test_discourse_failures_resolve_to_none(discourse: FakeHelpDesk, username: str, why: str) -> None:
    assert dc(discourse).email_for(username) is None, why
    assert discourse.paths == [f"/u/{username}/emails.json"]


def test_discourse_bad_key_resolves_to_none(discourse: FakeHelpDesk) -> None:
    assert DiscourseUsers(discourse.base_url, DC_USER, "wrong", timeout=TIMEOUT).email_for("alice_1") is None
    assert DiscourseUsers(discourse.base_url, "alice_1", DC_KEY, timeout=TIMEOUT).email_for("alice_1") is None
    assert len(discourse.seen) == 2


def test_discourse_slow_answer_times_out(discourse: FakeHelpDesk) -> None:
    started = time.monotonic()
    assert dc(discourse).email_for("slow") is None
    assert time.monotonic() - started < TIMEOUT * 2.5


@pytest.mark.parametrize("username", [
    "../admin", "..", ".", ".hidden", "-dash", "a/b", "a b", "alice%2f..", "alice?x=1", "alice#x", "a\\b",
    "ålice", "alice\n", "", "a" * 61, None, 42,
])
def test_discourse_invalid_usernames_never_reach_the_server(discourse: FakeHelpDesk, username: Any) -> None:
    assert dc(discourse).email_for(username) is None
    assert discourse.seen == []


def test_discourse_cache_is_case_insensitive_and_expires(discourse: FakeHelpDesk, clock: Clock) -> None:
    users = dc(discourse, clock, ttl=600)
    assert users.email_for("alice_1") == "alice@example.com"
    assert users.email_for("ALICE_1") == "alice@example.com"
    assert len(discourse.seen) == 1
    clock.t += 600
    assert users.email_for("Alice_1") == "alice@example.com"
    assert len(discourse.seen) == 2
    users.clear_cache()
    assert users.email_for("alice_1") == "alice@example.com"
    assert len(discourse.seen) == 3


# --- what counts as an email --------------------------------------------------------------
@pytest.mark.parametrize(("value", "expected"), [
    (" Alice@Example.COM\n", "alice@example.com"),
    ("a.b+tag@sub.example.co.uk", "a.b+tag@sub.example.co.uk"),
    ("alice@example", None),
    ("alice@@example.com", None),
    ("alice example@example.com", None),
    ("alice@example..com", None),
    ("alice@.example.com", None),
    ("alice@example.com.", None),
    ("@example.com", None),
    ("alice@exa\x00mple.com", None),
    ("a" * 65 + "@example.com", None),
    ("a@" + "b" * 250 + ".com", None),
    ("", None),
    (None, None),
    (42, None),
])
def test_looks_like_email(value: object, expected: str | None) -> None:
    assert looks_like_email(value) == expected

"""What every help-desk adapter shares: one credential type and one HTTP client (urllib3).

`HelpDeskAccount` is how unblock signs in to a help desk: its API URL, the user unblock acts as
(an agent's email, an API username) and the secret (an API token, an API key), given as the
value or as how to read it at each request, so a rotated secret is picked up and a failed read
costs that request only. composition.py builds the accounts from the function's environment;
the desks' adapters (one module each, named in the registry) never read configuration.

`HelpDeskHttp` sends one request and answers what came back; it never retries (SQS is the only
retry of a write, so a request the help desk may have applied is not repeated at once) and never
follows a redirect (the credentials are never replayed to another location). A body is read in
chunks, at most `max_bytes` of it, and, with `deadline`, within that many seconds in total (a
body dripping within the socket timeout is cut off). Transport failures raise `Unreachable`
with a short kind; an HTTP status is the caller's to judge. Nothing here logs or raises a
request's or an answer's content.
"""

from __future__ import annotations

import json
import re
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import urllib3

CONNECT_TIMEOUT = 2.0  # seconds
READ_TIMEOUT = 5.0  # seconds
MAX_RESPONSE_BYTES = 1024 * 1024
USER_AGENT = "unblock/1"
_CHUNK_BYTES = 64 * 1024
_ERROR_CODE = re.compile(r"[A-Za-z][A-Za-z0-9_.:-]{0,63}")

# The secret itself, or how to read it at each request
Secret = str | Callable[[], str]


class EmptySecret(Exception):
    """The help desk's secret read as empty: nothing is sent."""


@dataclass(frozen=True)
class HelpDeskAccount:
    """How unblock signs in to one help desk (the one credential type of every help-desk adapter)."""

    base_url: str
    user: str
    secret: Secret

    def read_secret(self) -> str:
        value = self.secret() if callable(self.secret) else self.secret
        if not value:
            raise EmptySecret("the help desk's secret is empty")
        return value


class Unreachable(Exception):
    """No HTTP answer: a timeout, a refused or dropped connection, TLS, an unreadable body."""

    def __init__(self, kind: str, error: str) -> None:
        super().__init__(kind)
        self.kind = kind  # "timeout" or "connection"
        self.error = error  # the class name of what failed (ReadTimeoutError, ConnectionRefusedError ...)


@dataclass(frozen=True)
class Answer:
    status: int
    headers: Mapping[str, str]
    data: bytes
    complete: bool = True  # False when the body went past max_bytes (data holds the first max_bytes)

    def json(self) -> Any:
        return json.loads(self.data)

    def error_code(self) -> str | None:
        """The help desk's error code (its `error` or `error_type` field) if it is a code: never
        details or free text, which may echo what we sent."""
        try:
            body = self.json()
        except (ValueError, UnicodeDecodeError, RecursionError):
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

    def retry_after(self) -> float | None:
        value = self.headers.get("Retry-After")
        try:
            return max(0.0, float(value)) if value else None
        except ValueError:
            return None


def normalize_base_url(base_url: str) -> str:
    """An http(s) URL with a host and nothing else (no credentials, query or fragment), without its
    trailing slash; a ValueError (a configuration error) otherwise. A path is kept (a forum
    in a subfolder)."""
    parts = urllib.parse.urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("base_url must be an http(s) URL with a host")
    if parts.username is not None or parts.password is not None or parts.query or parts.fragment:
        raise ValueError("base_url must carry no credentials, query or fragment")
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


class HelpDeskHttp:
    """One help desk's HTTP client: connect/read timeouts, no retries, no redirects, bounded bodies."""

    def __init__(self, helpdesk: str, base_url: str, pool: urllib3.PoolManager | None = None, *,
                 connect_timeout: float = CONNECT_TIMEOUT, read_timeout: float = READ_TIMEOUT) -> None:
        if connect_timeout <= 0 or read_timeout <= 0:
            raise ValueError("timeouts must be positive")
        self.helpdesk = helpdesk
        self.base_url = normalize_base_url(base_url)
        self.pool = pool or urllib3.PoolManager(num_pools=2, maxsize=4)
        self.timeout = urllib3.Timeout(connect=connect_timeout, read=read_timeout)

    def url(self, *path: str) -> str:
        """The URL of `path`, each part percent-quoted (an id never adds a path segment)."""
        return self.base_url + "/" + "/".join(urllib.parse.quote(part, safe="") for part in path)

    def request(self, method: str, path: tuple[str, ...], *, payload: dict[str, Any] | None = None,
                headers: Mapping[str, str] | None = None, max_bytes: int = MAX_RESPONSE_BYTES,
                deadline: float | None = None) -> Answer:
        sent = {"Accept": "application/json", "User-Agent": USER_AGENT, **(headers or {})}
        body = None
        if payload is not None:
            body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
            sent["Content-Type"] = "application/json; charset=utf-8"
        ends = time.monotonic() + deadline if deadline is not None else None
        try:
            response = self.pool.request(method, self.url(*path), body=body, headers=sent, timeout=self.timeout,
                                         retries=False, redirect=False, preload_content=False)
            data = bytearray()
            complete, done = True, False
            try:
                while True:
                    chunk = response.read1(_CHUNK_BYTES)
                    if not chunk:
                        done = True
                        break
                    data += chunk
                    if len(data) > max_bytes:
                        del data[max_bytes:]
                        complete = False
                        break
                    if ends is not None and time.monotonic() > ends:
                        raise Unreachable("timeout", "BodyDeadlineExceeded")
            finally:
                # a body read to its end frees the connection for the next request; any other is dropped
                response.release_conn() if done else response.close()
        except (urllib3.exceptions.TimeoutError, TimeoutError) as err:
            raise Unreachable("timeout", type(err).__name__) from None
        except (urllib3.exceptions.HTTPError, OSError, ValueError) as err:  # refused, reset, TLS, protocol
            raise Unreachable("connection", type(err).__name__) from None
        return Answer(response.status, response.headers, bytes(data), complete)

"""`unblock console`: the ConsoleFunction served on 127.0.0.1 against the embedded stack.

Each HTTP request becomes the API Gateway HTTP API (payload 2.0) event the deployed stack would
send, and is invoked through the local Lambda API, so the same handler answers. What API
Gateway's JWT authorizer does is done here for one local identity, `staff:local`: a one-time
login code (printed in the URL) is exchanged for a random session token; pages and decisions
without that bearer token get API Gateway's 401.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from unblock_dev.local.app import LocalApp

LOCAL_IDENTITY = "staff:local"
PROTECTED = ("/pages/", "/api/")
MAX_BODY = 64 * 1024


class ConsoleServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, app: LocalApp, port: int = 0, identity: str = LOCAL_IDENTITY) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.app = app
        self.identity = identity
        self._codes: set[str] = set()
        self._sessions: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def login_url(self, claims: dict[str, Any] | None = None) -> str:
        """A one-time sign-in link (optionally for other claims than the local identity's)."""
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes.add(code)
            self._pending_claims = claims
        return f"{self.base_url}/login#code={code}"

    def session_token(self, claims: dict[str, Any] | None = None) -> str:
        """A session as the login exchange makes it: an unsigned JWT-shaped token the browser keeps."""
        now = int(time.time())
        # the local identity is the operator on their own machine: an admin (it may switch the mode)
        admins = os.environ.get("CONSOLE_ADMIN_GROUP", "unblock-admins")
        claims = claims or {"sub": self.identity, "cognito:groups": [admins]}
        payload = {"iss": self.base_url, "aud": "unblock-console-local", "iat": now, "exp": now + 8 * 3600,
                   "nonce": secrets.token_urlsafe(16), **claims}

        def part(d: dict[str, Any]) -> str:
            return base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()

        token = f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(payload)}.local"
        with self._lock:
            self._sessions[token] = payload
        return token

    def exchange(self, code: str) -> str | None:
        with self._lock:
            if code not in self._codes:
                return None
            self._codes.discard(code)
            claims = getattr(self, "_pending_claims", None)
        return self.session_token(claims)

    def claims_for(self, authorization: str | None) -> dict[str, Any] | None:
        if not authorization or not authorization.startswith("Bearer "):
            return None
        with self._lock:
            claims = self._sessions.get(authorization.removeprefix("Bearer ").strip())
        if claims is None or claims["exp"] < time.time():
            return None
        return claims

    def start(self) -> ConsoleServer:
        self._thread = threading.Thread(target=self.serve_forever, name="unblock-console", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    server: ConsoleServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass  # stdout carries only the URL; the function logs each request itself

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._serve("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._serve("POST")

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _serve(self, method: str) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._send(413, b'{"message":"Request Entity Too Large"}', {"Content-Type": "application/json"})
            return
        body = self.rfile.read(length) if length else b""
        if method == "POST" and url.path == "/local/session":
            try:
                code = str(json.loads(body or b"{}").get("code", ""))
            except (ValueError, AttributeError):
                code = ""
            token = self.server.exchange(code)
            status, payload = (200, {"token": token}) if token else (401, {"message": "Unauthorized"})
            self._send(status, json.dumps(payload).encode(), {"Content-Type": "application/json",
                                                              "Cache-Control": "no-store"})
            return
        claims = None
        if url.path.startswith(PROTECTED):
            claims = self.server.claims_for(self.headers.get("Authorization"))
            if claims is None:  # what the HTTP API's JWT authorizer answers
                self._send(401, b'{"message":"Unauthorized"}', {"Content-Type": "application/json",
                                                                 "www-authenticate": "Bearer"})
                return
        event = http_api_event(method, url.path, url.query, dict(self.headers.items()), body, claims)
        out = self.server.app.stack.invoke("ConsoleFunction", event)
        raw = out.get("body") or ""
        data = base64.b64decode(raw) if out.get("isBase64Encoded") else raw.encode()
        headers = {k: str(v) for k, v in (out.get("headers") or {}).items()}
        for k, values in (out.get("multiValueHeaders") or {}).items():
            headers[k] = ", ".join(values)
        self._send(int(out.get("statusCode", 502)), data, headers)


def http_api_event(method: str, path: str, query: str, headers: dict[str, str], body: bytes,
                   claims: dict[str, Any] | None) -> dict[str, Any]:
    """The API Gateway HTTP API payload 2.0 event for a request (with the authorizer's claims)."""
    from urllib.parse import parse_qsl

    lower = {k.lower(): v for k, v in headers.items()}
    request_context: dict[str, Any] = {
        "accountId": "123456789012", "apiId": "local", "domainName": "127.0.0.1", "domainPrefix": "local",
        "requestId": secrets.token_hex(8), "routeKey": "$default", "stage": "$default",
        "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime()), "timeEpoch": int(time.time() * 1000),
        "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1",
                 "userAgent": lower.get("user-agent", "")},
    }
    if claims is not None:
        request_context["authorizer"] = {"jwt": {"claims": {k: str(v) for k, v in claims.items()}, "scopes": None}}
    event: dict[str, Any] = {
        "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": query,
        "headers": lower, "requestContext": request_context, "isBase64Encoded": False,
    }
    if query:
        event["queryStringParameters"] = dict(parse_qsl(query, keep_blank_values=True))
    if body:
        event["body"] = body.decode("utf-8", errors="replace")
    return event

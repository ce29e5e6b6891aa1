"""The sandbox gateway: the sandbox platform's HTTP face, speaking like the AI gateway.

A customer's own client sees exactly what DESIGN.md "Probe" says the gateway answers: 401
`authentication_error`, 402 `insufficient_funds`, 403 `customer_verification_required` or
`access_denied` (message "Forbidden."), any other refusal of `unblock.domain.gateway_rules`,
429 `rate_limit_exceeded` past the sandbox's own rate limit, otherwise 200. Two surfaces speak it:
  - the OpenAI-compatible API under /v1 (`openai_api`): what the `openai` SDKs and
    `@ai-sdk/openai` call;
  - the AI SDK gateway provider's protocol under /v3/ai and /v4/ai (`ai_sdk`): what `ai` with
    `@ai-sdk/gateway` calls (3.x and 4.x).
Both send the gateway's error envelope {"error": {"message", "type"}}, so each client raises
the error class a real customer's does (docs/customer-view.md has the table).

One place decides and records a refusal: `GatewayServer.admit`, which every customer route
calls before answering; each refusal is kept in `server.refusals` and handed to every hook in
`server.on_refusal`, and every decision, served or refused, to every hook in `server.on_answer`
(what denial signals are built from). Never the key itself: its prefix.

Operator routes (this module):
  POST /unblock/probe   {"team_id", "key_prefix"} -> {"status", "error_type", "message"}
  POST /unblock/run     (only with a workflow, i.e. `unblock gateway`) run a trigger event
  POST /unblock/decide  (only with a workflow) {"case_id", "decision"}: a staff decision
They are guarded against other callers and against a web page in the operator's browser (a
cross-site form POST): they need `Authorization: Bearer <operator token>` (GATEWAY_PROBE_TOKEN,
or the token handed in, else one made up at start and printed), accept only
`Content-Type: application/json` (415 otherwise), refuse a request whose `Origin` is not the
gateway's own (403), and answer no CORS preflight. The customer routes answer a CORS preflight
from a localhost origin only (a local web app calling the gateway from the browser).

HTTP/1.1 keep-alive: every request's body is read whole before any answer (Content-Length or
Transfer-Encoding: chunked), so a refused or bad request never spoils the next one on the
same connection.

"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol, TypeVar
from urllib.parse import unquote

from unblock.domain import gateway_rules as rules
from unblock.domain.models import ProbeResult, Result
from unblock.domain.platform_model import Key, Team
from unblock.ports import Clock, TeamNotFound
from unblock_dev.gateway import ai_sdk, openai_api
from unblock_dev.gateway.base import MAX_BODY, Admitted, Refusal, error_body

log = logging.getLogger("unblock_dev.gateway")
D = TypeVar("D", Admitted, Refusal)

DEFAULT_PORT = 8787
RATE_WINDOW = timedelta(minutes=1)
# a browser page served from this machine (any port) may call the customer routes
LOCAL_ORIGIN = re.compile(r"^https?://(localhost|127\.0\.0\.1|\[::1\])(:\d{1,5})?$")
CUSTOMER_PREFIXES = ("/v1/", "/v3/ai/", "/v4/ai/")
ALLOWED_HEADERS = ("authorization, content-type, ai-gateway-protocol-version, ai-gateway-auth-method, "
                   "ai-language-model-specification-version, ai-language-model-id, ai-language-model-streaming, "
                   "openai-organization, openai-project, x-stainless-lang, x-stainless-package-version, "
                   "x-stainless-os, x-stainless-arch, x-stainless-runtime, x-stainless-runtime-version, "
                   "x-stainless-retry-count, x-stainless-timeout")


class GatewayPlatform(Protocol):
    """What the gateway needs from a platform (the sandbox platform has all of it)."""

    def authenticate(self, secret_sha256: str) -> tuple[Team, Key] | None: ...
    def get_team(self, team_id: str) -> Team: ...
    def probe(self, team_id: str, key_prefix: str | None = None) -> ProbeResult: ...


class GatewayWorkflow(Protocol):
    """The embedded stack, as the operator routes of `unblock gateway` drive it."""

    def run(self, event: dict[str, Any], timeout: float = ...) -> Result: ...
    def decide(self, case_id: str, decision: str, actor: str = ..., timeout: float = ...) -> Result: ...


class GatewayServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], platform: GatewayPlatform, clock: Clock,
                 probe_token: str, workflow: GatewayWorkflow | None, rate_limit: int | None = None) -> None:
        super().__init__(address, GatewayHandler)
        self.platform = platform
        self.clock = clock
        self.probe_token = probe_token
        self.token_from_env = probe_token == os.environ.get("GATEWAY_PROBE_TOKEN")
        self.workflow = workflow
        self.workflow_lock = threading.Lock()
        self.served: Counter[str] = Counter()  # "POST /unblock/probe" -> requests answered
        # admitted requests per key per minute, in real time (the sandbox clock may stand still); None: no limit
        self.rate_limit = rate_limit
        self._recent: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self.refusals: deque[Refusal] = deque(maxlen=10_000)
        self.on_refusal: list[Callable[[Refusal], None]] = []  # each refusal
        self.on_answer: list[Callable[[Admitted | Refusal], None]] = []  # each decision, served or refused

    @property
    def root_url(self) -> str:
        host, port = self.server_address[0], self.server_address[1]
        return f"http://{host!s}:{port}"

    @property
    def base_url(self) -> str:
        """The OpenAI SDK's `base_url` for this server (ends in /v1)."""
        return f"{self.root_url}/v1"

    @property
    def ai_sdk_base_url(self) -> str:
        """The AI SDK gateway provider's `baseURL` for this server (ends in /v3/ai, as the real one)."""
        return f"{self.root_url}/v3/ai"

    @property
    def origins(self) -> set[str]:
        """The Origin a browser sends for a page served by this gateway itself."""
        host, port = str(self.server_address[0]), self.server_address[1]
        return {f"http://{name}:{port}" for name in (host, "127.0.0.1", "localhost")}

    # --- the one place a customer request is admitted or refused -----------------------------
    def admit(self, secret: str | None, *, surface: str, endpoint: str, model: str | None,
              subject_to_rules: bool = True, request_id: str = "") -> Admitted | Refusal:
        """The gateway's decision on one customer request with bearer `secret`.

        401 for a missing or unknown key; then (unless `subject_to_rules` is False: models and
        credits answer any known key) the gateway's rules for the team, key and model
        (unblock.domain.gateway_rules, the same rules as the platform's probe); then the rate limit.
        Every refusal is recorded (`refusals`, `on_refusal`) before it is answered, and every decision,
        served or refused, is handed to `on_answer` (a window of a team's answers: denial signals)."""
        now = self.clock.now()
        found = self.platform.authenticate(hashlib.sha256(secret.encode()).hexdigest()) if secret else None
        if found is None:
            message = "Invalid API key." if secret else "Missing API key: send Authorization: Bearer <key>."
            return self._refused(Refusal(now, 401, "authentication_error", message, surface, endpoint, model,
                                         None, None, request_id))
        team, key = found
        if subject_to_rules:
            answer = rules.answer(team, key, now, key_named=True, **self._model_terms(model))
            if not answer.ok:
                return self._refused(Refusal(now, answer.status, answer.error_type or "access_denied",
                                             answer.message or "Forbidden.", surface, endpoint, model,
                                             team.team_id, key.prefix, request_id))
            if not self._within_rate_limit(key):
                return self._refused(Refusal(now, 429, "rate_limit_exceeded",
                                             f"Rate limit exceeded: at most {self.rate_limit} requests per minute "
                                             "per key. Try again later.", surface, endpoint, model,
                                             team.team_id, key.prefix, request_id))
        return self._answered(Admitted(team, key, now, surface, endpoint, model, request_id))

    def _model_terms(self, model: str | None) -> dict[str, Any]:
        """The model asked for and the platform's model policy, for the rules' model refusal, where the
        platform keeps a policy (the sandbox does; DESIGN.md `model_policy`)."""
        policy = getattr(self.platform, "model_policy", None)
        return {"model": model, "policy": policy()} if callable(policy) else {}

    def _within_rate_limit(self, key: Key) -> bool:
        if self.rate_limit is None:
            return True
        now = time.monotonic()
        with self._lock:
            recent = self._recent.setdefault(key.key_id, deque())
            while recent and now - recent[0] >= RATE_WINDOW.total_seconds():
                recent.popleft()
            if len(recent) >= self.rate_limit:
                return False
            recent.append(now)
            return True

    def _refused(self, refusal: Refusal) -> Refusal:
        self.refusals.append(refusal)
        self._call(self.on_refusal, refusal)
        return self._answered(refusal)

    def _answered(self, decision: D) -> D:
        self._call(self.on_answer, decision)
        return decision

    @staticmethod
    def _call(hooks: list[Callable[[Any], None]], decision: Admitted | Refusal) -> None:
        for hook in list(hooks):
            try:
                hook(decision)
            except Exception:  # noqa: BLE001 - a failing hook never changes the customer's answer
                log.exception("gateway: hook failed")


def make_gateway_server(platform: GatewayPlatform, clock: Clock, host: str = "127.0.0.1", port: int = 0, *,
                        probe_token: str | None = None, workflow: GatewayWorkflow | None = None,
                        rate_limit: int | None = None) -> GatewayServer:
    """A gateway server bound to host:port (0 = a free port); run `serve_forever` in a thread.

    The operator routes always need a token: `probe_token`, else env GATEWAY_PROBE_TOKEN, else a
    random one (`server.probe_token`, which `unblock gateway` prints). `workflow` enables
    /unblock/run and /unblock/decide. `rate_limit`: requests per key per minute, past which the
    gateway answers 429.
    """
    token = probe_token or os.environ.get("GATEWAY_PROBE_TOKEN") or secrets.token_urlsafe(24)
    return GatewayServer((host, port), platform, clock, token, workflow, rate_limit)


def start_in_thread(server: GatewayServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="unblock-gateway",
                              daemon=True)
    thread.start()
    return thread


class BadBody(Exception):
    """A request body that cannot be read whole: the connection is closed after the answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class GatewayHandler(BaseHTTPRequestHandler):
    """HTTP plumbing shared by every route; the routes live in openai_api, ai_sdk and below."""

    server: GatewayServer
    raw_body: bytes = b""
    _request_id: str = ""
    protocol_version = "HTTP/1.1"
    server_version = "unblock-sandbox-gateway/1"
    sys_version = ""

    # --- plumbing ---------------------------------------------------------------------------
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's signature
        log.info("%s %s", self.address_string(), format % args)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        self.server.served[f"{self.command} {self.route_path}"] += 1
        super().log_request(code, size)

    @property
    def route_path(self) -> str:
        return self.path.split("?", 1)[0].rstrip("/") or "/"

    def _cors_headers(self) -> None:
        """A customer route's answer to a page on a localhost origin carries the CORS headers it needs."""
        origin = self.headers.get("Origin")
        if origin and LOCAL_ORIGIN.match(origin) and self.route_path.startswith(CUSTOMER_PREFIXES):
            self.send_header("Access-Control-Allow-Origin", origin)
            self.send_header("Access-Control-Expose-Headers", "x-request-id, x-vercel-id")
            self.send_header("Vary", "Origin")

    def send_json(self, status: int, body: dict[str, Any] | list[Any]) -> None:
        raw = json.dumps(body, separators=(",", ":")).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self._request_id_headers()
        if status == 429:
            self.send_header("Retry-After", str(int(RATE_WINDOW.total_seconds())))
        self._cors_headers()
        self.end_headers()
        self.wfile.write(raw)

    def send_events(self, events: Iterable[tuple[str | None, Any]]) -> None:
        """Server-sent events (`event:` when named, `data:` as JSON, or verbatim for a str such as [DONE])."""
        raw = b"".join(
            ((f"event: {name}\n" if name else "") + f"data: {data if isinstance(data, str) else json.dumps(data)}\n\n")
            .encode() for name, data in events)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Content-Length", str(len(raw)))
        self._request_id_headers()
        self._cors_headers()
        self.end_headers()
        self.wfile.write(raw)

    @property
    def request_id(self) -> str:
        """This request's id, in the shape of the real gateway's X-Vercel-Id (what customers quote)."""
        if not self._request_id:
            self._request_id = f"sbx1::sbx1::{uuid.uuid4().hex[:5]}-{int(time.time() * 1000)}-{uuid.uuid4().hex[:12]}"
        return self._request_id

    def _request_id_headers(self) -> None:
        self.send_header("x-vercel-id", self.request_id)
        self.send_header("x-request-id", self.request_id)

    def send_error_body(self, status: int, error_type: str, message: str, **extra: Any) -> None:
        self.send_json(status, error_body(error_type, message, **extra))

    def bearer(self) -> str | None:
        header = self.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        return value.strip() or None if scheme.lower() == "bearer" else None

    def _read_body(self) -> bytes:
        """The whole body, before any answer (keep-alive: an unread body would corrupt the next request).
        Raises BadBody (the connection then closes: what is left of it cannot be trusted)."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._read_chunked()
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise BadBody(400, "Content-Length is not a number.") from None
        if length < 0:
            raise BadBody(400, "Content-Length is negative.")
        if length > MAX_BODY:
            raise BadBody(413, f"Request body too large: at most {MAX_BODY} bytes.")
        return self.rfile.read(length) if length else b""

    def _read_chunked(self) -> bytes:
        parts: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(1026)
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise BadBody(400, "Malformed chunked request body.") from None
            if size < 0:
                raise BadBody(400, "Malformed chunked request body.")
            if size == 0:
                break
            total += size
            if total > MAX_BODY:
                raise BadBody(413, f"Request body too large: at most {MAX_BODY} bytes.")
            chunk = self.rfile.read(size)
            if len(chunk) < size or self.rfile.readline(3) not in (b"\r\n", b"\n"):
                raise BadBody(400, "Malformed chunked request body.")
            parts.append(chunk)
        for _ in range(100):  # trailer fields, up to the empty line
            if self.rfile.readline(8194) in (b"\r\n", b"\n", b""):
                break
        else:
            raise BadBody(400, "Malformed chunked request body.")
        return b"".join(parts)

    def json_body(self) -> Any:
        """The request body as JSON within the limits (unblock.domain.limits); None after answering 400 itself."""
        from unblock.domain.limits import InputRejected, check_json_text, check_json_value

        try:
            check_json_text(self.raw_body, "request body", MAX_BODY)
            body = json.loads(self.raw_body or b"{}")
            check_json_value(body, "request body")
        except InputRejected as err:
            message = str(err)
            self.send_error_body(400, "invalid_request_error", f"{message[0].upper()}{message[1:]}.")
            return None
        except (json.JSONDecodeError, UnicodeDecodeError):
            self.send_error_body(400, "invalid_request_error", "Request body is not valid JSON.")
            return None
        return body

    def admit(self, *, surface: str, model: str | None, subject_to_rules: bool = True) -> Admitted | None:
        """The server's decision on this request (GatewayServer.admit); None once the refusal is answered."""
        decision = self.server.admit(self.bearer(), surface=surface, endpoint=self.route_path, model=model,
                                     subject_to_rules=subject_to_rules, request_id=self.request_id)
        if isinstance(decision, Refusal):
            self.send_json(decision.status, decision.body())
            return None
        return decision

    # --- dispatch ---------------------------------------------------------------------------
    def _dispatch(self, routes: Mapping[str, Callable[[GatewayHandler], None]],
                  prefixes: Mapping[str, Callable[[GatewayHandler, str], None]]) -> None:
        self._request_id = ""  # one handler serves every request of a kept-alive connection
        try:
            self.raw_body = self._read_body()
        except BadBody as err:
            self.close_connection = True
            self.send_error_body(err.status, "invalid_request_error", str(err))
            return
        path = self.route_path
        route = routes.get(path)
        try:
            if route is not None:
                route(self)
                return
            for prefix, prefixed in prefixes.items():
                if path.startswith(prefix) and len(path) > len(prefix):
                    prefixed(self, unquote(path[len(prefix):]))
                    return
            self.send_error_body(404, "not_found", f"No route for {self.command} {path}.")
        except Exception as err:  # noqa: BLE001 - a 500 in the envelope, never a dropped connection
            log.exception("gateway: %s %s failed", self.command, path)
            self.close_connection = True
            self.send_error_body(500, "internal_server_error", f"{type(err).__name__}")

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        self._dispatch(GET_ROUTES, openai_api.GET_PREFIXES)

    def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
        self._dispatch(POST_ROUTES, {})

    def do_OPTIONS(self) -> None:  # noqa: N802 - the stdlib's name
        """A CORS preflight: answered for a customer route and a localhost origin, refused otherwise."""
        self._request_id = ""
        try:
            self.raw_body = self._read_body()
        except BadBody as err:
            self.close_connection = True
            self.send_error_body(err.status, "invalid_request_error", str(err))
            return
        origin = self.headers.get("Origin") or ""
        path = self.route_path
        if path.startswith("/unblock"):
            self.send_error_body(403, "permission_denied", "Cross-origin requests are refused on /unblock routes.")
            return
        if not path.startswith(CUSTOMER_PREFIXES) or not LOCAL_ORIGIN.match(origin):
            self.send_error_body(403, "permission_denied",
                                 "CORS is allowed only for pages on localhost, 127.0.0.1 or [::1].")
            return
        asked = self.headers.get("Access-Control-Request-Headers") or ""
        headers = asked if re.fullmatch(r"[A-Za-z0-9-]+(\s*,\s*[A-Za-z0-9-]+)*", asked.strip()) else ALLOWED_HEADERS
        self.send_response(204)
        self.send_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
        self.send_header("Access-Control-Allow-Headers", headers)
        self.send_header("Access-Control-Max-Age", "600")
        self.send_header("Content-Length", "0")
        self._cors_headers()
        self.end_headers()

    # --- operator routes --------------------------------------------------------------------
    def operator(self) -> bool:
        """An operator's request: from no other site, with the token, in JSON; False after answering."""
        origin = self.headers.get("Origin")
        if origin is not None and origin.rstrip("/") not in self.server.origins:
            self.send_error_body(403, "permission_denied", "Cross-origin requests are refused on /unblock routes.")
            return False
        given = self.bearer() or ""
        if not hmac.compare_digest(given.encode(), self.server.probe_token.encode()):
            self.send_error_body(401, "authentication_error", "Operator token required for /unblock routes: "
                                                              "send Authorization: Bearer <token>.")
            return False
        media_type = (self.headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()
        if media_type != "application/json":
            self.send_error_body(415, "invalid_request_error", "Send the body as Content-Type: application/json.")
            return False
        return True


def _probe(h: GatewayHandler) -> None:
    if not h.operator():
        return
    body = h.json_body()
    if body is None:
        return
    team_id, prefix = (body.get("team_id"), body.get("key_prefix")) if isinstance(body, dict) else (None, None)
    if not isinstance(team_id, str) or not (prefix is None or isinstance(prefix, str)):
        h.send_error_body(400, "invalid_request_error", 'Expected {"team_id": str, "key_prefix": str|null}.')
        return
    try:
        answer = probe_answer(h.server.platform, h.server.clock, team_id, prefix)
    except TeamNotFound:
        h.send_error_body(404, "team_not_found", f"No team {team_id}.")
        return
    h.send_json(200, answer.model_dump())


def _operator_request(h: GatewayHandler, route: str) -> tuple[GatewayWorkflow, Any] | None:
    """The workflow and the JSON body of an operator route; None once an error is answered."""
    workflow = h.server.workflow
    if workflow is None:
        h.send_error_body(404, "not_found", f"No workflow here: {route} is served by `unblock gateway`.")
        return None
    if not h.operator():
        return None
    body = h.json_body()
    return None if body is None else (workflow, body)


def _run(h: GatewayHandler) -> None:
    request = _operator_request(h, "/unblock/run")
    if request is None:
        return
    workflow, event = request
    if not isinstance(event, dict):
        h.send_error_body(400, "invalid_request_error", "Expected a trigger event (JSON object).")
        return
    from unblock_dev.local.app import BadEvent, OpensNoCase

    try:
        with h.server.workflow_lock:
            result = workflow.run(event)
    except BadEvent as err:
        h.send_error_body(400, "invalid_request_error", str(err))
        return
    except OpensNoCase as done:  # a ping, an edit, a comment: taken, and no case to show
        h.send_json(200, {"case_id": None, "status": done.status, "answer": done.answer})
        return
    h.send_json(200, json.loads(result.model_dump_json()))


def _decide(h: GatewayHandler) -> None:
    request = _operator_request(h, "/unblock/decide")
    if request is None:
        return
    workflow, body = request
    case_id = body.get("case_id") if isinstance(body, dict) else None
    decision = body.get("decision") if isinstance(body, dict) else None
    if not isinstance(case_id, str) or decision not in ("approve", "resolve", "reject"):
        h.send_error_body(400, "invalid_request_error",
                          'Expected {"case_id": str, "decision": "approve"|"resolve"|"reject"}.')
        return
    from unblock_dev.staff import StaffError

    try:
        with h.server.workflow_lock:
            result = workflow.decide(case_id, decision, actor="staff:gateway")
    except StaffError as err:
        h.send_error_body(409, "invalid_request_error", str(err))
        return
    h.send_json(200, json.loads(result.model_dump_json()))


OPERATOR_ROUTES: dict[str, Callable[[GatewayHandler], None]] = {
    "/unblock/probe": _probe, "/unblock/run": _run, "/unblock/decide": _decide,
}
GET_ROUTES: dict[str, Callable[[GatewayHandler], None]] = {**openai_api.GET_ROUTES, **ai_sdk.GET_ROUTES}
POST_ROUTES: dict[str, Callable[[GatewayHandler], None]] = {
    **openai_api.POST_ROUTES, **ai_sdk.POST_ROUTES, **OPERATOR_ROUTES}


def probe_answer(platform: GatewayPlatform, clock: Clock, team_id: str, key_prefix: str | None) -> ProbeResult:
    """The probe, answered as the gateway: the platform's own probe, so key matching and the rules
    are one code path (unblock.domain.gateway_rules). Raises TeamNotFound."""
    return platform.probe(team_id, key_prefix)

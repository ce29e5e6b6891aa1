"""The sandbox gateway: the sandbox platform's HTTP face, speaking like the AI gateway.

A customer's own client (the OpenAI SDK with `base_url` pointed here) sees exactly what
DESIGN.md "Probe" says the gateway answers: 401 `authentication_error`, 402
`insufficient_funds`, 403 `customer_verification_required` or `access_denied`
(message "Forbidden."), otherwise 200 with a small completion in the OpenAI shape.

Routes (stdlib http.server, one thread per request):
  POST /v1/chat/completions  the gateway's answer for the bearer key (streaming too)
  GET  /v1/models            the model list (any known key)
  GET  /v1/credits           the team's credit balance (any known key)
  POST /unblock/probe        {"team_id", "key_prefix"} -> {"status", "error_type", "message"}:
                             what the HTTP probe adapter (unblock.platform.http_probe) calls
  POST /unblock/run          (only with a workflow, i.e. `unblock gateway`) run a trigger event
  POST /unblock/decide       (only with a workflow) {"case_id", "decision"}: a staff decision
The /unblock/* routes are operator routes, guarded against other callers and against a web
page in the operator's browser (a cross-site form POST): they need `Authorization: Bearer
<operator token>` (GATEWAY_PROBE_TOKEN, or the token handed in, else one made up at start and
printed), accept only `Content-Type: application/json` (415 otherwise), and refuse a request
whose `Origin` is not the gateway's own (403).

`register(subparsers)` adds `unblock gateway`; `sdk_call` is a customer's call through the
real `openai` package, imported lazily (the Lambda package does not ship it).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import logging
import os
import secrets
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol, TextIO

from unblock.domain import gateway_rules as rules
from unblock.domain.models import ProbeResult, Result
from unblock.domain.platform_model import Key, Team
from unblock.ports import Clock, TeamNotFound
from unblock_dev.inputs import seed_file
from unblock_dev.serving import serving

log = logging.getLogger("unblock_dev.gateway")

MODELS = ("openai/gpt-4o", "openai/gpt-4o-mini", "anthropic/claude-sonnet-4", "google/gemini-2.5-flash")
DEFAULT_MODEL = MODELS[0]
MAX_BODY = 1 << 20  # 1 MiB
DEFAULT_PORT = 8787


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
                 probe_token: str, workflow: GatewayWorkflow | None) -> None:
        super().__init__(address, _Handler)
        self.platform = platform
        self.clock = clock
        self.probe_token = probe_token
        self.token_from_env = probe_token == os.environ.get("GATEWAY_PROBE_TOKEN")
        self.workflow = workflow
        self.workflow_lock = threading.Lock()
        self.served: Counter[str] = Counter()  # "POST /unblock/probe" -> requests answered

    @property
    def base_url(self) -> str:
        """The OpenAI SDK's `base_url` for this server (ends in /v1)."""
        host, port = self.server_address[0], self.server_address[1]
        return f"http://{host!s}:{port}/v1"

    @property
    def origins(self) -> set[str]:
        """The Origin a browser sends for a page served by this gateway itself."""
        host, port = str(self.server_address[0]), self.server_address[1]
        return {f"http://{name}:{port}" for name in (host, "127.0.0.1", "localhost")}


def make_gateway_server(platform: GatewayPlatform, clock: Clock, host: str = "127.0.0.1", port: int = 0, *,
                        probe_token: str | None = None, workflow: GatewayWorkflow | None = None) -> GatewayServer:
    """A gateway server bound to host:port (0 = a free port); run `serve_forever` in a thread.

    The operator routes always need a token: `probe_token`, else env GATEWAY_PROBE_TOKEN, else a
    random one (`server.probe_token`, which `unblock gateway` prints). `workflow` enables
    /unblock/run and /unblock/decide.
    """
    token = probe_token or os.environ.get("GATEWAY_PROBE_TOKEN") or secrets.token_urlsafe(24)
    return GatewayServer((host, port), platform, clock, token, workflow)


def start_in_thread(server: GatewayServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="unblock-gateway",
                              daemon=True)
    thread.start()
    return thread


# --- the gateway's answers --------------------------------------------------------------------
def error_body(error_type: str, message: str) -> dict[str, Any]:
    """The gateway's own error envelope (DESIGN.md: {"error": {"message": "Forbidden.", "type": "access_denied"}})."""
    return {"error": {"message": message, "type": error_type}}


def completion_body(model: str, messages: list[Any], team: Team, now: float) -> dict[str, Any]:
    text = f"Hello from the unblock sandbox gateway: team {team.slug or team.team_id} is served by {model}."
    prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in messages if isinstance(m, dict)) or 1
    completion_tokens = len(text.split())
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}", "object": "chat.completion", "created": int(now), "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop",
                     "logprobs": None}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                  "total_tokens": prompt_tokens + completion_tokens},
        "system_fingerprint": "unblock-sandbox",
    }


class _Handler(BaseHTTPRequestHandler):
    server: GatewayServer
    _raw: bytes = b""
    protocol_version = "HTTP/1.1"
    server_version = "unblock-sandbox-gateway/1"
    sys_version = ""

    # --- plumbing ---------------------------------------------------------------------------
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's signature
        log.info("%s %s", self.address_string(), format % args)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        self.server.served[f"{self.command} {self.path.split('?', 1)[0]}"] += 1
        super().log_request(code, size)

    def _send(self, status: int, body: dict[str, Any] | list[Any]) -> None:
        raw = json.dumps(body, separators=(",", ":")).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.send_header("x-request-id", f"req_{uuid.uuid4().hex[:20]}")
        self.end_headers()
        self.wfile.write(raw)

    def _error(self, status: int, error_type: str, message: str) -> None:
        self._send(status, error_body(error_type, message))

    def _bearer(self) -> str | None:
        header = self.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        return value.strip() or None if scheme.lower() == "bearer" else None

    def _read_body(self) -> bytes | None:
        """Read the whole body up front (keep-alive: an unread body would corrupt the next request)."""
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            self.close_connection = True
            self._error(413 if length > MAX_BODY else 400, "invalid_request_error", "Request body too large or bad.")
            return None
        return self.rfile.read(length) if length else b""

    def _json_body(self) -> Any:
        """The request body as JSON within the limits (unblock.domain.limits); None after answering 400 itself."""
        from unblock.domain.limits import InputRejected, check_json_text, check_json_value

        try:
            check_json_text(self._raw, "request body", MAX_BODY)
            body = json.loads(self._raw or b"{}")
            check_json_value(body, "request body")
        except InputRejected as err:
            message = str(err)
            self._error(400, "invalid_request_error", f"{message[0].upper()}{message[1:]}.")
            return None
        except (json.JSONDecodeError, UnicodeDecodeError):
            self._error(400, "invalid_request_error", "Request body is not valid JSON.")
            return None
        return body

    def _caller(self) -> tuple[Team, Key] | None:
        """The team and key of the bearer key; None after answering 401 itself."""
        secret = self._bearer()
        found = self.server.platform.authenticate(hashlib.sha256(secret.encode()).hexdigest()) if secret else None
        if found is None:
            self._error(401, "authentication_error",
                        "Invalid API key." if secret else "Missing API key: send Authorization: Bearer <key>.")
        return found

    def _operator(self) -> bool:
        """An operator's request: from no other site, with the token, in JSON; False after answering."""
        origin = self.headers.get("Origin")
        if origin is not None and origin.rstrip("/") not in self.server.origins:
            self._error(403, "permission_denied", "Cross-origin requests are refused on /unblock routes.")
            return False
        given = self._bearer() or ""
        if not hmac.compare_digest(given.encode(), self.server.probe_token.encode()):
            self._error(401, "authentication_error", "Operator token required for /unblock routes: "
                                                     "send Authorization: Bearer <token>.")
            return False
        media_type = (self.headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()
        if media_type != "application/json":
            self._error(415, "invalid_request_error", "Send the body as Content-Type: application/json.")
            return False
        return True

    # --- routes -----------------------------------------------------------------------------
    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        path = self.path.split("?", 1)[0].rstrip("/")
        if path not in ("/v1/models", "/v1/credits"):
            self._error(404, "not_found", f"No route for GET {path or '/'}.")
            return
        caller = self._caller()
        if caller is None:
            return
        team, _ = caller
        if path == "/v1/models":
            created = int(team.created_at.timestamp()) if team.created_at else 0
            self._send(200, {"object": "list", "data": [
                {"id": m, "object": "model", "created": created, "owned_by": m.split("/", 1)[0]} for m in MODELS]})
        else:
            used = sum(k.budget.used_cents for k in team.keys)
            self._send(200, {"balance": f"{(team.billing.credits.balance_cents or 0) / 100:.2f}",
                             "total_used": f"{used / 100:.2f}"})

    def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
        path = self.path.split("?", 1)[0].rstrip("/")
        routes: dict[str, Callable[[], None]] = {
            "/v1/chat/completions": self._chat, "/unblock/probe": self._probe,
            "/unblock/run": self._run, "/unblock/decide": self._decide,
        }
        raw = self._read_body()
        if raw is None:
            return
        self._raw = raw
        route = routes.get(path)
        if route is None:
            self._error(404, "not_found", f"No route for POST {path or '/'}.")
            return
        try:
            route()
        except Exception as err:  # noqa: BLE001 - a 500 in the envelope, never a dropped connection
            log.exception("gateway: %s failed", path)
            self.close_connection = True
            self._error(500, "internal_server_error", f"{type(err).__name__}")

    def _chat(self) -> None:
        caller = self._caller()
        if caller is None:
            return
        body = self._json_body()
        if body is None:
            return
        team, key = caller
        # the model the customer asked for: a free-tier team is refused one its credits do not cover
        asked = str(body.get("model") or DEFAULT_MODEL) if isinstance(body, dict) else DEFAULT_MODEL
        policy = getattr(self.server.platform, "model_policy", None)
        answer = rules.answer(team, key, self.server.clock.now(), key_named=True, model=asked,
                              policy=policy() if policy else None)
        if not answer.ok:
            self._error(answer.status, answer.error_type or "access_denied", answer.message or "Forbidden.")
            return
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list) or not body["messages"]:
            self._error(400, "invalid_request_error", "`messages` must be a non-empty list.")
            return
        model = str(body.get("model") or DEFAULT_MODEL)
        completion = completion_body(model, body["messages"], team, time.time())
        if body.get("stream"):
            self._stream(completion)
        else:
            self._send(200, completion)

    def _stream(self, completion: dict[str, Any]) -> None:
        """Server-sent events, as the SDK's `stream=True` reads them."""
        base = {k: completion[k] for k in ("id", "created", "model")} | {"object": "chat.completion.chunk"}
        content = completion["choices"][0]["message"]["content"]
        chunks = [
            {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": content},
                                  "finish_reason": None}]},
            {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
        ]
        raw = b"".join(f"data: {json.dumps(c)}\n\n".encode() for c in chunks) + b"data: [DONE]\n\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _probe(self) -> None:
        if not self._operator():
            return
        body = self._json_body()
        if body is None:
            return
        team_id, prefix = (body.get("team_id"), body.get("key_prefix")) if isinstance(body, dict) else (None, None)
        if not isinstance(team_id, str) or not (prefix is None or isinstance(prefix, str)):
            self._error(400, "invalid_request_error", 'Expected {"team_id": str, "key_prefix": str|null}.')
            return
        try:
            answer = probe_answer(self.server.platform, self.server.clock, team_id, prefix)
        except TeamNotFound:
            self._error(404, "team_not_found", f"No team {team_id}.")
            return
        self._send(200, answer.model_dump())

    def _operator_request(self, route: str) -> tuple[GatewayWorkflow, Any] | None:
        """The workflow and the JSON body of an operator route; None once an error is answered."""
        workflow = self.server.workflow
        if workflow is None:
            self._error(404, "not_found", f"No workflow here: {route} is served by `unblock gateway`.")
            return None
        if not self._operator():
            return None
        body = self._json_body()
        return None if body is None else (workflow, body)

    def _run(self) -> None:
        request = self._operator_request("/unblock/run")
        if request is None:
            return
        workflow, event = request
        if not isinstance(event, dict):
            self._error(400, "invalid_request_error", "Expected a trigger event (JSON object).")
            return
        from unblock_dev.local.app import BadEvent

        try:
            with self.server.workflow_lock:
                result = workflow.run(event)
        except BadEvent as err:
            self._error(400, "invalid_request_error", str(err))
            return
        self._send(200, json.loads(result.model_dump_json()))

    def _decide(self) -> None:
        request = self._operator_request("/unblock/decide")
        if request is None:
            return
        workflow, body = request
        case_id = body.get("case_id") if isinstance(body, dict) else None
        decision = body.get("decision") if isinstance(body, dict) else None
        if not isinstance(case_id, str) or decision not in ("approve", "resolve", "reject"):
            self._error(400, "invalid_request_error",
                        'Expected {"case_id": str, "decision": "approve"|"resolve"|"reject"}.')
            return
        from unblock_dev.staff import StaffError

        try:
            with self.server.workflow_lock:
                result = workflow.decide(case_id, decision, actor="staff:gateway")
        except StaffError as err:
            self._error(409, "invalid_request_error", str(err))
            return
        self._send(200, json.loads(result.model_dump_json()))


def probe_answer(platform: GatewayPlatform, clock: Clock, team_id: str, key_prefix: str | None) -> ProbeResult:
    """The probe, answered as the gateway: the platform's own probe, so key matching and the rules
    are one code path (unblock.domain.gateway_rules). Raises TeamNotFound."""
    return platform.probe(team_id, key_prefix)


# --- the customer's view ----------------------------------------------------------------------
def sdk_call(base_url: str, api_key: str, *, model: str = DEFAULT_MODEL, timeout: float = 10.0) -> str:
    """One chat completion through the real `openai` package, as the customer's code makes it.

    Returns one line: the completion text, or the SDK's exception as the customer sees it,
    e.g. `openai.PermissionDeniedError: Error code: 403 - {'error': {...}}`.
    `base_url` is the SDK's base_url (the gateway's http://host:port/v1).
    """
    import openai  # lazily: a test and demo dependency, not in the Lambda package

    client = openai.OpenAI(base_url=base_url, api_key=api_key, max_retries=0, timeout=timeout)
    try:
        completion = client.chat.completions.create(
            model=model, messages=[{"role": "user", "content": "Say hello."}])
    except openai.OpenAIError as err:
        return " ".join(f"openai.{type(err).__name__}: {err}".split())
    finally:
        client.close()
    return " ".join((completion.choices[0].message.content or "").split())


# --- `unblock gateway` ------------------------------------------------------------------------
def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add `unblock gateway` to the CLI's subparsers (cli.build_parser calls this)."""
    gw = subparsers.add_parser(
        "gateway", help="serve the sandbox platform as an OpenAI-compatible gateway on 127.0.0.1",
        description="Start the embedded stack and serve /v1/chat/completions, /v1/models and /v1/credits "
                    "for the sandbox teams, until Ctrl-C. Point the OpenAI SDK's base_url at the printed URL.")
    gw.add_argument("--platform", help="sandbox seed (default events/platform.json)")
    gw.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0 = any free)")
    gw.add_argument("--now", help="the sandbox clock (default: now; the sample events use 2026-11-26T10:00:00Z)")
    gw.add_argument("--verbose", action="store_true", help="handler logs, metrics and request lines on stderr")
    gw.set_defaults(func=cmd_gateway)
    return gw


def cmd_gateway(args: argparse.Namespace, out: TextIO) -> int:
    seed, raw = seed_file(args.platform)  # raw: the test secrets, before hashing
    with serving(args, seed, lambda app: make_gateway_server(app.platform, app.clock, port=args.port,
                                                             workflow=app)) as (app, server):
        try:
            serve_gateway(server, app.platform, app.clock, raw, out, threading.Event())
        except KeyboardInterrupt:
            out.write("\nstopped\n")
    return 0


def serve_gateway(server: GatewayServer, platform: GatewayPlatform, clock: Clock, raw_seed: Any, out: TextIO,
                  stop: threading.Event) -> None:
    """Print how to call the gateway, then serve until `stop` is set (or Ctrl-C); closes the server."""
    thread = start_in_thread(server)
    try:
        token = "$GATEWAY_PROBE_TOKEN" if server.token_from_env else server.probe_token
        out.write(describe(server.base_url, platform, clock, raw_seed, token))
        out.flush()
        while not stop.wait(0.2):
            pass
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def seed_secrets(raw_seed: Any) -> dict[str, dict[str, str | None]]:
    """team_id -> {key prefix: the seed's test secret, or None} (the seed file as JSON)."""
    out: dict[str, dict[str, str | None]] = {}
    for team in (raw_seed or {}).get("teams", []) if isinstance(raw_seed, dict) else []:
        if isinstance(team, dict):
            out[str(team.get("team_id"))] = {
                str(k.get("prefix")): (str(k["secret"]) if k.get("secret") else None)
                for k in team.get("keys", []) if isinstance(k, dict)}
    return out


def describe(base_url: str, platform: GatewayPlatform, clock: Clock, raw_seed: Any, operator_token: str) -> str:
    """What `unblock gateway` prints: the base URL, per team its test keys and current answer, and
    how to call the operator routes (`operator_token` as it should appear in the command)."""
    lines = [f"unblock sandbox gateway on {base_url}   (Ctrl-C stops)", "",
             "  client = openai.OpenAI(base_url=\"" + base_url + "\", api_key=KEY)", ""]
    now = clock.now()
    for team_id, keys in seed_secrets(raw_seed).items():
        try:
            team = platform.get_team(team_id)
        except TeamNotFound:
            continue
        lines.append(f"{team.slug or '-':<16} {team.team_id}")
        for key in team.keys:
            answer = rules.answer(team, key, now, key_named=True)
            verdict = "200 ok" if answer.ok else f"{answer.status} {answer.error_type}"
            secret = keys.get(key.prefix)
            shown = secret if secret else f"({key.prefix}: no test secret in the seed; this key cannot be used here)"
            lines.append(f"    key {shown:<52} -> {verdict}")
    root = base_url.removesuffix("/v1")
    auth = f' -H "Authorization: Bearer {operator_token}" -H "Content-Type: application/json"'
    lines += ["", "Run the workflow on this stack, then call again:",
              f"  curl -s{auth} {root}/unblock/run -d @events/ticket-risk-hold-lift.json",
              f"  curl -s{auth} {root}/unblock/decide -d '{{\"case_id\": \"...\", \"decision\": \"approve\"}}'", ""]
    return "\n".join(lines) + "\n"

"""The sandbox platform served over the admin API (docs/platform-api.yaml) on 127.0.0.1.

`make_api_server(platform, host, port, token)` serves any `Platform` (the sandbox in
practice) with the standard library's ThreadingHTTPServer, so the HTTP adapter, the whole
workflow and the OpenAPI document are tested against a real server; `unblock platform
serve` runs it over the embedded stack's sandbox until Ctrl-C. It is a test double and a
reference for operators, not a production server: loopback only, one static bearer token.
"""

from __future__ import annotations

import argparse
import hmac
import json
import logging
import re
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TextIO
from urllib.parse import parse_qs, unquote, urlsplit

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from unblock.domain.platform_model import HeldTeam, Hold, HoldKind, Restriction, Source, Team
from unblock.ports import FixConflict, Platform, PlatformUnavailable, TeamNotFound
from unblock_dev.inputs import load_seed
from unblock_dev.serving import serving

log = logging.getLogger("sandbox_platform_api")  # not under "unblock": the handlers' Powertools logger

DEFAULT_PORT = 8788  # the sandbox gateway (`unblock gateway`) has 8787
MAX_BODY = 64 * 1024
_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
_KEY_EXCLUDE = {"secret_sha256"}  # never a secret, never a secret's hash


# --- request bodies (as the document has them: unknown properties are refused) -------------
class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class ProbeRequest(_Body):
    key_prefix: str | None = Field(default=None, min_length=1, max_length=200)
    endpoint: str | None = Field(default=None, min_length=1, max_length=200)
    model: str | None = Field(default=None, min_length=1, max_length=200)


class ResyncKeyRequest(_Body):
    key_id: str = Field(min_length=1, max_length=200)


class LiftRiskHoldRequest(_Body):
    at: AwareDatetime


class RestoreBillingHoldRequest(_Body):
    hold: Hold


class RestoreRiskHoldRequest(_Body):
    restriction: Restriction


class HeldTeamsQuery(_Body):
    kind: HoldKind
    reason: str = Field(min_length=1, max_length=200)
    source: Source = "automated"
    limit: int = Field(default=100, ge=1, le=500)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


# --- routes --------------------------------------------------------------------------------
Params = dict[str, str]
Action = Callable[["_Request"], tuple[int, Any]]


class _Request:
    def __init__(self, platform: Platform, params: Params, headers: Any, body: bytes,
                 query: dict[str, list[str]] | None = None) -> None:
        self.platform, self.params, self.headers, self.body = platform, params, headers, body
        self.query = query or {}

    @property
    def team_id(self) -> str:
        return self.params["team_id"]

    def json(self, model: type[BaseModel], *, required: bool) -> Any:
        if not self.body.strip():
            if required:
                raise ApiError(400, "validation_error", "a JSON request body is required")
            return model()
        try:
            return model.model_validate_json(self.body)
        except ValidationError as err:
            first = err.errors()[0]
            loc = ".".join(str(p) for p in first["loc"]) or "body"
            raise ApiError(400, "validation_error", f"{loc}: {first['msg']}") from err

    def idempotency_key(self) -> str:
        values = self.headers.get_all("Idempotency-Key") or []
        if len(values) != 1 or not _IDEMPOTENCY_KEY.match(values[0]):
            raise ApiError(400, "validation_error",
                           "exactly one Idempotency-Key header (1-255 visible ASCII characters) is required")
        return str(values[0])


def _team_json(team: Team) -> Any:
    return team.model_dump(mode="json", exclude={"keys": {"__all__": _KEY_EXCLUDE}})


def _get_team(r: _Request) -> tuple[int, Any]:
    return 200, _team_json(r.platform.get_team(r.team_id))


def _get_billing(r: _Request) -> tuple[int, Any]:
    return 200, r.platform.get_billing(r.team_id).model_dump(mode="json")


def _list_keys(r: _Request) -> tuple[int, Any]:
    return 200, {"keys": [k.model_dump(mode="json", exclude=_KEY_EXCLUDE) for k in r.platform.get_keys(r.team_id)]}


def _list_restrictions(r: _Request) -> tuple[int, Any]:
    return 200, {"restrictions": [x.model_dump(mode="json") for x in r.platform.get_restrictions(r.team_id)]}


def _get_entitlements(r: _Request) -> tuple[int, Any]:
    return 200, r.platform.get_entitlements(r.team_id).model_dump(mode="json")


def _list_auto_lifts(r: _Request) -> tuple[int, Any]:
    return 200, {"auto_lifts": [x.model_dump(mode="json") for x in r.platform.get_auto_lifts(r.team_id)]}


def _lookup(field: str) -> Action:
    def action(r: _Request) -> tuple[int, Any]:
        team = r.platform.find_team(**{field: r.params[field]})
        if team is None:
            raise ApiError(404, "team_not_found", f"no team with {field} {r.params[field]!r}")
        return 200, _team_json(team)

    return action


def _key_owner(r: _Request) -> tuple[int, Any]:
    prefix = r.params["prefix"]
    team_id = r.platform.find_key_owner(prefix)
    if team_id is None:
        raise ApiError(404, "key_not_found", f"no key with prefix {prefix!r}")
    return 200, {"prefix": prefix, "team_id": team_id}


def _held_teams(r: _Request) -> tuple[int, Any]:
    fields = set(HeldTeamsQuery.model_fields)
    repeated = [k for k, v in r.query.items() if k in fields and len(v) != 1]
    if repeated:
        raise ApiError(400, "validation_error", f"{repeated[0]}: give it once")
    raw: dict[str, Any] = {k: v[0] for k, v in r.query.items() if k in fields}
    if "limit" in raw:
        if not re.fullmatch(r"[0-9]{1,6}", raw["limit"]):
            raise ApiError(400, "validation_error", "limit: an integer from 1 to 500")
        raw["limit"] = int(raw["limit"])
    try:
        q = HeldTeamsQuery.model_validate(raw)
    except ValidationError as err:
        first = err.errors()[0]
        raise ApiError(400, "validation_error", f"{'.'.join(str(p) for p in first['loc']) or 'query'}: "
                                                f"{first['msg']}") from err
    teams = r.platform.list_held_teams(q.kind, q.reason, source=q.source, limit=q.limit + 1)
    if teams is None:
        raise ApiError(404, "not_implemented", "this platform cannot list held teams")
    served: list[HeldTeam] = list(teams[:q.limit])
    return 200, {"teams": [t.model_dump(mode="json") for t in served], "truncated": len(teams) > q.limit}


def _probe(r: _Request) -> tuple[int, Any]:
    body: ProbeRequest = r.json(ProbeRequest, required=False)
    answer = r.platform.probe(r.team_id, body.key_prefix, endpoint=body.endpoint, model=body.model)
    return 200, answer.model_dump(mode="json")


_REQUEST_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9:._-]{0,199}$")


def _request(r: _Request) -> tuple[int, Any]:
    request_id = r.params["request_id"]
    record = r.platform.find_request(request_id) if _REQUEST_ID.match(request_id) else None
    if record is None:
        raise ApiError(404, "request_not_found", f"no request {request_id!r} in the log")
    return 200, record.model_dump(mode="json")


def _fix(name: str) -> Action:
    def action(r: _Request) -> tuple[int, Any]:
        idem = r.idempotency_key()
        if name == "clear_billing_hold":
            r.platform.clear_billing_hold(r.team_id, idempotency_key=idem)
        elif name == "resync_key":
            resync: ResyncKeyRequest = r.json(ResyncKeyRequest, required=True)
            r.platform.resync_key(r.team_id, resync.key_id, idempotency_key=idem)
        elif name == "resync_entitlements":
            r.platform.resync_entitlements(r.team_id, idempotency_key=idem)
        else:
            lift: LiftRiskHoldRequest = r.json(LiftRiskHoldRequest, required=True)
            r.platform.lift_risk_hold(r.team_id, at=lift.at, idempotency_key=idem)
        return 200, {"fix": name, "team_id": r.team_id}

    return action


def _restore_billing_hold(r: _Request) -> tuple[int, Any]:
    idem = r.idempotency_key()
    body: RestoreBillingHoldRequest = r.json(RestoreBillingHoldRequest, required=True)
    if not body.hold.active:
        raise ApiError(400, "validation_error", "hold.active: a restored hold is active")
    r.platform.restore_billing_hold(r.team_id, body.hold, idempotency_key=idem)
    return 200, {"revert": "restore_billing_hold", "team_id": r.team_id}


def _restore_risk_hold(r: _Request) -> tuple[int, Any]:
    idem = r.idempotency_key()
    body: RestoreRiskHoldRequest = r.json(RestoreRiskHoldRequest, required=True)
    if body.restriction.flag != "risk_hold":
        raise ApiError(400, "validation_error", "restriction.flag: must be risk_hold")
    r.platform.restore_risk_hold(r.team_id, body.restriction, idempotency_key=idem)
    return 200, {"revert": "restore_risk_hold", "team_id": r.team_id}


def _route(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template) + "$")


ROUTES: list[tuple[re.Pattern[str], dict[str, Action]]] = [
    (_route("/v1/teams/{team_id}"), {"GET": _get_team}),
    (_route("/v1/teams/{team_id}/billing"), {"GET": _get_billing}),
    (_route("/v1/teams/{team_id}/keys"), {"GET": _list_keys}),
    (_route("/v1/teams/{team_id}/restrictions"), {"GET": _list_restrictions}),
    (_route("/v1/teams/{team_id}/entitlements"), {"GET": _get_entitlements}),
    (_route("/v1/teams/{team_id}/auto-lifts"), {"GET": _list_auto_lifts}),
    (_route("/v1/lookup/team-by-slug/{slug}"), {"GET": _lookup("slug")}),
    (_route("/v1/lookup/team-by-owner-email/{owner_email}"), {"GET": _lookup("owner_email")}),
    (_route("/v1/lookup/team-by-member-email/{member_email}"), {"GET": _lookup("member_email")}),
    (_route("/v1/lookup/key-owner/{prefix}"), {"GET": _key_owner}),
    (_route("/v1/teams/{team_id}/probe"), {"POST": _probe}),
    (_route("/v1/requests/{request_id}"), {"GET": _request}),
    (_route("/v1/holds"), {"GET": _held_teams}),
    (_route("/v1/teams/{team_id}/fixes/clear-billing-hold"), {"POST": _fix("clear_billing_hold")}),
    (_route("/v1/teams/{team_id}/fixes/resync-key"), {"POST": _fix("resync_key")}),
    (_route("/v1/teams/{team_id}/fixes/resync-entitlements"), {"POST": _fix("resync_entitlements")}),
    (_route("/v1/teams/{team_id}/fixes/lift-risk-hold"), {"POST": _fix("lift_risk_hold")}),
    (_route("/v1/teams/{team_id}/reverts/billing-hold"), {"POST": _restore_billing_hold}),
    (_route("/v1/teams/{team_id}/reverts/risk-hold"), {"POST": _restore_risk_hold}),
]


# --- HTTP ----------------------------------------------------------------------------------
class _Handler(BaseHTTPRequestHandler):
    server: PlatformApiServer
    protocol_version = "HTTP/1.1"  # keep-alive: the adapter pools its connections
    disable_nagle_algorithm = True  # headers and body are separate writes: no 40 ms delayed-ACK stall
    server_version = "unblock-sandbox-platform/1"
    sys_version = ""

    def __getattr__(self, name: str) -> Any:
        # every method reaches the router, which answers 405 with Allow for undeclared ones
        if name.startswith("do_"):
            return self._handle
        raise AttributeError(name)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's signature
        log.info("%s %s", self.address_string(), format % args)

    def _handle(self) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            self._send(400, {"error": {"code": "validation_error", "message": "bad Content-Length"}}, close=True)
            return
        body = self.rfile.read(length) if length else b""
        try:
            status, payload = self._dispatch(body)
            self._send(status, payload)
        except ApiError as err:
            self._send(err.status, {"error": {"code": err.code, "message": err.message}}, err.headers)
        except TeamNotFound as err:
            self._send(404, {"error": {"code": "team_not_found", "message": f"no team {err}"}})
        except FixConflict as err:
            self._send(409, {"error": {"code": "fix_conflict", "message": str(err) or "precondition no longer holds"}})
        except PlatformUnavailable as err:
            self._send(503, {"error": {"code": "unavailable", "message": str(err) or "try again"}},
                       {"Retry-After": "1"})
        except Exception:  # noqa: BLE001 - a bug in the sandbox: answer 500, log it
            log.exception("%s %s failed", self.command, self.path)
            self._send(500, {"error": {"code": "internal_error", "message": "the sandbox platform failed"}})

    def _dispatch(self, body: bytes) -> tuple[int, Any]:
        self._authenticate()
        url = urlsplit(self.path)
        path = url.path
        for pattern, methods in ROUTES:
            match = pattern.match(path)
            if match is None:
                continue
            action = methods.get(self.command)
            if action is None:
                raise ApiError(405, "method_not_allowed", f"{self.command} is not allowed here",
                               {"Allow": ", ".join(methods)})
            params = {k: unquote(v) for k, v in match.groupdict().items()}
            query = parse_qs(url.query, keep_blank_values=True)
            return action(_Request(self.server.platform, params, self.headers, body, query))
        raise ApiError(404, "not_found", f"no such route: {path}")

    def _authenticate(self) -> None:
        header = self.headers.get("Authorization") or ""
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(credentials.strip().encode(),
                                                                 self.server.token.encode()):
            raise ApiError(401, "unauthorized", "a valid bearer token is required",
                           {"WWW-Authenticate": 'Bearer realm="unblock-platform"'})

    def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None, close: bool = False) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)


class PlatformApiServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], platform: Platform, token: str) -> None:
        if not token:
            raise ValueError("the platform API server needs a bearer token")
        self.platform = platform
        self.token = token
        self._thread: threading.Thread | None = None
        super().__init__(address, _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> PlatformApiServer:
        """Serve in a daemon thread (tests); `close()` stops it."""
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="platform-api", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        if self._thread is not None:
            self.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self.server_close()

    def __enter__(self) -> PlatformApiServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        if isinstance(sys.exc_info()[1], ConnectionError):  # the client gave up (timeout): nothing to answer
            return
        super().handle_error(request, client_address)


def make_api_server(platform: Platform, host: str = "127.0.0.1", port: int = 0, token: str = "") -> PlatformApiServer:
    """A server for `platform` over the admin API, bound (port 0: any free port) but not yet serving.

    Call `serve_forever()`, or `start()` for a background thread; `close()` when done.
    """
    return PlatformApiServer((host, port), platform, token)


# --- CLI: `unblock platform serve` (and `seed`, commands/platform_seed.py) ------------------------
def register(subparsers: Any) -> Any:
    """Add `unblock platform serve` to the CLI's subparsers (cli.build_parser calls this)."""
    platform = subparsers.add_parser("platform", help="the sandbox platform over the admin API")
    sub = platform.add_subparsers(dest="platform_command", required=True)
    serve = sub.add_parser(
        "serve", help="serve the sandbox platform on 127.0.0.1 over the admin API (docs/platform-api.yaml)",
        description="Start the embedded stack, seed the sandbox platform and serve it over the admin API "
                    "(docs/platform-api.yaml) on 127.0.0.1 until Ctrl-C. Point a stack's HTTP adapter at the "
                    "printed URL (PLATFORM_ADAPTER=http PLATFORM_API_URL=... PLATFORM_API_TOKEN=...).")
    serve.add_argument("--platform", help="sandbox seed (default events/platform.json)")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0 = any free)")
    serve.add_argument("--token", help="bearer token to require (default: $PLATFORM_API_TOKEN, else a random one)")
    serve.add_argument("--now", help="the sandbox clock for probes (default: now; the sample events use "
                                     "2026-11-26T10:00:00Z)")
    serve.add_argument("--verbose", action="store_true", help="request lines on stderr")
    serve.set_defaults(func=cmd_serve)
    return sub  # `unblock platform`'s subcommands: the CLI adds `seed` (a deployed stack's) beside `serve`


def cmd_serve(args: argparse.Namespace, out: TextIO, stop: threading.Event | None = None) -> int:
    """`unblock platform serve`: serve until Ctrl-C (or until `stop` is set)."""
    import os
    import secrets

    seed = load_seed(args.platform)
    token = args.token or os.environ.get("PLATFORM_API_TOKEN") or secrets.token_urlsafe(24)
    # what is served is the sandbox itself, whatever this shell points a stack at
    os.environ["PLATFORM_ADAPTER"] = "sandbox"
    os.environ.pop("GATEWAY_URL", None)
    with serving(args, seed, lambda app: make_api_server(app.platform, "127.0.0.1", args.port, token)) as (_, server):
        server.start()
        try:
            out.write(f"sandbox platform API on {server.url} ({len(seed.teams)} teams; docs/platform-api.yaml); "
                      "Ctrl-C to stop\n"
                      f"  export PLATFORM_ADAPTER=http PLATFORM_API_URL={server.url} PLATFORM_API_TOKEN={token}\n")
            if seed.teams:
                out.write(f"  curl -H 'Authorization: Bearer {token}' {server.url}/v1/teams/{seed.teams[0].team_id}\n")
            out.flush()
            waiter = stop or threading.Event()
            while not waiter.wait(0.2):
                pass
        except KeyboardInterrupt:
            out.write("\nstopped\n")
        finally:
            server.close()
    return 0

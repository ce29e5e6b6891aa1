"""`unblock gateway`: the sandbox gateway on the embedded stack; and the customer's own calls:
`sdk_call` through the real `openai` package (imported lazily: the Lambda package does not ship
it), `node_calls` / `ai_sdk_call` through the real Node clients pinned in tools/clients
(`openai`, `ai` with `@ai-sdk/gateway` or `@ai-sdk/openai`), installed by `make test` and
`make demo` with the machine's npm."""

from __future__ import annotations

import argparse
import functools
import json
import shutil
import ssl
import subprocess
import threading
from pathlib import Path
from typing import Any, TextIO

from unblock.domain import gateway_rules as rules
from unblock.ports import Clock, TeamNotFound
from unblock_dev.gateway.base import DEFAULT_MODEL
from unblock_dev.gateway.server import (
    DEFAULT_PORT,
    GatewayPlatform,
    GatewayServer,
    make_gateway_server,
    start_in_thread,
)
from unblock_dev.inputs import seed_file
from unblock_dev.serving import serving

NODE_CLIENTS = Path(__file__).resolve().parents[2] / "clients"  # tools/clients


# --- the customer's view ----------------------------------------------------------------------
def sdk_call(base_url: str, api_key: str, *, model: str = DEFAULT_MODEL, timeout: float = 10.0) -> str:
    """One chat completion through the real `openai` package, as the customer's code makes it.

    Returns one line: the completion text, or the SDK's exception as the customer sees it,
    e.g. `openai.PermissionDeniedError: Error code: 403 - {'error': {...}}`.
    `base_url` is the SDK's base_url (the gateway's http://host:port/v1).
    """
    import openai  # lazily: a test and demo dependency, not in the Lambda package

    # the SDK's own HTTP client, with its defaults; only the TLS context (the CA bundle, ~40 ms to
    # load) is made once per process: the demo and the tests make hundreds of these calls
    http_client = openai.DefaultHttpxClient(verify=_tls_context())
    client = openai.OpenAI(base_url=base_url, api_key=api_key, max_retries=0, timeout=timeout,
                           http_client=http_client)
    try:
        completion = client.chat.completions.create(
            model=model, messages=[{"role": "user", "content": "Say hello."}])
    except openai.OpenAIError as err:
        return " ".join(f"openai.{type(err).__name__}: {err}".split())
    finally:
        client.close()
    return " ".join((completion.choices[0].message.content or "").split())


@functools.cache
def _tls_context() -> ssl.SSLContext:
    import httpx

    return httpx.create_ssl_context()  # what httpx.Client makes by default


def node_clients_missing() -> str | None:
    """Why the Node clients cannot run here, or None."""
    if shutil.which("node") is None:
        return "node is not installed (.ci/run installs it: apt-get install -y nodejs npm)"
    if not (NODE_CLIENTS / "node_modules" / "ai").is_dir():
        return "the Node clients are not installed (make clients: npm ci in tools/clients)"
    return None


def node_calls(root_url: str, calls: list[dict[str, str]], *, timeout: float = 120.0) -> list[dict[str, Any]]:
    """The customer's Node calls, in one node process: each {"client", "key", "model"} -> its outcome,
    {"client", "ok": true, "text", ...} or {"client", "ok": false, "class", "status", "type", "message"}
    (the error class the customer's code catches). `root_url`: the gateway's http://host:port.
    Clients: see tools/clients/customer.mjs. Raises RuntimeError if node fails."""
    done = subprocess.run(["node", str(NODE_CLIENTS / "customer.mjs")], cwd=NODE_CLIENTS, capture_output=True,
                          text=True, timeout=timeout, check=False,
                          input=json.dumps({"root": root_url, "calls": calls}))
    if done.returncode != 0:
        raise RuntimeError(f"node customer.mjs failed: {done.stderr[-2000:]}")
    results: list[dict[str, Any]] = json.loads(done.stdout)
    return results


def one_line(outcome: dict[str, Any]) -> str:
    """A Node call's outcome as the customer sees it, on one line."""
    if outcome.get("ok"):
        return " ".join(str(outcome.get("text", "")).split())
    return " ".join(f"{outcome['class']} ({outcome['status']}): {outcome['message']}".split())


def ai_sdk_call(root_url: str, api_key: str, *, model: str = DEFAULT_MODEL) -> str:
    """One `generateText` through `ai` with `@ai-sdk/gateway` pointed at the gateway's /v3/ai: one line,
    the text or e.g. `GatewayInternalServerError (403): Forbidden.`."""
    return one_line(node_calls(root_url, [{"client": "ai.generateText", "key": api_key, "model": model}])[0])


# --- `unblock gateway` ------------------------------------------------------------------------
def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add `unblock gateway` to the CLI's subparsers (cli.build_parser calls this)."""
    gw = subparsers.add_parser(
        "gateway", help="serve the sandbox platform as an OpenAI-compatible gateway on 127.0.0.1",
        description="Start the embedded stack and serve the OpenAI-compatible API (/v1) and the AI SDK gateway "
                    "provider's protocol (/v3/ai) for the sandbox teams, until Ctrl-C. Point the OpenAI SDK's "
                    "base_url, or createGateway's baseURL, at the printed URL.")
    gw.add_argument("--platform", help="sandbox seed (default events/platform.json)")
    gw.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0 = any free)")
    gw.add_argument("--now", help="the sandbox clock (default: now; the sample events use 2026-11-26T10:00:00Z)")
    gw.add_argument("--rate-limit", type=int, default=None, metavar="N",
                    help="answer 429 past N requests per key per minute (default: no limit)")
    gw.add_argument("--verbose", action="store_true", help="handler logs, metrics and request lines on stderr")
    gw.set_defaults(func=cmd_gateway)
    return gw


def cmd_gateway(args: argparse.Namespace, out: TextIO) -> int:
    seed, raw = seed_file(args.platform)  # raw: the test secrets, before hashing
    with serving(args, seed, lambda app: make_gateway_server(
            app.platform, app.clock, port=args.port, workflow=app, rate_limit=args.rate_limit)) as (app, server):
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
             "  client = openai.OpenAI(base_url=\"" + base_url + "\", api_key=KEY)",
             f"  const gateway = createGateway({{ baseURL: \"{base_url.removesuffix('/v1')}/v3/ai\", apiKey: KEY }})",
             ""]
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

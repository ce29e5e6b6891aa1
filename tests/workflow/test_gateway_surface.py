"""The sandbox gateway's HTTP surface as real clients use it: the OpenAI routes beyond chat
completions (the Python `openai` SDK), HTTP/1.1 details (chunked bodies, keep-alive after a bad
request, CORS), the AI SDK gateway protocol on the wire, and the one record of refusals.
One gateway server for the module, on the session's embedded stack."""

from __future__ import annotations

import base64
import http.client
import json
import struct
from collections.abc import Iterator
from typing import Any

import openai
import pytest

from tests.support import EVENTS
from unblock_dev.gateway import Admitted, GatewayServer, Refusal, make_gateway_server, seed_secrets, start_in_thread

SECRETS = seed_secrets(json.loads((EVENTS / "platform.json").read_text()))
LOWRISK = "team_R1skH0ldL1ftab1e00000000"
HAPPY = "team_A11G00dTeam0000000000000"
MESSAGES = [{"role": "user", "content": "Say hello."}]
AI_SDK_HEADERS = {"ai-gateway-protocol-version": "0.0.1", "ai-language-model-specification-version": "3",
                  "ai-language-model-id": "openai/gpt-4o", "ai-language-model-streaming": "false",
                  "ai-gateway-auth-method": "api-key", "Content-Type": "application/json"}
PROMPT = {"prompt": [{"role": "user", "content": [{"type": "text", "text": "Say hello."}]}]}


def secret(team_id: str) -> str:
    value = next(iter(SECRETS[team_id].values()))
    assert value
    return value


@pytest.fixture(scope="module")
def server(stack_app) -> Iterator[GatewayServer]:  # type: ignore[no-untyped-def]
    gateway = make_gateway_server(stack_app.platform, stack_app.clock, probe_token="test-operator-token")
    thread = start_in_thread(gateway)
    yield gateway
    gateway.shutdown()
    gateway.server_close()
    thread.join(timeout=5)


@pytest.fixture
def gateway(app, server: GatewayServer) -> GatewayServer:  # type: ignore[no-untyped-def]
    """The module's server on a freshly seeded stack (`app` reseeds it)."""
    server.refusals.clear()
    return server


def client(gateway: GatewayServer, team_id: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=gateway.base_url, api_key=secret(team_id), max_retries=0, timeout=10)


def connection(gateway: GatewayServer) -> http.client.HTTPConnection:
    host, port = gateway.server_address[0], gateway.server_address[1]
    return http.client.HTTPConnection(str(host), int(port), timeout=10)


def exchange(conn: http.client.HTTPConnection, method: str, path: str, body: Any = None,
             headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], Any]:
    conn.request(method, path, body=body, headers=headers or {})
    resp = conn.getresponse()
    raw = resp.read()
    kind = resp.getheader("Content-Type") or ""
    return resp.status, {k.lower(): v for k, v in resp.getheaders()}, json.loads(raw) if "json" in kind else raw


# --- the OpenAI surface through the Python SDK ---------------------------------------------
def test_responses_api_answers_a_completed_response_and_its_event_stream(gateway):
    c = client(gateway, HAPPY)
    response = c.responses.create(model="openai/gpt-4o", input="Say hello.")
    assert response.status == "completed" and "happy-path" in response.output_text
    assert response.usage is not None and response.usage.total_tokens > 0

    events = list(c.responses.create(model="openai/gpt-4o", input="Say hello.", stream=True))
    assert [e.type for e in events][0] == "response.created" and events[-1].type == "response.completed"
    assert "happy-path" in "".join(e.delta for e in events if e.type == "response.output_text.delta")

    with pytest.raises(openai.PermissionDeniedError) as denied:
        client(gateway, LOWRISK).responses.create(model="openai/gpt-4o", input="Say hello.")
    assert denied.value.body == {"message": "Forbidden.", "type": "access_denied"}


def test_embeddings_are_deterministic_in_float_and_in_the_sdks_default_base64(gateway):
    c = client(gateway, HAPPY)
    sdk = c.embeddings.create(model="openai/text-embedding-3-small", input=["Say hello.", "Again."])  # base64
    assert [len(d.embedding) for d in sdk.data] == [16, 16] and sdk.usage.total_tokens == 3
    again = c.embeddings.create(model="openai/text-embedding-3-small", input="Say hello.", encoding_format="float",
                                dimensions=16)
    assert again.data[0].embedding == pytest.approx(sdk.data[0].embedding, abs=1e-6)
    assert sdk.data[0].embedding != sdk.data[1].embedding

    status, _, body = exchange(connection(gateway), "POST", "/v1/embeddings", json.dumps(
        {"model": "openai/text-embedding-3-small", "input": "Say hello.", "encoding_format": "base64"}),
        {"Authorization": f"Bearer {secret(HAPPY)}", "Content-Type": "application/json"})
    packed = base64.b64decode(body["data"][0]["embedding"])
    assert status == 200 and list(struct.unpack("<16f", packed)) == pytest.approx(sdk.data[0].embedding, abs=1e-6)


def test_one_model_is_retrieved_by_its_id_and_an_unknown_one_is_not_found(gateway):
    c = client(gateway, HAPPY)
    assert c.models.retrieve("openai/gpt-4o").id == "openai/gpt-4o"
    with pytest.raises(openai.NotFoundError) as missing:
        c.models.retrieve("openai/gpt-9")
    assert missing.value.body["type"] == "model_not_found"  # type: ignore[index]


def test_a_stream_carries_the_usage_only_when_asked(gateway):
    c = client(gateway, HAPPY)
    asked = list(c.chat.completions.create(model="openai/gpt-4o", messages=MESSAGES, stream=True,  # type: ignore[arg-type]
                                           stream_options={"include_usage": True}))
    assert asked[-1].choices == [] and asked[-1].usage is not None and asked[-1].usage.total_tokens > 0
    assert all(chunk.usage is None for chunk in asked[:-1])
    plain = list(c.chat.completions.create(model="openai/gpt-4o", messages=MESSAGES, stream=True))  # type: ignore[arg-type]
    assert all(chunk.usage is None for chunk in plain)


# --- HTTP/1.1 as clients speak it ------------------------------------------------------------
def test_a_chunked_body_is_read_whole_and_the_connection_serves_the_next_request(gateway):
    conn = connection(gateway)
    body = json.dumps({"model": "openai/gpt-4o", "messages": MESSAGES}).encode()
    auth = {"Authorization": f"Bearer {secret(HAPPY)}", "Content-Type": "application/json"}
    pieces = iter([body[:10], body[10:]])  # an iterable body: http.client sends it chunked
    status, _, first = exchange(conn, "POST", "/v1/chat/completions", pieces, auth)
    assert status == 200 and first["object"] == "chat.completion"
    status, _, second = exchange(conn, "POST", "/v1/chat/completions", body, auth)
    assert status == 200 and "happy-path" in second["choices"][0]["message"]["content"]


def test_a_bad_request_does_not_spoil_the_kept_alive_connection(gateway):
    conn = connection(gateway)
    auth = {"Authorization": f"Bearer {secret(HAPPY)}", "Content-Type": "application/json"}
    status, _, bad = exchange(conn, "POST", "/v1/chat/completions", b'{"messages": [', auth)
    assert status == 400 and bad["error"]["type"] == "invalid_request_error"
    status, _, empty = exchange(conn, "POST", "/v1/chat/completions", b'{"messages": []}', auth)
    assert status == 400 and "`messages`" in empty["error"]["message"]
    status, _, unknown = exchange(conn, "POST", "/v1/nowhere", b'{"x": 1}', auth)
    assert status == 404
    status, _, ok = exchange(conn, "POST", "/v1/chat/completions",
                             json.dumps({"model": "openai/gpt-4o", "messages": MESSAGES}), auth)
    assert status == 200 and ok["object"] == "chat.completion"


@pytest.mark.parametrize(("origin", "path", "answered"), [
    ("http://localhost:3000", "/v1/chat/completions", True),
    ("http://127.0.0.1:5173", "/v3/ai/language-model", True),
    ("http://[::1]:8080", "/v1/responses", True),
    ("https://evil.example", "/v1/chat/completions", False),
    ("http://localhost.evil.example", "/v1/chat/completions", False),
    ("null", "/v1/chat/completions", False),
    ("http://localhost:3000", "/unblock/run", False),
    ("http://localhost:3000", "/unblock/probe", False),
], ids=["localhost", "127.0.0.1", "ipv6-loopback", "foreign", "lookalike", "null", "operator-run", "operator-probe"])
def test_a_cors_preflight_is_answered_for_localhost_origins_on_customer_routes_only(gateway, origin, path, answered):
    status, headers, _ = exchange(connection(gateway), "OPTIONS", path, headers={
        "Origin": origin, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type, ai-language-model-id"})
    if answered:
        assert status == 204 and headers["access-control-allow-origin"] == origin
        assert "ai-language-model-id" in headers["access-control-allow-headers"]
    else:
        assert status == 403 and "access-control-allow-origin" not in headers


def test_a_localhost_page_may_read_the_answer_and_a_foreign_one_may_not(gateway):
    auth = {"Authorization": f"Bearer {secret(LOWRISK)}", "Content-Type": "application/json"}
    body = json.dumps({"model": "openai/gpt-4o", "messages": MESSAGES})
    status, headers, _ = exchange(connection(gateway), "POST", "/v1/chat/completions", body,
                                  auth | {"Origin": "http://localhost:3000"})
    assert status == 403 and headers["access-control-allow-origin"] == "http://localhost:3000"
    _, headers, _ = exchange(connection(gateway), "POST", "/v1/chat/completions", body,
                             auth | {"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in headers


# --- the AI SDK gateway protocol on the wire -----------------------------------------------
def test_language_model_answers_the_providers_result_and_the_real_gateways_error_bodies(gateway):
    conn = connection(gateway)
    status, _, result = exchange(conn, "POST", "/v3/ai/language-model", json.dumps(PROMPT),
                                 AI_SDK_HEADERS | {"Authorization": f"Bearer {secret(HAPPY)}"})
    assert status == 200 and result["content"][0]["type"] == "text" and "happy-path" in result["content"][0]["text"]
    assert result["finishReason"] == {"unified": "stop", "raw": "stop"}
    assert result["usage"]["outputTokens"]["total"] > 0

    status, _, denied = exchange(conn, "POST", "/v3/ai/language-model", json.dumps(PROMPT),
                                 AI_SDK_HEADERS | {"Authorization": f"Bearer {secret(LOWRISK)}"})
    assert status == 403 and denied == {"error": {"message": "Forbidden.", "type": "access_denied"}}
    status, _, unknown = exchange(conn, "POST", "/v3/ai/language-model", json.dumps(PROMPT),
                                  AI_SDK_HEADERS | {"Authorization": "Bearer vck_bogus"})
    assert status == 401 and unknown["error"]["type"] == "authentication_error"
    status, _, bad = exchange(conn, "POST", "/v3/ai/language-model", json.dumps({"messages": MESSAGES}),
                              AI_SDK_HEADERS | {"Authorization": f"Bearer {secret(HAPPY)}"})
    assert status == 400 and bad["error"]["type"] == "invalid_request_error" and "`prompt`" in bad["error"]["message"]


def test_language_model_streams_the_providers_stream_parts(gateway):
    headers = AI_SDK_HEADERS | {"ai-language-model-streaming": "true", "Authorization": f"Bearer {secret(HAPPY)}"}
    status, got, raw = exchange(connection(gateway), "POST", "/v3/ai/language-model", json.dumps(PROMPT), headers)
    assert status == 200 and got["content-type"] == "text/event-stream"
    parts = [json.loads(line.removeprefix(b"data: ")) for line in raw.split(b"\n\n") if line.startswith(b"data: ")]
    assert [p["type"] for p in parts] == ["stream-start", "response-metadata", "text-start", "text-delta", "text-end",
                                          "finish"]
    assert "happy-path" in parts[3]["delta"] and parts[-1]["finishReason"]["unified"] == "stop"


def test_an_older_provider_gets_its_own_specification_version(gateway):
    headers = AI_SDK_HEADERS | {"ai-language-model-specification-version": "2",
                                "Authorization": f"Bearer {secret(HAPPY)}"}
    _, _, result = exchange(connection(gateway), "POST", "/v3/ai/language-model", json.dumps(PROMPT), headers)
    assert result["finishReason"] == "stop" and result["usage"]["totalTokens"] > 0
    _, _, config = exchange(connection(gateway), "GET", "/v3/ai/config", headers={
        "Authorization": f"Bearer {secret(HAPPY)}", "User-Agent": "ai-sdk/gateway/2.0.9 runtime/node.js/20"})
    assert {m["specification"]["specificationVersion"] for m in config["models"]} == {"v2"}


def test_past_the_rate_limit_a_key_gets_429_with_retry_after(gateway):
    gateway.rate_limit = 2
    try:
        happy = client(gateway, HAPPY)
        for _ in range(2):
            happy.chat.completions.create(model="openai/gpt-4o", messages=MESSAGES)  # type: ignore[arg-type]
        with pytest.raises(openai.RateLimitError) as limited:
            happy.embeddings.create(model="openai/text-embedding-3-small", input="x")
        assert limited.value.body["type"] == "rate_limit_exceeded"  # type: ignore[index]
        assert limited.value.response.headers["retry-after"] == "60"
        with pytest.raises(openai.PermissionDeniedError):  # a refused key's requests are not counted
            client(gateway, LOWRISK).chat.completions.create(model="openai/gpt-4o", messages=MESSAGES)  # type: ignore[arg-type]
    finally:
        gateway.rate_limit = None
        gateway._recent.clear()


# --- one place decides and records a refusal -------------------------------------------------
def test_every_surface_records_its_refusals_in_one_place_without_the_key(gateway):
    seen: list[Refusal] = []
    answers: list[Admitted | Refusal] = []
    gateway.on_refusal.append(seen.append)
    gateway.on_answer.append(answers.append)
    try:
        with pytest.raises(openai.PermissionDeniedError):
            client(gateway, LOWRISK).chat.completions.create(model="openai/gpt-4o", messages=MESSAGES)  # type: ignore[arg-type]
        _, answered, _ = exchange(connection(gateway), "POST", "/v3/ai/language-model", json.dumps(PROMPT),
                                  AI_SDK_HEADERS | {"Authorization": f"Bearer {secret(LOWRISK)}"})
        exchange(connection(gateway), "POST", "/v1/embeddings", json.dumps({"input": "x"}),
                 {"Authorization": "Bearer vck_bogus0123456789"})
        client(gateway, HAPPY).chat.completions.create(model="openai/gpt-4o", messages=MESSAGES)  # type: ignore[arg-type]
    finally:
        gateway.on_refusal.remove(seen.append)
        gateway.on_answer.remove(answers.append)

    assert list(gateway.refusals) == seen
    assert [(r.surface, r.endpoint, r.status, r.error_type, r.team_id) for r in seen] == [
        ("openai", "/v1/chat/completions", 403, "access_denied", LOWRISK),
        ("ai-sdk", "/v3/ai/language-model", 403, "access_denied", LOWRISK),
        ("openai", "/v1/embeddings", 401, "authentication_error", None),
    ]
    assert seen[0].key_prefix and secret(LOWRISK).startswith(seen[0].key_prefix)
    assert seen[0].model == seen[1].model == "openai/gpt-4o"
    # the id the customer can quote from the answer (X-Vercel-Id) finds the refusal
    assert seen[1].request_id == answered["x-vercel-id"] and len({r.request_id for r in seen}) == 3
    assert not any(secret(LOWRISK) in repr(r) or "vck_bogus" in repr(r) for r in seen)
    # every decision, the served one too, reaches on_answer (a team's window of answers)
    assert [a.status for a in answers] == [403, 403, 401, 200]
    served = answers[-1]
    assert isinstance(served, Admitted) and served.team.team_id == HAPPY and served.endpoint == "/v1/chat/completions"

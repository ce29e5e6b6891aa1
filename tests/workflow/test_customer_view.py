"""The customer's view: the real `openai` SDK against the sandbox gateway, before and after unblock runs.

The gateway serves the `app` fixture's sandbox platform and clock (the embedded stack's own),
so what the workflow mends is what the customer's next call sees.
"""

from __future__ import annotations

import json
import threading
import uuid
from datetime import timedelta
from io import StringIO

import openai
import pytest
import urllib3

from tests.support import EVENTS, load_event
from unblock.domain.platform_model import PaymentMethod
from unblock_dev.gateway import make_gateway_server, register, sdk_call, seed_secrets, serve_gateway, start_in_thread

SECRETS = seed_secrets(json.loads((EVENTS / "platform.json").read_text()))
LOWRISK = "team_R1skH0ldL1ftab1e00000000"
HOBBY = "team_FreeT1erNoCard0000000000"
ORBIT = "team_H1ghR1skHo1d000000000000"
HAPPY = "team_A11G00dTeam0000000000000"
MESSAGES = [{"role": "user", "content": "Say hello."}]
OPERATOR = "test-operator-token"
OPERATOR_HEADERS = {"Authorization": f"Bearer {OPERATOR}", "Content-Type": "application/json"}


def secret(team_id: str) -> str:
    value = next(iter(SECRETS[team_id].values()))
    assert value
    return value


@pytest.fixture
def gateway(app):  # type: ignore[no-untyped-def]
    server = make_gateway_server(app.platform, app.clock, probe_token=OPERATOR, workflow=app)
    thread = start_in_thread(server)
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def client(gateway, team_id: str | None = None, key: str | None = None) -> openai.OpenAI:  # type: ignore[no-untyped-def]
    return openai.OpenAI(base_url=gateway.base_url, api_key=key or secret(str(team_id)), max_retries=0, timeout=10)


def chat(c: openai.OpenAI) -> str:
    completion = c.chat.completions.create(model="openai/gpt-4o", messages=MESSAGES)  # type: ignore[arg-type]
    assert completion.object == "chat.completion" and completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None and completion.usage.total_tokens > 0
    return completion.choices[0].message.content or ""


def staff_report(team_id: str) -> dict[str, object]:
    return {"report": {"case_id": f"staff:{team_id}:{uuid.uuid4().hex[:8]}", "source": "staff", "team_id": team_id,
                       "requested_by": "staff:test"}}


# --- the customer's SDK, before and after --------------------------------------------------
def test_automated_risk_hold_forbidden_then_the_workflow_lifts_it_and_the_same_call_works(app, gateway):
    c = client(gateway, LOWRISK)
    with pytest.raises(openai.PermissionDeniedError) as denied:
        chat(c)
    assert denied.value.status_code == 403
    assert denied.value.body == {"message": "Forbidden.", "type": "access_denied"}
    assert "Error code: 403" in str(denied.value)

    result = app.run(load_event("ticket-risk-hold-lift.json"))
    assert result.outcome == "auto_fixed" and result.fixes_applied == ["lift_risk_hold"]

    assert "lowrisk-labs" in chat(c)


def test_unknown_or_missing_key_is_an_authentication_error(gateway):
    with pytest.raises(openai.AuthenticationError) as unknown:
        chat(client(gateway, key="vck_nope01thisisnotarealkey"))
    assert unknown.value.status_code == 401 and unknown.value.body["type"] == "authentication_error"  # type: ignore[index]

    http = urllib3.PoolManager()
    resp = http.request("POST", f"{gateway.base_url}/chat/completions", body=b"{}")
    assert resp.status == 401 and resp.json()["error"]["type"] == "authentication_error"


def test_free_tier_without_a_card_stays_blocked_until_the_card_is_added_and_rechecked(app, gateway):
    c = client(gateway, HOBBY)
    with pytest.raises(openai.PermissionDeniedError) as denied:
        chat(c)
    assert denied.value.body["type"] == "customer_verification_required"  # type: ignore[index]

    result = app.run(load_event("ticket-free-tier-no-card.json"))
    assert result.outcome == "customer_action" and result.fixes_applied == []
    with pytest.raises(openai.PermissionDeniedError):
        chat(c)

    # the customer adds a verified card; the scheduled re-check finds access back and closes the case
    team = app.platform.get_team(HOBBY)
    card = PaymentMethod(status="valid", verified=True)
    app.platform.replace_team(team.model_copy(update={"billing": team.billing.model_copy(
        update={"payment_method": card})}))
    app.clock.advance(timedelta(minutes=16))
    assert app.recheck()["actions"][result.case_id] == "closed_access_back"

    assert "hobby-hacker" in chat(c)


def test_escalated_case_keeps_failing_until_staff_approve_the_proposed_fix(app, gateway):
    c = client(gateway, ORBIT)
    result = app.run(load_event("ticket-high-risk-hold.json"))
    assert result.outcome == "escalated"
    assert result.escalation and result.escalation["proposed_fixes"] == ["lift_risk_hold"]
    with pytest.raises(openai.PermissionDeniedError) as denied:
        chat(c)
    assert denied.value.body["type"] == "access_denied"  # type: ignore[index]

    final = app.decide(result.case_id, "approve")
    assert final.verified is True

    assert "orbit-studio" in chat(c)


def test_credits_gone_is_a_402_insufficient_funds(app, gateway):
    team = app.platform.get_team(HAPPY)
    credits = team.billing.credits.model_copy(update={"balance_cents": 0})
    app.platform.replace_team(team.model_copy(update={"billing": team.billing.model_copy(update={"credits": credits})}))

    with pytest.raises(openai.APIStatusError) as gone:
        chat(client(gateway, HAPPY))
    assert gone.value.status_code == 402 and gone.value.body["type"] == "insufficient_funds"  # type: ignore[index]


def test_sdk_call_gives_one_line_as_the_customer_sees_it(gateway):
    denied = sdk_call(gateway.base_url, secret(LOWRISK))
    assert denied.startswith("openai.PermissionDeniedError: Error code: 403 - ")
    assert "'message': 'Forbidden.', 'type': 'access_denied'" in denied and "\n" not in denied

    assert sdk_call(gateway.base_url, "vck_bogus").startswith("openai.AuthenticationError: Error code: 401")
    assert "happy-path" in sdk_call(gateway.base_url, secret(HAPPY))


def test_models_credits_and_streaming_speak_the_openai_shape(gateway):
    c = client(gateway, HAPPY)
    assert "openai/gpt-4o" in [m.id for m in c.models.list()]
    stream = c.chat.completions.create(model="openai/gpt-4o", messages=MESSAGES, stream=True)  # type: ignore[arg-type]
    assert "happy-path" in "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)

    http = urllib3.PoolManager()
    credits = http.request("GET", f"{gateway.base_url}/credits", headers={"Authorization": f"Bearer {secret(HAPPY)}"})
    assert credits.status == 200 and set(credits.json()) == {"balance", "total_used"}
    assert http.request("GET", f"{gateway.base_url}/nowhere").status == 404


# --- the HTTP probe adapter ---------------------------------------------------------------
def test_gateway_command_is_registered_and_prints_keys_per_team(app):
    import argparse

    parser = argparse.ArgumentParser(prog="unblock")
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["gateway", "--port", "0", "--platform", "events/platform.json"])
    assert args.port == 0 and callable(args.func)

    server = make_gateway_server(app.platform, app.clock, probe_token=OPERATOR, workflow=app)
    out, stop = StringIO(), threading.Event()
    raw = json.loads((EVENTS / "platform.json").read_text())
    serving = threading.Thread(target=serve_gateway, args=(server, app.platform, app.clock, raw, out, stop))
    serving.start()
    try:
        c = client(server, LOWRISK)
        with pytest.raises(openai.PermissionDeniedError):
            chat(c)
        # the operator route runs the workflow on the same embedded stack
        http = urllib3.PoolManager()
        root = server.base_url.removesuffix("/v1")
        resp = http.request("POST", f"{root}/unblock/run", body=json.dumps(load_event("ticket-risk-hold-lift.json")),
                            headers=OPERATOR_HEADERS)
        assert resp.status == 200 and resp.json()["outcome"] == "auto_fixed"
        assert "lowrisk-labs" in chat(c)
    finally:
        stop.set()
        serving.join(timeout=10)
    text = out.getvalue()
    assert server.base_url in text
    assert f'-H "Authorization: Bearer {OPERATOR}" -H "Content-Type: application/json"' in text
    assert "vck_lowr01sandboxlowrisklabstestsecret" in text
    assert "vck_lone02: no test secret in the seed" in text


def test_a_refused_request_does_not_spoil_the_kept_alive_connection(gateway):
    http = urllib3.PoolManager(maxsize=1)
    url = f"{gateway.base_url}/chat/completions"
    body = json.dumps({"model": "openai/gpt-4o", "messages": MESSAGES})
    assert http.request("POST", url, body=body, headers={"Authorization": "Bearer vck_bogus"}).status == 401
    ok = http.request("POST", url, body=body, headers={"Authorization": f"Bearer {secret(HAPPY)}"})
    assert ok.status == 200 and ok.json()["object"] == "chat.completion"


# --- the operator routes: token, JSON, same origin ------------------------------------------
def _operator_call(gateway, path: str, body: bytes, **headers: str):  # type: ignore[no-untyped-def]
    import urllib3

    root = gateway.base_url.removesuffix("/v1")
    return urllib3.PoolManager().request("POST", f"{root}{path}", body=body, headers=OPERATOR_HEADERS | headers)


@pytest.mark.parametrize("path", ["/unblock/run", "/unblock/decide", "/unblock/probe"])
@pytest.mark.parametrize(("headers", "status", "error"), [
    ({"Authorization": ""}, 401, "Operator token required"),
    ({"Authorization": "Bearer not-the-token"}, 401, "Operator token required"),
    ({"Content-Type": "application/x-www-form-urlencoded"}, 415, "application/json"),
    ({"Content-Type": "text/plain"}, 415, "application/json"),
    ({"Origin": "https://evil.example"}, 403, "Cross-origin"),
    ({"Origin": "null"}, 403, "Cross-origin"),
], ids=["no-token", "wrong-token", "form", "text-plain", "foreign-origin", "null-origin"])
def test_operator_routes_refuse_what_a_cross_site_form_or_a_stranger_sends(gateway, path, headers, status, error):
    """A web page in the operator's browser can POST a form to 127.0.0.1 (no preflight for a form or
    text/plain): the token, the JSON content type and the Origin check each stop it."""
    resp = _operator_call(gateway, path, b'{"case_id": "zendesk:1", "decision": "approve"}', **headers)

    assert resp.status == status
    assert error in resp.json()["error"]["message"]
    assert gateway.served[f"POST {path}"] == 1


def test_operator_routes_take_json_with_the_token_from_the_gateways_own_origin(gateway):
    own = gateway.base_url.removesuffix("/v1")
    resp = _operator_call(gateway, "/unblock/decide", b'{"case_id": "zendesk:0", "decision": "approve"}',
                          Origin=own, **{"Content-Type": "application/json; charset=utf-8"})
    assert resp.status == 409 and "no case 'zendesk:0'" in resp.json()["error"]["message"]  # past every guard
    deep = _operator_call(gateway, "/unblock/run", b"[" * 5000 + b"]" * 5000)
    assert deep.status == 400 and deep.json()["error"]["message"] == "Request body nests deeper than 32 levels."


def test_without_a_token_handed_in_the_gateway_makes_one_up(app, monkeypatch):
    monkeypatch.delenv("GATEWAY_PROBE_TOKEN", raising=False)
    server = make_gateway_server(app.platform, app.clock)
    try:
        assert len(server.probe_token) >= 32 and not server.token_from_env
    finally:
        server.server_close()


def test_without_node_the_demo_says_in_one_line_that_the_ai_sdks_call_is_skipped(app, monkeypatch):
    from unblock_dev.demo import CustomerView
    from unblock_dev.gateway import command

    monkeypatch.setattr(command.shutil, "which", lambda name: None)
    view = CustomerView(app, json.loads((EVENTS / "platform.json").read_text()))
    try:
        intro = view.intro()
        shown = view.show(view.call(LOWRISK), view.call(HAPPY))
    finally:
        view.close()
    assert intro.startswith("AI SDK calls skipped: node is not installed") and intro.count("\n") == 2
    assert shown.splitlines()[0].startswith("customer's call before: openai.PermissionDeniedError")
    assert len(shown.splitlines()) == 2 and "AI SDK" not in shown


def test_a_free_tier_team_is_refused_a_model_its_credits_do_not_cover(gateway):
    """model_policy in the seed: the customer's own SDK call sees the gateway's refusal, other models work."""
    free = "team_FreeCred1tsMode100000000"
    c = client(gateway, free)
    with pytest.raises(openai.PermissionDeniedError) as refused:
        c.chat.completions.create(model="anthropic/claude-sonnet-4", messages=MESSAGES)  # type: ignore[arg-type]
    assert refused.value.body["type"] == "no_providers_available"  # type: ignore[index]
    assert "Free tier users do not have access to this model" in refused.value.body["message"]  # type: ignore[index]
    assert c.chat.completions.create(model="openai/gpt-4o-mini", messages=MESSAGES).choices  # type: ignore[arg-type]

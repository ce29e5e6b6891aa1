"""The customer's own Node clients against the sandbox gateway, before and after unblock runs.

`openai` (chat, streaming with usage, responses, embeddings), `ai` with `@ai-sdk/gateway`
(generateText, streamText, embedMany, models, credits) in both current majors (`ai` 6 with the provider's
3.x on /v3/ai, `ai` 7 with its 4.x on /v4/ai) and `ai` with `@ai-sdk/openai` (the Responses API),
pinned in tools/clients/package-lock.json and installed by `make test` (`npm ci`). Each call is
made by tools/clients/customer.mjs, as the customer's code makes it, and reported as the error
class that code catches. One gateway server for the module, on the session's embedded stack.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from tests.support import EVENTS, load_event
from unblock.domain.platform_model import PaymentMethod
from unblock_dev.gateway import (
    GatewayServer,
    make_gateway_server,
    node_calls,
    node_clients_missing,
    seed_secrets,
    start_in_thread,
)

SECRETS = seed_secrets(json.loads((EVENTS / "platform.json").read_text()))
LOWRISK = "team_R1skH0ldL1ftab1e00000000"
HOBBY = "team_FreeT1erNoCard0000000000"
HAPPY = "team_A11G00dTeam0000000000000"
MODEL = "openai/gpt-4o"
AI_SDKS = ("ai", "ai7")  # `ai` 6 + @ai-sdk/gateway 3.x, `ai` 7 + @ai-sdk/gateway 4.x (tools/clients/customer.mjs)
GENERATING = ("openai.chat", "openai.chat.stream", "openai.responses", "openai.embeddings",
              *(f"{sdk}.{call}" for sdk in AI_SDKS for call in ("generateText", "streamText", "embedMany")),
              "ai.openai.responses")
EMBEDDING = ("openai.embeddings", *(f"{sdk}.embedMany" for sdk in AI_SDKS))
METADATA = tuple(f"{sdk}.{call}" for sdk in AI_SDKS for call in ("models", "credits"))
# the class each client's code catches for a refusal with a status the SDK has no class of its own for
OPENAI_CLASS = {401: "AuthenticationError", 402: "APIError", 403: "PermissionDeniedError", 429: "RateLimitError"}


missing = node_clients_missing()
if missing and os.environ.get("CI"):  # CI must run these, never skip them
    raise RuntimeError(missing)
pytestmark = pytest.mark.skipif(missing is not None, reason=missing or "")


def secret(team_id: str) -> str:
    value = next(iter(SECRETS[team_id].values()))
    assert value
    return value


@pytest.fixture(scope="module")
def gateway(stack_app) -> Iterator[GatewayServer]:  # type: ignore[no-untyped-def]
    server = make_gateway_server(stack_app.platform, stack_app.clock, probe_token="test-operator-token")
    thread = start_in_thread(server)
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def customer(gateway: GatewayServer, key: str, clients: tuple[str, ...] = GENERATING + METADATA, *,
             model: str = MODEL) -> dict[str, Any]:
    """Each client's one call with `key` for `model`, as the customer's Node code makes it: client -> outcome."""
    calls = [{"client": c, "key": key, "model": "openai/text-embedding-3-small" if c in EMBEDDING else model}
             for c in clients]
    return {r["client"]: r for r in node_calls(gateway.root_url, calls)}


def assert_refused(seen: dict[str, Any], status: int, error_type: str, message: str | None = None) -> None:
    """Each client raises its own class for the gateway's refusal, as with the real gateway."""
    for client in (c for c in GENERATING if c in seen):
        got = seen[client]
        assert got["ok"] is False and got["status"] == status, got
        if message is not None:
            assert got["message"].endswith(message), got
        if client.startswith("openai."):
            assert got["class"] == OPENAI_CLASS[status] and got["type"] == error_type, got
        elif client == "ai.openai.responses":
            assert got["class"] == "AI_APICallError", got  # @ai-sdk/openai: one class, the status inside
        else:
            # @ai-sdk/gateway maps `error.type`: the real gateway's access_denied (and the sandbox's other
            # refusal types) are not among its known types, so they arrive as GatewayInternalServerError,
            # keeping status and message; a rate limit is its GatewayRateLimitError
            expected = "GatewayRateLimitError" if error_type == "rate_limit_exceeded" else "GatewayInternalServerError"
            assert got["class"] == expected, got


def assert_served(seen: dict[str, Any], slug: str) -> None:
    for client in GENERATING:
        got = seen[client]
        assert got["ok"] is True, got
        assert got["usage"] > 0, got
        if client not in EMBEDDING:
            assert slug in got["text"] and MODEL in got["text"], got
    assert {seen[c]["text"] for c in EMBEDDING} == {"2 embeddings of 16"}
    for sdk in AI_SDKS:
        assert seen[f"{sdk}.generateText"]["finishReason"] == seen[f"{sdk}.streamText"]["finishReason"] == "stop"
        assert MODEL in seen[f"{sdk}.models"]["text"].split()  # each major reads its own model list's shape
        assert seen[f"{sdk}.credits"]["text"].startswith("balance ")


def test_a_blocked_team_sees_each_clients_403_and_a_200_once_unblock_lifts_the_hold(app, gateway):
    before = customer(gateway, secret(LOWRISK))
    assert_refused(before, 403, "access_denied", "Forbidden.")
    assert all(before[c]["ok"] for c in METADATA)  # metadata answers a held team's key

    result = app.run(load_event("ticket-risk-hold-lift.json"))
    assert result.outcome == "auto_fixed" and result.fixes_applied == ["lift_risk_hold"]

    assert_served(customer(gateway, secret(LOWRISK)), "lowrisk-labs")


def test_a_working_team_is_served_and_an_unknown_key_is_each_clients_authentication_error(app, gateway):
    assert_served(customer(gateway, secret(HAPPY)), "happy-path")

    unknown = customer(gateway, "vck_nope01thisisnotarealkey")
    for client in ("openai.chat", "openai.chat.stream", "openai.responses", "openai.embeddings"):
        assert unknown[client]["class"] == "AuthenticationError" and unknown[client]["status"] == 401
    for client in (*(f"{sdk}.{c}" for sdk in AI_SDKS for c in ("generateText", "streamText", "embedMany")),
                   *METADATA):
        assert unknown[client]["class"] == "GatewayAuthenticationError", unknown[client]
    assert unknown["ai.openai.responses"]["class"] == "AI_APICallError" and unknown["ai.openai.responses"][
        "status"] == 401


def test_each_ai_sdk_major_lists_the_models_whichever_base_url_it_is_pointed_at(gateway):
    """The model list's shape differs by major (`specificationVersion` "v3" or "v4", a literal each major
    checks) and carries no specification header: the gateway reads the major from the provider's user
    agent (`ai-sdk/gateway/3.x`, `ai-sdk-gateway/4.x`), so a customer who upgrades and keeps the old
    base URL still lists the models."""
    calls = [{"client": f"{sdk}.models", "key": secret(HAPPY), "model": MODEL, "basePath": path}
             for sdk in AI_SDKS for path in ("/v3/ai", "/v4/ai")]
    for got in node_calls(gateway.root_url, calls):
        assert got["ok"] is True and MODEL in got["text"].split(), got


def test_free_tier_without_a_card_is_customer_verification_until_the_card_is_added(app, gateway):
    hobby = secret(HOBBY)
    assert_refused(customer(gateway, hobby, GENERATING), 403, "customer_verification_required",
                   "Add a verified payment method to use the free tier.")

    result = app.run(load_event("ticket-free-tier-no-card.json"))
    assert result.outcome == "customer_action"
    team = app.platform.get_team(HOBBY)
    card = PaymentMethod(status="valid", verified=True)
    app.platform.replace_team(team.model_copy(update={"billing": team.billing.model_copy(
        update={"payment_method": card})}))
    app.clock.advance(timedelta(minutes=16))
    assert app.recheck()["actions"][result.case_id] == "closed_access_back"

    assert_served(customer(gateway, hobby), "hobby-hacker")


def test_credits_gone_is_402_and_past_the_rate_limit_429_in_each_client(app, gateway):
    team = app.platform.get_team(HAPPY)
    credits = team.billing.credits.model_copy(update={"balance_cents": 0})
    app.platform.replace_team(team.model_copy(update={"billing": team.billing.model_copy(update={"credits": credits})}))
    assert_refused(customer(gateway, secret(HAPPY), GENERATING), 402, "insufficient_funds", "Insufficient funds.")

    app.platform.replace_team(team)
    gateway.rate_limit = 0  # every admitted request is past the limit
    try:
        assert_refused(customer(gateway, secret(HAPPY), GENERATING), 429, "rate_limit_exceeded")
    finally:
        gateway.rate_limit = None


def test_the_demo_shows_the_ai_sdks_call_beside_the_openai_sdks(app):
    from unblock_dev.demo import CustomerView

    view = CustomerView(app, json.loads((EVENTS / "platform.json").read_text()))
    try:
        assert view.intro() == ""
        before = view.call(LOWRISK)
        app.run(load_event("ticket-risk-hold-lift.json"))
        shown = view.show(before, view.call(LOWRISK)).splitlines()
    finally:
        view.close()
    assert shown[0].startswith("customer's call before: openai.PermissionDeniedError: Error code: 403")
    assert shown[1] == "  AI SDK's call before:  GatewayInternalServerError (403): Forbidden."
    assert shown[2].startswith("customer's call after:  Hello") and "lowrisk-labs" in shown[2]
    assert shown[3].startswith("  AI SDK's call after:   Hello") and "lowrisk-labs" in shown[3]


FREE_CREDITS = "team_FreeCred1tsMode100000000"  # free tier, verified card (the model policy's team in the seed)


def test_a_model_the_free_tier_does_not_cover_is_each_clients_refusal_and_another_model_is_served(app, gateway):
    import hashlib

    read_policy = getattr(app.platform, "model_policy", None)
    restricted = read_policy().free_tier_restricted if callable(read_policy) else ()
    if not restricted:
        pytest.skip("no model_policy in this seed (DESIGN.md: model_policy.free_tier_restricted)")
    team = app.platform.get_team(FREE_CREDITS)
    key = "vck_sktc01sandboxfreecreditstestsecret"  # a test secret for the team's key, as a seed gives one
    keyed = team.keys[0].model_copy(update={"secret_sha256": hashlib.sha256(key.encode()).hexdigest()})
    app.platform.replace_team(team.model_copy(update={"keys": (keyed, *team.keys[1:])}))

    model = "anthropic/claude-sonnet-4"
    assert model in restricted
    refused = customer(gateway, key, tuple(c for c in GENERATING if c not in EMBEDDING), model=model)
    expected = app.platform.probe(FREE_CREDITS, keyed.prefix, model=model)  # the rules' own refusal
    assert expected.status == 403 and expected.error_type
    assert_refused(refused, 403, expected.error_type, expected.message)
    assert_served(customer(gateway, key, model=MODEL), "sketchbook-ai")

"""The signals catalogue entry by entry (what shows it, what does not), the request log, the probe
on the customer's model, identification by request or generation id, and the decision they feed."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.unit_support import TEAM_ID, make_team
from unblock.adapters.platform_sandbox import SandboxPlatform
from unblock.domain.decision import decide, verdict
from unblock.domain.identification import identify
from unblock.domain.models import Finding, ProbeResult, Report
from unblock.domain.platform_model import Seed
from unblock.domain.tickets.facts import extract
from unblock.domain.tickets.redaction import redact
from unblock.domain.tickets.signal_catalogue import BY_CODE, SIGNALS
from unblock.domain.tickets.signals import codes, from_request_log, read_signals

# Per code: texts that show it, and near misses that do not.
CASES: dict[str, tuple[list[str], list[str]]] = {
    "gateway.model_restricted": (
        ["{'error': {'message': 'Free tier users do not have access to this model.', "
         "'type': 'no_providers_available'}}",
         "RestrictedModelsError", "Free credits temporarily have restricted access. Paid credits continue to have "
         "unrestricted access."],
        ["we restricted access to our staging app", "free tier of our own product"],
    ),
    "gateway.verification_required": (
        ['{"type":"customer_verification_required"}', "AI Gateway requires a valid credit card on file"],
        ["we verified the customer", "credit card payments in our app fail"],
    ),
    "gateway.insufficient_funds": (
        ['"type": "insufficient_funds"', "402 Payment Required", "credits balance is $0.00", "$0 credits left"],
        ["we have $40 in credits", "funds transfer to our bank", "credits: $10.50"],
    ),
    "gateway.unauthenticated": (
        ["GatewayAuthenticationError: Unauthenticated", '{"type":"authentication_error"}', "Error code: 401",
         "openai.AuthenticationError: Error code: 401"],
        ["our login page authenticates users", "we send 401 requests a day"],
    ),
    "gateway.rate_limited": (
        ["GatewayRateLimitError", "429 Too Many Requests", '"type":"rate_limit_exceeded"', "we get rate limited"],
        ["what are the rate limits on paid credits?", "we sent 429 requests"],
    ),
    "gateway.no_providers": (
        ['"type":"no_providers_available"', "No providers available for model xai/grok-3"],
        ["which providers are available?"],
    ),
    "gateway.model_not_found": (
        ["GatewayModelNotFoundError: Model 'gpt-4o' not found", '"type":"model_not_found"'],
        ["the page was not found", "which model should we use?"],
    ),
    "gateway.access_denied": (
        ['{"error": {"message": "Forbidden.", "type": "access_denied"}}', "{ “error”: { “message”: “Forbidden.” } }",
         "openai.PermissionDeniedError: Error code: 403", "403 Forbidden", "errorText: 'Forbidden.'"],
        ["this is forbidden by our policy", "we have 403 users"],
    ),
    "client.wrong_base_url": (
        ["<!DOCTYPE html><html>", "x-matched-path: /api/chat", "Unexpected token '<'",
         'baseURL: "https://my-app.vercel.app/v1"', 'base_url="https://ai-gateway.vercel.sh"'],
        ['"x-matched-path": "/v3/ai/language-model"', 'baseURL: "https://ai-gateway.vercel.sh/v1"',
         "x-matched-path: /v1/chat/completions"],
    ),
    "client.key_not_loaded": (
        ["AI Gateway authentication failed: No authentication provided.", "Authorization: Bearer undefined",
         "process.env.AI_GATEWAY_API_KEY is undefined", "AI_LoadAPIKeyError",
         "the secret didn't resolve in CI"],
        ["apiKey: process.env.AI_GATEWAY_API_KEY", "we loaded the env and it works now? no, it fails with 403"],
    ),
    "client.provider_direct": (
        ["Incorrect API key provided. https://platform.openai.com/account/api-keys",
         "POST https://api.anthropic.com/v1/messages 401 invalid x-api-key"],
        ["POST https://ai-gateway.vercel.sh/v1/chat/completions 403",
         "GatewayInternalServerError from https://api.openai.com/v1/chat/completions"],
    ),
    "byok.provider_key_as_gateway_key": (
        ["AI_GATEWAY_API_KEY=sk-proj-abcd", "I use my own OpenAI key as the gateway key",
         "using sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefgh as gateway key gets 401"],
        ["OPENAI_API_KEY=sk-proj-abcd for a different service", "sk-proj-abcd for the OpenAI SDK, vck_ for gateway"],
    ),
    "byok.needs_credits": (
        ["BYOK requests fail with Insufficient funds", "402 although I set up bring your own key"],
        ["BYOK works great", "insufficient funds on our bank account"],
    ),
    "upstream.provider_error": (
        ['GatewayInternalServerError: {"type":"error","error":{"type":"overloaded_error"}}',
         'ai-gateway.vercel.sh said "Insufficient balance or no resource package. Please recharge."'],
        ["Please recharge your phone", "overloaded_error from api.anthropic.com"],
    ),
    "client.wrong_endpoint": (
        ["POST https://ai-gateway.vercel.sh/v1/v1/chat/completions", "DEPLOYMENT_NOT_FOUND",
         "<title>Vercel Security Checkpoint</title>", "https://ai-gateway.vercel.sh/v1/language-model 404",
         "curl https://ai-gateway.vercel.sh/chat/completions"],
        ["POST https://ai-gateway.vercel.sh/v1/chat/completions 403", "https://ai-gateway.vercel.sh/v1/messages",
         "the deployment went fine"],
    ),
    "client.oidc_token": (
        ["Error verifying OIDC token", "AI Gateway authentication failed: Invalid OIDC token.",
         "the x-vercel-oidc-token header is missing from the request", "VERCEL_OIDC_TOKEN expired overnight"],
        ["we use an API key, not OIDC", "VERCEL_OIDC_TOKEN is set by vercel env pull and works"],
    ),
    "client.invalid_request": (
        ['"type":"invalid_request_error"', "GatewayInvalidRequestError", "Invalid input: messages.0.content",
         "AI_InvalidPromptError"],
        ["our input form is valid", "the request went through"],
    ),
    "gateway.not_found": (
        ["GatewayNotFoundError: Resource not found", '{"type":"not_found"}'],
        ["GatewayModelNotFoundError", "page not found"],
    ),
    "gateway.failed_dependency": (
        ["GatewayFailedDependencyError", '"type":"failed_dependency"', "gemini_explicit_cache_fallback_unsupported"],
        ["our dependency update failed? no, it works"],
    ),
    "byok.system_fallback": (
        ['"credentialType": "system"', "with BYOK we still got charged gateway credits",
         "it falls back to Vercel keys when our key is limited"],
        ["BYOK works great", "credits were charged for our normal usage"],
    ),
    "gateway.server_error": (
        ['{"type":"internal_server_error"}', "GatewayInternalServerError: Internal server error",
         "GatewayTimeoutError", "502 Bad Gateway", "status 499", "is the gateway down?"],
        ["our server had an error", "GatewayInternalServerError wrapping RestrictedModelsError"],
    ),
    "question.credits_api": (
        ["how can I check the credit balance from my code?", "does getCredits work with OIDC?",
         "is there a credits endpoint?"],
        ["getCredits() fails with 401", "we bought credits"],
    ),
    "question.rate_limits": (
        ["what are the rate limits on paid credits?", "can you raise our rate limit?",
         "how many requests per minute can we send?"],
        ["we get 429 rate limit exceeded, what are the limits?", "we limit our own users"],
    ),
    "question.feature_request": (
        ["Feature request: per-key budgets", "it would be great if the dashboard showed latency",
         "does the AI Gateway support video models?", "is there a plan to add Bedrock?"],
        ["please add credits to continue", "GatewayError: Insufficient funds. Please add credits"],
    ),
    "question.billing_dispute": (
        ["please refund the duplicate charge", "we were charged twice", "an unexpected charge on our invoice"],
        ["we paid the invoice", "insufficient funds"],
    ),
    "question.sibling_product": (
        ["my v0 credits do not show up", "I have a v0 Premium plan", "billing for v0.dev"],
        ["we call v1/chat/completions", "credits for the gateway"],
    ),
    "stream.error_in_body": (
        ['data: {"type":"error","errorText":"Forbidden."}', 'finishReason: "error"', "status 200 but it fails"],
        ['{"type":"error","error":{"type":"overloaded_error"}}', "status 200 and it works"],
    ),
}


def test_every_catalogue_entry_has_its_cases_and_its_words() -> None:
    assert set(CASES) == {s.code for s in SIGNALS}
    for spec in SIGNALS:
        assert spec.explanation and spec.steps and spec.patterns, spec.code
        # the customer's steps never repeat internal wording (DESIGN.md "Who may act")
        assert not any(w in spec.steps.lower() for w in ("abuse", "fraud", "sanction", "risk"))
        for other in spec.suppresses:
            assert other in BY_CODE, f"{spec.code} suppresses an unknown code {other}"


@pytest.mark.parametrize(("code", "text"), [(c, t) for c, (pos, _) in CASES.items() for t in pos])
def test_the_signal_is_read(code: str, text: str) -> None:
    assert code in codes(read_signals("", text))


@pytest.mark.parametrize(("code", "text"), [(c, t) for c, (_, neg) in CASES.items() for t in neg])
def test_a_near_miss_is_not_the_signal(code: str, text: str) -> None:
    assert code not in codes(read_signals("", text))


def test_snippets_are_short_redacted_and_show_the_match() -> None:
    pasted = 'Authorization: Bearer vck_3f9a12abQx7Lm2Np8Rt4Vw6Yz0Bc "message": "Forbidden." '
    text = ("x " * 300) + pasted + ("y " * 300)
    [signal] = read_signals("", text)
    assert signal.code == "gateway.access_denied" and "Forbidden." in signal.snippet
    assert len(signal.snippet) <= 162 and "Qx7Lm2Np8Rt4" not in signal.snippet


def test_an_explaining_signal_suppresses_what_it_explains() -> None:
    text = "GatewayAuthenticationError: AI Gateway authentication failed: No authentication provided."
    assert codes(read_signals("", text)) == ["client.key_not_loaded"]


@pytest.mark.parametrize("code_ref", [
    "apiKey: process.env.AI_GATEWAY_API_KEY", "api_key=os.environ['AI_GATEWAY_API_KEY']",
    "apiKey: Resource.AiGatewayKey.value", "AI_GATEWAY_API_KEY: ${{ secrets.AI_GATEWAY_API_KEY }}",
    "api_key=settings.AI_GATEWAY_API_KEY", "token = import.meta.env.VITE_AI_GATEWAY_KEY",
])
def test_a_key_referenced_in_code_is_not_a_pasted_secret(code_ref: str) -> None:
    assert redact(code_ref) == (code_ref, 0)


def test_a_pasted_key_beside_a_reference_is_still_redacted() -> None:
    text, n = redact("apiKey: process.env.AI_GATEWAY_API_KEY // was vck_3f9a12abQx7Lm2Np8Rt4Vw6Yz0Bc")
    assert n == 1 and "Qx7Lm2Np8Rt4" not in text and "process.env.AI_GATEWAY_API_KEY" in text


def test_generation_ids_are_facts() -> None:
    assert extract("", "failed generation id: gen_01KSFYKEZ5TV8DJ34MDQFC9EDE.").generation_ids == \
        ["gen_01KSFYKEZ5TV8DJ34MDQFC9EDE"]


@pytest.mark.parametrize(("status", "error_type", "message", "code"), [
    (403, "access_denied", "Forbidden.", "gateway.access_denied"),
    (403, "no_providers_available", "Free tier users do not have access to this model.", "gateway.model_restricted"),
    (403, "no_providers_available", "No providers available", "gateway.no_providers"),
    (402, "insufficient_funds", None, "gateway.insufficient_funds"),
    (429, "rate_limit_exceeded", None, "gateway.rate_limited"),
    (200, None, None, None),
])
def test_the_request_log_reads_as_signals(status: int, error_type: str | None, message: str | None,
                                          code: str | None) -> None:
    assert from_request_log(status, error_type, message) == code


# --- the request log, the model policy and the probe ---------------------------------------
REQUEST_ID = "iad1::sfo1::7xk2p-1764151200000-3f9a0c1d2e4b"
GENERATION_ID = "gen_01K8TESTGENERATION0000000"
RESTRICTED = "anthropic/claude-sonnet-4"


@pytest.fixture
def logged(platform: SandboxPlatform) -> SandboxPlatform:
    free = make_team(billing={"credits": {"tier": "free", "balance_cents": 500}})
    platform.load(Seed.model_validate({
        "teams": [free],
        "requests": [{"request_id": REQUEST_ID, "generation_id": GENERATION_ID, "team_id": TEAM_ID,
                      "key_prefix": "vck_good01", "endpoint": "/v1/chat/completions", "model": RESTRICTED,
                      "status": 403, "error_type": "no_providers_available",
                      "message": "Free tier users do not have access to this model."}],
        "model_policy": {"free_tier_restricted": [RESTRICTED]},
    }))
    return platform


def test_the_request_log_is_found_by_request_or_generation_id(logged: SandboxPlatform) -> None:
    assert logged.find_request(REQUEST_ID).team_id == TEAM_ID  # type: ignore[union-attr]
    assert logged.find_request(GENERATION_ID).model == RESTRICTED  # type: ignore[union-attr]
    assert logged.find_request("gen_nosuch000000") is None


def test_the_probe_refuses_a_restricted_model_for_a_free_tier_team(logged: SandboxPlatform) -> None:
    assert logged.probe(TEAM_ID).status == 200
    assert logged.probe(TEAM_ID, model="openai/gpt-4o-mini").status == 200
    refused = logged.probe(TEAM_ID, endpoint="/v1/chat/completions", model=RESTRICTED)
    assert (refused.status, refused.error_type) == (403, "no_providers_available")
    assert "Free tier users do not have access" in (refused.message or "")


def test_a_paid_team_may_call_the_restricted_model(platform: SandboxPlatform) -> None:
    platform.load(Seed.model_validate({"teams": [make_team()], "model_policy": {"free_tier_restricted": [RESTRICTED]}}))
    assert platform.probe(TEAM_ID, model=RESTRICTED).status == 200


def _report(text: str, email: str | None = None) -> Report:
    return Report(case_id="zendesk:1", source="zendesk", text=text, requester_email=email,
                  facts=extract("", text).as_report_facts())


def test_a_request_id_identifies_the_team_after_the_slug_and_before_the_email(logged: SandboxPlatform) -> None:
    by_log = identify(logged, _report(f"x-vercel-id: {REQUEST_ID}", email="stranger@elsewhere.test"))
    assert (by_log.team.team_id if by_log.team else None, by_log.how) == (TEAM_ID, "request_log")
    assert by_log.request is not None and by_log.request.model == RESTRICTED
    by_gen = identify(logged, _report(f"generation {GENERATION_ID}"))
    assert by_gen.how == "request_log"
    by_slug = identify(logged, _report(f"team healthy-team, request {REQUEST_ID}"))
    assert by_slug.how == "slug" and by_slug.request is not None  # the record is still the case's evidence
    assert identify(logged, _report("request gen_01K8UNKNOWN0000000000")).team is None


def _ok(check: str) -> Finding:
    return Finding(check=check, code=f"{check}.ok", disposition="ok", summary="ok")  # type: ignore[arg-type]


OK = [_ok("billing"), _ok("key"), _ok("restrictions")]


def _no_probe() -> ProbeResult:
    raise AssertionError("no probe without a team")


@pytest.mark.parametrize(("signals", "action"), [
    (["gateway.model_restricted"], "customer_action"),
    (["client.key_not_loaded", "gateway.rate_limited"], "customer_action"),
    (["gateway.access_denied"], "needs_info"),
    (["client.key_not_loaded", "gateway.access_denied"], "needs_info"),  # the team's state is needed too
    (["stream.error_in_body"], "needs_info"),  # it does not say why
    ([], "needs_info"),
])
def test_without_a_team_signals_that_need_none_are_answered(signals: list[str], action: str) -> None:
    plan = decide(None, [], _no_probe, signals)
    assert plan.action == action
    assert plan.recheck is (action != "customer_action")


def test_a_probe_refusal_of_the_model_is_the_customers_step_not_an_unknown_cause() -> None:
    refused = ProbeResult(status=403, error_type="no_providers_available",
                          message="Free tier users do not have access to this model.")
    assert decide(TEAM_ID, OK, lambda: refused).action == "customer_action"
    assert decide(TEAM_ID, OK, lambda: ProbeResult(status=403, error_type="access_denied")).action == "escalate"
    assert verdict(OK, refused)[0] == "customer_action"


def test_a_client_side_signal_on_a_healthy_team_is_the_customers_step() -> None:
    plan = decide(TEAM_ID, OK, lambda: ProbeResult(status=200), ["client.wrong_base_url"])
    assert (plan.action, plan.recheck) == ("customer_action", False)
    assert decide(TEAM_ID, OK, lambda: ProbeResult(status=200), ["gateway.access_denied"]).action == "already_working"


def test_signals_never_lead_to_a_fix_or_past_an_escalation() -> None:
    held = Finding(check="restrictions", code="restrictions.abuse", disposition="escalate", summary="held")
    assert decide(TEAM_ID, [OK[0], OK[1], held], lambda: ProbeResult(status=200),
                  ["client.key_not_loaded"]).action == "escalate"


def test_the_report_carries_signals_with_redacted_snippets() -> None:
    from datetime import UTC, datetime

    from unblock.domain.tickets.reports import report_from_ticket
    from unblock.domain.tickets.ticket_event import TicketEvent

    event: dict[str, Any] = {
        "version": "0", "id": "e1", "source": "unblock.tickets", "detail-type": "Access Denied Reported",
        "time": "2026-11-26T10:00:00Z",
        "detail": {"ticket_id": "1", "channel": "forum", "subject": "401",
                   "text": "Bearer vck_3f9a12abQx7Lm2Np8Rt4Vw6Yz0Bc GatewayAuthenticationError: Unauthenticated"}}
    report = report_from_ticket(TicketEvent.model_validate(event), datetime(2026, 11, 26, tzinfo=UTC))
    assert [s.code for s in report.signals] == ["gateway.unauthenticated"]
    assert all("Qx7Lm2Np8Rt4" not in s.snippet for s in report.signals)


@pytest.mark.parametrize("text", ["Resource." * 440, "byok " * 800, "process.env." * 330, "x-matched-path: /" * 235,
                                  "credits $0 " * 360, "a" * 4000])
def test_reading_a_worst_case_ticket_stays_fast(text: str) -> None:
    """Every ticket passes the matcher at intake: no pattern may backtrack badly over a full-size text."""
    import time

    start = time.perf_counter()
    read_signals("", text[:4000])
    assert time.perf_counter() - start < 1.0

"""Scope (DESIGN.md "Scope", "Decision" step 0): what unblock hands on to staff, what it answers with
the customer's own steps, and what the customer says fails (a quoted comparison is not the failure)."""

from __future__ import annotations

import pytest

from tests.unit.test_reply_privacy import NOW, _finding
from unblock.domain import replies
from unblock.domain.cases import Case
from unblock.domain.decision import decide
from unblock.domain.models import Finding, ProbeResult, Report
from unblock.domain.tickets.facts import extract
from unblock.domain.tickets.signals import codes, read_signals

OK = [_finding("billing.ok"), _finding("key.ok"), _finding("restrictions.ok")]


def _no_probe() -> ProbeResult:
    raise AssertionError("a handed-off ticket is never probed")


def _case(text: str, *, outcome: str, team_id: str | None = None, verified: bool = False,
          channel: str = "email", findings: list[Finding] | None = None) -> Case:
    facts = {k: [str(v) for v in vs] for k, vs in extract("", text).model_dump(exclude_defaults=True).items()}
    report = Report(case_id="ticket:1", source="eventbridge", channel=channel, subject="", text=text,
                    requester_email="dev@example.test", signals=read_signals("", text), facts=facts)
    return Case(case_id="ticket:1", report=report, team_id=team_id, requester_verified=verified,
                signals=report.signals,
                outcome=outcome, findings=findings or [], status="closed", created_at=NOW, updated_at=NOW,
                model=(report.facts.get("models") or [None])[0])


# --- step 0 --------------------------------------------------------------------------------------
@pytest.mark.parametrize("signals", [["gateway.server_error"], ["question.billing_dispute"],
                                     ["question.credits_api"], ["gateway.server_error", "stream.error_in_body"]])
def test_a_ticket_staff_take_is_handed_off_without_asking_for_a_team(signals: list[str]) -> None:
    plan = decide(None, [], _no_probe, signals)
    assert (plan.action, plan.recheck) == ("handed_off", False)


def test_a_known_team_whose_checks_pass_is_handed_off_unprobed() -> None:
    assert decide("team_x", OK, _no_probe, ["question.feature_request"]).action == "handed_off"


@pytest.mark.parametrize(("finding", "action"), [("billing.payment_method_expired", "customer_action"),
                                                 ("billing.stale_hold", "auto_fix"), ("billing.hold", "escalate")])
def test_a_check_that_finds_something_to_act_on_goes_on(finding: str, action: str) -> None:
    findings = [_finding(finding), _finding("key.ok"), _finding("restrictions.ok")]
    assert decide("team_x", findings, _no_probe, ["question.feature_request"]).action == action


@pytest.mark.parametrize("signals", [["gateway.server_error", "gateway.access_denied"],
                                     ["question.rate_limits", "client.wrong_endpoint"]])
def test_a_refusal_beside_it_is_not_handed_off(signals: list[str]) -> None:
    assert decide(None, [], _no_probe, signals).action != "handed_off"


def test_a_500_wrapping_a_403_is_the_403() -> None:
    text = "GatewayInternalServerError: internal_server_error, cause: 403 Forbidden access_denied"
    assert codes(read_signals("", text)) == ["gateway.access_denied"]


# --- the hand-off reply ----------------------------------------------------------------------------
def test_the_hand_off_reply_asks_only_for_what_staff_need_and_the_ticket_lacks() -> None:
    bare = replies.customer_reply(_case("GatewayInternalServerError 500", outcome="handed_off"), []) or ""
    assert "X-Vercel-Id" in bare and "the model you called" in bare and "time it failed" in bare
    given = replies.customer_reply(_case("GatewayInternalServerError 500 at 09:12 UTC on openai/gpt-4o, "
                                         "generation gen_01JDX4K2Q8", outcome="handed_off"), []) or ""
    assert "please reply with" not in given and "what they need" in given
    for reply in (bare, given):
        assert "team" not in reply.lower().replace("our gateway engineers", "")


def test_the_hand_off_reply_is_the_same_for_anyone_on_any_channel() -> None:
    text = "We were charged twice for credits, please refund."
    seen = {replies.customer_reply(_case(text, outcome="handed_off", channel=channel, verified=verified,
                                         team_id="team_x" if verified else None), OK)
            for channel in ("email", "forum") for verified in (False, True)}
    assert len(seen) == 1 and "billing team" in seen.pop()  # type: ignore[operator]


def test_the_internal_note_says_it_was_handed_off_with_its_signals() -> None:
    note = replies.internal_note(_case("GatewayTimeoutError", outcome="handed_off"))
    assert "Handed off to staff (gateway.server_error)" in note and "saw gateway.server_error" in note


# --- steps are public ------------------------------------------------------------------------------
def test_a_402_without_a_team_says_how_to_top_up_before_it_asks_for_the_team() -> None:
    reply = replies.customer_reply(_case("402 Payment Required, balance $0", outcome="needs_info"), []) or ""
    assert reply.index("Buy credits") < reply.index("team ID")


def test_verification_required_says_a_verified_card_is_needed() -> None:
    reply = replies.customer_reply(_case('{"type":"customer_verification_required"}', outcome="needs_info"), [])
    assert "verified credit card" in (reply or "")


def test_a_stranger_gets_the_signals_steps_though_a_finding_confirms_them() -> None:
    """An unverified requester learns no team fact, but what their own error means is theirs to read."""
    restricted = _finding("billing.free_credits_restricted")
    case = _case("Free tier users do not have access to this model.", outcome="customer_action",
                 team_id="team_x", findings=[restricted])
    reply = replies.customer_reply(case, [restricted]) or ""
    assert "buy AI Gateway credits" in reply and replies.STEPS["billing.free_credits_restricted"] not in reply


# --- what the customer says fails ------------------------------------------------------------------
@pytest.mark.parametrize(("text", "want"), [
    ("With an invalid key we get 401 Unauthenticated as expected, but our real key gets 403 Forbidden.",
     ["gateway.access_denied"]),
    ("An invalid key gives 401 as expected. Our production key: {\"type\":\"access_denied\"}",
     ["gateway.access_denied"]),
    ("It works in the playground. From our server: 402 Payment Required.", ["gateway.insufficient_funds"]),
    ("Works fine in the playground but our app gets GatewayRateLimitError", ["gateway.rate_limited"]),
])
def test_a_quoted_comparison_is_not_the_failure(text: str, want: list[str]) -> None:
    assert codes(read_signals("", text)) == want


def test_a_stream_error_quoted_beside_its_cause_is_not_explained_back() -> None:
    text = ('Free tier users do not have access to this model. In the browser the stream shows '
            'data: {"type":"error","errorText":"Free tier users do not have access to this model."}')
    case = _case(text, outcome="customer_action")
    reply = replies.customer_reply(case, []) or ""
    assert "stream" not in reply and "buy AI Gateway credits" in reply


def test_an_empty_provider_key_is_never_told_nothing_changes_on_their_side() -> None:
    text = ("AI_GATEWAY_API_KEY=\nANTHROPIC_API_KEY=\n"
            "Calling through ai-gateway.vercel.sh: api.anthropic.com answered x-api-key header is required")
    case = _case(text, outcome="customer_action")
    assert "upstream.provider_error" not in case.signal_codes
    assert "nothing to change on your side" not in (replies.customer_reply(case, []) or "")
    direct = _case("ANTHROPIC_API_KEY=\nanthropic.AuthenticationError: x-api-key header is required",
                   outcome="customer_action")
    assert direct.signal_codes == ["client.provider_direct"]
    assert "ANTHROPIC_API_KEY" in (replies.customer_reply(direct, []) or "")


@pytest.mark.parametrize(("text", "failing"), [
    ("Is there a status page I can subscribe to? Not having issues right now, just asking.", False),
    ("We sent 4030 requests yesterday and 429 tokens on average; is there a volume discount?", False),
    ("Requests feel slow today, anything going on?", False),
    ("It does not work, can you check?", True),
    ("Our calls stopped working since this morning", True),
])
def test_a_ticket_with_no_signal_that_says_nothing_fails_is_a_question(text: str, failing: bool) -> None:
    from unblock.domain.tickets.signals import describes_failure

    assert codes(read_signals("", text)) == []
    assert describes_failure("", text) is failing
    plan = decide(None, [], _no_probe, [], describes_failure=failing)
    assert plan.action == ("needs_info" if failing else "handed_off")
    reply = replies.customer_reply(_case(text, outcome=plan.action), []) or ""
    assert ("team ID" in reply) is failing


@pytest.mark.parametrize(("subject", "text", "asks"), [
    ("help", "", False), ("", "", False), ("export usage per API key", "Can we export usage as CSV?", True),
    ("launch", "How do we request higher rate limits? No errors so far.", True),
])
def test_only_a_question_is_handed_off_unread_an_empty_ticket_asks_nothing(subject: str, text: str,
                                                                           asks: bool) -> None:
    from unblock.domain.tickets.signals import only_asks

    assert only_asks(subject, text) is asks


def test_a_client_side_timeout_is_told_to_raise_its_timeout_not_to_retry() -> None:
    """GatewayTimeoutError (408) is the client giving up: a retry with the same timeout fails the same way."""
    text = ("GatewayTimeoutError: Gateway request timed out: The operation was aborted due to timeout\n"
            "This is a client-side timeout. Please increase your timeout settings. statusCode: 408. Model openai/o3")
    reply = replies.customer_reply(_case(text, outcome="handed_off"), []) or ""
    assert "abortSignal" in reply and "timeout" in reply and "not a gateway failure" in reply
    assert "retrying with backoff" not in reply and "not in your code" not in reply
    assert reply.index("abortSignal") < reply.index("If it still times out")
    assert "the model you called" not in reply and "X-Vercel-Id" in reply  # the model is given, the request not
    assert "team ID" not in reply


@pytest.mark.parametrize("text", [
    "Since yesterday TTFT through the gateway is 8-10 seconds, direct it is 0.5s. No errors, just slow.",
    "The stream just stops after a few chunks, no error part, no finish part.",
])
def test_slowness_with_no_failure_is_handed_off_with_what_staff_need(text: str) -> None:
    from unblock.domain.tickets.signals import only_asks

    assert codes(read_signals("", text)) == [] and only_asks("", text)
    assert decide(None, [], _no_probe, [], describes_failure=False).action == "handed_off"
    reply = replies.customer_reply(_case(text, outcome="handed_off"), []) or ""
    assert "gateway engineers" in reply and "X-Vercel-Id" in reply and "team ID" not in reply


@pytest.mark.parametrize(("text", "code"), [
    ("Auto top-up charged us three times within an hour on Dec 5. Why?", "question.billing_dispute"),
    ("Auf der Rechnung fehlt unsere USt-IdNr. Können Sie die Rechnung korrigieren?", "question.billing_dispute"),
    ("Is gpt-realtime available through the AI Gateway?", "question.feature_request"),
    ("Would be great to get an email when the balance drops under a threshold.", "question.feature_request"),
    ("Our Vercel bill shows a lot of Function Duration. Is that billed under the AI Gateway?",
     "question.sibling_product"),
])
def test_billing_and_product_questions_are_read_and_handed_off(text: str, code: str) -> None:
    assert codes(read_signals("", text)) == [code]
    assert decide(None, [], _no_probe, [code]).action == "handed_off"


def test_a_refusal_asked_about_is_not_a_product_question() -> None:
    text = "Is claude-opus-4 available through the gateway? We get 403 access_denied on it."
    assert "question.feature_request" not in codes(read_signals("", text))
    assert decide(None, [], _no_probe, codes(read_signals("", text))).action != "handed_off"


# --- the customer's own words in the steps ---------------------------------------------------------
@pytest.mark.parametrize(("text", "wrong", "right"), [
    ("POST https://ai-gateway.vercel.sh/v1/response -> 404 Not Found", "/v1/response;", "/v1/responses"),
    ("notre client appelle https://ai-gateway.vercel.sh/v1//chat/completions et reçoit 404 Not Found",
     "/v1//chat/completions", "https://ai-gateway.vercel.sh/v1/chat/completions"),
    ("GET https://ai-gateway.vercel.sh/models -> 404", "https://ai-gateway.vercel.sh/models;", "/v1/models"),
])
def test_a_wrong_endpoint_reply_echoes_the_path_and_gives_the_route(text: str, wrong: str, right: str) -> None:
    assert codes(read_signals("", text)) == ["client.wrong_endpoint"]
    reply = replies.customer_reply(_case(text, outcome="customer_action"), []) or ""
    assert wrong in reply and right in reply


def test_claude_code_is_told_its_base_url_without_a_path() -> None:
    text = ('Claude Code with ANTHROPIC_BASE_URL=https://ai-gateway.vercel.sh/v1/chat/completions -> 404 '
            '{"error":{"message":"Not Found","type":"not_found"}}')
    reply = replies.customer_reply(_case(text, outcome="customer_action"), []) or ""
    assert "ANTHROPIC_BASE_URL=https://ai-gateway.vercel.sh " in reply
    assert "the route is https://ai-gateway.vercel.sh/v1/chat/completions" not in reply


@pytest.mark.parametrize(("text", "named"), [
    ("GatewayInvalidRequestError: messages.3: `tool_result` block(s) provided when previous message does not "
     "contain any `tool_use` blocks statusCode 400", "`tool_use`"),
    ('recebo {"error":{"message":"Invalid input","type":"invalid_request_error"}} quando mando temperature: 3',
     "`temperature`"),
    ("GatewayInvalidRequestError: Invalid input\n  at createGatewayErrorFromResponse (index.mjs:412:14)\n"
     "statusCode: 400, happens for messages that contain an image part", "`image part`"),
])
def test_an_invalid_request_reply_names_the_field(text: str, named: str) -> None:
    reply = replies.customer_reply(_case(text, outcome="customer_action"), []) or ""
    assert named in reply


@pytest.mark.parametrize(("text", "right"), [
    ('"google/gemini-2.5-flash:free" gives 404 model_not_found on the gateway.', "google/gemini-2.5-flash"),
    ("embed({ model: 'vercel/text-embedding-3-small' }) → AI_APICallError 404 model_not_found",
     "openai/text-embedding-3-small"),
    ("GatewayModelNotFoundError: Model 'gpt-5' not found modelId: 'gpt-5', statusCode: 404", "openai/gpt-5"),
])
def test_a_model_not_found_reply_gives_the_gateways_id_for_the_one_sent(text: str, right: str) -> None:
    assert codes(read_signals("", text)) == ["gateway.model_not_found"]
    reply = replies.customer_reply(_case(text, outcome="customer_action"), []) or ""
    assert f"most likely {right} " in reply


@pytest.mark.parametrize(("text", "hint"), [
    ("If anthropic/claude-sonnet-4 is unavailable I'd like the gateway to try openai/gpt-4.1. Is there a setting "
     "for fallback models?", "gateway: { models:"),
    ("How do I make the gateway use our own Anthropic key?", "Bring Your Own Key"),
])
def test_a_how_to_question_gets_the_documented_option_beside_the_hand_off(text: str, hint: str) -> None:
    reply = replies.customer_reply(_case(text, outcome="handed_off"), []) or ""
    assert hint in reply and "takes it from here" in reply and "team ID" not in reply

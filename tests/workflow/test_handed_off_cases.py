"""`handed_off` end to end (DESIGN.md "Scope", "Decision" step 0): through the state machine on the
embedded stack, the reply, the case, the human queue it stays off, the evidence staff see."""

from __future__ import annotations

from tests.support import load_event, take_human_queue_messages


def _ticket(text: str, **detail: object) -> dict:
    event = load_event("ticket-gateway-server-error.json")
    event["detail"].update(text=text, **detail)
    return event


def test_the_gateways_own_failure_is_handed_off_without_a_team_question(app):
    result = app.run(load_event("ticket-gateway-server-error.json"))

    assert result.outcome == "handed_off" and result.signals == ["gateway.server_error"]
    assert result.team_id is None and result.findings == [] and result.fixes_applied == []
    assert result.trace.states == ["OpenCase", "TeamKnown", "CloseCase"]
    reply = result.customer_reply
    assert "gateway engineers" in reply and "X-Vercel-Id" in reply and "team ID" not in reply
    case = app.client.store.get(result.case_id)
    assert case.status == "closed" and case.next_check_at is None  # nothing to re-check
    assert "Handed off to staff (gateway.server_error)" in case.internal_note
    assert take_human_queue_messages(app, {result.case_id}) == []  # never on the remediation queue


def test_a_known_team_still_gets_its_three_checks_for_the_evidence(app):
    result = app.run(_ticket("502 Bad Gateway on every third call to openai/gpt-4o since 09:00 UTC",
                             team_slug="happy-path", requester_email="hello@happypath.test"))

    assert result.outcome == "handed_off" and result.requester_verified
    assert [f.code for f in result.findings] == ["billing.ok", "key.ok", "restrictions.ok"]
    assert "CloseCase" in result.trace.states and "ApplyFixes" not in result.trace.states
    assert "please reply with" in result.customer_reply and "the model you called" not in result.customer_reply


def test_a_check_that_finds_something_to_act_on_goes_on_with_the_decision(app):
    result = app.run(_ticket("Feature request: it would be great if invoices showed per-model spend.",
                             team_slug="paper-cranes", requester_email="billing@papercranes.test"))

    assert result.signals == ["question.feature_request"]
    assert result.outcome == "customer_action"
    assert result.findings[0].code == "billing.payment_method_expired"
    assert "Team Settings → Billing" in result.customer_reply


def test_a_forum_question_is_answered_in_the_open_with_no_private_message(app):
    question = _ticket("How can I check the credit balance from my code? We want it on our admin page.",
                       channel="forum")
    result = app.run(question)
    assert result.outcome == "handed_off" and result.signals == ["question.credits_api"]
    assert "getCredits()" in result.customer_reply and "private message" not in result.customer_reply
    assert app.client.store.get(result.case_id).private_reply is None

"""Every ticket of the labelled corpus (tests/data/signal_corpus.yaml) through the workflow on the
embedded stack: what the customer saw (Result.signals), which team, the outcome, and a reply a
senior support engineer would send (its must and must-not phrases, and the "Who may act" rules)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.support import EVENTS, take_human_queue_messages
from tests.unit.test_signal_corpus import TICKETS
from unblock.domain.platform_model import load_seed_text

SEED = load_seed_text((EVENTS / "platform.json").read_text())
TEAM_BY_SLUG = {t.slug: t.team_id for t in SEED.teams}
# Never in any reply: internal signals (DESIGN.md "Who may act on which team"), and words a
# quoted error may hold that a reply must not repeat.
NEVER = ["abuse", "fraud", "sanction", "risk score", "risk_score"]


def event_for(ticket: dict[str, Any]) -> dict[str, Any]:
    detail = {"ticket_id": str(uuid.uuid4().int)[:12], "channel": ticket["channel"],
              "subject": ticket.get("subject", ""), "text": ticket.get("text", ""),
              "requester_email": ticket.get("requester_email"), "team_id": None,
              "team_slug": ticket.get("team_slug"), "key_prefix": None}
    if ticket.get("requester_username"):
        detail["requester_username"] = ticket["requester_username"]
    return {"version": "0", "id": str(uuid.uuid4()), "source": "unblock.tickets",
            "detail-type": "Access Denied Reported", "time": "2026-11-26T10:00:00Z", "region": "us-east-1",
            "account": "123456789012", "resources": [], "detail": detail}


@pytest.mark.parametrize("ticket", TICKETS, ids=[t["id"] for t in TICKETS])
def test_ticket_through_the_workflow(app, ticket):
    expect = ticket["expect"]
    result = app.run(event_for(ticket))
    if result.outcome == "escalated":  # leave the human queue as we found it for the tests that read it
        take_human_queue_messages(app, {result.case_id})

    assert set(result.signals) == set(expect["signals"])
    assert result.team_id == (TEAM_BY_SLUG[expect["team"]] if expect["team"] else None)
    assert result.outcome == expect["outcome"], result.customer_reply
    case = app.client.store.get(result.case_id)
    if expect.get("how"):
        assert case.identified_by == expect["how"]
    if expect["team"]:
        # every identified team still gets all three checks, whatever the signals say
        assert [f.check for f in result.findings] == ["billing", "key", "restrictions"]
    else:
        assert result.findings == []
    reply = result.customer_reply or ""
    assert reply, "every ticket gets an answer"
    for phrase in expect.get("reply_must", []):
        assert phrase.lower() in reply.lower(), f"{phrase!r} not in reply:\n{reply}"
    for phrase in [*expect.get("reply_must_not", []), *NEVER]:
        assert phrase.lower() not in reply.lower(), f"{phrase!r} in reply:\n{reply}"
    if ticket["channel"] == "forum":
        # a public reply never names a team id nor asks for one to be posted
        assert "team_" not in reply.replace("starts with team_", "")
        assert "reply with your team id" not in reply.lower()


def test_staff_see_the_signals_their_snippets_and_the_request_log_record(app):
    from datetime import timedelta

    from tests.support import load_event
    from unblock.console import stats, views

    result = app.run(load_event("ticket-request-id.json"))
    assert result.signals == ["gateway.access_denied"] and result.outcome == "auto_fixed"
    case = app.client.store.get(result.case_id)
    assert case.identified_by == "request_log" and case.request is not None
    page = views.case_page(case, app.clock.now(), timedelta(hours=4), None)
    assert "What the customer saw" in page and "gateway.access_denied" in page
    assert "&#34;type&#34;:&#34;access_denied&#34;" in page or "access_denied" in page  # the snippet, escaped
    assert "iad1::sfo1::7xk2p-1764151200000-3f9a0c1d2e4b" in page and "/v1/chat/completions" in page
    assert "identified by this request" in page

    other = app.run(load_event("ticket-model-restricted.json"))
    cases = [c for c in (app.client.store.get(result.case_id), app.client.store.get(other.case_id)) if c]
    metrics = views.metrics_page(stats.metrics(cases, app.clock.now(), timedelta(hours=4)), timedelta(hours=4))
    assert "Cases by what the customer saw" in metrics
    assert "gateway.model_restricted" in metrics and "gateway.access_denied" in metrics


@pytest.mark.parametrize(("event", "outcome", "signals"), [
    ("ticket-model-restricted.json", "customer_action", ["gateway.model_restricted"]),
    ("ticket-key-not-loaded.json", "customer_action", ["client.key_not_loaded"]),
    ("ticket-generation-id-model.json", "customer_action", ["gateway.access_denied", "gateway.model_restricted"]),
])
def test_the_sample_signal_events(app, event, outcome, signals):
    from tests.support import load_event

    result = app.run(load_event(event))
    assert (result.outcome, result.signals) == (outcome, signals)
    assert "revoke" not in (result.customer_reply or "")
    if result.team_id:
        assert [f.check for f in result.findings] == ["billing", "key", "restrictions"]
        # the probe asked what the customer asked: the model from the request log
        case = app.client.store.get(result.case_id)
        assert case.model == "anthropic/claude-sonnet-4"
        assert app.platform.probe(result.team_id, model=case.model).error_type == "no_providers_available"


def test_the_probe_asks_the_call_that_fails_not_the_listing_that_works(app):
    ticket = next(t for t in TICKETS if t["id"] == "denied-models-ok-chat-fails")
    result = app.run(event_for(ticket))
    case = app.client.store.get(result.case_id)
    assert case.endpoint == "/v1/chat/completions"
    assert result.verified is True  # verified on that same call

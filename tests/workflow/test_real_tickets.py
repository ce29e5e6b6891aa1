"""Every ticket of the labelled corpus (tests/data/signal_corpus.yaml), and every follow-up of its
conversations, through the workflow on the session's embedded stack (tests/corpus.py runs them a
round at a time): what the customer saw (Result.signals), which team, the outcome, and a reply a
senior support engineer would send. The safety rules hold for every step; the rest is measured
against floors that only rise (tests/data/corpus_floors.yaml, figures in docs/signals.md)."""

from __future__ import annotations

import time
import uuid

import pytest

from tests.corpus import (
    TICKETS,
    Step,
    below_floors,
    event_for,
    figures,
    load_floors,
    misses_by_cause,
    report,
    run_corpus,
)
from tests.support import load_event


def test_the_corpus_through_the_workflow(app, default_seed):
    began = time.monotonic()
    observed = run_corpus(app, TICKETS, lambda: app.seed(default_seed))
    took = time.monotonic() - began
    f = figures(observed)
    print(f"\n{report(f)}\n\n({len(observed)} steps in {took:.1f} s)\n\n{misses_by_cause(observed)}")
    violations = [f"{ob.step_id}: {v}" for ob in observed for v in ob.violations]
    assert not violations, violations
    assert not below_floors(f, load_floors()["workflow"]), below_floors(f, load_floors()["workflow"])


def test_staff_see_the_signals_their_snippets_and_the_request_log_record(app):
    from datetime import timedelta

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
    result = app.run(event_for(Step(ticket, 0), str(uuid.uuid4().int)[:12]))
    case = app.client.store.get(result.case_id)
    assert case.endpoint == "/v1/chat/completions"
    assert result.verified is True  # verified on that same call

"""Modes (DESIGN.md "Modes, undo and staff in Slack"): shadow runs the checks and the decision and
changes nothing; approval is the DryRun parameter's mode under its new name."""

from __future__ import annotations

import pytest

from tests.support import load_event, zendesk_delivery


@pytest.fixture
def shadow(app):
    with app.mode("shadow"):  # as an admin switches it (`unblock mode shadow`)
        yield


def _posted_for(app, ticket: str) -> list[dict]:
    return [p for p in app.helpdesk.posted if f"/tickets/{ticket}.json" in p["path"]]


def test_shadow_mode_changes_nothing_and_tells_the_customer_nothing(app, shadow):
    result = app.run(zendesk_delivery(load_event("ticket-stale-billing-hold.json")))

    # the checks and the decision ran; nothing was applied, queued or replied
    assert [f.code for f in result.findings][0] == "billing.stale_hold"
    assert result.mode == "shadow" and result.outcome is None
    assert result.fixes_applied == [] and result.customer_reply is None and result.escalation is None
    assert result.shadow["outcome"] == "auto_fixed" and result.shadow["fixes"] == ["clear_billing_hold"]
    assert result.shadow["reply"]  # the reply it would have sent, kept for staff to judge
    assert app.platform.get_team(result.team_id).billing.hold.active is True
    assert result.trace.states[-2:] == ["Route", "CloseCase"] and "ApplyFixes" not in result.trace.states
    case = app.client.store.get(result.case_id)
    assert (case.status, case.resolution, case.private_reply) == ("closed", "shadow", None)
    assert app.client.queued_evidence(result.case_id) is None

    ticket = result.case_id.split(":", 1)[1]
    app.deliver_replies()
    [note] = _posted_for(app, ticket)  # only the internal note: no public comment, no status change
    assert note["body"]["ticket"]["comment"]["public"] is False
    assert set(note["body"]["ticket"]) == {"comment"}
    body = note["body"]["ticket"]["comment"]["body"]
    assert "Shadow mode" in body and "It would have: auto_fixed" in body and "clear_billing_hold" in body


def test_a_shadow_escalation_queues_nobody(app, shadow):
    result = app.run(load_event("ticket-fraud-review.json"))

    assert result.shadow["outcome"] == "escalated" and result.outcome is None
    assert app.client.queued_evidence(result.case_id) is None
    assert app.client.store.get(result.case_id).task_token is None


def test_a_shadow_case_without_a_team_asks_nothing(app, shadow):
    result = app.run(load_event("ticket-no-team.json"))

    assert result.shadow["outcome"] == "needs_info" and result.customer_reply is None


def test_approval_mode_proposes_every_fix(app):
    with app.mode("approval"):
        result = app.run(load_event("ticket-stale-billing-hold.json"))

    assert result.mode == "approval" and result.outcome == "escalated"
    assert result.escalation["proposed_fixes"] == ["clear_billing_hold"]
    assert app.platform.get_team(result.team_id).billing.hold.active is True


def test_staff_mark_a_shadow_case_and_the_agreement_rate_follows(app, shadow):
    from unblock.console import stats
    from unblock.workflow import shadow as shadow_flow

    agreed = app.run(load_event("ticket-stale-billing-hold.json"))
    disputed = app.run(load_event("ticket-fraud-review.json"))

    shadow_flow.mark(app.client.store, app.clock, agreed.case_id, "agree", "staff:alice", None)
    with pytest.raises(shadow_flow.ShadowError, match="a note"):
        shadow_flow.mark(app.client.store, app.clock, disputed.case_id, "disagree", "staff:bob", "")
    marked = shadow_flow.mark(app.client.store, app.clock, disputed.case_id, "disagree", "staff:bob",
                              "fraud review was cleared yesterday")

    assert (marked.shadow.verdict, marked.shadow.verdict_by) == ("disagree", "staff:bob")
    cases = [app.client.store.get(agreed.case_id), marked]
    agreement = stats.shadow_agreement(cases)
    assert agreement.by_outcome["auto_fixed"].rate == 1.0 and agreement.by_outcome["escalated"].rate == 0.0
    assert agreement.by_finding["billing.stale_hold"].rate == 1.0
    assert agreement.overall.marked == 2 and agreement.overall.rate == 0.5


def test_a_live_case_cannot_be_marked(app):
    from unblock.workflow import shadow as shadow_flow

    live = app.run(load_event("ticket-stale-billing-hold.json"))
    with pytest.raises(shadow_flow.ShadowError, match="not a shadow case"):
        shadow_flow.mark(app.client.store, app.clock, live.case_id, "agree", "staff:alice", None)


def _console(app, method, path, body=None):
    import json
    from urllib.parse import quote

    from unblock_dev.console_server import http_api_event

    path = path.format(quote=lambda s: quote(s, safe=""))
    data = json.dumps(body).encode() if body is not None else b""
    headers = {"content-type": "application/json"} if body is not None else {}
    claims = {"sub": "s1", "email": "carol@example.test", "email_verified": "true"}
    return app.stack.invoke("ConsoleFunction", http_api_event(method, path, "", headers, data, claims))


def test_the_console_shows_a_shadow_case_takes_a_verdict_and_counts_it(app, shadow):
    from urllib.parse import quote

    result = app.run(load_event("ticket-stale-billing-hold.json"))
    case = quote(result.case_id, safe="")

    page = _console(app, "GET", f"/pages/cases/{case}")
    assert "Shadow mode: what unblock would have done" in page["body"] and 'value="disagree"' in page["body"]
    refused = _console(app, "POST", f"/api/cases/{case}/shadow", {"verdict": "disagree"})
    assert refused["statusCode"] == 422 and "needs a note" in refused["body"]
    done = _console(app, "POST", f"/api/cases/{case}/shadow", {"verdict": "agree"})
    assert done["statusCode"] == 200
    assert app.client.store.get(result.case_id).shadow.verdict_by == "carol@example.test"
    metrics = _console(app, "GET", "/pages/metrics")["body"]
    assert "Shadow agreement" in metrics and "billing.stale_hold" in metrics

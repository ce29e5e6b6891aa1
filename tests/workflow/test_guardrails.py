"""Guardrails on fixes, through the state machine: approval mode and the hourly lift cap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from tests.support import load_event, take_human_queue_messages


def test_approval_mode_turns_the_fix_into_a_proposal_staff_approve(app):
    with app.mode("approval"):  # the DryRun template parameter's mode
        proposed = app.run(load_event("ticket-stale-billing-hold.json"))

    assert proposed.outcome == "escalated" and proposed.fixes_applied == []
    assert proposed.escalation["proposed_fixes"] == ["clear_billing_hold"]
    assert proposed.escalation["reason"].startswith("Fixes need staff approval: clear_billing_hold (proposed")
    assert app.platform.get_team(proposed.team_id).billing.hold.active is True  # nothing touched yet
    assert proposed.trace.states[-3:] == ["ApplyFixes", "Verified", "Escalate"]

    approved = app.decide(proposed.case_id, "approve", actor="staff:alice")

    assert approved.outcome == "auto_fixed" and approved.verified
    case = app.client.store.get(proposed.case_id)
    assert [(r.fix, r.status, r.actor) for r in case.fixes] == [("clear_billing_hold", "applied", "staff:alice")]


def test_past_the_hourly_cap_a_liftable_risk_hold_escalates(app, monkeypatch):
    monkeypatch.setenv("MAX_AUTO_LIFTS_PER_HOUR", "0")

    result = app.run(load_event("ticket-risk-hold-lift.json"))

    assert result.outcome == "escalated" and result.fixes_applied == []
    assert "MAX_AUTO_LIFTS_PER_HOUR (0) reached" in result.escalation["reason"]
    assert app.platform.get_team(result.team_id).restrictions  # the hold is still on
    case = app.client.store.get(result.case_id)
    assert [(r.fix, r.status) for r in case.fixes] == [("lift_risk_hold", "refused")]


def test_the_hourly_lift_cap_holds_under_concurrent_executions(app, monkeypatch):
    from tests.support import EVENTS
    from unblock.domain.platform_model import load_seed_text

    monkeypatch.setenv("MAX_AUTO_LIFTS_PER_HOUR", "2")
    base = app.platform.get_team("team_R1skH0ldL1ftab1e00000000")
    ids = [f"team_R1skH0ldL1ftab1e{i:08d}" for i in range(12)]
    seed = load_seed_text((EVENTS / "platform.json").read_text())
    app.seed(seed.model_copy(update={"teams": tuple(
        base.model_copy(update={"team_id": t, "slug": f"lift-{i}", "owner_email": f"o{i}@lift.test",
                                "keys": (base.keys[0].model_copy(update={"prefix": f"vck_lift{i:02d}"}),)})
        for i, t in enumerate(ids))}))
    events = []
    for i, team_id in enumerate(ids):
        event = load_event("ticket-risk-hold-lift.json")
        event["detail"] |= {"team_id": team_id, "team_slug": None, "requester_email": f"o{i}@lift.test"}
        events.append(event)

    # an hour of its own: the session's cases table keeps the counts of other tests' lifts at 10:00
    app.clock.set(datetime(2026, 11, 26, 4, 0, tzinfo=UTC))
    case_ids = [app.submit(e) for e in events]  # twelve executions at once
    try:
        cases = [app.wait(c, timeout=180) for c in case_ids]
    finally:
        queued = take_human_queue_messages(app, set(case_ids))

    lifted = [c for c in cases if "lift_risk_hold" in c.fixes_applied]
    assert len(lifted) == 2
    assert sum(not app.platform.get_team(t).restrictions for t in ids) == 2
    refused = [c for c in cases if c.outcome == "escalated"]
    assert len(refused) == 10
    assert all("MAX_AUTO_LIFTS_PER_HOUR (2) reached" in c.escalation.reason for c in refused)
    assert len(queued) == 10


# an hour of their own for the run-time guardrails below: the counts are by the case clock's hour
GUARDED_HOUR = datetime(2026, 8, 3, 3, 0, tzinfo=UTC)


def test_past_the_hourly_cap_on_fixes_the_next_fix_waits_for_staff(app, monkeypatch):
    monkeypatch.setenv("MAX_FIXES_PER_HOUR", "1")  # the MaxFixesPerHour template parameter

    first = app.run(load_event("ticket-stale-billing-hold.json"), at=GUARDED_HOUR)
    second = app.run(load_event("ticket-entitlement-off.json"), at=GUARDED_HOUR + timedelta(minutes=5))
    try:
        assert first.outcome == "auto_fixed"
        assert second.outcome == "escalated" and second.fixes_applied == []
        assert "MAX_FIXES_PER_HOUR (1) reached" in second.escalation["reason"]
        assert app.platform.get_team(second.team_id).entitlements.ai_gateway is False  # untouched
    finally:
        take_human_queue_messages(app, {second.case_id})


def test_a_burst_of_reverts_moves_a_live_stack_to_approval_and_alerts_staff(app, monkeypatch):
    from tests.workflow.test_staff_alerts import _topic_messages
    from unblock_dev.console_server import http_api_event

    monkeypatch.setenv("MAX_REVERTS_PER_HOUR", "2")  # the console's (MaxRevertsPerHour)
    read = next(_topic_messages(app))

    def revert_in_console(case_id: str) -> None:
        body = b'{"note": "the bank asked us to keep the hold"}'
        answer = app.stack.invoke("ConsoleFunction", http_api_event(
            "POST", f"/api/cases/{quote(case_id, safe='')}/revert", "", {"content-type": "application/json"}, body,
            {"sub": "staff-1", "email": "alice@example.test", "email_verified": "true"}))
        assert answer["statusCode"] == 200, answer["body"]

    try:
        for minute in (0, 10):  # the same fix, applied and reverted twice within the hour
            fixed = app.run(load_event("ticket-stale-billing-hold.json"), at=GUARDED_HOUR + timedelta(minutes=minute))
            assert fixed.outcome == "auto_fixed"
            revert_in_console(fixed.case_id)

        change = app.client.modes.changes(limit=1)[0]
        assert app.client.mode() == "approval"
        assert (change.actor, change.was, change.now) == ("unblock:guardrail", "live", "approval")
        assert "2 fixes reverted within an hour" in str(change.note)
        assert "[unblock] unblock:guardrail switched the stack from live to approval" in [m["Subject"] for m in read()]
        proposed = app.run(load_event("ticket-stale-billing-hold.json"), at=GUARDED_HOUR + timedelta(minutes=20))
        assert proposed.mode == "approval" and proposed.escalation["proposed_fixes"] == ["clear_billing_hold"]
        take_human_queue_messages(app, {proposed.case_id})
    finally:
        app.client.switch_mode("live", "staff:test")

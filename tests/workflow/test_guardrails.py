"""Guardrails on fixes, through the state machine: approval mode and the hourly lift cap."""

from __future__ import annotations

from tests.support import load_event


def test_approval_mode_turns_the_fix_into_a_proposal_staff_approve(app, monkeypatch):
    monkeypatch.setenv("DRY_RUN", "true")  # the DryRun template parameter

    proposed = app.run(load_event("ticket-stale-billing-hold.json"))

    assert proposed.outcome == "escalated" and proposed.fixes_applied == []
    assert proposed.escalation["proposed_fixes"] == ["clear_billing_hold"]
    assert proposed.escalation["reason"].startswith("Fixes need staff approval: clear_billing_hold (proposed")
    assert app.platform.get_team(proposed.team_id).billing.hold.active is True  # nothing touched yet
    assert proposed.trace.states[-3:] == ["ApplyFixes", "FixesApplied", "Escalate"]

    approved = app.decide(proposed.case_id, "approve", actor="staff:alice")

    assert approved.outcome == "auto_fixed" and approved.verified
    case = app.console.store.get(proposed.case_id)
    assert [(r.fix, r.status, r.actor) for r in case.fixes] == [("clear_billing_hold", "applied", "staff:alice")]


def test_past_the_hourly_cap_a_liftable_risk_hold_escalates(app, monkeypatch):
    monkeypatch.setenv("MAX_AUTO_LIFTS_PER_HOUR", "0")

    result = app.run(load_event("ticket-risk-hold-lift.json"))

    assert result.outcome == "escalated" and result.fixes_applied == []
    assert "MAX_AUTO_LIFTS_PER_HOUR (0) reached" in result.escalation["reason"]
    assert app.platform.get_team(result.team_id).restrictions  # the hold is still on
    case = app.console.store.get(result.case_id)
    assert [(r.fix, r.status) for r in case.fixes] == [("lift_risk_hold", "refused")]

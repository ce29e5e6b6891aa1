"""Retry with backoff on the platform being unavailable, then escalation with the partial evidence."""

from __future__ import annotations

from tests.support import load_event
from unblock.ports import PlatformUnavailable


def test_a_check_that_fails_twice_then_succeeds_is_retried(app):
    app.stack.faults["CheckBillingFunction"] = [PlatformUnavailable("timeout"), PlatformUnavailable("503")]

    result = app.run(load_event("ticket-stale-billing-hold.json"))

    assert result.outcome == "auto_fixed"
    assert result.findings[0].code == "billing.stale_hold"
    failed = [i for i in app.stack.invocations if i.function == "CheckBillingFunction" and not i.ok]
    assert [i.error_type for i in failed[-2:]] == ["PlatformUnavailable", "PlatformUnavailable"]
    assert result.trace.lambda_invocations == 8 + 2  # two retries are billed


def test_a_check_that_always_fails_escalates_with_partial_evidence(app):
    app.stack.faults["CheckKeyFunction"] = [PlatformUnavailable("timeout")] * 3

    result = app.run(load_event("ticket-risk-hold-lift.json"))

    assert result.outcome == "escalated"
    codes = [f.code for f in result.findings]
    assert codes == ["billing.ok", "key.unavailable", "restrictions.risk_hold_liftable"]
    assert result.findings[1].evidence["error"] == "PlatformUnavailable"
    assert result.fixes_applied == []  # the safety rule holds even for a fix that looked safe
    assert "KeyUnavailable" in result.trace.states
    case = app.console.store.get(result.case_id)
    assert case.status == "awaiting_staff" and case.priority == "high"
    assert app.platform.get_team(result.team_id).restrictions  # risk hold still on

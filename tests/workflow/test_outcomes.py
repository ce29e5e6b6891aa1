"""Every outcome of DESIGN.md "Decision", executed through the real state machine on the embedded stack."""

from __future__ import annotations

import json

import pytest

from tests.support import load_event

# the decision is taken with the third check, in the same invocation (issue 17)
CHECKS = ["OpenCase", "TeamKnown", "CheckBilling", "CheckKey", "CheckRestrictions", "Route"]
# the fix step verifies in the same invocation: nine transitions for an auto-fixed case
FIXED_PATH = [*CHECKS, "ApplyFixes", "Verified", "CloseCase"]
WORKFLOW_FUNCTIONS = ["DiagnoseFunction", "FixFunction", "OutcomeFunction"]


@pytest.mark.parametrize(
    ("event", "outcome", "codes", "fixes"),
    [
        ("ticket-stale-billing-hold.json", "auto_fixed",
         ["billing.stale_hold", "key.ok", "restrictions.ok"], ["clear_billing_hold"]),
        ("ticket-risk-hold-lift.json", "auto_fixed",
         ["billing.ok", "key.ok", "restrictions.risk_hold_liftable"], ["lift_risk_hold"]),
        ("ticket-key-not-propagated.json", "auto_fixed",
         ["billing.ok", "key.not_propagated", "restrictions.ok"], ["resync_key"]),
        ("ticket-entitlement-off.json", "auto_fixed",
         ["billing.ok", "key.ok", "restrictions.entitlement_out_of_sync"], ["resync_entitlements"]),
        ("ticket-two-fixes.json", "auto_fixed",
         ["billing.stale_hold", "key.ok", "restrictions.entitlement_out_of_sync"],
         ["clear_billing_hold", "resync_entitlements"]),
    ],
)
def test_auto_fixed_cases_are_verified_and_the_platform_is_mended(app, event, outcome, codes, fixes):
    result = app.run(load_event(event))

    assert result.outcome == outcome
    assert [f.code for f in result.findings] == codes
    assert result.fixes_applied == fixes
    assert result.verified is True
    assert result.trace.states == FIXED_PATH
    assert result.trace.state_transitions == len(FIXED_PATH) == 9
    assert result.trace.lambda_functions == WORKFLOW_FUNCTIONS  # one cold start per role, at most three
    # the sandbox platform now lets the team through, and the case is closed with an audit trail
    assert app.platform.probe(result.team_id).status == 200
    case = app.client.store.get(result.case_id)
    assert case.status == "closed" and case.resolution == "verified"
    assert [r.fix for r in case.fixes] == fixes
    assert all(r.actor == "unblock" and r.before != r.after for r in case.fixes)
    assert "fixed it" in result.customer_reply


def test_customer_action_waits_for_the_customer_with_steps_and_a_recheck(app):
    result = app.run(load_event("ticket-expired-card.json"))

    assert result.outcome == "customer_action"
    assert result.findings[0].code == "billing.payment_method_expired"
    assert result.fixes_applied == []
    assert result.trace.states == [*CHECKS, "CloseCase"]
    assert "card on file has expired" in result.customer_reply
    case = app.client.store.get(result.case_id)
    assert case.status == "awaiting_customer" and case.next_check_at is not None
    assert app.platform.probe(result.team_id).status == 403  # nothing was changed on the team


def test_a_fix_followed_by_a_customer_action(app):
    result = app.run(load_event("ticket-fix-then-customer.json"))

    assert result.outcome == "customer_action"
    assert result.fixes_applied == ["clear_billing_hold"]
    assert result.verified is False
    assert result.trace.states[-3:] == ["ApplyFixes", "Verified", "CloseCase"]  # applied, then verified
    assert "no active API key" in result.customer_reply
    team = app.platform.get_team(result.team_id)
    assert team.billing.hold.active is False  # the safe fix stays applied


def test_free_tier_without_card_is_identified_from_a_curly_quoted_slug(app):
    result = app.run(load_event("ticket-free-tier-no-card.json"))

    assert result.case_id.startswith("ticket:1201")  # a normalized event: no help desk produced it
    assert result.team_id == "team_FreeT1erNoCard0000000000"
    assert result.outcome == "customer_action"
    assert result.findings[0].code == "billing.no_payment_method"


def test_already_working(app):
    result = app.run(load_event("ticket-already-working.json"))

    assert result.outcome == "already_working"
    assert all(f.disposition == "ok" for f in result.findings)
    assert result.fixes_applied == [] and result.escalation is None
    assert app.client.store.get(result.case_id).status == "closed"


def test_needs_info_runs_no_check(app):
    result = app.run(load_event("ticket-no-team.json"))

    assert result.outcome == "needs_info"
    assert result.team_id is None and result.findings == []
    assert result.trace.states == ["OpenCase", "TeamKnown", "CloseCase"]
    assert "team ID" in result.customer_reply


def _queued(app, case_id: str) -> dict:
    return app.client.queued_evidence(case_id)


def test_escalation_queues_the_evidence_and_applies_no_fix(app):
    # a staff billing hold: needs a person, and the safety rule keeps every fix back
    result = app.run(load_event("ticket-staff-billing-hold.json"))

    assert result.outcome == "escalated"
    assert result.fixes_applied == []
    assert result.trace.states == [*CHECKS, "Escalate"]
    message = _queued(app, result.case_id)
    assert message["reason"].startswith("Needs a person: billing.hold")
    assert [f["code"] for f in message["findings"]] == ["billing.hold", "key.ok", "restrictions.ok"]
    assert message["proposed_fixes"] == ["clear_billing_hold"]
    assert "task_token" not in json.dumps(message)
    case = app.client.store.get(result.case_id)
    assert case.status == "awaiting_staff" and case.task_token
    assert app.platform.get_team(result.team_id).billing.hold.active is True


def test_escalate_then_staff_approve_applies_the_fix_and_verifies(app):
    escalated = app.run(load_event("ticket-high-risk-hold.json"))
    assert escalated.outcome == "escalated"
    assert escalated.escalation["proposed_fixes"] == ["lift_risk_hold"]
    assert app.platform.probe(escalated.team_id).status == 403

    final = app.decide(escalated.case_id, "approve", actor="staff:alice")

    assert final.outcome == "auto_fixed" and final.verified is True
    assert final.fixes_applied == ["lift_risk_hold"]
    assert final.trace.states[-4:] == ["StaffDecision", "ApplyApprovedFixes", "Verified", "CloseCase"]
    case = app.client.store.get(escalated.case_id)
    assert case.status == "closed" and case.resolution == "approved"
    assert case.fixes[0].actor == "staff:alice"
    assert app.platform.probe(escalated.team_id).status == 200


def test_staff_reject_closes_without_touching_the_team(app):
    escalated = app.run(load_event("ticket-fraud-review.json"))
    final = app.decide(escalated.case_id, "reject", actor="staff:bob")

    assert final.outcome == "escalated"
    assert final.trace.states[-2:] == ["Rejected", "CloseCase"]
    case = app.client.store.get(escalated.case_id)
    assert case.status == "closed" and case.resolution == "rejected"
    assert app.platform.probe(escalated.team_id).status == 403


def test_deciding_twice_is_refused(app):
    from unblock_dev.staff import StaffError

    escalated = app.run(load_event("ticket-fraud-review.json"))
    app.decide(escalated.case_id, "resolve")
    with pytest.raises(StaffError, match="not waiting for staff"):
        app.client.decide(escalated.case_id, "resolve", "staff:carol")


def test_redelivered_ticket_makes_one_case_and_one_execution(app):
    event = load_event("ticket-entitlement-off.json")
    first = app.run(event)
    again = app.run(event)

    assert again.case_id == first.case_id
    assert again.trace == first.trace
    executions = app.client.sfn.list_executions(stateMachineArn=app.stack.outputs["StateMachineArn"])["executions"]
    from unblock.adapters.stepfunctions import execution_name

    name = execution_name(first.case_id)
    assert sum(1 for e in executions if e["name"] == name) == 1

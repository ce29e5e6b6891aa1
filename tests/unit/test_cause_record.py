"""Causes with a record (docs/causes.md): the figures read from a cause's cases, its waves, and when
its rule counts as likely misfiring (N of the last M staff decisions approved, no revert), and who owns
the rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from unblock.domain.cases import Case
from unblock.domain.causes import CaseLine, CauseSeen, MisfiringRule, case_line, figures, misfiring, owner_for, waves
from unblock.domain.incidents import Cause
from unblock.domain.models import Escalation, FixRevert, Report, StaffDecision

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
CAUSE = Cause(code="restrictions.risk_hold", reason="new account velocity", hold="risk_hold")
RULE = MisfiringRule()  # 5 of 6 within 30 days


def line(i: int, decision: str | None = "approve", *, at: datetime = T0, actor: str = "staff:ana",
         reverted: bool = False, team: str | None = None, proactive: bool = False) -> CaseLine:
    decided = at + timedelta(minutes=10 * i + 5) if decision else None
    return CaseLine(case_id=f"zendesk:{i}", team_id=team or f"team_{i:04d}", seen_at=at + timedelta(minutes=10 * i),
                    proactive=proactive, verified=True, status="closed", outcome="auto_fixed", decision=decision,
                    actor=actor if decision else None, decided_at=decided,
                    waited=timedelta(minutes=5) if decision else None, time_to_fix=timedelta(minutes=30 + i),
                    reverted_at=decided + timedelta(hours=1) if reverted and decided else None)


def test_five_approvals_of_the_last_six_decisions_mark_the_rule_misfiring_with_the_evidence():
    lines = [line(i) for i in range(5)] + [line(5, "reject")]
    evidence = misfiring(CAUSE, lines, T0 + timedelta(days=1), RULE, "risk-models")
    assert evidence is not None
    assert (evidence.approvals, evidence.decisions, evidence.owner) == (5, 6, "risk-models")
    assert evidence.teams == [f"team_{i:04d}" for i in range(6)]
    assert [d[1] for d in evidence.decided] == ["reject"] + ["approve"] * 5  # newest first
    assert evidence.median_time_to_fix_minutes == 32.5
    assert evidence.first_seen == T0


@pytest.mark.parametrize("why,lines", [
    ("four approvals of six", [line(i) for i in range(4)] + [line(4, "reject"), line(5, "resolve")]),
    ("only four decisions so far", [line(i) for i in range(4)]),
    ("a fix was reverted", [line(i) for i in range(5)] + [line(5, reverted=True)]),
    ("a policy's approvals are not staff's", [line(i, actor="policy:p1") for i in range(6)]),
    ("decisions older than the window", [line(i, at=T0 - timedelta(days=40)) for i in range(6)]),
])
def test_no_misfiring_rule_without_enough_recent_staff_approvals_or_after_a_revert(why, lines):
    assert misfiring(CAUSE, lines, T0 + timedelta(days=1), RULE, "x") is None, why


def test_the_last_m_decisions_count_not_older_ones():
    # six old approvals, then a reject and a resolve among the last six: 4 of 6
    lines = [line(i) for i in range(6)] + [line(6, "reject"), line(7, "resolve")]
    assert misfiring(CAUSE, lines, T0 + timedelta(days=1), RULE, "x") is None
    assert misfiring(CAUSE, lines, T0 + timedelta(days=1), MisfiringRule(4, 6, timedelta(days=30)), "x")


def test_figures_count_teams_decisions_deciders_waits_reverts_and_waves():
    first = [line(i) for i in range(3)]
    second = [line(i, at=T0 + timedelta(days=7), actor="policy:p1") for i in range(3, 6)]
    later = [line(6, "reject", at=T0 + timedelta(days=7), actor="staff:bo", reverted=False),
             line(7, None, at=T0 + timedelta(days=7), team="team_0001", proactive=True)]
    f = figures([*first, *second, *later])
    assert (f.teams, f.cases, f.proactive, f.waves) == (7, 8, 1, 2)
    assert f.staff_decisions == {"approve": 3, "resolve": 0, "reject": 1}
    assert f.policy_approvals == 3 and f.deciders == ["staff:ana", "staff:bo"]
    assert f.median_wait == timedelta(minutes=5)
    assert f.last_wave_started == T0 + timedelta(days=7, minutes=30)
    assert len(waves([*first, *second])) == 2


def test_a_case_line_reads_the_decision_the_wait_the_time_to_fix_and_a_revert_from_the_case():
    report = Report(case_id="zendesk:9", source="zendesk", team_id="team_a", received_at=T0)
    decided = T0 + timedelta(minutes=50)
    case = Case(case_id="zendesk:9", report=report, team_id="team_a", requester_verified=True, status="closed",
                outcome="auto_fixed", created_at=T0 + timedelta(minutes=1), updated_at=decided,
                closed_at=T0 + timedelta(minutes=52),
                escalation=Escalation(reason="r", priority="normal", findings=[], queued_at=T0 + timedelta(minutes=2)),
                decisions=[StaffDecision(decision="approve", actor="staff:ana", decided_at=decided)],
                reverts=[FixRevert(fix="lift_risk_hold", actor="staff:bo", at=decided + timedelta(hours=2), note="n",
                                   before={}, after={})])
    x = case_line(CauseSeen(case_id="zendesk:9", team_id="team_a", at=T0), case)
    assert (x.decision, x.actor, x.verified, x.proactive) == ("approve", "staff:ana", True, False)
    assert x.waited == timedelta(minutes=48) and x.time_to_fix == timedelta(minutes=52)
    assert x.reverted_at == decided + timedelta(hours=2)
    gone = case_line(CauseSeen(case_id="gateway:team_b:1", team_id="team_b", at=T0), None)
    assert gone.proactive and gone.decision is None and gone.status == "unknown"


def test_the_owner_is_the_longest_matching_reason_prefix_then_code_prefix_then_the_default():
    owners = {"default": "trust", "new account": "risk-models", "new account velocity": "velocity-team",
              "restrictions.": "restrictions-team", "billing.": "billing-team"}
    assert owner_for(CAUSE, owners) == "velocity-team"
    assert owner_for(Cause(code="restrictions.risk_hold", reason="geo mismatch", hold="risk_hold"),
                     owners) == "restrictions-team"
    assert owner_for(Cause(code="restrictions.abuse", reason="x", hold="abuse"), {"default": "trust"}) == "trust"
    assert owner_for(CAUSE, {}) == "unassigned"


@pytest.mark.parametrize("text,rule", [("", MisfiringRule()), ("3/4/14", MisfiringRule(3, 4, timedelta(days=14)))])
def test_the_misfiring_rule_parameter(text, rule):
    assert MisfiringRule.parse(text) == rule


@pytest.mark.parametrize("text", ["5/6", "7/6/30", "a/b/c", "5/6/0"])
def test_a_wrong_misfiring_rule_parameter_is_a_clear_error(text):
    with pytest.raises(ValueError, match="MISFIRING_RULE"):
        MisfiringRule.parse(text)

"""A standing policy's safety rules (docs/causes.md), one by one on the pure evaluation: it approves the
cause's proposed fix for a verified requester or a proactive case whose team meets its conditions, and
never for a staff-placed hold, an unverified requester, past the hourly lift cap, after it expired or
was revoked or stopped, in approval or shadow mode, for another fix or another cause."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from unblock.domain.cases import Case
from unblock.domain.checks import finding
from unblock.domain.incidents import cause_of
from unblock.domain.models import Escalation, Report
from unblock.domain.policies import Policy, PolicyConditions, evaluate, expires, proposed_fix

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
REASON = "new account velocity"


def findings(*, score: float = 0.81, source: str = "automated", card: bool = True, reason: str = REASON,
             extra: list[dict[str, Any]] | None = None, billing: str = "billing.ok") -> list[Any]:
    flags = [{"flag": "risk_hold", "source": source, "risk_score": score, "reason": reason, "created_at": None},
             *(extra or [])]
    bill = finding(billing, {"payment_method": "valid" if card else "expired", "payment_verified": True,
                             "hold_active": billing == "billing.hold", "hold_source": "staff"
                             if billing == "billing.hold" else None})
    return [bill, finding("key.ok", {}),
            finding("restrictions.risk_hold", {"flags": flags, "ai_gateway_entitled": True,
                                               "card_valid_and_verified": card, "risk_hold_auto_lifts_30d": []})]


def case(*, case_id: str = "zendesk:1", verified: bool = True, source: str = "zendesk", mode: str = "live",
         proposed: list[str] | None = None, **kw: Any) -> Case:
    fs = findings(**kw)
    return Case(case_id=case_id, report=Report(case_id=case_id, source=source, team_id="team_a"), team_id="team_a",
                requester_verified=verified, status="awaiting_staff", findings=fs, created_at=NOW, updated_at=NOW,
                mode=mode, escalation=Escalation(reason="r", priority="normal", findings=fs, queued_at=NOW,
                                                 proposed_fixes=["lift_risk_hold"] if proposed is None else proposed))


CAUSE = cause_of(findings())
assert CAUSE is not None


def policy(**kw: Any) -> Policy:
    fields: dict[str, Any] = dict(policy_id="pol-1", cause=CAUSE, fix="lift_risk_hold", owner="risk", created_by="ana",
                                  created_at=NOW - timedelta(days=1), expires_at=NOW + timedelta(days=6),
                                  status="live")
    return Policy(**(fields | kw))


def verdict(p: Policy, c: Case, *, lifts: int = 0, cap: int = 20, failed: bool = False, now: datetime = NOW) -> Any:
    return evaluate(p, c, now, lifts_last_hour=lifts, lift_cap=cap, failed=failed)


def test_a_verified_requester_whose_team_meets_the_conditions_is_approved():
    v = verdict(policy(conditions=PolicyConditions(max_risk_score=0.9)), case())
    assert v.approve and "pol-1" in v.reason


def test_a_proactive_case_is_approved_like_a_verified_one():
    assert verdict(policy(), case(case_id="gateway:team_a:2027-03-01T08:00:00Z", verified=False, source="gateway")
                   ).approve


@pytest.mark.parametrize("why,c,expected", [
    ("an unverified requester", case(verified=False), "not verified"),
    ("a staff-placed flag on the team", case(extra=[{"flag": "staff_hold", "source": "staff", "reason": "x"}]),
     "staff placed"),
    ("the card is not valid", case(card=False), "card"),
    ("the risk score is not below the bound", case(score=0.95), "risk score"),
    ("another cause", case(reason="geo mismatch"), "cause"),
    ("approval mode", case(mode="approval"), "approval mode"),
    ("shadow mode", case(mode="shadow"), "shadow mode"),
    ("not the policy's fix proposed", case(proposed=["resync_key"]), "proposes"),
    ("nothing proposed", case(proposed=[]), "proposes"),
])
def test_a_policy_never_approves(why, c, expected):
    v = verdict(policy(conditions=PolicyConditions(max_risk_score=0.9)), c)
    assert not v.approve and expected in v.reason, why


def test_a_staff_placed_hold_on_the_team_is_never_lifted_whatever_the_cause():
    # the deciding finding is the automated risk hold, but staff placed a billing hold as well
    c = case(billing="billing.hold")
    assert not verdict(policy(), c).approve


def test_the_hourly_lift_cap_is_never_exceeded():
    assert verdict(policy(), case(), lifts=19, cap=20).approve
    v = verdict(policy(), case(), lifts=20, cap=20)
    assert not v.approve and "hourly lift cap (20)" in v.reason


def test_an_expired_revoked_or_stopped_policy_approves_nothing():
    assert not verdict(policy(), case(), now=NOW + timedelta(days=6)).approve  # expired at expires_at
    assert verdict(policy(), case(), now=NOW + timedelta(days=6) - timedelta(seconds=1)).approve
    for status in ("revoked", "stopped"):
        v = verdict(policy(status=status), case())
        assert not v.approve and status in v.reason


def test_a_case_whose_run_failed_waits_for_staff():
    assert not verdict(policy(), case(), failed=True).approve


def test_the_card_condition_can_be_dropped_but_the_requester_rule_cannot():
    loose = policy(conditions=PolicyConditions(card_valid_and_verified=False))
    assert verdict(loose, case(card=False)).approve
    assert not verdict(loose, case(card=False, verified=False)).approve


def test_a_shadow_policy_says_what_it_would_do():
    assert verdict(policy(status="shadow"), case()).approve  # recorded, never acted on (workflow.policies)


def test_the_proposed_fix_of_a_cause_and_the_policy_length():
    assert proposed_fix(CAUSE) == "lift_risk_hold"
    with pytest.raises(ValueError, match="1 to 90 days"):
        expires(NOW, 0)
    with pytest.raises(ValueError, match="1 to 90 days"):
        expires(NOW, 91)

"""The decision over combinations of findings (DESIGN.md "Decision", steps 1-5) and the verdict."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from memory_ledger import MemoryLedger

from unblock.adapters.platform_sandbox import SandboxPlatform
from unblock.domain import checks
from unblock.domain.decision import decide, verdict
from unblock.domain.models import Finding, ProbeResult
from unblock_dev.clock import FixedClock
from unit_support import (
    ENTITLEMENT_OFF,
    KEY_PREFIX,
    LOW_RISK_HOLD,
    NOW,
    STALE_HOLD,
    UNSYNCED_KEY,
    ago,
    make_key,
    make_team,
    run_case,
    run_checks,
)

Seeder = Callable[..., str]

DENIED = ProbeResult(status=403, error_type="access_denied", message="Forbidden.")
OK_FINDINGS = ("billing.ok", "key.ok", "restrictions.ok")


def findings(*codes: str) -> list[Finding]:
    """Findings for the codes given, one per check; checks not named are ok."""
    by_check = {code.split(".")[0]: code for code in (*OK_FINDINGS, *codes)}
    return [checks.finding(by_check[c], {}) for c in ("billing", "key", "restrictions")]


def codes(found: list[Finding]) -> list[str]:
    return [f.code for f in found]


def no_probe() -> ProbeResult:
    raise AssertionError("the probe is only asked when every check is ok")


# --- step 1: needs_info ----------------------------------------------------------------------
@pytest.mark.parametrize("team_id", [None, ""])
def test_needs_info_when_no_team(team_id: str | None) -> None:
    plan = decide(team_id, [], no_probe)
    assert plan.action == "needs_info"
    assert plan.fixes == []


def test_needs_info_runs_nothing_else(platform: SandboxPlatform, seed: Seeder, ledger: MemoryLedger,
                                      clock: FixedClock) -> None:
    seed(make_team(**STALE_HOLD))
    run = run_case(platform, ledger, clock, None)
    assert (run.outcome, run.findings, run.records) == ("needs_info", [], [])
    assert ledger.records == []


# --- step 2: escalate, and no fix is applied ---------------------------------------------------
@pytest.mark.parametrize(
    "team",
    [
        {**STALE_HOLD, "restrictions": [{"flag": "fraud_review", "source": "automated"}]},
        {**UNSYNCED_KEY, **ENTITLEMENT_OFF, "billing": {"hold": {"active": True, "source": "staff"}}},
        {**STALE_HOLD, **UNSYNCED_KEY, "restrictions": [{"flag": "risk_hold", "source": "automated",
                                                          "risk_score": 0.8}]},
        {**UNSYNCED_KEY, "restrictions": [{"flag": "sanctions", "source": "staff"}]},
    ],
    ids=["stale-hold+fraud-review", "staff-hold+fixable-key+entitlement", "fixables+high-risk-hold",
         "fixable-key+sanctions"],
)
def test_no_fix_is_applied_when_any_finding_escalates(platform: SandboxPlatform, seed: Seeder,
                                                      ledger: MemoryLedger, clock: FixedClock,
                                                      team: dict[str, Any]) -> None:
    team_id = seed(make_team(**team))
    before = platform.get_team(team_id)
    run = run_case(platform, ledger, clock, team_id)
    assert any(f.disposition == "auto_fix" for f in run.findings)  # there was something fixable...
    assert run.plan.action == "escalate"  # ...but a person must look first
    assert run.plan.fixes == []
    assert run.outcome == "escalated"
    escalating = [f.code for f in run.findings if f.disposition == "escalate"]
    assert all(code in run.plan.reason for code in escalating)
    assert ledger.records == []
    assert platform.get_team(team_id) == before
    assert platform.probe(team_id) == DENIED


def test_escalate_wins_over_everything() -> None:
    plan = decide("team_x", findings("billing.stale_hold", "key.expired", "restrictions.abuse"), no_probe)
    assert (plan.action, plan.fixes) == ("escalate", [])
    assert "restrictions.abuse" in plan.reason


# --- step 3: auto_fix, then verify -------------------------------------------------------------
def test_a_fix_followed_by_a_customer_action(platform: SandboxPlatform, seed: Seeder, ledger: MemoryLedger,
                                             clock: FixedClock) -> None:
    team_id = seed(make_team(**UNSYNCED_KEY, billing={"invoices": [
        {"id": "in_7", "status": "open", "due_at": ago(days=3), "amount_cents": 4200}]}))
    run = run_case(platform, ledger, clock, team_id, key_prefix=KEY_PREFIX)
    assert codes(run.findings) == ["billing.invoice_overdue", "key.not_propagated", "restrictions.ok"]
    assert (run.plan.action, run.plan.fixes) == ("auto_fix", ["resync_key"])
    assert [(r.fix, r.status) for r in run.records] == [("resync_key", "applied")]
    assert codes(run.recheck) == ["billing.invoice_overdue", "key.ok", "restrictions.ok"]
    assert run.outcome == "customer_action"
    assert platform.get_keys(team_id)[0].edge_synced is True
    assert run.probe_after == DENIED  # still blocked until the invoice is paid


@pytest.mark.parametrize(
    ("team", "fixes"),
    [
        ({**STALE_HOLD, **ENTITLEMENT_OFF}, ["clear_billing_hold", "resync_entitlements"]),
        ({**UNSYNCED_KEY, **LOW_RISK_HOLD}, ["resync_key", "lift_risk_hold"]),
        ({**STALE_HOLD, **UNSYNCED_KEY, **LOW_RISK_HOLD},
         ["clear_billing_hold", "resync_key", "lift_risk_hold"]),
        # two safe problems in one check: the second is listed in the evidence and mended too
        ({**LOW_RISK_HOLD, **ENTITLEMENT_OFF}, ["lift_risk_hold", "resync_entitlements"]),
    ],
    ids=["hold+entitlement", "key+risk-hold", "three-fixes", "risk-hold+entitlement-same-check"],
)
def test_several_fixes_in_one_case(platform: SandboxPlatform, seed: Seeder, ledger: MemoryLedger,
                                   clock: FixedClock, team: dict[str, Any], fixes: list[str]) -> None:
    team_id = seed(make_team(**team))
    assert platform.probe(team_id).status == 403
    run = run_case(platform, ledger, clock, team_id)
    assert run.plan.action == "auto_fix"
    assert run.plan.fixes == fixes  # in check order
    assert [(r.fix, r.status) for r in run.records] == [(fix, "applied") for fix in fixes]
    assert codes(run.recheck) == ["billing.ok", "key.ok", "restrictions.ok"]
    assert run.probe_after == ProbeResult(status=200)
    assert run.outcome == "auto_fixed"


def test_mended_card_turns_a_hold_into_a_stale_one_that_is_cleared(
        platform: SandboxPlatform, seed: Seeder, ledger: MemoryLedger, clock: FixedClock) -> None:
    team_id = seed(make_team(billing={"payment_method": {"status": "expired"},
                                      "hold": {"active": True, "source": "automated"}}))
    first = run_case(platform, ledger, clock, team_id, case_id="c-1")
    assert (first.findings[0].code, first.outcome) == ("billing.payment_method_expired", "customer_action")
    assert ledger.records == []

    # the customer adds a valid card; the scheduled re-check finds the hold stale and clears it
    team = platform.get_team(team_id)
    billing = team.billing.model_copy(update={"payment_method": team.billing.payment_method.model_copy(
        update={"status": "valid", "verified": True})})
    platform.replace_team(team.model_copy(update={"billing": billing}))
    second = run_case(platform, ledger, clock, team_id, case_id="c-1")
    assert second.findings[0].code == "billing.stale_hold"
    assert second.outcome == "auto_fixed"
    assert platform.get_billing(team_id).hold.active is False


@pytest.mark.parametrize(
    ("after", "probe", "outcome"),
    [
        ((), ProbeResult(status=200), "auto_fixed"),
        ((), DENIED, "escalated"),
        (("billing.invoice_overdue",), DENIED, "customer_action"),
        (("billing.invoice_overdue", "key.propagating"), DENIED, "customer_action"),
        (("restrictions.entitlement_out_of_sync",), DENIED, "escalated"),
        (("key.expired", "restrictions.risk_hold"), DENIED, "escalated"),
    ],
    ids=["clear", "clear-but-denied", "customer-left", "two-customer-left", "fix-did-not-take",
         "escalate-left"],
)
def test_verdict_after_fixes(after: tuple[str, ...], probe: ProbeResult, outcome: str) -> None:
    got, reason = verdict(findings(*after), probe)
    assert got == outcome
    assert reason
    if outcome == "escalated" and after:
        assert all(code in reason for code in after)
    if outcome == "escalated" and not after:
        assert "403" in reason


# --- step 4: customer_action -------------------------------------------------------------------
def test_customer_action_only(platform: SandboxPlatform, seed: Seeder, ledger: MemoryLedger,
                              clock: FixedClock) -> None:
    team_id = seed(make_team(keys=[make_key(status="revoked")],
                             billing={"credits": {"balance_cents": -20}}))
    run = run_case(platform, ledger, clock, team_id)
    assert codes(run.findings) == ["billing.credits_exhausted", "key.none_active", "restrictions.ok"]
    assert run.plan.action == "customer_action"
    assert "billing.credits_exhausted" in run.plan.reason and "key.none_active" in run.plan.reason
    assert run.outcome == "customer_action"
    assert ledger.records == []


def test_customer_action_does_not_probe() -> None:
    plan = decide("team_x", findings("key.propagating"), no_probe)
    assert (plan.action, plan.fixes) == ("customer_action", [])


# --- step 5: all ok ----------------------------------------------------------------------------
def test_all_ok_and_probe_200_is_already_working(platform: SandboxPlatform, seed: Seeder,
                                                 ledger: MemoryLedger, clock: FixedClock) -> None:
    team_id = seed(make_team())
    run = run_case(platform, ledger, clock, team_id, key_prefix=KEY_PREFIX)
    assert [f.disposition for f in run.findings] == ["ok", "ok", "ok"]
    assert run.plan.action == "already_working"
    assert run.outcome == "already_working"


def test_all_ok_but_probe_denied_escalates_cause_unknown(platform: SandboxPlatform, seed: Seeder) -> None:
    # the sandbox never denies a team whose checks all pass (test_properties proves it), so the
    # gateway's unexplained 403 is stood in by a probe that says so
    team_id = seed(make_team())
    found = run_checks(platform, team_id, None, NOW)
    asked: list[bool] = []

    def denied_probe() -> ProbeResult:
        asked.append(True)
        return DENIED

    plan = decide(team_id, found, denied_probe)
    assert asked == [True]
    assert plan.action == "escalate"
    assert plan.fixes == []
    assert "403" in plan.reason and "access_denied" in plan.reason

"""One test per finding code of DESIGN.md's table, each from a small seed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from unblock.adapters.platform_sandbox import SandboxPlatform
from unblock.domain import checks
from unblock.domain.checks import CATALOGUE, check_billing, check_key, check_restrictions
from unblock.domain.decision import decide
from unblock.domain.models import Finding, ProbeResult
from unblock.ports import PlatformUnavailable
from unblock_dev.clock import FixedClock
from unit_support import (
    KEY_PREFIX,
    NOW,
    OTHER_KEY_PREFIX,
    OTHER_TEAM_ID,
    ago,
    ahead,
    assert_no_secret,
    make_key,
    make_team,
    run_checks,
)

Seeder = Callable[..., str]

DESIGN_FIXES = {
    "billing.stale_hold": "clear_billing_hold",
    "key.not_propagated": "resync_key",
    "restrictions.entitlement_out_of_sync": "resync_entitlements",
    "restrictions.risk_hold_liftable": "lift_risk_hold",
}


def assert_finding(f: Finding, code: str, disposition: str) -> None:
    assert (f.code, f.disposition) == (code, disposition)
    assert f.check == code.split(".")[0]
    assert f.fix == DESIGN_FIXES.get(code)
    assert f.summary and "\n" not in f.summary
    assert_no_secret(f)


def billing(platform: SandboxPlatform, seed: Seeder, **team: Any) -> Finding:
    return check_billing(platform, seed(make_team(**team)), NOW)


def key(platform: SandboxPlatform, seed: Seeder, prefix: str | None = KEY_PREFIX, **team: Any) -> Finding:
    return check_key(platform, seed(make_team(**team)), prefix, NOW)


def restrictions(platform: SandboxPlatform, seed: Seeder, **team: Any) -> Finding:
    return check_restrictions(platform, seed(make_team(**team)), NOW)


def test_catalogue_is_the_design_table() -> None:
    assert set(CATALOGUE) == {
        "billing.ok", "billing.no_payment_method", "billing.payment_method_expired", "billing.payment_failed",
        "billing.invoice_overdue", "billing.credits_exhausted", "billing.free_credits_restricted",
        "billing.stale_hold", "billing.hold",
        "key.ok", "key.none_active", "key.not_found", "key.wrong_team", "key.revoked", "key.expired",
        "key.budget_exhausted", "key.propagating", "key.not_propagated",
        "restrictions.ok", "restrictions.entitlement_out_of_sync", "restrictions.risk_hold_liftable",
        "restrictions.risk_hold", "restrictions.abuse", "restrictions.fraud_review", "restrictions.sanctions",
        "restrictions.staff_hold",
    }
    assert {code: fix for code, (_, fix, _, _) in CATALOGUE.items() if fix} == DESIGN_FIXES


def test_every_customer_action_finding_carries_its_step() -> None:
    """A finding's row holds the customer's step (issue 33): a customer_action code without one would
    send a verified requester no step at all, so this fails for it; no other row has one."""
    for code, row in CATALOGUE.items():
        if row.disposition == "customer_action":
            assert len(row.step) > 20 and row.step.endswith("."), f"{code} has no step for the customer"
        else:
            assert row.step == "", f"{code} is not the customer's to mend, so it has no step"


def test_healthy_team_every_check_ok(platform: SandboxPlatform, seed: Seeder) -> None:
    team_id = seed(make_team())
    found = run_checks(platform, team_id, None, NOW)
    assert [f.code for f in found] == ["billing.ok", "key.ok", "restrictions.ok"]
    for f in found:
        assert_finding(f, f.code, "ok")
    assert platform.probe(team_id) == ProbeResult(status=200)


# --- billing ---------------------------------------------------------------------------------
def test_billing_ok_evidence(platform: SandboxPlatform, seed: Seeder) -> None:
    f = billing(platform, seed)
    assert_finding(f, "billing.ok", "ok")
    assert f.evidence["payment_method"] == "valid"
    assert f.evidence["payment_verified"] is True
    assert f.evidence["hold_active"] is False
    assert f.evidence["balance_cents"] == 5000
    assert f.evidence["overdue_invoices"] == []


@pytest.mark.parametrize("payment_method", [{"status": "none", "verified": False},
                                            {"status": "valid", "verified": False}])
def test_billing_no_payment_method_free_tier(platform: SandboxPlatform, seed: Seeder,
                                             payment_method: dict[str, Any]) -> None:
    f = billing(platform, seed, billing={"payment_method": payment_method, "credits": {"tier": "free"}})
    assert_finding(f, "billing.no_payment_method", "customer_action")
    assert f.evidence["tier"] == "free"
    assert f.evidence["payment_method"] == payment_method["status"]
    assert f.evidence["payment_verified"] is False


def test_billing_no_payment_method_under_automated_hold(platform: SandboxPlatform, seed: Seeder) -> None:
    f = billing(platform, seed, billing={"payment_method": {"status": "none", "verified": False},
                                         "hold": {"active": True, "source": "automated"}})
    assert_finding(f, "billing.no_payment_method", "customer_action")
    assert f.evidence["hold_source"] == "automated"


def test_paid_tier_without_card_and_no_hold_is_not_blocked(platform: SandboxPlatform, seed: Seeder) -> None:
    # the gateway does not refuse a paid-tier team with credits: the check notes it, but passes
    f = billing(platform, seed, billing={"payment_method": {"status": "expired"}})
    assert_finding(f, "billing.ok", "ok")
    assert f.evidence["warnings"] == ["billing.payment_method_expired"]


def test_billing_payment_method_expired(platform: SandboxPlatform, seed: Seeder) -> None:
    f = billing(platform, seed, billing={
        "payment_method": {"status": "expired", "verified": True},
        "hold": {"active": True, "source": "automated", "reason": "card expired", "since": ago(days=2)}})
    assert_finding(f, "billing.payment_method_expired", "customer_action")
    assert f.evidence["payment_method"] == "expired"
    assert f.evidence["hold_source"] == "automated"
    assert f.evidence["hold_reason"] == "card expired"
    assert f.evidence["hold_since"] == (NOW - timedelta(days=2)).isoformat()


def test_billing_payment_failed(platform: SandboxPlatform, seed: Seeder) -> None:
    f = billing(platform, seed, billing={"payment_method": {"status": "declined", "verified": True},
                                         "hold": {"active": True, "source": "automated"}})
    assert_finding(f, "billing.payment_failed", "customer_action")
    assert f.evidence["payment_method"] == "declined"


def test_billing_invoice_overdue(platform: SandboxPlatform, seed: Seeder) -> None:
    f = billing(platform, seed, billing={"invoices": [
        {"id": "in_late", "status": "open", "due_at": ago(minutes=1), "amount_cents": 2000},
        {"id": "in_soon", "status": "open", "due_at": ahead(days=3), "amount_cents": 2000},
        {"id": "in_paid", "status": "paid", "due_at": ago(days=30), "amount_cents": 2000},
    ]})
    assert_finding(f, "billing.invoice_overdue", "customer_action")
    assert f.evidence["overdue_invoices"] == ["in_late"]


def test_invoice_becomes_overdue_when_its_due_date_passes(platform: SandboxPlatform, seed: Seeder,
                                                          clock: FixedClock) -> None:
    team_id = seed(make_team(billing={"invoices": [
        {"id": "in_9", "status": "open", "due_at": ahead(hours=1), "amount_cents": 900}]}))
    assert check_billing(platform, team_id, clock.now()).code == "billing.ok"
    assert platform.probe(team_id).status == 200
    clock.advance(timedelta(hours=1, seconds=1))
    f = check_billing(platform, team_id, clock.now())
    assert_finding(f, "billing.invoice_overdue", "customer_action")
    assert f.evidence["overdue_invoices"] == ["in_9"]
    assert platform.probe(team_id) == ProbeResult(status=403, error_type="access_denied",
                                                  message="Forbidden.")


def test_automated_hold_with_overdue_invoice_reports_the_invoice(platform: SandboxPlatform,
                                                                 seed: Seeder) -> None:
    f = billing(platform, seed, billing={
        "hold": {"active": True, "source": "automated"},
        "invoices": [{"id": "in_2", "status": "open", "due_at": ago(days=1), "amount_cents": 100}]})
    assert_finding(f, "billing.invoice_overdue", "customer_action")


def test_billing_credits_exhausted(platform: SandboxPlatform, seed: Seeder) -> None:
    f = billing(platform, seed, billing={"credits": {"tier": "paid", "balance_cents": 0}})
    assert_finding(f, "billing.credits_exhausted", "customer_action")
    assert f.evidence["balance_cents"] == 0
    assert f.evidence["auto_topup"] is False


def test_empty_balance_with_auto_topup_is_fine(platform: SandboxPlatform, seed: Seeder) -> None:
    f = billing(platform, seed, billing={"credits": {"balance_cents": 0, "auto_topup": True}})
    assert_finding(f, "billing.ok", "ok")


def test_billing_free_credits_restricted(platform: SandboxPlatform, seed: Seeder) -> None:
    f = billing(platform, seed, billing={"credits": {"tier": "free", "free_credits_restricted": True}})
    assert_finding(f, "billing.free_credits_restricted", "customer_action")
    assert f.evidence["free_credits_restricted"] is True
    assert f.evidence["tier"] == "free"


def test_billing_stale_hold(platform: SandboxPlatform, seed: Seeder) -> None:
    f = billing(platform, seed, billing={
        "hold": {"active": True, "source": "automated", "reason": "payment retry failed",
                 "since": ago(days=6)}})
    assert_finding(f, "billing.stale_hold", "auto_fix")
    assert f.evidence["hold_source"] == "automated"
    assert f.evidence["hold_reason"] == "payment retry failed"
    assert f.evidence["payment_method"] == "valid"
    assert f.evidence["overdue_invoices"] == []


def test_billing_staff_hold(platform: SandboxPlatform, seed: Seeder) -> None:
    f = billing(platform, seed, billing={
        "payment_method": {"status": "expired"},
        "hold": {"active": True, "source": "staff", "reason": "chargeback dispute"}})
    assert_finding(f, "billing.hold", "escalate")
    assert f.evidence["hold_source"] == "staff"
    assert f.evidence["hold_reason"] == "chargeback dispute"
    # the other problem it saw is listed, not lost
    assert f.evidence["other_problems"] == ["billing.payment_method_expired"]


# --- key -------------------------------------------------------------------------------------
@pytest.mark.parametrize("prefix", [KEY_PREFIX, None])
def test_key_ok(platform: SandboxPlatform, seed: Seeder, prefix: str | None) -> None:
    f = key(platform, seed, prefix)
    assert_finding(f, "key.ok", "ok")
    if prefix:
        evidence = (f.evidence["prefix"], f.evidence["status"], f.evidence["edge_synced"])
        assert evidence == (KEY_PREFIX, "active", True)
    else:
        assert f.evidence["active_keys"] == [KEY_PREFIX]


def test_no_key_named_and_one_working_key_among_broken_is_ok(platform: SandboxPlatform, seed: Seeder) -> None:
    f = key(platform, seed, None, keys=[make_key(key_id="key_0", prefix="vck_dead00", status="revoked"),
                                        make_key()])
    assert_finding(f, "key.ok", "ok")
    assert f.evidence["keys_total"] == 2


@pytest.mark.parametrize("keys", [[], [make_key(status="revoked")], [make_key(expires_at=ago(days=1))]],
                         ids=["no-keys", "only-revoked", "only-expired"])
def test_key_none_active(platform: SandboxPlatform, seed: Seeder, keys: list[dict[str, Any]]) -> None:
    f = key(platform, seed, None, keys=keys)
    assert_finding(f, "key.none_active", "customer_action")
    assert f.evidence["active_keys"] == []
    assert f.evidence["keys_total"] == len(keys)


def test_key_not_found(platform: SandboxPlatform, seed: Seeder) -> None:
    f = key(platform, seed, "vck_nosuch")
    assert_finding(f, "key.not_found", "customer_action")
    assert f.evidence["prefix"] == "vck_nosuch"
    assert f.evidence["team_keys"] == [KEY_PREFIX]


def test_key_wrong_team(platform: SandboxPlatform, seed: Seeder) -> None:
    f = key(platform, seed, OTHER_KEY_PREFIX)
    assert_finding(f, "key.wrong_team", "customer_action")
    assert f.evidence["prefix"] == OTHER_KEY_PREFIX
    # the reporter may not belong to the other team: it is never named
    assert OTHER_TEAM_ID not in str(f.model_dump())


def test_key_revoked(platform: SandboxPlatform, seed: Seeder) -> None:
    f = key(platform, seed, keys=[make_key(status="revoked")])
    assert_finding(f, "key.revoked", "customer_action")
    assert f.evidence["status"] == "revoked"
    assert f.evidence["key_id"] == "key_1"


def test_key_expired(platform: SandboxPlatform, seed: Seeder, clock: FixedClock) -> None:
    team_id = seed(make_team(keys=[make_key(expires_at=ahead(minutes=30))]))
    assert check_key(platform, team_id, KEY_PREFIX, clock.now()).code == "key.ok"
    clock.advance(timedelta(minutes=30))
    f = check_key(platform, team_id, KEY_PREFIX, clock.now())
    assert_finding(f, "key.expired", "customer_action")
    assert f.evidence["expires_at"] == (NOW + timedelta(minutes=30)).isoformat()
    assert platform.probe(team_id, KEY_PREFIX).status == 403


def test_key_budget_exhausted(platform: SandboxPlatform, seed: Seeder) -> None:
    f = key(platform, seed, keys=[make_key(budget={"limit_cents": 1000, "used_cents": 1000})])
    assert_finding(f, "key.budget_exhausted", "customer_action")
    assert (f.evidence["budget_limit_cents"], f.evidence["budget_used_cents"]) == (1000, 1000)


def test_key_propagating_when_younger_than_ten_minutes(platform: SandboxPlatform, seed: Seeder) -> None:
    f = key(platform, seed, keys=[make_key(created_at=ago(minutes=4), edge_synced=False)])
    assert_finding(f, "key.propagating", "customer_action")
    assert f.evidence["age_minutes"] == 4
    assert f.evidence["edge_synced"] is False


def test_key_not_propagated_when_older_than_ten_minutes(platform: SandboxPlatform, seed: Seeder) -> None:
    f = key(platform, seed, keys=[make_key(created_at=ago(minutes=25), edge_synced=False)])
    assert_finding(f, "key.not_propagated", "auto_fix")
    assert f.evidence["age_minutes"] == 25
    assert f.evidence["key_id"] == "key_1"


def test_unsynced_key_turns_from_propagating_to_not_propagated_at_ten_minutes(
        platform: SandboxPlatform, seed: Seeder, clock: FixedClock) -> None:
    team_id = seed(make_team(keys=[make_key(created_at=ago(minutes=9, seconds=59), edge_synced=False)]))
    assert check_key(platform, team_id, KEY_PREFIX, clock.now()).code == "key.propagating"
    clock.advance(timedelta(seconds=1))
    f = check_key(platform, team_id, KEY_PREFIX, clock.now())
    assert (f.code, f.evidence["age_minutes"]) == ("key.not_propagated", 10)


def test_unnamed_key_reports_the_key_that_needs_the_fix(platform: SandboxPlatform, seed: Seeder) -> None:
    f = key(platform, seed, None, keys=[
        make_key(key_id="key_a", prefix="vck_new001", created_at=ago(minutes=2), edge_synced=False),
        make_key(key_id="key_b", prefix="vck_old001", created_at=ago(hours=2), edge_synced=False),
    ])
    assert_finding(f, "key.not_propagated", "auto_fix")
    assert f.evidence["key_id"] == "key_b"
    assert f.evidence["active_keys"] == ["vck_new001", "vck_old001"]


def test_key_with_several_problems_reports_the_deciding_one(platform: SandboxPlatform, seed: Seeder) -> None:
    broken = make_key(created_at=ago(hours=1), edge_synced=False, budget={"limit_cents": 5, "used_cents": 9})
    named = key(platform, seed, KEY_PREFIX, keys=[broken])
    unnamed = key(platform, seed, None, keys=[broken])
    for f in (named, unnamed):
        assert_finding(f, "key.not_propagated", "auto_fix")
        assert f.evidence["other_problems"] == ["key.budget_exhausted"]


def test_expired_unsynced_key_is_expired_not_resynced(platform: SandboxPlatform, seed: Seeder) -> None:
    # a dead key is not worth propagating: the customer needs a new key, not a resync
    dead = make_key(created_at=ago(days=2), expires_at=ago(hours=1), edge_synced=False)
    for prefix in (KEY_PREFIX, None):
        f = key(platform, seed, prefix, keys=[dead])
        assert f.fix is None
        assert f.code == ("key.expired" if prefix else "key.none_active")


# --- restrictions ----------------------------------------------------------------------------
def risk_hold(**overrides: Any) -> dict[str, Any]:
    return {"flag": "risk_hold", "source": "automated", "risk_score": 0.2, "reason": "unusual country",
            "created_at": ago(days=1), **overrides}


def test_restrictions_ok(platform: SandboxPlatform, seed: Seeder) -> None:
    f = restrictions(platform, seed)
    assert_finding(f, "restrictions.ok", "ok")
    assert f.evidence == {"flags": [], "ai_gateway_entitled": True}


@pytest.mark.parametrize("plan", ["hobby", "pro", "enterprise"])
def test_restrictions_entitlement_out_of_sync(platform: SandboxPlatform, seed: Seeder, plan: str) -> None:
    f = restrictions(platform, seed, plan=plan, entitlements={"ai_gateway": False})
    assert_finding(f, "restrictions.entitlement_out_of_sync", "auto_fix")
    assert f.evidence["ai_gateway_entitled"] is False


def test_restrictions_risk_hold_liftable(platform: SandboxPlatform, seed: Seeder) -> None:
    f = restrictions(platform, seed, restrictions=[risk_hold()])
    assert_finding(f, "restrictions.risk_hold_liftable", "auto_fix")
    assert f.evidence["flags"] == [{"flag": "risk_hold", "source": "automated", "risk_score": 0.2,
                                    "reason": "unusual country",
                                    "created_at": (NOW - timedelta(days=1)).isoformat()}]
    assert f.evidence["card_valid_and_verified"] is True
    assert f.evidence["risk_hold_auto_lifts_30d"] == []


@pytest.mark.parametrize(
    "team",
    [
        {"restrictions": [risk_hold(source="staff")]},
        {"restrictions": [risk_hold(risk_score=0.5)]},
        {"restrictions": [risk_hold(risk_score=0.91)]},
        {"restrictions": [risk_hold(risk_score=None)]},
        {"restrictions": [risk_hold(), risk_hold(risk_score=0.7)]},
        {"restrictions": [risk_hold()],
         "billing": {"payment_method": {"status": "valid", "verified": False}}},
        {"restrictions": [risk_hold()], "billing": {"payment_method": {"status": "expired"}}},
    ],
    ids=["staff", "score-0.5", "score-high", "no-score", "second-hold-high", "card-unverified",
         "card-expired"],
)
def test_restrictions_risk_hold_not_liftable(platform: SandboxPlatform, seed: Seeder,
                                             team: dict[str, Any]) -> None:
    f = restrictions(platform, seed, **team)
    assert_finding(f, "restrictions.risk_hold", "escalate")


def test_risk_hold_auto_lift_within_30_days_escalates(platform: SandboxPlatform, seed: Seeder) -> None:
    f = restrictions(platform, seed, restrictions=[risk_hold()],
                     auto_lifts=[{"flag": "risk_hold", "at": ago(days=29, hours=23)}])
    assert_finding(f, "restrictions.risk_hold", "escalate")
    assert f.evidence["risk_hold_auto_lifts_30d"] == [(NOW - timedelta(days=29, hours=23)).isoformat()]


def test_risk_hold_auto_lift_outside_30_days_is_liftable_again(platform: SandboxPlatform, seed: Seeder,
                                                               clock: FixedClock) -> None:
    team_id = seed(make_team(restrictions=[risk_hold()],
                             auto_lifts=[{"flag": "risk_hold", "at": ago(days=29)},
                                         {"flag": "abuse", "at": ago(days=1)}]))
    assert check_restrictions(platform, team_id, clock.now()).code == "restrictions.risk_hold"
    clock.advance(timedelta(days=1))
    f = check_restrictions(platform, team_id, clock.now())
    assert_finding(f, "restrictions.risk_hold_liftable", "auto_fix")
    assert f.evidence["risk_hold_auto_lifts_30d"] == []


@pytest.mark.parametrize("flag", ["abuse", "fraud_review", "sanctions", "staff_hold"])
def test_restrictions_escalating_flags(platform: SandboxPlatform, seed: Seeder, flag: str) -> None:
    f = restrictions(platform, seed, restrictions=[
        {"flag": flag, "source": "staff", "risk_score": 0.95, "reason": "manual review",
         "created_at": ago(days=3)}])
    assert_finding(f, f"restrictions.{flag}", "escalate")
    assert [flag_["flag"] for flag_ in f.evidence["flags"]] == [flag]
    assert f.evidence["flags"][0]["source"] == "staff"
    assert f.evidence["flags"][0]["risk_score"] == 0.95


def test_escalating_flag_wins_over_a_liftable_hold(platform: SandboxPlatform, seed: Seeder) -> None:
    f = restrictions(platform, seed, entitlements={"ai_gateway": False},
                     restrictions=[risk_hold(), {"flag": "fraud_review", "source": "automated"}])
    assert_finding(f, "restrictions.fraud_review", "escalate")
    assert f.evidence["other_problems"] == ["restrictions.risk_hold_liftable",
                                            "restrictions.entitlement_out_of_sync"]


# --- unavailable -----------------------------------------------------------------------------
class ThrottledTable:
    """A table that always answers like DynamoDB under throttling."""

    def get_item(self, **_: Any) -> Any:
        error = {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}}
        raise ClientError(error, "GetItem")


@pytest.mark.parametrize("check", ["billing", "key", "restrictions"])
def test_check_unavailable_escalates(check: str, clock: FixedClock) -> None:
    platform = SandboxPlatform(ThrottledTable(), clock)
    run: dict[str, Callable[[], Finding]] = {
        "billing": lambda: check_billing(platform, "team_x", NOW),
        "key": lambda: check_key(platform, "team_x", None, NOW),
        "restrictions": lambda: check_restrictions(platform, "team_x", NOW),
    }
    with pytest.raises(PlatformUnavailable) as raised:  # Step Functions retries on this class name
        run[check]()
    assert "ProvisionedThroughputExceededException" in str(raised.value)  # the cause, for the evidence
    # after the retries the state machine records `<check>.unavailable` (its Pass state; see the
    # contract test) and Decide must escalate on it
    f = Finding(check=check, code=f"{check}.unavailable", disposition="escalate", summary="no answer",
                evidence={"error": "PlatformUnavailable"})
    ok = [checks.finding(code, {}) for code in ("billing.ok", "key.ok", "restrictions.ok")]
    findings = [f if o.check == check else o for o in ok]
    assert decide("team_x", findings, lambda: ProbeResult(status=200)).action == "escalate"

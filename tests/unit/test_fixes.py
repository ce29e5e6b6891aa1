"""The four fixes against the sandbox platform, their audit, idempotency and guardrails."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from memory_ledger import MemoryLedger

from unblock.adapters.platform_sandbox import SandboxPlatform
from unblock.domain.fixes import FIXES, FixPolicy, FixTarget, apply_fixes
from unblock.domain.models import Finding, FixName, FixRecord
from unblock.domain.platform_model import Entitlements, Team
from unblock.ports import FixConflict
from unblock_dev.clock import FixedClock
from unit_support import (
    ENTITLEMENT_OFF,
    LOW_RISK_HOLD,
    NOW,
    OTHER_TEAM_ID,
    STALE_HOLD,
    UNSYNCED_KEY,
    ago,
    make_team,
    run_checks,
)

Seeder = Callable[..., str]


@dataclass(frozen=True)
class FixCase:
    fix: FixName
    team: dict[str, Any]
    code: str  # the finding that calls for the fix
    state: Callable[[Team], Any]  # the platform state the fix changes
    broken: Any
    mended: Any
    mend: Callable[[Team], Team]  # what staff or the customer would do by hand


def _mend_key(team: Team) -> Team:
    keys = tuple(k.model_copy(update={"edge_synced": True}) for k in team.keys)
    return team.model_copy(update={"keys": keys})


FIX_CASES = [
    FixCase("clear_billing_hold", STALE_HOLD, "billing.stale_hold",
            lambda t: t.billing.hold.active, True, False,
            lambda t: t.model_copy(update={"billing": t.billing.model_copy(
                update={"hold": t.billing.hold.model_copy(update={"active": False})})})),
    FixCase("resync_key", UNSYNCED_KEY, "key.not_propagated",
            lambda t: [k.edge_synced for k in t.keys], [False], [True], _mend_key),
    FixCase("resync_entitlements", ENTITLEMENT_OFF, "restrictions.entitlement_out_of_sync",
            lambda t: t.entitlements.ai_gateway, False, True,
            lambda t: t.model_copy(update={"entitlements": Entitlements(ai_gateway=True)})),
    FixCase("lift_risk_hold", LOW_RISK_HOLD, "restrictions.risk_hold_liftable",
            lambda t: ([r.flag for r in t.restrictions], [(a.flag, a.at) for a in t.auto_lifts]),
            (["risk_hold"], []), ([], [("risk_hold", NOW)]),
            lambda t: t.model_copy(update={"restrictions": ()})),
]
BY_FIX = {c.fix: c for c in FIX_CASES}
ids = [c.fix for c in FIX_CASES]


def fix_all(platform: SandboxPlatform, ledger: MemoryLedger, clock: FixedClock, team_id: str,
            findings: list[Finding], *, policy: FixPolicy | None = None, case_id: str = "zendesk:4711",
            approved: bool = False, actor: str = "unblock", requester_verified: bool = True) -> list[FixRecord]:
    fixes = [fix for f in findings if (fix := f.fix)]
    return apply_fixes(platform, ledger, clock, case_id=case_id, team_id=team_id, findings=findings,
                       fixes=fixes, policy=policy or FixPolicy(), actor=actor, approved=approved,
                       requester_verified=requester_verified)


def version(table: Any, team_id: str) -> int:
    """How many times the sandbox wrote the team (1 on load)."""
    return int(table.get_item(Key={"pk": f"team#{team_id}"})["Item"]["version"])


def lift_record(team_id: str, at_minutes_ago: int, status: str = "applied") -> FixRecord:
    return FixRecord(case_id=f"case-{team_id}-{at_minutes_ago}", team_id=team_id, fix="lift_risk_hold",
                     status=status, actor="unblock", at=NOW - timedelta(minutes=at_minutes_ago))


# --- each fix ---------------------------------------------------------------------------------
@pytest.mark.parametrize("case", FIX_CASES, ids=ids)
def test_fix_mends_the_platform_and_access_works(platform: SandboxPlatform, seed: Seeder,
                                                 ledger: MemoryLedger, clock: FixedClock,
                                                 case: FixCase) -> None:
    team_id = seed(make_team(**case.team))
    assert case.state(platform.get_team(team_id)) == case.broken
    assert platform.probe(team_id).status == 403
    findings = run_checks(platform, team_id, None, NOW)
    assert [f.code for f in findings if f.fix] == [case.code]

    records = fix_all(platform, ledger, clock, team_id, findings, actor="staff:alice")

    assert case.state(platform.get_team(team_id)) == case.mended
    assert platform.probe(team_id).status == 200
    assert [f.disposition for f in run_checks(platform, team_id, None, NOW)] == ["ok", "ok", "ok"]
    [rec] = records
    assert (rec.case_id, rec.team_id, rec.fix, rec.status) == ("zendesk:4711", team_id, case.fix, "applied")
    assert (rec.actor, rec.at) == ("staff:alice", NOW)
    assert rec.before and rec.after and rec.before != rec.after
    assert ledger.records == [rec]


def test_audit_before_and_after_describe_the_change(platform: SandboxPlatform, seed: Seeder,
                                                    ledger: MemoryLedger, clock: FixedClock) -> None:
    team_id = seed(make_team(**STALE_HOLD, **UNSYNCED_KEY, **ENTITLEMENT_OFF))
    records = fix_all(platform, ledger, clock, team_id, run_checks(platform, team_id, None, NOW))
    audit = {r.fix: (r.before, r.after) for r in records}
    hold_before, hold_after = audit["clear_billing_hold"]
    assert (hold_before["hold"]["active"], hold_after["hold"]["active"]) == (True, False)
    assert hold_after["hold"]["reason"] == "retry failed"
    assert audit["resync_key"] == ({"key_id": "key_1", "edge_synced": False},
                                   {"key_id": "key_1", "edge_synced": True})
    assert audit["resync_entitlements"] == ({"entitlements": {"ai_gateway": False}},
                                            {"entitlements": {"ai_gateway": True}})


def test_only_the_fixes_named_are_applied(platform: SandboxPlatform, seed: Seeder, ledger: MemoryLedger,
                                          clock: FixedClock) -> None:
    team_id = seed(make_team(**STALE_HOLD, **ENTITLEMENT_OFF))
    findings = run_checks(platform, team_id, None, NOW)
    records = apply_fixes(platform, ledger, clock, case_id="c", team_id=team_id, findings=findings,
                          fixes=["resync_entitlements"], policy=FixPolicy(), actor="unblock", requester_verified=True)
    assert [r.fix for r in records] == ["resync_entitlements"]
    assert platform.get_billing(team_id).hold.active is True


# --- the table of fixes ---------------------------------------------------------------------
@pytest.mark.parametrize("case", FIX_CASES, ids=ids)
def test_each_row_of_the_fix_table_agrees_with_itself(platform: SandboxPlatform, seed: Seeder,
                                                      case: FixCase) -> None:
    """A row's in-place check, audit snapshot, port call and change to the team describe one fix:
    not in place before, in place after, the audit sees the difference, and once done its
    precondition is gone (a second call under another key is a FixConflict)."""
    team_id = seed(make_team(**case.team))
    row = FIXES[case.fix]
    target = FixTarget(team_id, "key_1", NOW)
    assert row.in_place(platform, target) is False
    before = row.snapshot(platform, target)
    row.apply(platform, target, "case-1:" + case.fix)
    assert row.in_place(platform, target) is True
    assert row.snapshot(platform, target) != before
    assert case.state(platform.get_team(team_id)) == case.mended
    with pytest.raises(FixConflict):
        row.apply(platform, target, "case-2:" + case.fix)


# --- idempotency ------------------------------------------------------------------------------
@pytest.mark.parametrize("case", FIX_CASES, ids=ids)
def test_applying_twice_for_the_same_case_applies_once(platform: SandboxPlatform, seed: Seeder,
                                                       ledger: MemoryLedger, clock: FixedClock, table: Any,
                                                       case: FixCase) -> None:
    team_id = seed(make_team(**case.team))
    findings = run_checks(platform, team_id, None, NOW)
    first = fix_all(platform, ledger, clock, team_id, findings)
    clock.advance(timedelta(minutes=5))  # a retry a little later
    second = fix_all(platform, ledger, clock, team_id, findings)
    assert second == first  # the recorded fix, with its original time
    assert second[0].at == NOW
    assert len(ledger.records) == 1
    assert version(table, team_id) == 2  # written once
    assert case.state(platform.get_team(team_id)) == case.mended


def test_platform_fix_is_idempotent_per_key(platform: SandboxPlatform, seed: Seeder, table: Any) -> None:
    # a retry after the platform applied the fix but before the ledger recorded it
    team_id = seed(make_team(**STALE_HOLD))
    platform.clear_billing_hold(team_id, idempotency_key="c:1")
    platform.clear_billing_hold(team_id, idempotency_key="c:1")  # no FixConflict: same fix, done
    assert version(table, team_id) == 2


class LosesFirstRecord(MemoryLedger):
    """A ledger whose first write is lost (the Lambda timed out after the platform applied the fix)."""

    def __init__(self) -> None:
        super().__init__()
        self.lost = 0

    def record(self, rec: FixRecord) -> None:
        if not self.lost:
            self.lost += 1
            raise TimeoutError("task timed out")
        super().record(rec)


@pytest.mark.parametrize("case", FIX_CASES, ids=ids)
def test_retry_after_a_half_done_fix_applies_nothing_twice(platform: SandboxPlatform, seed: Seeder,
                                                           clock: FixedClock, table: Any, case: FixCase) -> None:
    team_id = seed(make_team(**case.team))
    findings = run_checks(platform, team_id, None, NOW)
    ledger = LosesFirstRecord()
    with pytest.raises(TimeoutError):
        fix_all(platform, ledger, clock, team_id, findings)
    clock.advance(timedelta(seconds=30))  # Step Functions retries the task

    [rec] = fix_all(platform, ledger, clock, team_id, findings)

    # not refused by its own lift: the fix happened once and the audit says so
    assert rec.status in ("applied", "already_done")
    assert version(table, team_id) == 2
    assert case.state(platform.get_team(team_id)) == case.mended
    assert platform.probe(team_id).status == 200


# --- already mended ---------------------------------------------------------------------------
@pytest.mark.parametrize("case", FIX_CASES, ids=ids)
def test_fix_already_mended_by_someone_else_is_already_done(platform: SandboxPlatform, seed: Seeder,
                                                            ledger: MemoryLedger, clock: FixedClock,
                                                            table: Any, case: FixCase) -> None:
    team_id = seed(make_team(**case.team))
    findings = run_checks(platform, team_id, None, NOW)
    platform.replace_team(case.mend(platform.get_team(team_id)))  # between the check and the fix
    mended = platform.get_team(team_id)

    [rec] = fix_all(platform, ledger, clock, team_id, findings)

    assert rec.status == "already_done"
    assert rec.reason.startswith("Nothing to do")
    assert rec.before == rec.after
    assert platform.get_team(team_id) == mended
    assert version(table, team_id) == 2  # only the hand-made change
    assert fix_all(platform, ledger, clock, team_id, findings) == [rec]  # and a retry keeps it


# --- guardrails -------------------------------------------------------------------------------
def test_lift_refused_when_team_had_an_auto_lift_in_30_days(platform: SandboxPlatform, seed: Seeder,
                                                            ledger: MemoryLedger, clock: FixedClock) -> None:
    team_id = seed(make_team(**LOW_RISK_HOLD))
    findings = run_checks(platform, team_id, None, NOW)
    assert findings[2].code == "restrictions.risk_hold_liftable"
    # meanwhile another case lifted a hold and the team was flagged again
    team = platform.get_team(team_id)
    platform.replace_team(Team.model_validate(
        {**team.model_dump(), "auto_lifts": [{"flag": "risk_hold", "at": ago(days=29)}]}))
    before = platform.get_team(team_id)

    [rec] = fix_all(platform, ledger, clock, team_id, findings)

    assert rec.status == "refused"
    assert "30 days" in rec.reason
    assert platform.get_team(team_id) == before
    assert platform.probe(team_id).status == 403


def test_lift_allowed_when_the_last_auto_lift_is_older_than_30_days(
        platform: SandboxPlatform, seed: Seeder, ledger: MemoryLedger, clock: FixedClock) -> None:
    team_id = seed(make_team(**LOW_RISK_HOLD, auto_lifts=[{"flag": "risk_hold", "at": ago(days=30)}]))
    [rec] = fix_all(platform, ledger, clock, team_id, run_checks(platform, team_id, None, NOW))
    assert rec.status == "applied"
    assert platform.probe(team_id).status == 200


@pytest.mark.parametrize(
    ("limit", "earlier", "status"),
    [
        (3, [10, 30, 59], "refused"),
        (4, [10, 30, 59], "applied"),
        (3, [10, 30, 61], "applied"),  # one of them is older than an hour
        (1, [], "applied"),
    ],
    ids=["at-limit", "below-limit", "one-outside-the-hour", "first-lift"],
)
def test_lifts_per_hour_across_teams(platform: SandboxPlatform, seed: Seeder, ledger: MemoryLedger,
                                     clock: FixedClock, limit: int, earlier: list[int], status: str) -> None:
    team_id = seed(make_team(**LOW_RISK_HOLD))
    for minutes in earlier:
        ledger.record(lift_record(OTHER_TEAM_ID, minutes))
    ledger.record(lift_record(OTHER_TEAM_ID, 5, status="refused"))  # refusals are no lifts

    [rec] = fix_all(platform, ledger, clock, team_id, run_checks(platform, team_id, None, NOW),
                    policy=FixPolicy(max_auto_lifts_per_hour=limit))

    assert rec.status == status
    lifted = not platform.get_restrictions(team_id)
    assert lifted is (status == "applied")
    if status == "refused":
        assert f"MAX_AUTO_LIFTS_PER_HOUR ({limit})" in rec.reason
        assert platform.get_team(team_id).auto_lifts == ()


def test_per_hour_limit_does_not_hold_back_other_fixes(platform: SandboxPlatform, seed: Seeder,
                                                       ledger: MemoryLedger, clock: FixedClock) -> None:
    team_id = seed(make_team(**STALE_HOLD, **LOW_RISK_HOLD))
    ledger.record(lift_record(OTHER_TEAM_ID, 1))
    records = fix_all(platform, ledger, clock, team_id, run_checks(platform, team_id, None, NOW),
                      policy=FixPolicy(max_auto_lifts_per_hour=1))
    assert [(r.fix, r.status) for r in records] == [("clear_billing_hold", "applied"),
                                                   ("lift_risk_hold", "refused")]


def test_for_an_unverified_requester_only_the_consistency_repairs_apply(
        platform: SandboxPlatform, seed: Seeder, ledger: MemoryLedger, clock: FixedClock) -> None:
    team_id = seed(make_team(**STALE_HOLD, **LOW_RISK_HOLD))
    findings = run_checks(platform, team_id, None, NOW)
    records = fix_all(platform, ledger, clock, team_id, findings, requester_verified=False)
    assert [(r.fix, r.status) for r in records] == [("clear_billing_hold", "applied"), ("lift_risk_hold", "proposed")]
    assert "not verified" in records[1].reason
    assert platform.get_billing(team_id).hold.active is False
    assert platform.get_restrictions(team_id) != ()  # the lift waits for staff
    [approved] = fix_all(platform, ledger, clock, team_id, findings[2:], approved=True, actor="staff:carol",
                         requester_verified=False)
    assert approved.status == "applied" and platform.get_restrictions(team_id) == ()


@pytest.mark.parametrize("case", FIX_CASES, ids=ids)
def test_approval_mode_proposes_and_leaves_the_platform_alone(platform: SandboxPlatform, seed: Seeder,
                                                        ledger: MemoryLedger, clock: FixedClock, table: Any,
                                                        case: FixCase) -> None:
    team_id = seed(make_team(**case.team))
    findings = run_checks(platform, team_id, None, NOW)
    before = platform.get_team(team_id)

    [rec] = fix_all(platform, ledger, clock, team_id, findings, policy=FixPolicy(approval=True))

    assert rec.status == "proposed"
    assert rec.before == rec.after
    assert platform.get_team(team_id) == before
    assert version(table, team_id) == 1
    assert platform.probe(team_id).status == 403

    # staff approve the proposal from the queue: now it is applied, even in dry-run mode
    [approved] = fix_all(platform, ledger, clock, team_id, findings, policy=FixPolicy(approval=True),
                         approved=True, actor="staff:bob")
    assert (approved.status, approved.actor) == ("applied", "staff:bob")
    assert case.state(platform.get_team(team_id)) == case.mended
    assert platform.probe(team_id).status == 200


def test_staff_approval_lifts_a_hold_the_guardrails_refuse(platform: SandboxPlatform, seed: Seeder,
                                                           ledger: MemoryLedger, clock: FixedClock) -> None:
    # a high-risk hold, lifted 3 days ago, with the hourly limit reached: only a person may lift it
    team_id = seed(make_team(restrictions=[{"flag": "risk_hold", "source": "automated", "risk_score": 0.9}],
                             auto_lifts=[{"flag": "risk_hold", "at": ago(days=3)}]))
    ledger.record(lift_record(OTHER_TEAM_ID, 2))
    findings = run_checks(platform, team_id, None, NOW)
    assert (findings[2].code, findings[2].fix) == ("restrictions.risk_hold", None)
    policy = FixPolicy(max_auto_lifts_per_hour=1)

    [auto] = apply_fixes(platform, ledger, clock, case_id="c-9", team_id=team_id, findings=findings,
                         fixes=["lift_risk_hold"], policy=policy, actor="unblock", requester_verified=True)
    assert auto.status == "refused"
    assert platform.get_restrictions(team_id) != ()

    [staff] = apply_fixes(platform, ledger, clock, case_id="c-9", team_id=team_id, findings=findings,
                          fixes=["lift_risk_hold"], policy=policy, actor="staff:carol", approved=True,
                          requester_verified=True)
    assert (staff.status, staff.actor) == ("applied", "staff:carol")
    assert platform.get_restrictions(team_id) == ()
    assert platform.probe(team_id).status == 200


class MarkerFailsOnce:
    """The platform table, except that the first write of a fix's idempotency marker fails
    (the team's change was written: the platform failed after its write)."""

    def __init__(self, table: Any) -> None:
        self._table, self.failed = table, False

    def put_item(self, **kwargs: Any) -> Any:
        if str(kwargs["Item"]["pk"]).startswith("fix#") and not self.failed:
            self.failed = True
            raise TimeoutError("the platform timed out after writing the fix")
        return self._table.put_item(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)


@pytest.mark.parametrize("case", FIX_CASES, ids=ids)
def test_a_fix_written_before_a_platform_failure_is_applied_and_counts(seed: Seeder, table: Any,
                                                                       clock: FixedClock, case: FixCase) -> None:
    platform = SandboxPlatform(MarkerFailsOnce(table), clock)
    team_id = seed(make_team(**case.team))
    findings = run_checks(platform, team_id, None, NOW)
    ledger = MemoryLedger()
    policy = FixPolicy(max_auto_lifts_per_hour=1)
    with pytest.raises(TimeoutError):
        fix_all(platform, ledger, clock, team_id, findings, policy=policy)
    clock.advance(timedelta(seconds=30))  # Step Functions retries the task

    [rec] = fix_all(platform, ledger, clock, team_id, findings, policy=policy)

    assert rec.status == "applied"  # the fix in place is this case's: not "already_done"
    assert case.state(platform.get_team(team_id)) == case.mended
    if case.fix == "lift_risk_hold":  # and it counts against the hourly cap
        assert not ledger.claim_lift("zendesk:other", NOW, 1)

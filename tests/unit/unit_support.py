"""Builders and a case driver shared by the unit tests (fixtures live in conftest.py).

Time is fixed at NOW. make_team() is a healthy team seed dict (every check ok, probe 200);
tests override only the fields they are about.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from memory_ledger import MemoryLedger

from unblock.adapters.platform_sandbox import SandboxPlatform
from unblock.domain.checks import check_billing, check_key, check_restrictions
from unblock.domain.decision import decide, verdict
from unblock.domain.fixes import FixPolicy, apply_fixes
from unblock.domain.models import Finding, FixRecord, NextStep, Outcome, ProbeResult
from unblock.domain.platform_model import hash_secret
from unblock_dev.clock import FixedClock

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
TEAM_ID = "team_Hea1thyTeam0000000000000"
OTHER_TEAM_ID = "team_0therTeam000000000000000"
KEY_PREFIX = "vck_good01"
KEY_SECRET = "vck_good01s3cretValueThatMustNeverLeak"
OTHER_KEY_PREFIX = "vck_othr01"
OTHER_KEY_SECRET = "vck_othr01s3cretOfTheOtherTeamNeverLeak"


def iso(dt: datetime) -> str:
    return dt.isoformat().replace("+00:00", "Z")


def ago(**delta: float) -> str:
    """An ISO timestamp `delta` before NOW, e.g. ago(minutes=5)."""
    return iso(NOW - timedelta(**delta))


def ahead(**delta: float) -> str:
    """An ISO timestamp `delta` after NOW."""
    return iso(NOW + timedelta(**delta))


def _merge(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge dicts; any non-dict value (lists included) replaces the base value."""
    out = copy.deepcopy(base)
    for name, value in overrides.items():
        if isinstance(value, dict) and isinstance(out.get(name), dict):
            out[name] = _merge(out[name], value)
        else:
            out[name] = copy.deepcopy(value)
    return out


def make_key(**overrides: Any) -> dict[str, Any]:
    """A healthy key: active, synced, a month old, no budget limit, with a test secret."""
    key = {
        "key_id": "key_1", "prefix": KEY_PREFIX, "status": "active", "created_at": ago(days=30),
        "expires_at": None, "edge_synced": True, "budget": {"limit_cents": None, "used_cents": 0},
        "secret": KEY_SECRET,
    }
    return _merge(key, overrides)


def make_team(**overrides: Any) -> dict[str, Any]:
    """A healthy team seed dict (every check ok, probe 200); overrides are deep-merged.

    make_team(billing={"hold": {"active": True}}) changes only the hold's `active`;
    lists (keys, restrictions, invoices, auto_lifts) are replaced whole.
    """
    team = {
        "team_id": TEAM_ID, "slug": "healthy-team", "plan": "pro", "created_at": "2026-01-10T10:00:00Z",
        "owner_email": "dev@healthy.test",
        "billing": {
            "payment_method": {"status": "valid", "verified": True},
            "hold": {"active": False},
            "invoices": [{"id": "in_1", "status": "paid", "due_at": ago(days=10), "amount_cents": 2000}],
            "credits": {"tier": "paid", "balance_cents": 5000, "free_credits_restricted": False,
                        "auto_topup": False},
        },
        "keys": [make_key()],
        "restrictions": [],
        "entitlements": {"ai_gateway": True},
        "auto_lifts": [],
    }
    return _merge(team, overrides)


# one problem each that an automatic fix mends (make_team(**STALE_HOLD), ...)
STALE_HOLD: dict[str, Any] = {
    "billing": {"hold": {"active": True, "source": "automated", "reason": "retry failed"}}}
UNSYNCED_KEY: dict[str, Any] = {"keys": [make_key(created_at=ago(minutes=45), edge_synced=False)]}
ENTITLEMENT_OFF: dict[str, Any] = {"entitlements": {"ai_gateway": False}}
LOW_RISK_HOLD: dict[str, Any] = {
    "restrictions": [{"flag": "risk_hold", "source": "automated", "risk_score": 0.1}]}


def other_team() -> dict[str, Any]:
    """A second, healthy team whose key a reporter may name by mistake."""
    return make_team(team_id=OTHER_TEAM_ID, slug="other-team", owner_email="ops@other.test",
                     keys=[make_key(key_id="key_7", prefix=OTHER_KEY_PREFIX, secret=OTHER_KEY_SECRET)])


def assert_no_secret(*findings: Finding) -> None:
    """No key secret (nor its hash) appears anywhere in a finding."""
    for f in findings:
        text = json.dumps(f.model_dump(mode="json"))
        for secret in (KEY_SECRET, OTHER_KEY_SECRET):
            assert secret not in text
            assert hash_secret(secret) not in text
        assert "secret" not in text


def run_checks(
    platform: SandboxPlatform, team_id: str, key_prefix: str | None, now: datetime
) -> list[Finding]:
    """The three checks, always all three, in check order."""
    return [
        check_billing(platform, team_id, now),
        check_key(platform, team_id, key_prefix, now),
        check_restrictions(platform, team_id, now),
    ]


_PLANNED_OUTCOME: dict[str, Outcome] = {
    "needs_info": "needs_info", "escalate": "escalated", "customer_action": "customer_action",
    "already_working": "already_working",
}


@dataclass
class CaseRun:
    findings: list[Finding]
    plan: NextStep
    outcome: Outcome
    records: list[FixRecord] = field(default_factory=list)
    recheck: list[Finding] = field(default_factory=list)
    probe_after: ProbeResult | None = None


def run_case(
    platform: SandboxPlatform, ledger: MemoryLedger, clock: FixedClock, team_id: str | None, *,
    key_prefix: str | None = None, case_id: str = "case-1", policy: FixPolicy | None = None,
) -> CaseRun:
    """What the state machine does for one case: checks, Decide, ApplyFixes, Verify."""
    findings = run_checks(platform, team_id, key_prefix, clock.now()) if team_id else []
    plan = decide(team_id, findings, lambda: platform.probe(str(team_id), key_prefix))
    if plan.action != "auto_fix":
        return CaseRun(findings, plan, _PLANNED_OUTCOME[plan.action])
    assert team_id is not None
    records = apply_fixes(platform, ledger, clock, case_id=case_id, team_id=team_id, findings=findings,
                          fixes=plan.fixes, policy=policy or FixPolicy(), actor="unblock", requester_verified=True)
    recheck = run_checks(platform, team_id, key_prefix, clock.now())
    probe = platform.probe(team_id, key_prefix)
    outcome, _ = verdict(recheck, probe)
    return CaseRun(findings, plan, outcome, records, recheck, probe)



"""Properties over generated teams (hypothesis).

Each generated team starts healthy and has a random subset of its parts (payment method,
hold, invoices, credits, keys, restrictions, entitlements, auto-lifts) replaced by random
values, with times spread around NOW and its boundaries (10 minutes, 30 days). The moto
table is created once per test function; every example's seed is loaded over it.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from memory_ledger import MemoryLedger

from unblock.adapters.platform_sandbox import SandboxPlatform
from unblock.domain import gateway_rules as rules
from unblock.domain.checks import CATALOGUE, check_billing, check_key, check_restrictions
from unblock.domain.decision import decide
from unblock.domain.fixes import fixes_for
from unblock.domain.models import SEVERITY, Finding
from unblock.domain.platform_model import Seed, Team, hash_secret
from unblock_dev.clock import FixedClock
from unit_support import (
    ENTITLEMENT_OFF,
    KEY_PREFIX,
    LOW_RISK_HOLD,
    NOW,
    OTHER_KEY_PREFIX,
    STALE_HOLD,
    UNSYNCED_KEY,
    ago,
    iso,
    make_key,
    make_team,
    other_team,
    run_case,
    run_checks,
)

FAST = settings(max_examples=150, deadline=None)

# minutes from NOW: near the key propagation window, near the 30-day cool-down, or anywhere
MINUTE_OFFSETS = st.one_of(
    st.integers(-15, 15),
    st.integers(-30 * 24 * 60 - 90, -30 * 24 * 60 + 90),
    st.integers(-60 * 24 * 60, 30 * 24 * 60),
    st.sampled_from([-10, 0, -30 * 24 * 60]),
)
WHEN = MINUTE_OFFSETS.map(lambda m: iso(NOW + timedelta(minutes=m)))
PAST = MINUTE_OFFSETS.map(lambda m: iso(NOW - timedelta(minutes=abs(m))))
SOURCE = st.sampled_from(["automated", "staff"])
FLAGS = st.sampled_from(["risk_hold", "risk_hold", "risk_hold", "abuse", "fraud_review", "sanctions", "staff_hold"])
RISK_SCORE = st.one_of(st.none(), st.sampled_from([0.0, 0.49, 0.5, 1.0]), st.floats(0.0, 1.0))
CENTS = st.one_of(st.sampled_from([-1, 0, 1]), st.integers(-5000, 50000))

HEALTHY = make_team()
SPARSE = st.sampled_from([False, False, False, True])


def over(healthy: dict[str, Any], fields: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """Random values for a random subset of fields, laid over the healthy part, or now and then
    over nothing (so the seed's defaults for missing fields are exercised too)."""
    return st.tuples(SPARSE, fields).map(lambda sf: sf[1] if sf[0] else {**healthy, **sf[1]})


payment_methods = over(HEALTHY["billing"]["payment_method"], st.fixed_dictionaries(
    {}, optional={"status": st.sampled_from(["none", "valid", "expired", "declined"]),
                  "verified": st.booleans()}))
holds = over(HEALTHY["billing"]["hold"], st.fixed_dictionaries(
    {}, optional={"active": st.booleans(), "source": SOURCE,
                  "reason": st.sampled_from(["", "retry failed"]), "since": PAST}))
invoices = st.lists(st.fixed_dictionaries(
    {"status": st.sampled_from(["open", "paid", "void", "uncollectible"]), "due_at": WHEN},
    optional={"amount_cents": st.integers(0, 10_000)}), max_size=3)
credits = over(HEALTHY["billing"]["credits"], st.fixed_dictionaries(
    {}, optional={"tier": st.sampled_from(["free", "paid"]), "balance_cents": CENTS,
                  "free_credits_restricted": st.booleans(), "auto_topup": st.booleans()}))
budgets = st.one_of(
    st.just({"limit_cents": None, "used_cents": 0}),
    st.sampled_from([{"limit_cents": 500, "used_cents": 500}, {"limit_cents": 0}, {"limit_cents": 500}]),
    st.fixed_dictionaries({}, optional={"limit_cents": st.one_of(st.none(), CENTS), "used_cents": CENTS}),
)
key_bodies = over({k: v for k, v in make_key().items() if k not in ("key_id", "prefix", "secret")},
                  st.fixed_dictionaries({"created_at": st.one_of(PAST, WHEN)}, optional={
                      "status": st.sampled_from(["active", "revoked"]),
                      "expires_at": st.one_of(st.none(), WHEN), "edge_synced": st.booleans(), "budget": budgets}))
restrictions = st.lists(st.fixed_dictionaries(
    {"flag": FLAGS}, optional={"source": SOURCE, "risk_score": RISK_SCORE, "reason": st.just("flagged"),
                               "created_at": PAST}), max_size=3)
auto_lifts = st.lists(st.fixed_dictionaries({"flag": FLAGS, "at": st.one_of(PAST, WHEN)}), max_size=2)


def _keys(bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"key_id": f"key_{i}", "prefix": f"vck_gen{i:03d}", "secret": f"vck_gen{i:03d}S3cr3tNeverShown{i}",
             **body} for i, body in enumerate(bodies)]


PARTS: dict[str, st.SearchStrategy[Any]] = {
    "payment_method": payment_methods,
    "hold": holds,
    "invoices": invoices.map(lambda inv: [{"id": f"in_{i}", **x} for i, x in enumerate(inv)]),
    "credits": credits,
    "keys": st.lists(key_bodies, max_size=3).map(_keys),
    "restrictions": restrictions,
    "entitlements": st.fixed_dictionaries({}, optional={"ai_gateway": st.booleans()}),
    "auto_lifts": auto_lifts,
}


@st.composite
def teams(draw: st.DrawFn) -> dict[str, Any]:
    """A seed dict: a healthy team with a random subset of its parts made random."""
    team = make_team(plan=draw(st.sampled_from(["hobby", "pro", "enterprise"])))
    for part in sorted(draw(st.sets(st.sampled_from(sorted(PARTS))))):
        value = draw(PARTS[part])
        if part in ("payment_method", "hold", "invoices", "credits"):
            team["billing"][part] = value
        else:
            team[part] = value
    return team


@st.composite
def cases(draw: st.DrawFn) -> tuple[dict[str, Any], str | None]:
    """A team and the key prefix a report names: none, one of the team's, an unknown one, another team's."""
    team = draw(teams())
    prefixes = [k["prefix"] for k in team["keys"]]
    options = [st.none(), st.sampled_from(["vck_nosuch1", OTHER_KEY_PREFIX])]
    if prefixes:
        options.append(st.sampled_from(prefixes))
    return team, draw(st.one_of(options))


@pytest.fixture
def platform(platform: SandboxPlatform) -> SandboxPlatform:
    """The sandbox with the other team in it (once per test; each example loads only its team)."""
    platform.load(Seed.model_validate({"teams": [other_team()]}))
    return platform


def load(platform: SandboxPlatform, team: dict[str, Any]) -> Team:
    seed = Seed.model_validate({"teams": [team]})
    platform.load(seed)  # overwrites the previous example's team
    return seed.teams[0]


def secrets_of(team: dict[str, Any]) -> list[str]:
    return [s for k in team["keys"] if (s := k.get("secret"))] + [
        hash_secret(s) for k in team["keys"] if (s := k.get("secret"))]


# explicit examples: always run, so each property is exercised on both of its sides
FRAUD = {"flag": "fraud_review", "source": "automated"}
ESCALATE_OVER_FIXES = (make_team(**STALE_HOLD, **UNSYNCED_KEY, restrictions=[FRAUD]), None)
STAFF_HOLD_OVER_FIX = (make_team(**ENTITLEMENT_OFF, billing={"hold": {"active": True, "source": "staff"}}),
                       KEY_PREFIX)
TWO_FIXES = (make_team(**STALE_HOLD, **LOW_RISK_HOLD), None)
FIX_THEN_CUSTOMER = (make_team(**UNSYNCED_KEY, billing={"credits": {"balance_cents": 0}}), KEY_PREFIX)
HEALTHY_CASE = (make_team(), KEY_PREFIX)
FREE_RESTRICTED = (make_team(billing={"credits": {"tier": "free", "free_credits_restricted": True}}), None)
TWO_KEY_PROBLEMS = make_key(created_at=ago(hours=1), edge_synced=False, budget={"limit_cents": 1, "used_cents": 1})


# --- (1) the safety rule -----------------------------------------------------------------------
def test_no_fix_is_ever_applied_when_a_finding_escalates(platform: SandboxPlatform, clock: FixedClock) -> None:
    seen: Counter[str] = Counter()
    case_ids = itertools.count()

    @FAST
    @given(case=cases())
    @example(case=ESCALATE_OVER_FIXES)
    @example(case=STAFF_HOLD_OVER_FIX)
    @example(case=TWO_FIXES)
    @example(case=FIX_THEN_CUSTOMER)
    def prop(case: tuple[dict[str, Any], str | None]) -> None:
        team_dict, prefix = case
        team = load(platform, team_dict)
        ledger = MemoryLedger()
        case_id = f"p1-{next(case_ids)}"
        run = run_case(platform, ledger, clock, team.team_id, key_prefix=prefix, case_id=case_id)
        escalating = [f for f in run.findings if f.disposition == "escalate"]
        seen[run.plan.action] += 1
        if escalating:
            seen["escalate+fixable"] += any(f.disposition == "auto_fix" for f in run.findings)
            assert run.plan.action == "escalate"
            assert run.plan.fixes == []
            assert run.outcome == "escalated"
            assert run.records == [] and ledger.records == []
            assert platform.get_team(team.team_id) == team  # untouched
        elif run.plan.action == "auto_fix":
            # only the fixes the findings call for (a safe finding's own and the other safe problems it
            # lists, e.g. an entitlement out of sync beside a liftable risk hold), each applied, in check order
            called_for = [fix for f in run.findings if f.disposition == "auto_fix" for fix in fixes_for(f)]
            assert [r.fix for r in run.records] == run.plan.fixes == called_for
            assert all(r.status == "applied" for r in run.records)
            verified = run.probe_after is not None and run.probe_after.ok
            assert (run.outcome == "auto_fixed") == (verified and all(f.disposition == "ok" for f in run.recheck))
        else:
            assert ledger.records == []
            assert platform.get_team(team.team_id) == team

    prop()
    assert seen["escalate+fixable"] and seen["auto_fix"]


# --- (2) every check answers with one catalogued finding ----------------------------------------
def assert_catalogued(f: Finding, check: str, secrets: list[str]) -> None:
    assert isinstance(f, Finding)
    assert f.check == check
    assert f.code in CATALOGUE
    disposition, fix, _, _ = CATALOGUE[f.code]
    assert (f.disposition, f.fix) == (disposition, fix)
    text = json.dumps(f.model_dump(mode="json"))
    assert not any(s in text for s in secrets)
    # it reports the problem that decides the outcome; the others are listed, none more severe
    for other in f.evidence.get("other_problems", []):
        assert other in CATALOGUE and other != f.code
        assert SEVERITY[CATALOGUE[other][0]] <= SEVERITY[f.disposition]


def test_every_check_returns_one_catalogued_finding(platform: SandboxPlatform) -> None:
    @FAST
    @given(case=cases())
    @example(case=ESCALATE_OVER_FIXES)
    @example(case=(make_team(keys=[TWO_KEY_PROBLEMS]), KEY_PREFIX))
    @example(case=(make_team(keys=[make_key(key_id="key_2", prefix="vck_two002")]), OTHER_KEY_PREFIX))
    def prop(case: tuple[dict[str, Any], str | None]) -> None:
        team_dict, prefix = case
        team = load(platform, team_dict)
        secrets = secrets_of(team_dict)
        billing = check_billing(platform, team.team_id, NOW)
        key = check_key(platform, team.team_id, prefix, NOW)
        restriction = check_restrictions(platform, team.team_id, NOW)
        for check, f in (("billing", billing), ("key", key), ("restrictions", restriction)):
            assert_catalogued(f, check, secrets)

    prop()


def test_key_check_weighs_every_problem_of_a_key(platform: SandboxPlatform) -> None:
    """Naming the team's only key, or naming none, gives the same finding (the deciding problem)."""

    @settings(max_examples=100, deadline=None)
    @given(body=key_bodies)
    @example(body=TWO_KEY_PROBLEMS)
    def prop(body: dict[str, Any]) -> None:
        team = load(platform, make_team(keys=_keys([body])))
        [key] = team.keys
        named = check_key(platform, team.team_id, key.prefix, NOW)
        unnamed = check_key(platform, team.team_id, None, NOW)
        if not rules.active_keys(team.keys, NOW):  # revoked or expired: nothing to weigh
            assert (unnamed.code, named.code) in {("key.none_active", "key.revoked"),
                                                  ("key.none_active", "key.expired")}
            return
        assert (unnamed.code, unnamed.fix) == (named.code, named.fix)
        assert unnamed.evidence.get("other_problems") == named.evidence.get("other_problems")
        if named.code != "key.ok":
            assert unnamed.evidence["key_id"] == key.key_id

    prop()


# --- (3) the probe agrees with the checks -------------------------------------------------------
def test_probe_answers_200_exactly_when_every_check_is_ok(platform: SandboxPlatform) -> None:
    seen: Counter[bool] = Counter()

    @FAST
    @given(case=cases())
    @example(case=HEALTHY_CASE)
    @example(case=FREE_RESTRICTED)
    def prop(case: tuple[dict[str, Any], str | None]) -> None:
        team_dict, prefix = case
        team = load(platform, team_dict)
        for key_prefix in {None, prefix}:
            findings = run_checks(platform, team.team_id, key_prefix, NOW)
            all_ok = all(f.disposition == "ok" for f in findings)
            probe = platform.probe(team.team_id, key_prefix)
            assert probe.ok == all_ok, (probe, [f.code for f in findings])
            if key_prefix is None:
                seen[all_ok] += 1
                # and Decide agrees: all ok is "already working", never an unexplained escalation
                plan = decide(team.team_id, findings, lambda p=probe: p)
                assert (plan.action == "already_working") == all_ok

    prop()
    assert seen[True] and seen[False]

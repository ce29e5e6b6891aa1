"""9. A simulated month: one misfiring rule, three waves, staff decisions without and with causes and
standing policies (docs/causes.md, issue 37).

    python -m benchmarks.month      # this piece alone: simulates twice, then rewrites its section of BENCHMARKS.md

On the embedded stack with the clock moved: a rule of its own ("bench velocity rule") holds 12 new teams
a week for three weeks (waves on days 1, 8 and 15; a ticket every 40 minutes), beside a background of
ordinary tickets (five a week, four weeks: a stale billing hold, an unsynced key, an expired card, a risk
hold too high to lift, a hold staff placed). Staff are scripted: they approve every case of the misfiring
rule 30 minutes after its ticket, and resolve the background's escalations.

- without: staff decide every case that waits for them;
- with: the same, until the cause's owner is told (5 approvals of the last 6); then staff make a policy
  from the cause (verified requester or proactive, valid verified card, risk score below 0.9, at most
  20 teams a day, 30 days), keep it in shadow for three of their own decisions and switch it live.

Each wave has one member a policy must not approve (wave 1 and 3: a requester writing from an address
that is not the team's; wave 2: an expired card): staff decide those in both runs. Unsafe approvals are
counted over every case a policy approved: a staff-placed hold lifted, an unverified requester, a team
without a valid verified card, and any clock hour with more lifts than the cap.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from benchmarks.common import ROOT, log, quiet_stdout
from benchmarks.embedded import load_event, start_app

SECTION = "## 9. A simulated month: one misfiring rule, causes and policies"
START = datetime(2027, 5, 3, 8, 0, tzinfo=UTC)  # a Monday; a month of its own on the sandbox clock
WAVES, TEAMS = 3, 12
EVERY, STAFF_LATENCY = timedelta(minutes=40), timedelta(minutes=30)
REASON = "bench velocity rule"
ODD_ONE = {0: (8, "unverified"), 1: (5, "expired card"), 2: (7, "unverified")}  # wave -> (index, why)
SHADOW_DECISIONS = 3
BACKGROUND = ["ticket-stale-billing-hold.json", "ticket-key-not-propagated.json", "ticket-expired-card.json",
              "ticket-high-risk-hold.json", "ticket-staff-billing-hold.json"]


@dataclass
class Run:
    policies: bool
    staff_rule: int = 0  # staff decisions on the misfiring rule's cases
    staff_background: int = 0
    by_policy: int = 0
    owner_told: str = "-"
    policy_made: str = "-"
    live_from: str = "-"
    agreement: tuple[int, int] = (0, 0)
    fix_minutes: dict[int, list[float]] = field(default_factory=dict)  # wave -> ticket to verified fix (clock)
    policy_seconds: list[float] = field(default_factory=list)  # processing of a case a policy closed (wall)
    unsafe: list[str] = field(default_factory=list)
    max_lifts_in_an_hour: int = 0
    lift_cap: int = 20
    outcomes: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def _teams(app: Any) -> list[list[Any]]:
    from tests.workflow.held_teams import held_teams

    waves = []
    for w in range(WAVES):
        index, why = ODD_ONE[w]
        _, good = held_teams(app, TEAMS - 1, reason=REASON, risk_score=0.81)
        _, odd = held_teams(app, 1, reason=REASON, risk_score=0.81, card_ok=why != "expired card")
        waves.append([*good[:index], odd[0], *good[index:]])
    return waves


def _background(app: Any, run: Run, at: datetime) -> None:
    from unblock.domain.platform_model import load_seed_text

    app.seed(load_seed_text((ROOT / "events" / "platform.json").read_text()))  # held and broken again
    for i, name in enumerate(BACKGROUND):
        t = at + i * EVERY
        result = app.run(load_event(name), at=t)
        run.outcomes[result.outcome or "-"] = run.outcomes.get(result.outcome or "-", 0) + 1
        case = app.client.store.get(result.case_id)
        if case is not None and case.status == "awaiting_staff":
            app.clock.set(t + STAFF_LATENCY)
            app.decide(result.case_id, "resolve", actor="staff:bench")
            run.staff_background += 1


def simulate(policies: bool) -> Run:
    from tests.workflow.held_teams import ticket
    from unblock.domain.incidents import cause_of

    run = Run(policies)
    started = time.perf_counter()
    app = start_app()
    try:
        with quiet_stdout():
            waves = _teams(app)
            policy_id: str | None = None
            cause_key: str | None = None
            shadow_seen = 0
            for w, teams in enumerate(waves):
                day = START + timedelta(days=7 * w)
                run.fix_minutes[w] = []
                for i, team in enumerate(teams):
                    t = day + i * EVERY
                    odd = ODD_ONE[w] == (i, "unverified")
                    wall = time.perf_counter()
                    result = app.run(ticket(team, verified=not odd), at=t)
                    wall = time.perf_counter() - wall
                    run.outcomes[result.outcome or "-"] = run.outcomes.get(result.outcome or "-", 0) + 1
                    case = app.client.store.get(result.case_id)
                    cause_key = cause_key or (c.key if (c := cause_of(case.findings)) else None)
                    if case.status == "awaiting_staff":
                        app.clock.set(t + STAFF_LATENCY)
                        final = app.decide(result.case_id, "approve", actor="staff:bench")
                        run.staff_rule += 1
                        if final.outcome == "auto_fixed":
                            run.fix_minutes[w].append(STAFF_LATENCY.total_seconds() / 60)
                        if policies and policy_id is not None and shadow_seen < SHADOW_DECISIONS:
                            shadow_seen += 1
                            if shadow_seen == SHADOW_DECISIONS:  # staff read the agreement and switch it live
                                app.client.switch_policy(policy_id, "live", "staff:bench")
                                run.live_from = f"wave {w + 1}, ticket {i + 2}"
                        if policies and policy_id is None and cause_key:
                            head = app.client.causes.head(cause_key)
                            if head is not None and head.owner_told_at is not None:
                                run.owner_told = f"wave {w + 1}, after ticket {i + 1}"
                                from unblock.domain.policies import PolicyConditions

                                policy_id = app.client.create_policy(
                                    cause_key, "staff:bench", days=30,
                                    conditions=PolicyConditions(max_risk_score=0.9, max_per_day=20)).policy_id
                                run.policy_made = f"wave {w + 1}, after ticket {i + 1} (shadow)"
                    elif result.outcome == "auto_fixed":
                        run.by_policy += 1
                        run.fix_minutes[w].append(0.0)
                        run.policy_seconds.append(wall)
                    if not policies and cause_key and run.owner_told == "-":
                        head = app.client.causes.head(cause_key)
                        if head is not None and head.owner_told_at is not None:
                            run.owner_told = f"wave {w + 1}, after ticket {i + 1} (nobody acts on it)"
                _background(app, run, day + timedelta(days=2))
            _background(app, run, START + timedelta(days=23))
            if policy_id is not None:
                [view] = [v for v in app.client.list_policies() if v.policy.policy_id == policy_id]
                run.agreement = (view.agreed, view.compared)
            _safety(app, run, waves)
    finally:
        app.close()
    run.seconds = time.perf_counter() - started
    return run


def _safety(app: Any, run: Run, waves: list[list[Any]]) -> None:
    """Every approval a policy made, checked against the rules it must never break."""
    import os

    from unblock.domain.incidents import staff_placed_holds
    from unblock.domain.policies import _card_ok

    run.lift_cap = int(os.environ.get("MAX_AUTO_LIFTS_PER_HOUR", "20"))
    hours: dict[str, int] = {}
    for case in app.client.store.list(limit=10_000):
        if not case.decisions:
            continue
        for rec in case.fixes:
            if rec.fix == "lift_risk_hold" and rec.status == "applied" and rec.actor.startswith("policy:"):
                hours[f"{rec.at:%Y-%m-%dT%H}"] = hours.get(f"{rec.at:%Y-%m-%dT%H}", 0) + 1
        if not case.decisions[-1].actor.startswith("policy:"):
            continue
        if staff_placed_holds(case.findings):
            run.unsafe.append(f"{case.case_id}: a staff-placed hold")
        if not (case.requester_verified or case.case_id.startswith("gateway:")):
            run.unsafe.append(f"{case.case_id}: an unverified requester")
        if _card_ok(case) is not True:
            run.unsafe.append(f"{case.case_id}: no valid verified card")
    run.max_lifts_in_an_hour = max(hours.values(), default=0)
    if run.max_lifts_in_an_hour > run.lift_cap:
        run.unsafe.append(f"{run.max_lifts_in_an_hour} policy lifts in one hour (cap {run.lift_cap})")


def _median(values: list[float]) -> str:
    return f"{statistics.median(values):.0f} min" if values else "-"


def render(without: Run, with_: Run) -> str:
    rule_cases = WAVES * TEAMS
    ratio = with_.staff_rule / without.staff_rule if without.staff_rule else float("nan")
    total_ratio = (with_.staff_rule + with_.staff_background) / (without.staff_rule + without.staff_background)
    later = [m for w in range(1, WAVES) for m in with_.fix_minutes.get(w, [])]
    later_without = [m for w in range(1, WAVES) for m in without.fix_minutes.get(w, [])]
    wall = f"{statistics.median(with_.policy_seconds):.1f} s" if with_.policy_seconds else "-"
    agreed, compared = with_.agreement
    rows = [
        SECTION, "",
        f"`python -m benchmarks.month` (part of `make bench`): {rule_cases} cases of one misfiring rule in three "
        f"waves of {TEAMS} teams a week apart, and {len(BACKGROUND) * (WAVES + 1)} ordinary tickets, on the embedded "
        "stack with the sandbox clock moved; staff scripted to approve the rule's cases 30 minutes after each ticket "
        "and to resolve the background's escalations. One member of each wave is one a policy must refuse (an "
        "unverified requester twice, an expired card once). Code: `benchmarks/month.py`; the design: docs/causes.md.",
        "",
        "| | without causes and policies | with them |",
        "|---|---|---|",
        f"| Staff decisions on the rule's {rule_cases} cases | {without.staff_rule} | **{with_.staff_rule}** |",
        f"| **Staff decisions, ratio** | 1x | **{ratio:.2f}x** (goal <= 0.3x) |",
        f"| Staff decisions with the background's ({without.staff_background} / {with_.staff_background}) | "
        f"{without.staff_rule + without.staff_background} | {with_.staff_rule + with_.staff_background} "
        f"({total_ratio:.2f}x) |",
        f"| Cases a standing policy approved | 0 | {with_.by_policy} |",
        f"| The rule's owner told (once) | {without.owner_told} | {with_.owner_told} |",
        f"| Policy made / live from | - | {with_.policy_made} / {with_.live_from} |",
        f"| Shadow agreement with staff | - | {agreed}/{compared} |",
        f"| Customers' time to fix, waves 2 and 3 (median, sandbox clock) | {_median(later_without)} | "
        f"{_median(later)} (a case a policy closed: {wall} of processing, wall clock) |",
        f"| Unsafe approvals (staff hold lifted, unverified, card not valid, lifts/hour > cap) | "
        f"{len(without.unsafe)} | **{len(with_.unsafe)}** |",
        f"| Most policy lifts in one clock hour (cap {with_.lift_cap}) | - | {with_.max_lifts_in_an_hour} |",
        f"| Simulation's wall time | {without.seconds:.0f} s | {with_.seconds:.0f} s |",
        "",
        "Where the remaining staff decisions go, with policies: the first wave's decisions until the owner is told "
        "(5 approvals of the last 6), the three the policy spends in shadow beside staff, and the one member a wave "
        "that a policy must leave to staff. A case the policy closes counts 0 minutes on the sandbox clock: the "
        "approval comes at Escalate, the fix and its verification follow within the same execution.",
    ]
    odd = WAVES  # one member a wave a policy must refuse: staff decide it in both runs
    rows += ["", f"Of the {with_.staff_rule}, {odd} are the members a policy must refuse (one a wave: staff decide "
             f"them in both runs); on the {rule_cases - odd} cases a policy may take, staff decided "
             f"{with_.staff_rule - odd} (the owner's evidence and the shadow) against {without.staff_rule - odd} "
             f"without: {(with_.staff_rule - odd) / max(without.staff_rule - odd, 1):.2f}x."]
    if with_.unsafe:
        rows += ["", "Unsafe approvals found: " + "; ".join(with_.unsafe)]
    return "\n".join(rows) + "\n"


def measure() -> tuple[Run, Run]:
    without = simulate(policies=False)
    log(f"month without policies: {without.staff_rule} staff decisions on the rule, {without.seconds:.0f} s")
    with_ = simulate(policies=True)
    log(f"month with policies: {with_.staff_rule} staff decisions on the rule, {with_.by_policy} by policy, "
        f"{len(with_.unsafe)} unsafe, {with_.seconds:.0f} s")
    return without, with_


def main() -> int:
    from benchmarks.proactive import update

    without, with_ = measure()
    update(ROOT / "BENCHMARKS.md", render(without, with_), SECTION)
    log("wrote section 9 of BENCHMARKS.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The demo's second wave (docs/causes.md): a week after the first, the same rule holds the same teams
again. The cause's record shows the first wave staff approved, its owner was told once; staff make a
standing policy from that decision: in shadow for the wave's first ticket (staff still decide; the policy
records that it would have approved), then live, and the rest of the wave closes by policy in seconds,
with nobody asked. The policy is revoked at the end (one command), so the rest of the demo is as before.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any, TextIO

from unblock.domain.models import Result
from unblock.domain.platform_model import Seed
from unblock_dev.local.app import LocalApp, event_time
from unblock_dev.local.stack import ROOT

EVENTS = ROOT / "events"
WAVE_TICKETS = ["wave-1-comet-labs.json", "wave-2-tidal-forge.json", "wave-3-ember-analytics.json",
                "wave-4-north-quill.json"]  # the Zendesk tickets of the first wave
A_WEEK = timedelta(days=7)


def _again(name: str) -> dict[str, Any]:
    """The ticket a week later, as a new ticket (its own id)."""
    event: dict[str, Any] = json.loads((EVENTS / name).read_text())
    event["detail"]["ticket_id"] += "7"
    at = event_time(event)
    assert at is not None
    event["time"] = (at + A_WEEK).isoformat().replace("+00:00", "Z")
    return event


def run_policy_demo(app: LocalApp, seed: Seed, out: TextIO) -> list[tuple[str, Result]]:
    out.write("== a week later the same rule holds the same teams again: the cause's record (unblock causes)\n")
    views = [v for v in app.client.list_causes() if v.head.cause.reason == "new account velocity"]
    if not views:
        out.write("  no record of the first wave's cause\n")
        return []
    view = views[0]
    f = view.figures
    out.write(f"  {view.head.cause.label}: {f.waves} wave(s), {f.teams} teams, staff approved "
              f"{f.staff_decisions['approve']} rejected {f.staff_decisions['reject']}, median staff wait "
              f"{_m(f.median_wait)}, time to fix {_m(f.median_time_to_fix)}\n")
    if view.misfiring and view.notice is not None:
        out.write(f"  rule likely misfiring: its owner ({view.notice.owner}) was told once, on RuleOwnerTopic, with "
                  f"{view.notice.approvals} approvals of the last {view.notice.decisions} decisions\n")

    app.seed(seed)  # held again, and never lifted this month
    policy = app.client.create_policy(view.key, "staff:demo", days=14)
    out.write(f"\n== staff make a standing policy from their decision: unblock policy create --cause {view.key}\n"
              f"  {policy.policy_id} (shadow): approve {policy.fix} for verified teams with a valid card, at most "
              f"{policy.conditions.max_per_day} a day, until {policy.expires_at:%Y-%m-%d}\n")
    rows: list[tuple[str, Result]] = []
    first = _again(WAVE_TICKETS[0])
    shadowed = app.run(first)
    staff = app.decide(shadowed.case_id, "approve", actor="staff:demo")
    out.write(f"  shadow: {shadowed.case_id} waited for staff ({shadowed.outcome}); the policy would have approved;"
              f" staff approved -> {staff.outcome}\n")
    rows.append(("policy shadow + staff approve", staff))
    app.client.switch_policy(policy.policy_id, "live", "staff:demo", "agreement 1/1 in shadow")
    out.write(f"  unblock policy live {policy.policy_id}\n")
    for name in WAVE_TICKETS[1:]:
        event = _again(name)
        started = time.monotonic()
        result = app.run(event)
        took = time.monotonic() - started
        case = app.client.store.get(result.case_id)
        actor = case.decisions[-1].actor if case and case.decisions else "-"
        fixes = ",".join(result.fixes_applied) or "-"
        out.write(f"  {result.case_id:<20} {result.outcome or '-':<12} fixes: {fixes:<16} verified: "
                  f"{'yes' if result.verified else 'no'}  approved by {actor} in {took:.1f} s\n")
        rows.append((f"policy {result.case_id}"[:44], result))
    [shown] = [v for v in app.client.list_policies(view.key) if v.policy.policy_id == policy.policy_id]
    out.write(f"  {policy.policy_id}: {shown.approved} approved live, agreement with staff in shadow "
              f"{shown.agreed}/{shown.compared}; staff decisions this wave: 1 instead of {len(WAVE_TICKETS)}\n")
    app.client.switch_policy(policy.policy_id, "revoked", "staff:demo", "end of the demo")
    out.write(f"  unblock policy revoke {policy.policy_id}: revoked\n")
    again = app.client.cause(view.key)
    if again is not None:
        out.write(f"  the cause now: {again.figures.waves} waves, {again.figures.teams} teams, "
                  f"{again.figures.policy_approvals} approvals by policy\n")
    return rows


def _m(value: timedelta | None) -> str:
    return "-" if value is None else f"{value.total_seconds() / 60:.0f} min"

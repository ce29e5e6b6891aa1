"""`unblock causes`: each cause's record (one automated rule's holds across incidents and time),
newest wave first: teams, cases, staff's decisions and how fast, reverts, the customers' time to fix."""

from __future__ import annotations

import argparse
import json
from datetime import timedelta
from typing import Any, TextIO

from unblock.domain.causes import CauseView
from unblock_dev.commands.deployed import add_parser, client_for
from unblock_dev.staff import StackClient


def register(subparsers: Any) -> argparse.ArgumentParser:
    sp = add_parser(subparsers, "causes", "list causes with their record (teams, staff decisions, reverts)")
    sp.add_argument("--cause", help="one cause's cases (its key, as listed)")
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(func=cmd_causes)
    return sp


def _minutes(value: timedelta | None) -> float | None:
    return round(value.total_seconds() / 60, 1) if value is not None else None


def cause_json(view: CauseView, cases: bool = False) -> dict[str, Any]:
    f = view.figures
    out: dict[str, Any] = {
        "cause": view.key, "code": view.head.cause.code, "reason": view.head.cause.reason,
        "label": view.head.cause.label, "first_seen": view.head.first_seen.isoformat(),
        "last_seen": view.head.last_seen.isoformat(),
        "last_wave_started": f.last_wave_started.isoformat() if f.last_wave_started else None,
        "waves": f.waves, "teams": f.teams, "cases": f.cases,
        "proactive": f.proactive, "staff_decisions": f.staff_decisions, "policy_approvals": f.policy_approvals,
        "deciders": f.deciders, "median_staff_wait_minutes": _minutes(f.median_wait), "reverts": f.reverts,
        "median_time_to_fix_minutes": _minutes(f.median_time_to_fix),
        "rule_likely_misfiring": view.misfiring,
        "owner_told_at": view.head.owner_told_at.isoformat() if view.head.owner_told_at else None,
        "owner": view.notice.owner if view.notice else None,
    }
    if cases:
        out["cases_seen"] = [{"case_id": x.case_id, "team_id": x.team_id, "seen_at": x.seen_at.isoformat(),
                              "proactive": x.proactive, "verified": x.verified, "status": x.status,
                              "outcome": x.outcome, "decision": x.decision, "actor": x.actor,
                              "waited_minutes": _minutes(x.waited), "time_to_fix_minutes": _minutes(x.time_to_fix),
                              "reverted": x.reverted_at is not None} for x in view.lines]
    return out


def cmd_causes(args: argparse.Namespace, out: TextIO, client: StackClient | None = None) -> int:
    stack = client_for(args, client)
    if args.cause:
        view = stack.cause(args.cause)
        if view is None:
            from unblock_dev.inputs import fail

            fail(f"no cause {args.cause!r} (see `unblock causes`)")
        views = [view]
    else:
        views = stack.list_causes()
    if args.json:
        out.write(json.dumps([cause_json(v, cases=bool(args.cause)) for v in views]) + "\n")
        return 0
    out.write(f"{'last seen':<17} {'waves':>5} {'teams':>5} {'cases':>5} {'proactive':>9} {'approve':>7} "
              f"{'resolve':>7} {'reject':>6} {'policy':>6} {'reverts':>7} {'wait min':>8} {'fix min':>7}  cause\n")
    for v in views:
        f, d = v.figures, v.figures.staff_decisions
        wait, fix = _minutes(f.median_wait), _minutes(f.median_time_to_fix)
        flag = "  [rule likely misfiring: owner told]" if v.misfiring else ""
        out.write(f"{v.head.last_seen:%Y-%m-%d %H:%M} {f.waves:>5} {f.teams:>5} {f.cases:>5} {f.proactive:>9} "
                  f"{d['approve']:>7} {d['resolve']:>7} {d['reject']:>6} {f.policy_approvals:>6} {f.reverts:>7} "
                  f"{'-' if wait is None else wait:>8} {'-' if fix is None else fix:>7}  {v.head.cause.label}{flag}\n")
        out.write(f"  key: {v.key}   deciders: {', '.join(f.deciders) or '-'}\n")
        if args.cause:
            for x in v.lines:
                out.write(f"  {x.seen_at:%Y-%m-%d %H:%M} {x.case_id:<48} {x.team_id:<24} {x.outcome or x.status:<16} "
                          f"{(x.decision or '-'):<8} {x.actor or ''}{' (reverted)' if x.reverted_at else ''}\n")
    return 0

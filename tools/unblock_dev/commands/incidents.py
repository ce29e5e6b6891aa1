"""`unblock incidents`: list a stack's incidents (many teams, one cause)."""

from __future__ import annotations

import argparse
import json
from typing import Any, TextIO

from unblock_dev.commands.deployed import add_parser, client_for
from unblock_dev.rendering import incident_json, member_verification
from unblock_dev.staff import StackClient


def register(subparsers: Any) -> argparse.ArgumentParser:
    sp = add_parser(subparsers, "incidents", "list incidents (many teams, one cause)")
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(func=cmd_incidents)
    return sp


def cmd_incidents(args: argparse.Namespace, out: TextIO, client: StackClient | None = None) -> int:
    views = client_for(args, client).list_incidents()
    if args.json:
        out.write(json.dumps([incident_json(v) for v in views]) + "\n")
        return 0
    out.write(f"{'incident':<22} {'opened':<17} {'teams':>5} {'waiting':>7}  cause\n")
    for v in views:
        i = v.incident
        out.write(f"{i.incident_id:<22} {i.opened_at:%Y-%m-%d %H:%M} {v.teams:>5} {len(v.waiting):>7}  "
                  f"{i.cause.label}\n")
        for m, c in v.members:  # each member's requester: a bulk approval covers the unverified only if ticked
            out.write(f"  {m.case_id:<48} {m.team_id:<30} {member_verification(m.case_id, c)}\n")
    return 0

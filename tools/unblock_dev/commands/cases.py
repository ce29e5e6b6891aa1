"""`unblock cases`: list a stack's cases."""

from __future__ import annotations

import argparse
import json
from typing import Any, TextIO

from unblock_dev.commands.deployed import add_parser, client_for
from unblock_dev.staff import StackClient


def register(subparsers: Any) -> argparse.ArgumentParser:
    sp = add_parser(subparsers, "cases", "list cases")
    sp.add_argument("--status", choices=["open", "awaiting_customer", "awaiting_staff", "deciding", "closed"])
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(func=cmd_cases)
    return sp


def cmd_cases(args: argparse.Namespace, out: TextIO, client: StackClient | None = None) -> int:
    cases = client_for(args, client).cases(args.status)
    if args.json:
        out.write(json.dumps([json.loads(c.model_dump_json(exclude={"task_token"})) for c in cases]) + "\n")
        return 0
    out.write(f"{'case':<34} {'status':<18} {'outcome':<16} {'priority':<8} team\n")
    for c in cases:
        out.write(f"{c.case_id:<34} {c.status:<18} {c.outcome or '-':<16} {c.priority:<8} {c.team_id or '-'}\n")
    return 0

"""`unblock revert CASE [--fix NAME] --note TEXT`: undo a clear_billing_hold or lift_risk_hold unblock
applied (within 7 days), the hold put back as the fix's audit recorded it."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from unblock.domain.fixes import REVERTIBLE
from unblock_dev.commands.deployed import add_parser, client_for
from unblock_dev.staff import StackClient


def register(subparsers: Any) -> argparse.ArgumentParser:
    sp = add_parser(subparsers, "revert", "undo a fix unblock applied (clear_billing_hold, lift_risk_hold)")
    sp.add_argument("case")
    sp.add_argument("--fix", choices=REVERTIBLE, help="the fix to revert (default: every revertible fix applied)")
    sp.add_argument("--note", required=True, help="why (kept in the audit and told to staff)")
    sp.set_defaults(func=cmd_revert)
    return sp


def cmd_revert(args: argparse.Namespace, out: TextIO, client: StackClient | None = None) -> int:
    stack = client_for(args, client)
    case = stack.revert(args.case, args.actor, args.note, args.fix)
    for r in case.reverts:
        if args.fix in (None, r.fix):
            out.write(f"case {case.case_id}: {r.fix} reverted by {r.actor} at {r.at.isoformat(timespec='seconds')}"
                      f" (the hold is back as it was before the fix)\n")
    return 0

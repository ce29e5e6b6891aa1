"""`unblock decide`: resume a case waiting for staff, or decide every member of an incident."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from unblock_dev.commands.deployed import add_parser, client_for
from unblock_dev.inputs import fail
from unblock_dev.staff import Decision, StackClient


def register(subparsers: Any) -> argparse.ArgumentParser:
    sp = add_parser(subparsers, "decide", "resume a case waiting for staff, or decide an incident")
    sp.add_argument("case", nargs="?")
    sp.add_argument("--incident", metavar="ID", help="decide every member of this incident at once")
    sp.add_argument("--include", action="append", metavar="TEAM",
                    help="with --incident: also start and decide a case for this team held by the same "
                         "rule that has not written in (repeat it)")
    sp.add_argument("--include-unverified", action="append", metavar="CASE",
                    help="with --incident --approve: also approve this member whose requester is not verified "
                         "(ticked one by one; repeat it); otherwise an approval leaves such members")
    group = sp.add_mutually_exclusive_group(required=True)
    group.add_argument("--approve", action="store_true", help="apply the proposed fix, then verify")
    group.add_argument("--resolve", action="store_true", help="mended by hand: close as resolved")
    group.add_argument("--reject", action="store_true", help="keep the restriction: close as rejected")
    sp.add_argument("--note")
    sp.set_defaults(func=cmd_decide)
    return sp


def cmd_decide(args: argparse.Namespace, out: TextIO, client: StackClient | None = None) -> int:
    if bool(args.case) == bool(args.incident):
        fail("name a case, or an incident with --incident ID")
    if (args.include or args.include_unverified) and not args.incident:
        fail("--include and --include-unverified belong to an incident's decision: use them with --incident")
    stack = client_for(args, client)
    decision: Decision = "approve" if args.approve else "resolve" if args.resolve else "reject"
    if args.incident:
        record = stack.decide_incident(args.incident, decision, args.actor, args.note, tuple(args.include or ()),
                                       include_unverified=tuple(args.include_unverified or ()))
        out.write(f"incident {args.incident}: {decision} by {record.actor}\n")
        for o in record.outcomes:
            out.write(f"  {o.case_id:<48} {o.result:<16} {o.detail}\n")
        counts: dict[str, int] = {}
        for o in record.outcomes:
            counts[o.result] = counts.get(o.result, 0) + 1
        out.write(", ".join(f"{n} {result}" for result, n in sorted(counts.items())) + "\n")
        return 0
    case = stack.decide(args.case, decision, args.actor, args.note)
    out.write(f"case {case.case_id}: {decision} sent (was waiting for staff)\n")
    return 0

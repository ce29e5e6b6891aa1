"""`unblock recheck`: one pass of the scheduled re-check, now."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from unblock_dev.commands.deployed import add_parser, client_for
from unblock_dev.staff import StackClient


def register(subparsers: Any) -> argparse.ArgumentParser:
    sp = add_parser(subparsers, "recheck", "run one pass of the scheduled re-check now")
    sp.set_defaults(func=cmd_recheck)
    return sp


def cmd_recheck(args: argparse.Namespace, out: TextIO, client: StackClient | None = None) -> int:
    report = client_for(args, client).recheck()
    out.write(f"{report.get('due', 0)} due case(s) re-checked\n")
    for case_id, action in report.get("actions", {}).items():
        out.write(f"  {case_id:<40} {action}\n")
    return 0

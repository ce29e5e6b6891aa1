"""`unblock replay`: re-drive the events kept on the intake dead-letter queue."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from unblock_dev.commands.deployed import add_parser, client_for
from unblock_dev.staff import StackClient


def register(subparsers: Any) -> argparse.ArgumentParser:
    sp = add_parser(subparsers, "replay", "re-drive the events kept on the intake dead-letter queue")
    sp.set_defaults(func=cmd_replay)
    return sp


def cmd_replay(args: argparse.Namespace, out: TextIO, client: StackClient | None = None) -> int:
    outcomes = client_for(args, client).replay()
    for o in outcomes:
        out.write(f"{'replayed' if o.ok else 'still kept':<11} {o.kind:<10} {o.detail}\n")
    out.write(f"{sum(o.ok for o in outcomes)} replayed, {sum(not o.ok for o in outcomes)} still kept\n")
    return 0 if all(o.ok for o in outcomes) else 1

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
    stack = client_for(args, client)
    busy = stack.replay_in_flight()  # held by another reader before this replay receives anything
    outcomes = stack.replay()
    for o in outcomes:
        out.write(f"{'replayed' if o.ok else 'still kept':<11} {o.kind:<10} {o.detail}\n")
    out.write(f"{sum(o.ok for o in outcomes)} replayed, {sum(not o.ok for o in outcomes)} still kept\n")
    if busy:  # received by another reader: not gone, and not "0 kept"
        out.write(f"{busy} kept event(s) in flight (held by another replay or reader; visible again within "
                  "30 s): run `unblock replay` again then\n")
    return 0 if all(o.ok for o in outcomes) and not busy else 1

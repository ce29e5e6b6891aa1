"""`unblock mode [live|approval|shadow]`: the stack's run-time mode, the kill switch (DESIGN.md "Modes").

Without a value it prints the mode; with one it switches it, audited (who, when, from, to) and told to
staff; every function obeys within a minute, no deploy. `--stack NAME` names a deployed stack (its
`ModeParameterName` output). Without it: the embedded stack, whose mode lives as long as the process
that runs it (`unblock run --mode`, the local console's Mode page); from the shell that is
template.yaml's start mode.
"""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from unblock.domain.models import MODES
from unblock_dev.commands.deployed import add_parser
from unblock_dev.inputs import fail
from unblock_dev.staff import StackClient, stack_outputs

MEANING = {"live": "safe fixes apply and customers are answered",
           "approval": "every fix is a proposal staff approve; customers are answered",
           "shadow": "checks and decisions run; nothing is changed and nobody is told, staff decisions included"}


def register(subparsers: Any) -> argparse.ArgumentParser:
    sp = add_parser(subparsers, "mode", "print or switch the stack's run-time mode (the kill switch)")
    sp.add_argument("mode", nargs="?", choices=MODES, help="switch to this mode (without it: print the mode)")
    sp.add_argument("--note", help="why (kept in the audit and told to staff)")
    sp.set_defaults(func=cmd_mode)
    return sp


def cmd_mode(args: argparse.Namespace, out: TextIO, client: StackClient | None = None) -> int:
    if client is None and args.stack:
        client = StackClient(stack_outputs(args.stack))
    if client is None:
        return _embedded(args, out)
    if args.mode is None:
        now = client.mode()
        out.write(f"{now}: {MEANING[now]}\n")
        for past in client.modes.changes(limit=5):
            out.write(f"  {past.at.isoformat(timespec='seconds')} {past.actor}: {past.was} -> {past.now}"
                      + (f" ({past.note})" if past.note else "") + "\n")
        return 0
    change = client.switch_mode(args.mode, args.actor, args.note)
    if change is None:
        out.write(f"already {args.mode}: nothing changed\n")
    else:
        out.write(f"{change.was} -> {change.now} by {change.actor}: {MEANING[change.now]} "
                  "(every function obeys within a minute)\n")
    return 0


def _embedded(args: argparse.Namespace, out: TextIO) -> int:
    """No --stack: the embedded stack lives inside `unblock run`, `unblock console`, `unblock demo`."""
    from unblock_dev.local.stack import ROOT
    from unblock_dev.local.template import load_template

    start = str(load_template(ROOT / "template.yaml")["Parameters"]["Mode"]["Default"])
    if args.mode is not None:
        fail("the embedded stack lives only inside `unblock run` (--mode), `unblock console` (its Mode page) and "
             "`unblock demo`; switch a deployed stack with --stack NAME")
    out.write(f"{start}: {MEANING[start]} (the embedded stack's start mode, template.yaml; "
              "`unblock run --mode` starts it in another)\n")
    return 0

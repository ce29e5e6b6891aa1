"""What the staff subcommands share: `--stack NAME` (a deployed stack, found by its outputs) and
`--actor` (who is recorded in the audit), and the stack client they act through."""

from __future__ import annotations

import argparse
import getpass
from typing import Any

from unblock_dev.inputs import fail
from unblock_dev.staff import StackClient, stack_outputs


def add_parser(subparsers: Any, name: str, helptext: str) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(name, help=helptext)
    parser.add_argument("--stack", help="the deployed stack's name (resources come from its outputs)")
    parser.add_argument("--actor", default=whoami(), help="who is acting (recorded in the audit)")
    return parser


def client_for(args: argparse.Namespace, client: StackClient | None = None) -> StackClient:
    """`client` when the caller has one (the embedded stack's, in tests), else --stack's."""
    if client is not None:
        return client
    if not args.stack:
        fail("--stack NAME is required: the embedded stack lives only inside `unblock run` and `unblock demo`")
    return StackClient(stack_outputs(args.stack))


def whoami() -> str:
    try:
        return f"staff:{getpass.getuser()}"
    except Exception:  # noqa: BLE001 - no user name in some containers
        return "staff:unknown"

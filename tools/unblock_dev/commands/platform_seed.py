"""`unblock platform seed --stack NAME FILE`: load a sandbox seed (DESIGN.md "Sandbox seed format") into a
deployed stack's sandbox platform table (PlatformAdapter=sandbox), so a fresh stack has teams to check.

Teams, the request log and the model policy in FILE are written over what the table holds under the same
keys; teams the file does not name stay. A stack on the operator's admin API (PlatformAdapter=http) has no
sandbox table: the command says so and changes nothing.
"""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from unblock_dev.commands.deployed import client_for
from unblock_dev.inputs import fail, load_seed
from unblock_dev.staff import StackClient


def register(platform_commands: Any) -> argparse.ArgumentParser:
    """Add `seed` to `unblock platform`'s subcommands."""
    sp: argparse.ArgumentParser = platform_commands.add_parser(
        "seed", help="load a sandbox seed into a deployed stack's sandbox platform table",
        description="Load FILE (the sandbox seed format; events/platform.json is the sample) into the sandbox "
                    "platform table of the deployed stack --stack NAME (its PlatformTableName output). Teams in "
                    "FILE are added or replaced; others stay.")
    sp.add_argument("file", metavar="FILE", help="the seed (JSON), e.g. events/platform.json")
    sp.add_argument("--stack", help="the deployed stack's name (resources come from its outputs)")
    sp.set_defaults(func=cmd_seed)
    return sp


def cmd_seed(args: argparse.Namespace, out: TextIO, client: StackClient | None = None) -> int:
    seed = load_seed(args.file)  # a bad seed exits 2 naming the field, before anything is written
    stack = client_for(args, client)
    table = stack.outputs.get("PlatformTableName")
    if stack.platform is None or not table:
        fail(f"stack {args.stack or ''!s} has no sandbox platform table (PlatformAdapter=http reads the operator's "
             "admin API; seed that system instead)")
    stack.platform.load(seed)  # type: ignore[attr-defined]  # the sandbox platform, by the output above
    out.write(f"seeded {table}: {len(seed.teams)} teams, {len(seed.requests)} logged requests, "
              f"{len(seed.model_policy.free_tier_restricted)} models outside the free tier\n")
    for team in seed.teams:
        out.write(f"  {team.team_id}  {team.slug or '-'}  {team.owner_email or '-'}\n")
    return 0

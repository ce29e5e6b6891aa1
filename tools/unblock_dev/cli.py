"""`unblock`: run trigger events on the embedded stack, and staff tools for a deployed one.

Exit status: 0 done, 2 bad input or a request that cannot be done (one line on stderr,
no traceback). With --json, stdout carries exactly one JSON object; logs go to stderr.

This module only assembles the subcommands (unblock_dev.commands, one module each; `gateway`
and `platform serve` register from their servers' modules) and runs the one asked for.
"""

from __future__ import annotations

import argparse
import sys

from pydantic import ValidationError

from unblock.workflow.staff_decisions import StaffError
from unblock_dev import api_server, gateway
from unblock_dev.commands import (
    cases,
    causes,
    console,
    decide,
    demo,
    incidents,
    mode,
    platform_seed,
    policy,
    recheck,
    replay,
    revert,
    run,
    start,
)
from unblock_dev.inputs import UsageError

# in the order `unblock --help` lists them
SUBCOMMANDS = (gateway, api_server, run, console, demo, decide, cases, incidents, causes, policy, start, replay,
               recheck, revert, mode)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="unblock", description=__doc__.splitlines()[0] if __doc__ else None)
    sub = p.add_subparsers(dest="command", required=True)
    for module in SUBCOMMANDS:
        added = module.register(sub)
        if module is api_server:  # `unblock platform`: serve (the server's own) and seed (a deployed stack's)
            platform_seed.register(added)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    out = sys.stdout
    # everything else printed (Powertools logs and metrics) goes to stderr: stdout is the result
    sys.stdout = sys.stderr
    try:
        return int(args.func(args, out))
    except UsageError as err:
        print(f"unblock: {err}", file=sys.stderr)
        return 2
    except (StaffError, ValidationError) as err:  # one line, no traceback, for anything a user can cause
        print(f"unblock: {err}".splitlines()[0], file=sys.stderr)
        return 2
    finally:
        sys.stdout = out
        out.flush()


if __name__ == "__main__":
    raise SystemExit(main())

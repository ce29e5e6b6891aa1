"""`unblock start --team TEAM`: a check started by hand, on a deployed stack (--stack) or the embedded one."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any, TextIO

from pydantic import ValidationError

from unblock.domain.models import Report
from unblock.domain.tickets.reports import redact_report
from unblock_dev.commands.deployed import add_parser, client_for
from unblock_dev.inputs import fail, load_seed
from unblock_dev.rendering import emit
from unblock_dev.serving import quiet
from unblock_dev.staff import StackClient


def register(subparsers: Any) -> argparse.ArgumentParser:
    sp = add_parser(subparsers, "start", "start a check by hand for a team")
    sp.add_argument("--team", required=True, help="team id (team_...) or slug")
    sp.add_argument("--key", help="key prefix (vck_...)")
    sp.add_argument("--note")
    sp.add_argument("--platform", help="sandbox seed, on the embedded stack (default events/platform.json)")
    sp.add_argument("--json", action="store_true", help="on the embedded stack: print the Result")
    sp.set_defaults(func=cmd_start)
    return sp


def staff_report(team: str, key: str | None, note: str | None, actor: str) -> dict[str, Any]:
    """The StartExecution input for a check started by hand (events/staff-manual.json's shape)."""
    if key is not None and not key.startswith("vck_"):
        fail(f"--key {key!r} is not a key prefix (vck_...)")
    stamp = datetime.now(UTC)
    fields: dict[str, Any] = {"team_id": team} if team.startswith("team_") else {"team_hint": team}
    try:
        report = Report(case_id=f"staff:{team}:{stamp:%Y%m%dT%H%M%S}", source="staff", key_prefix=key, note=note,
                        requested_by=actor, received_at=stamp, **fields)
    except ValidationError as err:
        fail(f"invalid staff start: {err.errors()[0]['msg']}")
    # with --stack this goes straight to StartExecution: redact here, as the intake does
    return {"report": redact_report(report).model_dump(mode="json")}


def cmd_start(args: argparse.Namespace, out: TextIO, client: StackClient | None = None) -> int:
    event = staff_report(args.team, args.key, args.note, args.actor)
    if client is None and not args.stack:  # on the embedded stack: start, wait, show
        from unblock_dev.local.app import LocalApp

        app = LocalApp(load_seed(args.platform))
        quiet(args)
        try:
            emit(app.run(event), args.json, out)
        finally:
            app.close()
        return 0
    arn = client_for(args, client).start(event["report"])
    out.write(f"case {event['report']['case_id']} started: {arn}\n")
    return 0

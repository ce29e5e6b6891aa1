"""`unblock run EVENT...`: trigger events through the state machine on the embedded stack."""

from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from unblock_dev.inputs import fail, load_seed, parse_now, read_json
from unblock_dev.rendering import emit
from unblock_dev.serving import quiet


def register(subparsers: Any) -> argparse.ArgumentParser:
    run = subparsers.add_parser("run", help="run one trigger event through the state machine on the embedded stack")
    run.add_argument("events", nargs="+", metavar="EVENT",
                     help="normalized ticket events, StartExecution inputs or webhook samples (JSON), run in order "
                          "on one embedded stack")
    run.add_argument("--platform", help="sandbox seed (default events/platform.json)")
    run.add_argument("--json", action="store_true",
                     help="print exactly one JSON object (the Result) per event, one per line")
    run.add_argument("--now", help="the clock for the checks (default: the event's time, else now)")
    run.add_argument("--mode", choices=["live", "approval", "shadow"],
                     help="the stack's Mode (default: template.yaml's): approval - fixes become proposals; "
                          "shadow - checks and decision only, nothing changes, the customer is not told")
    run.add_argument("--dry-run", dest="approval_alias", action="store_true", help="the older name of --mode approval")
    run.add_argument("--decide", choices=["approve", "resolve", "reject"],
                     help="if the case escalates, resume it with this staff decision")
    run.add_argument("--verbose", action="store_true", help="handler logs and metrics on stderr")
    run.add_argument("--keep", metavar="DIR",
                     help="after the run, write everything the stack holds to DIR for audit: every table item, "
                          "queue and dead-letter message, execution history and log line (README, --keep)")
    run.set_defaults(func=cmd_run)
    return run


def cmd_run(args: argparse.Namespace, out: TextIO) -> int:
    from unblock_dev.local.app import BadEvent, LocalApp, OpensNoCase, event_kind, event_time

    events = []
    for path in args.events:  # every event is read and recognised before any runs
        event = read_json(path, "event")
        try:
            event_kind(event)
        except BadEvent as err:
            fail(f"{path}: {err}")
        events.append((path, event))
    keep = keep_dir(args.keep) if args.keep else None
    seed = load_seed(args.platform)
    now = parse_now(args.now)
    app = LocalApp(seed, now=now or event_time(events[0][1]), parameters=parameters(args))
    quiet(args)
    recording, printed = None, io.StringIO()
    if keep is not None:
        from unblock_dev.local.keep import RunRecording

        recording = RunRecording().start()
        sys.stdout = recording.tee(sys.stdout)  # the metric lines, as CloudWatch Logs keeps them
        out = _Both(out, printed)
    rejected: list[str] = []
    try:
        for path, event in events:  # one stack: one platform, one cases table, in order
            try:
                result = app.run(event, at=now)
            except BadEvent as err:
                if len(events) == 1:
                    fail(f"{path}: {err}")
                # one bad ticket in a batch does not cost the others their run: its line says why, exit 2
                rejected.append(f"{path}: {err}")
                print(f"unblock: {path}: {err}", file=sys.stderr)
                if args.json:
                    out.write(json.dumps({"case_id": None, "status": "rejected", "event": path,
                                          "error": str(err)}) + "\n")
                continue
            except OpensNoCase as done:  # taken, nothing to run: say what the function answered
                out.write(json.dumps({"case_id": None, "status": done.status, "answer": done.answer}) + "\n"
                          if args.json else f"{path}: {done}\n")
                continue
            if args.decide and result.outcome == "escalated":
                result = app.decide(result.case_id, args.decide, actor="staff:cli")
            emit(result, args.json, out)
    finally:
        if keep is not None and recording is not None:
            from unblock_dev.local.keep import keep_stack

            recording.stop()
            keep_stack(app, keep, recording, printed.getvalue())
        app.close()
    if rejected:
        fail(f"{len(rejected)} of {len(events)} events rejected (see above); the others ran")
    return 0


def keep_dir(value: str) -> Path:
    path = Path(value)
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        fail(f"--keep {value}: must be an empty directory or not exist yet")
    return path


def parameters(args: argparse.Namespace) -> dict[str, str]:
    """Template parameters the run overrides: only the Mode (--mode; --dry-run is --mode approval). Every
    other value, the Mode's default included, is template.yaml's."""
    mode = getattr(args, "mode", None) or ("approval" if getattr(args, "approval_alias", False) else None)
    return {"Mode": mode} if mode else {}


class _Both(io.StringIO):
    """The command's output, also kept for --keep (output.txt)."""

    def __init__(self, out: TextIO, copy: io.StringIO) -> None:
        super().__init__()
        self._out, self._copy = out, copy

    def write(self, text: str) -> int:
        self._copy.write(text)
        return self._out.write(text)

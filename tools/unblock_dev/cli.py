"""`unblock`: run trigger events on the embedded stack, and staff tools for a deployed one.

Exit status: 0 done, 2 bad input or a request that cannot be done (one line on stderr,
no traceback). With --json, stdout carries exactly one JSON object; logs go to stderr.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn, TextIO

from pydantic import ValidationError

from unblock.domain.models import Result


class UsageError(Exception):
    pass


def _fail(message: str) -> NoReturn:
    raise UsageError(message)


def _read_json(path: str, what: str) -> Any:
    """A JSON file within its limits (unblock.domain.limits: size and depth, checked before it is
    parsed; valid Unicode); anything else exits 2 naming the problem."""
    from unblock.domain.limits import (
        MAX_EVENT_FILE_BYTES,
        MAX_SEED_FILE_BYTES,
        InputRejected,
        check_json_text,
        check_json_value,
    )

    max_bytes = MAX_SEED_FILE_BYTES if what == "seed" else MAX_EVENT_FILE_BYTES
    try:
        with Path(path).open("rb") as file:
            raw = file.read(max_bytes + 1)  # no more than one byte past the limit is ever read
    except OSError as err:
        _fail(f"cannot read {what} {path}: {err.strerror}")
    if len(raw) > max_bytes:
        _fail(f"{what} {path} is larger than {max_bytes} bytes, the most accepted")
    try:
        check_json_text(raw, f"{what} {path}", max_bytes)
        data = json.loads(raw.decode("utf-8"))
        check_json_value(data, f"{what} {path}")
    except InputRejected as err:
        _fail(str(err))
    except UnicodeDecodeError:
        _fail(f"{what} {path} is not valid UTF-8")
    except json.JSONDecodeError as err:
        _fail(f"{what} {path} is not valid JSON: {err.msg} at line {err.lineno} column {err.colno}")
    return data


def _load_seed(path: str | None) -> Any:
    return seed_file(path)[0]


def seed_file(path: str | None) -> tuple[Any, Any]:
    """The seed (default events/platform.json), validated, and its JSON as read (test secrets in clear,
    for the gateway and demo to show); a bad seed exits 2 naming the field."""
    from unblock.domain.platform_model import Seed
    from unblock_dev.local.app import DEFAULT_SEED

    source = path or str(DEFAULT_SEED)
    data = _read_json(source, "seed")
    try:
        return Seed.model_validate(data), data
    except ValidationError as err:
        first = err.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        _fail(f"seed {source}: {loc}: {first['msg']} ({err.error_count()} error(s))")


def _parse_now(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        _fail(f"--now {value!r} is not an ISO-8601 time")


# --- rendering --------------------------------------------------------------------------------
def render(result: Result, out: TextIO) -> None:
    r = result
    out.write(f"case {r.case_id}: {r.outcome}   team {r.team_id or '(not identified)'}\n")
    out.write(f"path: {' -> '.join(r.trace.states)}\n")
    out.write(f"      {r.trace.state_transitions} state transitions, {r.trace.lambda_invocations} Lambda invocations\n")
    for f in r.findings:
        out.write(f"  [{f.disposition:<15}] {f.code:<40} {f.summary}\n")
    if r.fixes_applied:
        out.write(f"fixes applied: {', '.join(r.fixes_applied)}   verified: {'yes' if r.verified else 'no'}\n")
    if r.escalation:
        out.write(f"escalated ({r.escalation.get('priority', 'normal')}): {r.escalation.get('reason')}\n")
        if r.escalation.get("proposed_fixes"):
            out.write(f"  proposed for staff approval: {', '.join(r.escalation['proposed_fixes'])}\n")
        out.write(f"  decide with: unblock decide {r.case_id} --approve|--resolve|--reject\n")
    if r.incident_id:
        out.write(f"incident: {r.incident_id} (many teams, one cause: decide them at once with "
                  f"unblock decide --incident {r.incident_id})\n")
    if r.customer_reply:
        out.write("reply to customer:\n" + "\n".join("  | " + line for line in r.customer_reply.splitlines()) + "\n")


def _emit(result: Result, as_json: bool, out: TextIO) -> None:
    if as_json:
        out.write(result.model_dump_json() + "\n")
    else:
        render(result, out)


# --- commands ---------------------------------------------------------------------------------
def cmd_run(args: argparse.Namespace, out: TextIO) -> int:
    from unblock_dev.local.app import BadEvent, LocalApp, event_kind, event_time

    events = []
    for path in args.events:  # every event is read and recognised before any runs
        event = _read_json(path, "event")
        try:
            event_kind(event)
        except BadEvent as err:
            _fail(f"{path}: {err}")
        events.append((path, event))
    keep = _keep_dir(args.keep) if args.keep else None
    seed = _load_seed(args.platform)
    now = _parse_now(args.now)
    app = LocalApp(seed, now=now or event_time(events[0][1]), parameters=_parameters(args))
    _quiet(args)
    recording, printed = None, io.StringIO()
    if keep is not None:
        from unblock_dev.local.keep import RunRecording

        recording = RunRecording().start()
        sys.stdout = recording.tee(sys.stdout)  # the metric lines, as CloudWatch Logs keeps them
        out = _Both(out, printed)
    try:
        for path, event in events:  # one stack: one platform, one cases table, in order
            try:
                result = app.run(event, at=now)
            except BadEvent as err:
                _fail(f"{path}: {err}")
            if args.decide and result.outcome == "escalated":
                result = app.decide(result.case_id, args.decide, actor="staff:cli")
            _emit(result, args.json, out)
    finally:
        if keep is not None and recording is not None:
            from unblock_dev.local.keep import keep_stack

            recording.stop()
            keep_stack(app, keep, recording, printed.getvalue())
        app.close()
    return 0


def _keep_dir(value: str) -> Path:
    path = Path(value)
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        _fail(f"--keep {value}: must be an empty directory or not exist yet")
    return path


class _Both(io.StringIO):
    """The command's output, also kept for --keep (output.txt)."""

    def __init__(self, out: TextIO, copy: io.StringIO) -> None:
        super().__init__()
        self._out, self._copy = out, copy

    def write(self, text: str) -> int:
        self._copy.write(text)
        return self._out.write(text)


def _quiet(args: argparse.Namespace) -> None:
    """Handler logs and EMF metrics are for CloudWatch; on a terminal only warnings, unless --verbose.
    With --keep the functions still log at their own level: the lines go to DIR, not to the terminal."""
    import os

    if not getattr(args, "verbose", False):
        from unblock.observability import logger

        if getattr(args, "keep", None):
            logger.registered_handler.setLevel("WARNING")
        else:
            logger.setLevel("WARNING")
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - EMF metrics lines; the result has its own stream


@contextmanager
def serving(args: argparse.Namespace, seed: Any, make_server: Callable[[Any], Any]) -> Iterator[tuple[Any, Any]]:
    """An embedded stack seeded with `seed` and a server on 127.0.0.1:--port over it, for
    `unblock gateway` and `unblock platform serve`; the stack stops when the block ends."""
    import logging

    from unblock_dev.local.app import LocalApp

    if not 0 <= args.port <= 65535:
        _fail(f"--port {args.port} is not a port number")
    app = LocalApp(seed, now=_parse_now(args.now))
    _quiet(args)
    if args.verbose:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        try:
            server = make_server(app)
        except OSError as err:
            _fail(f"cannot listen on 127.0.0.1:{args.port}: {err.strerror}")
        yield app, server
    finally:
        app.close()


def _parameters(args: argparse.Namespace) -> dict[str, str]:
    return {"DryRun": "true"} if getattr(args, "dry_run", False) else {}


def cmd_demo(args: argparse.Namespace, out: TextIO) -> int:
    from unblock_dev.demo import run_demo

    seed, raw = seed_file(args.platform)
    _quiet(args)
    return run_demo(out, seed, raw)


def cmd_console(args: argparse.Namespace, out: TextIO) -> int:
    """The staff console on 127.0.0.1 over the embedded stack; the first stdout line is the URL to open
    (a one-time sign-in for `staff:local`). Ctrl-C stops it."""
    import threading

    from unblock_dev.console_server import ConsoleServer
    from unblock_dev.local.app import LocalApp

    if not 0 <= args.port <= 65535:
        _fail(f"--port {args.port} is not a port number")
    seed, _ = seed_file(args.platform)
    _quiet(args)
    app = LocalApp(seed)
    try:
        if args.demo:
            from unblock_dev.demo import run_scenarios, run_wave

            run_scenarios(app, seed)
            run_wave(app, seed)  # an incident: five teams held by one rule, waiting for one decision
            app.seed(seed)  # the escalated teams as they were reported, for staff to decide
        try:
            server = ConsoleServer(app, args.port).start()
        except OSError as err:
            _fail(f"cannot listen on 127.0.0.1:{args.port}: {err.strerror}")
        out.write(server.login_url() + "\n")
        out.flush()
        print(f"unblock console on {server.base_url} as staff:local; Ctrl-C stops it", file=sys.stderr)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
        finally:
            server.stop()
    finally:
        app.close()
    return 0


def _console(args: argparse.Namespace) -> Any:
    from unblock_dev.staff import Console, stack_outputs

    if not args.stack:
        _fail("--stack NAME is required: the embedded stack lives only inside `unblock run` and `unblock demo`")
    return Console(stack_outputs(args.stack))


def cmd_decide(args: argparse.Namespace, out: TextIO, console: Any = None) -> int:
    if bool(args.case) == bool(args.incident):
        _fail("name a case, or an incident with --incident ID")
    if (args.include or args.include_unverified) and not args.incident:
        _fail("--include and --include-unverified belong to an incident's decision: use them with --incident")
    console = console or _console(args)
    decision = "approve" if args.approve else "resolve" if args.resolve else "reject"
    if args.incident:
        record = console.decide_incident(args.incident, decision, args.actor, args.note, tuple(args.include or ()),
                                         include_unverified=tuple(args.include_unverified or ()))
        out.write(f"incident {args.incident}: {decision} by {record.actor}\n")
        for o in record.outcomes:
            out.write(f"  {o.case_id:<48} {o.result:<16} {o.detail}\n")
        counts: dict[str, int] = {}
        for o in record.outcomes:
            counts[o.result] = counts.get(o.result, 0) + 1
        out.write(", ".join(f"{n} {result}" for result, n in sorted(counts.items())) + "\n")
        return 0
    case = console.decide(args.case, decision, args.actor, args.note)
    out.write(f"case {case.case_id}: {decision} sent (was waiting for staff)\n")
    return 0


def incident_json(view: Any) -> dict[str, Any]:
    """An incident as `unblock incidents --json` prints it (no task token, no report text)."""
    i = view.incident
    return {
        "incident_id": i.incident_id, "cause": i.cause.model_dump(mode="json"), "label": i.cause.label,
        "opened_at": i.opened_at.isoformat(), "last_joined_at": i.last_joined_at.isoformat() if i.last_joined_at
        else None, "teams": view.teams, "waiting": len(view.waiting),
        "members": [{"case_id": m.case_id, "team_id": m.team_id, "via": m.via, "status": c.status if c else None,
                     "outcome": c.outcome if c else None, "requester": member_verification(m.case_id, c)}
                    for m, c in view.members],
        "held_elsewhere": None if view.held_elsewhere is None else [
            t.model_dump(mode="json") for t in view.held_elsewhere],
        "decisions": [d.model_dump(mode="json") for d in i.decisions],
    }


def member_verification(case_id: str, case: Any) -> str:
    """How a member's requester stands, as staff read it before a bulk approval: `verified`,
    `unverified` (an approval needs the case ticked), `proactive` (no requester), `staff` or `unknown`."""
    from unblock.domain.incidents import is_proactive

    if is_proactive(case_id):
        return "proactive"
    if case is None:
        return "unknown"
    if case.report.source == "staff":
        return "staff"
    return "verified" if case.requester_verified else "unverified"


def cmd_incidents(args: argparse.Namespace, out: TextIO, console: Any = None) -> int:
    console = console or _console(args)
    views = console.list_incidents()
    if args.json:
        out.write(json.dumps([incident_json(v) for v in views]) + "\n")
        return 0
    out.write(f"{'incident':<22} {'opened':<17} {'teams':>5} {'waiting':>7}  cause\n")
    for v in views:
        i = v.incident
        out.write(f"{i.incident_id:<22} {i.opened_at:%Y-%m-%d %H:%M} {v.teams:>5} {len(v.waiting):>7}  "
                  f"{i.cause.label}\n")
        for m, c in v.members:  # each member's requester: a bulk approval covers the unverified only if ticked
            out.write(f"  {m.case_id:<48} {m.team_id:<30} {member_verification(m.case_id, c)}\n")
    return 0


def cmd_cases(args: argparse.Namespace, out: TextIO, console: Any = None) -> int:
    console = console or _console(args)
    cases = console.cases(args.status)
    if args.json:
        out.write(json.dumps([json.loads(c.model_dump_json(exclude={"task_token"})) for c in cases]) + "\n")
        return 0
    out.write(f"{'case':<34} {'status':<18} {'outcome':<16} {'priority':<8} team\n")
    for c in cases:
        out.write(f"{c.case_id:<34} {c.status:<18} {c.outcome or '-':<16} {c.priority:<8} {c.team_id or '-'}\n")
    return 0


def staff_report(team: str, key: str | None, note: str | None, actor: str) -> dict[str, Any]:
    """The StartExecution input for a check started by hand (events/staff-manual.json's shape)."""
    from unblock.domain.models import Report
    from unblock.domain.tickets.reports import redact_report

    if key is not None and not key.startswith("vck_"):
        _fail(f"--key {key!r} is not a key prefix (vck_...)")
    stamp = datetime.now(UTC)
    fields: dict[str, Any] = {"team_id": team} if team.startswith("team_") else {"team_hint": team}
    try:
        report = Report(case_id=f"staff:{team}:{stamp:%Y%m%dT%H%M%S}", source="staff", key_prefix=key, note=note,
                        requested_by=actor, received_at=stamp, **fields)
    except ValidationError as err:
        _fail(f"invalid staff start: {err.errors()[0]['msg']}")
    # with --stack this goes straight to StartExecution: redact here, as the intake does
    return {"report": redact_report(report).model_dump(mode="json")}


def cmd_start(args: argparse.Namespace, out: TextIO, console: Any = None) -> int:
    event = staff_report(args.team, args.key, args.note, args.actor)
    if console is None and not args.stack:  # on the embedded stack: start, wait, show
        from unblock_dev.local.app import LocalApp

        app = LocalApp(_load_seed(args.platform))
        _quiet(args)
        try:
            _emit(app.run(event), args.json, out)
        finally:
            app.close()
        return 0
    console = console or _console(args)
    arn = console.start(event["report"])
    out.write(f"case {event['report']['case_id']} started: {arn}\n")
    return 0


def cmd_replay(args: argparse.Namespace, out: TextIO, console: Any = None) -> int:
    console = console or _console(args)
    outcomes = console.replay()
    for o in outcomes:
        out.write(f"{'replayed' if o.ok else 'still kept':<11} {o.kind:<10} {o.detail}\n")
    out.write(f"{sum(o.ok for o in outcomes)} replayed, {sum(not o.ok for o in outcomes)} still kept\n")
    if (busy := console.replay_in_flight()):  # received by another reader: not gone, and not "0 kept"
        out.write(f"{busy} kept event(s) in flight (held by another replay or reader; visible again within "
                  "30 s): run `unblock replay` again then\n")
    return 0 if all(o.ok for o in outcomes) and not busy else 1


def cmd_recheck(args: argparse.Namespace, out: TextIO, console: Any = None) -> int:
    console = console or _console(args)
    report = console.recheck()
    out.write(f"{report.get('due', 0)} due case(s) re-checked\n")
    for case_id, action in report.get("actions", {}).items():
        out.write(f"  {case_id:<40} {action}\n")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="unblock", description=__doc__.splitlines()[0] if __doc__ else None)
    sub = p.add_subparsers(dest="command", required=True)
    from unblock_dev.gateway import register as register_gateway

    register_gateway(sub)
    from unblock_dev.api_server import register as register_platform

    register_platform(sub)

    run = sub.add_parser("run", help="run one trigger event through the state machine on the embedded stack")
    run.add_argument("events", nargs="+", metavar="EVENT",
                     help="normalized ticket events, StartExecution inputs or webhook samples (JSON), run in order "
                          "on one embedded stack")
    run.add_argument("--platform", help="sandbox seed (default events/platform.json)")
    run.add_argument("--json", action="store_true", help="print exactly one JSON object (the Result)")
    run.add_argument("--now", help="the clock for the checks (default: the event's time, else now)")
    run.add_argument("--dry-run", action="store_true", help="approval mode: fixes become proposals")
    run.add_argument("--decide", choices=["approve", "resolve", "reject"],
                     help="if the case escalates, resume it with this staff decision")
    run.add_argument("--verbose", action="store_true", help="handler logs and metrics on stderr")
    run.add_argument("--keep", metavar="DIR",
                     help="after the run, write everything the stack holds to DIR for audit: every table item, "
                          "queue and dead-letter message, execution history and log line (README, --keep)")
    run.set_defaults(func=cmd_run)

    console = sub.add_parser("console", help="the staff console on 127.0.0.1 over the embedded stack")
    console.add_argument("--port", type=int, default=8790, help="port on 127.0.0.1 (default 8790; 0 = any free)")
    console.add_argument("--platform", help="sandbox seed (default events/platform.json)")
    console.add_argument("--demo", action="store_true",
                         help="first run the demo's scenarios and its wave: escalations and an incident wait")
    console.add_argument("--verbose", action="store_true", help="handler logs and metrics on stderr")
    console.set_defaults(func=cmd_console)

    demo = sub.add_parser("demo", help="run every scenario in events/ and print a summary")
    demo.add_argument("--platform", help="sandbox seed (default events/platform.json)")
    demo.add_argument("--verbose", action="store_true", help="handler logs and metrics on stderr")
    demo.set_defaults(func=cmd_demo)

    for name, helptext in (("decide", "resume a case waiting for staff, or decide an incident"),
                           ("cases", "list cases"), ("incidents", "list incidents (many teams, one cause)"),
                           ("start", "start a check by hand for a team"),
                           ("replay", "re-drive the events kept on the intake dead-letter queue"),
                           ("recheck", "run one pass of the scheduled re-check now")):
        sp = sub.add_parser(name, help=helptext)
        sp.add_argument("--stack", help="the deployed stack's name (resources come from its outputs)")
        sp.add_argument("--actor", default=_whoami(), help="who is acting (recorded in the audit)")
        if name == "decide":
            sp.add_argument("case", nargs="?")
            sp.add_argument("--incident", metavar="ID", help="decide every member of this incident at once")
            sp.add_argument("--include", action="append", metavar="TEAM",
                            help="with --incident: also start and decide a case for this team held by the same "
                                 "rule that has not written in (repeat it)")
            sp.add_argument("--include-unverified", action="append", metavar="CASE",
                            help="with --incident --approve: also approve this member whose requester is not "
                                 "verified (ticked one by one; repeat it); otherwise an approval leaves them")
            group = sp.add_mutually_exclusive_group(required=True)
            group.add_argument("--approve", action="store_true", help="apply the proposed fix, then verify")
            group.add_argument("--resolve", action="store_true", help="mended by hand: close as resolved")
            group.add_argument("--reject", action="store_true", help="keep the restriction: close as rejected")
            sp.add_argument("--note")
            sp.set_defaults(func=cmd_decide)
        elif name == "cases":
            sp.add_argument("--status", choices=["open", "awaiting_customer", "awaiting_staff", "deciding", "closed"])
            sp.add_argument("--json", action="store_true")
            sp.set_defaults(func=cmd_cases)
        elif name == "incidents":
            sp.add_argument("--json", action="store_true")
            sp.set_defaults(func=cmd_incidents)
        elif name == "replay":
            sp.set_defaults(func=cmd_replay)
        elif name == "recheck":
            sp.set_defaults(func=cmd_recheck)
        else:
            sp.add_argument("--team", required=True, help="team id (team_...) or slug")
            sp.add_argument("--key", help="key prefix (vck_...)")
            sp.add_argument("--note")
            sp.add_argument("--platform", help="sandbox seed, on the embedded stack (default events/platform.json)")
            sp.add_argument("--json", action="store_true", help="on the embedded stack: print the Result")
            sp.set_defaults(func=cmd_start)
    return p


def _whoami() -> str:
    import getpass

    try:
        return f"staff:{getpass.getuser()}"
    except Exception:  # noqa: BLE001 - no user name in some containers
        return "staff:unknown"


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
    except Exception as err:  # noqa: BLE001 - one line, no traceback, for anything a user can cause
        from unblock_dev.staff import StaffError

        if isinstance(err, StaffError | ValidationError):
            print(f"unblock: {err}".splitlines()[0], file=sys.stderr)
            return 2
        raise
    finally:
        sys.stdout = out
        out.flush()


if __name__ == "__main__":
    raise SystemExit(main())

"""6. Proactive cases: from the first refused request to a verified repair and to the staff alert,
proactive (the gateway's denial signals) against ticket-driven (the customers write in), for the
same teams in the same run; and what a flood of signals costs.

    python -m benchmarks.proactive     # this piece alone: measures, then rewrites its section of BENCHMARKS.md

Both paths, on one embedded stack: four teams held by the "new account velocity" rule (the seed's
wave) and acme-projects (a stale billing hold, a consistency repair) start calling at 06:05 on
2026-11-26, just after the wave's holds began. A path's time is the wait on the sandbox clock (the
signal's window; the customer's ticket at the seed's own time) plus the processing measured here
(wall clock, from the signal put on the bus, or the ticket handed to the intake, to the FixFunction's
verification returning and to the decision that opened the incident, which tells staff).

The flood runs the SignalsFunction's decision (`unblock.workflow.proactive.take_signal`) for 10,000
teams over in-memory ports with the same conditional semantics as the DynamoDB adapter, without
starting 10,000 executions on moto (the state machine's cost per case is section 2's).
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.common import ROOT, log, quiet_stdout
from benchmarks.embedded import Call, Recorder, start_app

HELD = ["team_VeL0c1tyWave000000000001", "team_VeL0c1tyWave000000000002", "team_VeL0c1tyWave000000000003",
        "team_VeL0c1tyWave000000000004"]
ACME = "team_Q3xr89YFWHvqTRO0X0bmHkoU"
FIRST_REFUSED = datetime(2026, 11, 26, 6, 5, tzinfo=UTC)  # a window of its own (06:05-06:10)
WAVE_TICKETS = ["wave-1-comet-labs.json", "wave-2-tidal-forge.json", "wave-3-ember-analytics.json",
                "wave-4-north-quill.json"]
ACME_TICKET = "ticket-stale-billing-hold.json"
TICKET_DAYS = timedelta(days=2)  # the ticket path runs two days later: its incident is its own
SECTION = "## 6. Proactive cases: before the customer writes"


@dataclass
class PathTimes:
    wait_repair: timedelta  # sandbox clock: first refused request -> the signal / the ticket
    wait_alert: timedelta
    repair_s: float  # wall clock: processing to the verified repair
    alert_s: float  # wall clock: processing to the decision that opened the incident (the staff alert)
    alerts: int  # staff alerts published for the wave (SNS)
    notes: list[str] = field(default_factory=list)


@dataclass
class Flood:
    teams: int
    signals: int
    started: int
    items: int
    writes: int
    joined: int
    ignored: int
    seconds: float
    dedupe_held: bool


def _end_of(calls: list[Call], case_id: str, function: str, *steps: str) -> float:
    return max(c.end for c in calls if c.case_id == case_id and c.is_(function, *steps))


def _verified_end(calls: list[Call], case_id: str) -> float:
    return max(c.end for c in calls if c.case_id == case_id and c.verified)


def _alerts(app: Any) -> Any:
    import boto3

    sqs, sns = app.client.sqs, boto3.client("sns")
    url = sqs.create_queue(QueueName=f"bench-proactive-{time.monotonic_ns()}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=app.stack.outputs["StaffAlertsTopicArn"], Protocol="sqs", Endpoint=arn)

    def read() -> list[str]:
        out = []
        while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
            out += [json.loads(m["Body"]).get("Subject", "") for m in batch]
            for m in batch:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        return out

    return read


def _opened_by(app: Any, case_id: str) -> str:
    incident_id = app.client.incidents.incident_of(case_id)
    incident = app.client.incidents.get(incident_id)
    return str(incident.opened_by)


def proactive_path(app: Any, rec: Recorder) -> PathTimes:
    from benchmarks.embedded import reseed
    from unblock_dev.demo_proactive import play_calls
    from unblock_dev.denial_signals import DenialAggregator

    reseed(app)
    read = _alerts(app)
    aggregator = DenialAggregator(app.put_event, app.clock)

    def call(team: str) -> int:  # what the gateway answers the team's key, counted as the sandbox gateway does
        answer = app.platform.probe(team)
        aggregator.record(team, status=answer.status, error_type=answer.error_type,
                          endpoint="/v1/chat/completions", model="openai/gpt-4o")
        return answer.status

    play_calls(app, call, [*HELD, ACME], FIRST_REFUSED)
    app.clock.set(FIRST_REFUSED + timedelta(minutes=5))
    mark = rec.mark()
    put = time.perf_counter()
    aggregator.flush()
    cases = {a["case_id"].split(":")[1]: a["case_id"] for a in aggregator.answers if a.get("case_id")}
    for case_id in cases.values():
        app.wait(case_id)
    calls = rec.since(mark)
    window_end = datetime.fromisoformat(aggregator.emitted[0]["detail"]["window_end"].replace("Z", "+00:00"))
    signal_at = FIRST_REFUSED + timedelta(minutes=5)  # the window ends: the gateway puts the signal on the bus
    opener = _opened_by(app, cases[HELD[0]])
    times = PathTimes(wait_repair=signal_at - FIRST_REFUSED, wait_alert=signal_at - FIRST_REFUSED,
                      repair_s=_verified_end(calls, cases[ACME]) - put,
                      alert_s=_end_of(calls, opener, "DiagnoseFunction", "check_restrictions", "decide") - put,
                      alerts=len(read()))
    times.notes.append(f"{len(aggregator.emitted)} signals (one per team), refusals "
                       f"{FIRST_REFUSED:%H:%M:%S}-{window_end:%H:%M:%S}, on the bus at {signal_at:%H:%M}")
    for case_id in cases.values():  # leave nothing waiting for the ticket path's teams
        case = app.client.store.get(case_id)
        if case is not None and case.status == "awaiting_staff":
            app.decide(case_id, "reject")
    return times


def ticket_path(app: Any, rec: Recorder) -> PathTimes:
    from benchmarks.embedded import load_event, reseed

    reseed(app)
    read = _alerts(app)
    submitted: dict[str, float] = {}
    results = []
    mark = rec.mark()
    for name in [*WAVE_TICKETS, ACME_TICKET]:
        event = load_event(name)
        at = datetime.fromisoformat(event["time"].replace("Z", "+00:00"))
        submitted[name] = time.perf_counter()
        results.append((name, at, app.run(event, at=at + TICKET_DAYS)))
    calls = rec.since(mark)
    by_name = {name: (at, r) for name, at, r in results}
    acme_at, acme = by_name[ACME_TICKET]
    opener = _opened_by(app, by_name[WAVE_TICKETS[0]][1].case_id)
    opener_name = next(n for n, (_, r) in by_name.items() if r.case_id == opener)
    opener_at = by_name[opener_name][0]
    return PathTimes(wait_repair=acme_at - FIRST_REFUSED, wait_alert=opener_at - FIRST_REFUSED,
                     repair_s=_verified_end(calls, acme.case_id) - submitted[ACME_TICKET],
                     alert_s=_end_of(calls, opener, "DiagnoseFunction", "check_restrictions", "decide")
                     - submitted[opener_name], alerts=len(read()),
                     notes=[f"the incident opened on {opener_name} ({opener_at:%H:%M}); acme wrote at {acme_at:%H:%M}"])


# --- the flood: the SignalsFunction's decision for 10,000 teams, over in-memory ports --------------
class _Records:
    """ProactiveCases with the adapter's conditions (one item per team)."""

    def __init__(self) -> None:
        self.items: dict[str, Any] = {}
        self.writes = 0

    def get(self, team_id: str) -> Any:
        return self.items.get(team_id)

    def claim(self, record: Any, replacing: str | None) -> bool:
        current = self.items.get(record.team_id)
        if (replacing is None and current is not None) or (replacing is not None and
                                                           (current is None or current.case_id != replacing)):
            return False
        self.items[record.team_id] = record
        self.writes += 1
        return True

    def join(self, team_id: str, case_id: str, denied: int, window_end: datetime) -> bool:
        current = self.items.get(team_id)
        if current is None or current.case_id != case_id:
            return False
        self.items[team_id] = current.model_copy(update={"signals": current.signals + 1,
                                                          "denied": current.denied + denied})
        self.writes += 1
        return True

    def release(self, team_id: str, case_id: str) -> None:
        if team_id in self.items and self.items[team_id].case_id == case_id:
            del self.items[team_id]


class _NoCases:
    """No case is written yet: the executions the flood starts have not reached OpenCase."""

    def get(self, case_id: str) -> None:
        return None


def flood(teams: int = 10_000) -> Flood:
    from unblock.domain.denials import Thresholds, parse_denial_event
    from unblock.workflow.proactive import take_signal
    from unblock_dev.clock import FixedClock

    start = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
    clock = FixedClock(start + timedelta(minutes=5))
    records, started = _Records(), []

    def event(i: int, window: datetime, denied: int, total: int, status: int = 403,
              error_type: str = "access_denied") -> Any:
        return parse_denial_event({"source": "unblock.gateway", "detail-type": "Requests Denied", "detail": {
            "team_id": f"team_{i:024d}", "window_start": window.isoformat(),
            "window_end": (window + timedelta(minutes=4, seconds=50)).isoformat(), "denied": denied,
            "total": total, "status": status, "error_type": error_type}}).detail

    # each team: its window's signal, the same signal delivered again (EventBridge is at-least-once), and
    # the next window's; plus 1,000 teams with a few stray 403s and 1,000 rate-limited ones (no case)
    signals = [event(i, start, 57, 57) for i in range(teams)]
    signals += [event(i, start, 57, 57) for i in range(teams)]
    signals += [event(i, start + timedelta(minutes=5), 60, 61) for i in range(teams)]
    signals += [event(teams + i, start, 3, 40) for i in range(teams // 10)]
    signals += [event(teams * 2 + i, start, 900, 900, 429, "rate_limit_exceeded") for i in range(teams // 10)]
    outcomes: dict[str, int] = {"opened": 0, "joined": 0, "ignored": 0}
    t0 = time.perf_counter()
    for s in signals:
        out = take_signal(records, _NoCases(), clock, s, Thresholds(),  # type: ignore[arg-type]
                          lambda report: started.append(report.case_id) or True)
        outcomes[out.action] += 1
    seconds = time.perf_counter() - t0
    held = (len(started) == len(set(started)) == teams and len(records.items) == teams
            and all(r.signals == 2 for r in records.items.values()))
    return Flood(teams=teams, signals=len(signals), started=len(started), items=len(records.items),
                 writes=records.writes, joined=outcomes["joined"], ignored=outcomes["ignored"], seconds=seconds,
                 dedupe_held=held)


def _dur(d: timedelta) -> str:
    minutes = int(d.total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


def render(pro: PathTimes, tick: PathTimes, fl: Flood) -> str:
    def total(wait: timedelta, s: float) -> str:
        return f"{_dur(wait)} + {s:.2f} s"

    rows = [
        "| Path | (a) first refused request -> consistency repair verified | (b) -> the wave's staff alert | "
        "Staff alerts for the wave |",
        "|---|---|---|---|",
        f"| Proactive (denial signals) | **{total(pro.wait_repair, pro.repair_s)}** | "
        f"**{total(pro.wait_alert, pro.alert_s)}** | {pro.alerts} |",
        f"| Ticket-driven (the customers write in) | {total(tick.wait_repair, tick.repair_s)} | "
        f"{total(tick.wait_alert, tick.alert_s)} | {tick.alerts} |",
        f"| Ratio, proactive / ticket-driven | "
        f"{(pro.wait_repair.total_seconds() + pro.repair_s) / (tick.wait_repair.total_seconds() + tick.repair_s):.3f}x"
        f" | {(pro.wait_alert.total_seconds() + pro.alert_s) / (tick.wait_alert.total_seconds() + tick.alert_s):.3f}x"
        " | |",
    ]
    return "\n".join([
        SECTION, "",
        "Written by `python -m benchmarks.proactive` (`benchmarks/proactive.py`), one run, both paths on one "
        "embedded stack: the seed's four teams held by the \"new account velocity\" rule and acme-projects (a "
        "stale billing hold) start calling at 06:05 on 2026-11-26, just after the wave's holds began (06:02-06:04). "
        "Each figure is "
        "the wait on the sandbox clock (until the gateway's 5-minute window ends and its signal is on the bus; "
        "until the customer's ticket at the seed's own time) plus the processing measured on this machine (wall "
        "clock: the signal put on the bus, or the ticket handed to the intake, to the FixFunction's "
        "verification returning, and to the decision that opened the incident, which publishes the alert).", "",
        *rows, "",
        f"Proactive: {'; '.join(pro.notes)}; its five executions run at once (moto's threads), the tickets one "
        f"after another, hence the longer processing. Ticket-driven: {'; '.join(tick.notes)}. "
        "The ticket path's alert count "
        "includes each ticket's own escalation alert (a customer waits on each); a proactive case waits on the "
        "queue without one, and the wave is told once, by its incident.", "",
        f"**Flood** ({fl.teams:,} teams' signals in one window; the SignalsFunction's decision over in-memory ports "
        "with the DynamoDB adapter's conditions; no execution is started on moto, each start is counted):", "",
        "| Signals | Executions started | Items written (team records) | Conditional writes | Joined | "
        "Opened nothing | Per-team dedupe | Decision time |",
        "|---|---|---|---|---|---|---|---|",
        f"| {fl.signals:,} | {fl.started:,} | {fl.items:,} | {fl.writes:,} | {fl.joined:,} | {fl.ignored:,} | "
        f"{'held' if fl.dedupe_held else 'BROKEN'} (one case per team; its next window joined, a redelivery "
        "not counted again) | "
        f"{fl.seconds:.2f} s ({fl.seconds / fl.signals * 1e6:.0f} us per signal) |", "",
        f"Each of the {fl.started:,} executions then writes its case and findings as section 2 measures; a flood "
        "caused by one rule is one incident and one staff alert, since proactive escalations alert no one by "
        "themselves (measured above for four teams, not for 10,000).", ""])


def update(path: Path, section: str, heading: str = SECTION) -> None:
    """Replace a piece's section of BENCHMARKS.md (`heading` on; or add it at the end); the rest stays as it was."""
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    pattern = re.compile(re.escape(heading) + r".*?(?=\n## |\Z)", re.S)
    text = pattern.sub(lambda _: section.rstrip("\n"), text) if pattern.search(text) else \
        text.rstrip("\n") + "\n\n" + section
    path.write_text(text.rstrip("\n") + "\n")


def measure() -> tuple[PathTimes, PathTimes, Flood]:
    app = start_app()
    try:
        rec = Recorder(app.stack)
        with quiet_stdout():
            pro = proactive_path(app, rec)
            tick = ticket_path(app, rec)
    finally:
        app.close()
    log(f"proactive: repair {pro.repair_s:.2f} s, alert {pro.alert_s:.2f} s; tickets: repair {tick.repair_s:.2f} s")
    fl = flood()
    log(f"flood: {fl.signals} signals, {fl.started} started, {fl.items} items, {fl.seconds:.2f} s")
    return pro, tick, fl


def main() -> int:
    pro, tick, fl = measure()
    update(ROOT / "BENCHMARKS.md", render(pro, tick, fl))
    log("wrote section 6 of BENCHMARKS.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

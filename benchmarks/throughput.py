"""4. Throughput: tickets through the embedded stack in one process, one stack reused.

A mix of the scenario events (each with a fresh ticket id), round robin, one case at a time:
the sandbox is reseeded before each ticket (a fix mends it, and the next ticket of that team
must find the problem again; the reseed is not timed). A case's latency runs from handing the
event to the intake until its last step returned: the OutcomeFunction's close step, or its
escalate step when the case waits on staff. Read from the in-process calls, not from polling.
Baseline: the time the handlers themselves took for the case (the rest is the embedded Step
Functions interpreter, moto).
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from benchmarks.common import log, median, percentile, quiet_stdout
from benchmarks.embedded import Call, Recorder, load_event, reseed, scenario_names

TERMINAL = ("OutcomeFunction", ("close", "escalate"))  # (function, steps): the case settled or waits on staff
OPENING = ("DiagnoseFunction", ("open_case",))
INTAKE = ("IntakeFunction", "WebhookFunction")
LIFT_CAP = "MAX_AUTO_LIFTS_PER_HOUR"  # named in the escalation reason when the hourly lift cap is reached


@dataclass
class Ticket:
    event: str
    case_id: str
    latency_ms: float
    handler_ms: float
    to_verified_ms: float | None
    start_gap_ms: float | None  # intake returned -> the open_case step started (the execution starting)
    outcome: str | None = None
    escalation_reason: str | None = None


@dataclass
class Throughput:
    tickets: list[Ticket]
    wall_s: float  # the whole loop, reseeds and event preparation excluded
    calls: list[Call]

    @property
    def cases_per_minute(self) -> float:
        return len(self.tickets) / self.wall_s * 60

    def latency(self, p: float) -> float:
        return percentile([t.latency_ms for t in self.tickets], p)

    def handler(self, p: float) -> float:
        return percentile([t.handler_ms for t in self.tickets], p)

    @property
    def verified_ms(self) -> list[float]:
        return [t.to_verified_ms for t in self.tickets if t.to_verified_ms is not None]

    @property
    def start_gaps_ms(self) -> list[float]:
        return [t.start_gap_ms for t in self.tickets if t.start_gap_ms is not None]

    @property
    def outcomes(self) -> Counter[str]:
        return Counter(t.outcome or "?" for t in self.tickets)

    @property
    def lift_capped(self) -> int:
        """Tickets escalated because the hourly cap on automatic risk-hold lifts was reached."""
        return sum(1 for t in self.tickets if t.escalation_reason and LIFT_CAP in t.escalation_reason)


def _settled(calls: list[Call], case_id: str) -> Call | None:
    for c in reversed(calls):
        if c.case_id == case_id and c.is_(TERMINAL[0], *TERMINAL[1]) and c.ok:
            return c
    return None


def run(app: Any, rec: Recorder, tickets: int = 200, timeout: float = 60.0,
        names: list[str] | None = None) -> Throughput:
    from unblock_dev.local.app import event_time

    names = names or scenario_names()  # the samples the cost section could play
    out: list[Ticket] = []
    prep = 0.0
    mark0 = rec.mark()
    t_all = time.perf_counter()
    with quiet_stdout():
        for i in range(tickets):
            name = names[i % len(names)]
            t_prep = time.perf_counter()
            reseed(app)
            event = load_event(name, helpdesk=app.helpdesk)
            if (at := event_time(event)) is not None:
                app.clock.set(at)
            prep += time.perf_counter() - t_prep
            mark = rec.mark()
            t0 = time.perf_counter()
            case_id = app.submit(event)
            deadline = t0 + timeout
            last = None
            while last is None:
                last = _settled(rec.since(mark), case_id)
                if last is None:
                    if time.perf_counter() > deadline:
                        raise RuntimeError(f"{name}: case {case_id} did not settle in {timeout:.0f}s")
                    time.sleep(0.002)
            calls = rec.since(mark)
            mine = [c for c in calls if c.case_id in (case_id, None)]
            verified = [c for c in mine if c.verified]
            intake = [c for c in mine if c.function in INTAKE]
            opened = [c for c in mine if c.is_(OPENING[0], *OPENING[1])]
            gap = (opened[0].start - intake[0].end) * 1000 if intake and opened else None
            out.append(Ticket(name, case_id, (last.end - t0) * 1000, sum(c.ms for c in mine),
                              (verified[0].end - t0) * 1000 if verified else None, gap))
    wall = time.perf_counter() - t_all - prep
    for t in out:
        case = app.client.store.get(t.case_id)
        t.outcome = case.outcome if case else None
        t.escalation_reason = case.escalation.reason if case and case.escalation else None
    log(f"throughput: {tickets} tickets in {time.perf_counter() - t_all:.0f}s "
        f"(p50 {median([t.latency_ms for t in out]):.0f} ms)")
    return Throughput(out, wall, rec.since(mark0))


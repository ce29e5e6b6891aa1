"""5. The console's reads: items each page reads at 1,000 and at 10,000 cases (issue 21 item 6), and
what its templates cost a cold start (Jinja2 against MarkupSafe alone, issue 21 item 1).

The cases go straight into the cases table through DynamoCaseStore's own item format (batched, as in
the re-check benchmark). Both sizes show the same: 20 cases waiting for staff, one searched team with
6 cases, one searched ticket; the other cases are closed, with every outcome, for other teams. So a
page that reads what it shows reads the same at both sizes (target: at most 1.1x); a page that scans
reads ten times more. Each page is the ConsoleFunction's answer to the API Gateway event, its case
and incident stores reading through a counter: items returned by queries and reads, and items a scan examined.

    python -m benchmarks.run --only console     # this piece alone, into BENCHMARKS.md's section 5
"""

from __future__ import annotations

import contextlib
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from benchmarks.common import FUNCTIONS, log
from benchmarks.embedded import EVENT_TIME

SIZES = (1_000, 10_000)
WAITING = 20
TEAM = "team_BenchConsoleSearch000000"
TICKET = "bench-console-ticket"
OUTCOMES = ("auto_fixed", "customer_action", "escalated", "already_working", "needs_info")
TARGET = 1.1
# the pages the target is about, and metrics: it aggregates every case (for contrast, not a target)
PAGES = (("queue", "/pages/queue", ""), ("search: team id", "/pages/search", f"q={TEAM}"),
         ("search: ticket", "/pages/search", f"q={TICKET}"), ("closed", "/pages/closed", ""),
         ("closed: auto_fixed", "/pages/closed", "outcome=auto_fixed"), ("incidents", "/pages/incidents", ""))
CONTRAST = (("metrics (aggregates every case)", "/pages/metrics", ""),)
CLAIMS = {"sub": "bench", "email": "bench@example.test"}


class CountingTable:
    """The cases table, counting the items the store reads: query and get results, and what a scan examines."""

    def __init__(self, table: Any) -> None:
        self._table = table
        self.items = 0
        self.scanned = 0
        self.scans = 0  # scan calls: a page that reads what it shows makes none

    def query(self, **kwargs: Any) -> Any:
        resp = self._table.query(**kwargs)
        self.items += len(resp.get("Items", []))
        return resp

    def get_item(self, **kwargs: Any) -> Any:
        resp = self._table.get_item(**kwargs)
        self.items += 1 if resp.get("Item") else 0
        return resp

    def scan(self, **kwargs: Any) -> Any:
        resp = self._table.scan(**kwargs)
        self.scans += 1
        self.scanned += int(resp.get("ScannedCount", len(resp.get("Items", []))))
        return resp

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)


@dataclass
class Page:
    name: str
    shown: int  # cases (rows) on the page
    items: int  # items the store's queries and reads returned
    scanned: int  # items a scan examined
    ms: float

    @property
    def read(self) -> int:
        return self.items + self.scanned


@dataclass
class Point:
    cases: int
    pages: dict[str, Page] = field(default_factory=dict)


@dataclass
class Imports:
    """Median cumulative import time (µs) in fresh interpreters, and the first render's template compile."""

    runs: int
    markupsafe_us: float
    jinja2_us: float
    handler_us: float
    first_queue_ms: float  # the first queue page: environment, macros, base and page compiled
    first_case_ms: float  # then the first case page (its partials compiled)
    warm_case_ms: float


@dataclass
class ConsoleReads:
    points: list[Point]
    imports: Imports | None = None
    load: str = ""  # the load average (1/5/15 min) when the imports were timed

    def contrast(self, page: str) -> bool:
        return page in {name for name, _, _ in CONTRAST}

    def ratio(self, page: str) -> float:
        a, b = self.points[0].pages[page].read, self.points[-1].pages[page].read
        return b / a if a else (1.0 if b == 0 else float("inf"))

    @property
    def worst(self) -> tuple[str, float]:
        name = max((p for p, _, _ in PAGES), key=self.ratio)
        return name, self.ratio(name)

    @property
    def target_met(self) -> bool:
        return self.worst[1] <= TARGET


def _create(table: Any, start: int, count: int) -> None:
    """`count` more cases: the first 1,000 hold what the pages show, every later one is closed for another team."""
    from benchmarks.recheck import _BatchPuts
    from unblock.adapters.dynamodb_cases import DynamoCaseStore
    from unblock.domain.cases import Case
    from unblock.domain.models import Report

    with table.batch_writer() as writer:
        store = DynamoCaseStore(_BatchPuts(table, writer))
        for i in range(start, start + count):
            case_id = f"bench-console:{i}"
            team, ticket, status, outcome = f"team_bench{i:019d}", str(i), "closed", OUTCOMES[i % len(OUTCOMES)]
            if i < WAITING:
                status, outcome = "awaiting_staff", "escalated"
            elif i < WAITING + 6:
                team = TEAM
            elif i == WAITING + 6:
                ticket = TICKET
            created = EVENT_TIME - timedelta(days=20) + timedelta(minutes=i % 20_000)
            report = Report(case_id=case_id, source="api", ticket_id=ticket, team_id=team, text="403 Forbidden")
            store.create(Case(case_id=case_id, status=status, outcome=outcome, team_id=team, report=report,
                              created_at=created, updated_at=created + timedelta(hours=1)))


@contextlib.contextmanager
def _counted(table: Any) -> Iterator[CountingTable]:
    from unblock import composition
    from unblock.adapters.dynamodb_cases import DynamoCaseStore
    from unblock.adapters.dynamodb_incidents import DynamoIncidentStore

    counter = CountingTable(table)  # incidents live in the cases table too
    real = composition.cases, composition.incidents
    composition.cases = lambda: DynamoCaseStore(counter)
    composition.incidents = lambda: DynamoIncidentStore(counter)
    try:
        yield counter
    finally:
        composition.cases, composition.incidents = real


def _page(app: Any, table: Any, name: str, path: str, query: str) -> Page:
    from unblock_dev.console_server import http_api_event

    with _counted(table) as counter:
        t = time.perf_counter()
        out = app.stack.invoke("ConsoleFunction", http_api_event("GET", path, query, {}, b"", CLAIMS))
        ms = (time.perf_counter() - t) * 1000
    if out["statusCode"] != 200:
        raise RuntimeError(f"{path}?{query}: {out['statusCode']} {out['body'][:200]}")
    return Page(name, out["body"].count('<tr><th scope="row">'), counter.items, counter.scanned, ms)


def _median_us(code: str, runs: int) -> float:
    """The median over fresh interpreters of the last line of -X importtime (the module's cumulative µs)."""
    values = []
    for _ in range(runs):
        err = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True,
                             env={"PYTHONPATH": str(FUNCTIONS)}, check=True).stderr
        values.append(float(err.strip().splitlines()[-1].split("|")[1]))
    return statistics.median(values)


RENDER = """
import time
from datetime import UTC, datetime, timedelta
from unblock.console import views
from unblock.domain.cases import Case
from unblock.domain.models import Report
now = datetime(2026, 11, 26, tzinfo=UTC)
c = Case(case_id="zendesk:1", report=Report(case_id="zendesk:1", source="zendesk"), created_at=now,
         updated_at=now, status="awaiting_staff")
t0 = time.perf_counter(); views.queue_page([c], now, timedelta(hours=4))
t1 = time.perf_counter(); views.case_page(c, now, timedelta(hours=4), ["OpenCase"])
t2 = time.perf_counter(); views.case_page(c, now, timedelta(hours=4), ["OpenCase"])
t3 = time.perf_counter()
print((t1 - t0) * 1000, (t2 - t1) * 1000, (t3 - t2) * 1000)
"""


def imports(runs: int) -> Imports:
    renders = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", "import unblock.handlers.console\n" + RENDER], capture_output=True,
                             text=True, env={"PYTHONPATH": str(FUNCTIONS)}, check=True).stdout
        renders.append([float(x) for x in out.split()])
    return Imports(runs, _median_us("import markupsafe", runs), _median_us("import jinja2", runs),
                   _median_us("import unblock.handlers.console", runs),
                   *(statistics.median(r[i] for r in renders) for i in range(3)))


def measure(app: Any, runs: int = 9) -> ConsoleReads:
    import boto3

    table = boto3.resource("dynamodb").Table(app.stack.outputs["CasesTableName"])
    points, created, t0 = [], 0, time.perf_counter()
    for size in SIZES:
        _create(table, created, size - created)
        created = size
        point = Point(size)
        for name, path, query in PAGES + CONTRAST:
            point.pages[name] = _page(app, table, name, path, query)
        points.append(point)
    log(f"console: {' and '.join(f'{p.cases:,}' for p in points)} cases in {time.perf_counter() - t0:.0f}s")
    timed = imports(runs)
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else ""
    return ConsoleReads(points, timed, load)

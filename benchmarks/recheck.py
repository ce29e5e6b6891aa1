"""3. Re-check scaling: 1,000 and then 10,000 pending cases, 100 of them due each time.

The cases go straight into the cases table through DynamoCaseStore.create (its own item
format: `pending` and `next_check_at` put a case in the sparse index), the puts batched by
a table adapter so that 10,000 cases take seconds (no workflow runs). The due ones wait for a
customer whose checks still fail, so a re-check backs them off (they stay pending, in the
future) and the 10,000 run has exactly 100 due again.

Measured on the domain function `unblock.domain.recheck.recheck_due` and on the store's `due()`:
items the index query returns, cases loaded (GetItem), the query's ConsumedCapacity, and time.
Baseline: the 1,000-case figures; for contrast, the items a Scan of the table would read.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from benchmarks.common import log, quiet_stdout
from benchmarks.embedded import EVENT_TIME

DUE = 100
SIZES = (1_000, 10_000)


class CountingTable:
    """The cases table, counting what the store reads from it."""

    def __init__(self, table: Any) -> None:
        self._table = table
        self.query_items = 0
        self.queries = 0
        self.get_items = 0
        self.capacity = 0.0

    def reset(self) -> None:
        self.query_items = self.queries = self.get_items = 0
        self.capacity = 0.0

    def query(self, **kwargs: Any) -> Any:
        resp = self._table.query(**kwargs)
        self.queries += 1
        self.query_items += len(resp.get("Items", []))
        self.capacity += float((resp.get("ConsumedCapacity") or {}).get("CapacityUnits", 0.0))
        return resp

    def get_item(self, **kwargs: Any) -> Any:
        resp = self._table.get_item(**kwargs)
        self.get_items += 1 if resp.get("Item") else 0
        return resp

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)


class _BatchPuts:
    """Lets DynamoCaseStore.create write through a batch writer (new, unique ids: no condition to check)."""

    def __init__(self, table: Any, writer: Any) -> None:
        self._table, self._writer = table, writer

    def put_item(self, Item: dict[str, Any], **_: Any) -> None:  # noqa: N803 - boto3's name
        self._writer.put_item(Item=Item)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)


class RecordingWorkflow:
    """The Workflow port without Step Functions: the re-check's reads are what is measured."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def complete_staff_task(self, token: str, output: dict[str, Any]) -> None:
        self.calls.append("complete")

    def heartbeat(self, token: str) -> None:
        self.calls.append("heartbeat")

    def send_task_success(self, token: str, output: dict[str, Any]) -> None:
        self.calls.append("success")

    def send_task_failure(self, token: str, error: str, cause: str) -> None:
        self.calls.append("failure")

    def path(self, case: Any) -> list[str] | None:
        return None

    def rerun(self, case: Any) -> None:
        self.calls.append("rerun")

    def rerun_arn(self, case: Any) -> str:
        return f"arn:rerun:{case.case_id}:{case.rechecks}"

    def is_running(self, case: Any) -> bool:
        return False


@dataclass
class Point:
    pending: int
    due: int
    query_items: int  # items the index query returned (due())
    cases_loaded: int  # GetItem per due case
    capacity: float  # ConsumedCapacity of the query as moto reports it
    due_s: float  # store.due() alone
    recheck_s: float  # recheck_due(): query, loads, checks, writes
    recheck_reads: int  # items read by the whole re-check pass (query items + cases loaded)
    scan_items: int  # a Scan of the table, for contrast
    actions: dict[str, int] = field(default_factory=dict)


@dataclass
class Scaling:
    points: list[Point]
    team_id: str
    codes: list[str]

    def ratio(self, attr: str) -> float:
        a, b = self.points[0], self.points[-1]
        return float(getattr(b, attr)) / float(getattr(a, attr)) if getattr(a, attr) else float("nan")

    @property
    def target_met(self) -> bool:
        return abs(self.ratio("recheck_reads") - 1.0) <= 0.05


def _waiting_team(platform: Any, clock: Any) -> tuple[str, list[str]]:
    """A seeded team whose checks still need the customer: its re-check backs the case off."""
    from benchmarks.common import EVENTS
    from unblock.domain.platform_model import load_seed_text
    from unblock.workflow import steps

    for team in load_seed_text((EVENTS / "platform.json").read_text()).teams:
        findings = steps.run_all_checks(platform, clock, team.team_id, None)
        kinds = {f.disposition for f in findings}
        if "customer_action" in kinds and not kinds & {"auto_fix", "escalate"} \
                and not platform.probe(team.team_id, None).ok:
            return team.team_id, [f.code for f in findings]
    raise RuntimeError("no seeded team waits on its customer: the re-check benchmark needs one")


def _create(table: Any, team_id: str, start: int, count: int, due: int) -> None:
    from unblock.adapters.dynamodb_cases import DynamoCaseStore
    from unblock.domain.cases import Case
    from unblock.domain.models import Report

    now = EVENT_TIME
    with table.batch_writer() as writer:
        store = DynamoCaseStore(_BatchPuts(table, writer))
        for i in range(start, start + count):
            case_id = f"bench-recheck:{i}"
            is_due = i - start < due
            at = now - timedelta(minutes=1 + i % 600) if is_due else now + timedelta(minutes=15 + i % 1440)
            report = Report(case_id=case_id, source="api", team_id=team_id, text="403 Forbidden")
            store.create(Case(case_id=case_id, status="awaiting_customer", outcome="customer_action", team_id=team_id,
                              report=report, created_at=now - timedelta(hours=2), updated_at=now - timedelta(hours=1),
                              next_check_at=at))


def _scan_count(table: Any) -> int:
    total, kwargs = 0, {"Select": "COUNT"}
    while True:
        page = table.scan(**kwargs)
        total += int(page.get("ScannedCount", page.get("Count", 0)))
        if "LastEvaluatedKey" not in page:
            return total
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _point(app: Any, table: Any, pending: int) -> Point:
    from unblock import composition
    from unblock.adapters.dynamodb_cases import DynamoCaseStore
    from unblock.workflow.recheck import recheck_due

    counting = CountingTable(table)
    store = DynamoCaseStore(counting)
    t = time.perf_counter()
    due = store.due(app.clock.now(), limit=DUE)
    due_s = time.perf_counter() - t
    query_items, loaded, capacity = counting.query_items, counting.get_items, counting.capacity
    counting.reset()
    workflow = RecordingWorkflow()
    t = time.perf_counter()
    with quiet_stdout():
        report = recheck_due(composition.platform(), store, composition.human_queue(), workflow, app.clock,
                             sla=timedelta(hours=4), outbox=composition.outbox(), limit=DUE, mode="live")
    recheck_s = time.perf_counter() - t
    actions: dict[str, int] = {}
    for action in report.actions.values():
        actions[action] = actions.get(action, 0) + 1
    reads = counting.query_items + counting.get_items
    return Point(pending, len(due), query_items, loaded, capacity, due_s, recheck_s, reads, _scan_count(table),
                 actions)


def measure(app: Any) -> Scaling:
    import boto3

    from benchmarks.embedded import reseed

    reseed(app)
    table = boto3.resource("dynamodb").Table(app.stack.outputs["CasesTableName"])
    team_id, codes = _waiting_team(app.platform, app.clock)
    points = []
    created = 0
    t0 = time.perf_counter()
    for size in SIZES:
        # after a pass the due cases are backed off into the future: still pending, no longer due
        _create(table, team_id, created, size - created, DUE)
        created = size
        points.append(_point(app, table, size))
    log(f"re-check: {' and '.join(f'{p.pending:,}' for p in points)} pending cases in {time.perf_counter() - t0:.0f}s")
    return Scaling(points, team_id, codes)

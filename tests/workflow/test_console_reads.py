"""The console's pages read what they show: the queue, search and closed cases come from the cases
table's indexes (template.yaml, created by the embedded stack as on AWS), never from a scan.

Through the ConsoleFunction as API Gateway invokes it, on the session's stack: whatever other tests
left in the table, each page reads only the cases it shows.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import pytest

from benchmarks.console import CountingTable

CLAIMS = {"sub": "staff-1", "email": "alice@example.test"}


# the benchmark's counter (BENCHMARKS.md section 5): the same count the target is measured with
Reads = CountingTable


@pytest.fixture
def reads(app: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Reads]:
    """The ConsoleFunction's case store reading through a counter (the handler runs in this process)."""
    from unblock import composition
    from unblock.adapters.dynamodb_cases import DynamoCaseStore
    from unblock.adapters.dynamodb_incidents import DynamoIncidentStore

    counter = Reads(app.client.store._table)  # incidents live in the cases table too
    monkeypatch.setattr(composition, "cases", lambda: DynamoCaseStore(counter))
    monkeypatch.setattr(composition, "incidents", lambda: DynamoIncidentStore(counter))
    yield counter


def _page(app: Any, path: str, query: str = "") -> str:
    from unblock_dev.console_server import http_api_event

    out = app.stack.invoke("ConsoleFunction", http_api_event("GET", path, query, {}, b"", CLAIMS))
    assert out["statusCode"] == 200, out["body"][:300]
    return str(out["body"])


def _cases(app: Any, tag: str, team_id: str) -> dict[str, Any]:
    """Cases of one team in every state a page shows: two waiting for staff, three closed, one pending."""
    from unblock.domain.cases import Case
    from unblock.domain.models import Report

    now = app.clock.now()
    made = {}
    for n, (status, outcome, ticket) in enumerate([
            ("awaiting_staff", "escalated", f"{tag}-1"), ("deciding", "escalated", f"{tag}-2"),
            ("closed", "auto_fixed", f"{tag}-3"), ("closed", "needs_info", f"{tag}-4"),
            ("closed", "auto_fixed", f"{tag}-5"), ("awaiting_customer", "customer_action", f"{tag}-6")]):
        case_id = f"zendesk:{ticket}"
        report = Report(case_id=case_id, source="zendesk", ticket_id=ticket, team_hint=f"{tag}-studio", text="403")
        case = Case(case_id=case_id, status=status, outcome=outcome, team_id=team_id, report=report,
                    created_at=now - timedelta(hours=6 - n), updated_at=now + timedelta(minutes=n),
                    next_check_at=now + timedelta(hours=1) if status != "closed" else None)
        assert app.client.store.create(case)
        made[ticket] = case
    return made


def test_queue_search_and_closed_read_only_what_they_show(app, reads):
    import uuid

    tag = uuid.uuid4().hex[:8]
    team = "team_" + (tag * 3)[:24]
    made = _cases(app, tag, team)

    queue = _page(app, "/pages/queue")
    shown = queue.count('<tr><th scope="row">')
    assert f"zendesk:{tag}-1" in queue and f"zendesk:{tag}-2" in queue and f"zendesk:{tag}-6" not in queue
    assert reads.items == shown and reads.scans == 0

    for query, tickets in [(team, {"1", "2", "3", "4", "5", "6"}), (team.upper(), {"1", "2", "3", "4", "5", "6"}),
                           (f"{tag}-STUDIO", {"1", "2", "3", "4", "5", "6"}), (f"{tag}-4", {"4"}),
                           (f"zendesk:{tag}-5", {"5"}), (tag, set())]:
        reads.items = 0
        found = _page(app, "/pages/search", f"q={quote(query)}")
        listed = {t for t in made if f">zendesk:{t}</a>" in found}
        assert listed == {f"{tag}-{t}" for t in tickets}, query
        # newest first
        order = [found.index(f">zendesk:{tag}-{t}</a>") for t in sorted(tickets, reverse=True)]
        assert order == sorted(order)
        assert reads.items == len(tickets), query
    assert reads.scans == 0

    reads.items = 0
    closed = _page(app, "/pages/closed", "outcome=auto_fixed")
    assert f">zendesk:{tag}-5</a>" in closed and f">zendesk:{tag}-3</a>" in closed
    assert f">zendesk:{tag}-4</a>" not in closed  # needs_info
    assert closed.index(f">zendesk:{tag}-5</a>") < closed.index(f">zendesk:{tag}-3</a>")  # most recently closed first
    assert reads.items == closed.count('<tr><th scope="row">') and reads.scans == 0

    reads.items = 0
    every = _page(app, "/pages/closed")
    assert every.count('<tr><th scope="row">') == reads.items <= 50  # the 50 most recently closed cases
    assert f">zendesk:{tag}-5</a>" in every

    reads.items = 0
    assert "<h1 tabindex=\"-1\">Incidents</h1>" in _page(app, "/pages/incidents")
    assert reads.scans == 0  # the incidents from their index, each member's case by its id


def test_a_case_moves_between_pages_as_it_is_decided(app, reads):
    """The indexes follow the case: decided, it leaves the queue and shows among the closed cases."""
    result = app.run(_event("ticket-fraud-review.json"))
    assert result.outcome == "escalated"
    assert f">{result.case_id}</a>" in _page(app, "/pages/queue")
    app.client.decide(result.case_id, "reject", "staff:dana")
    app.wait_for(result.case_id, lambda c: c.status == "closed")
    assert f">{result.case_id}</a>" not in _page(app, "/pages/queue")
    assert f">{result.case_id}</a>" in _page(app, "/pages/closed", "outcome=escalated")
    assert reads.scans == 0


def _event(name: str) -> dict[str, Any]:
    from tests.support import load_event

    return load_event(name)  # type: ignore[no-any-return]


def test_cases_written_before_the_indexes_are_found_once_reindexed(app, reads):
    import uuid

    tag = uuid.uuid4().hex[:8]
    team = "team_" + (tag * 3)[:24]
    old = _cases(app, tag, team)[f"{tag}-3"]
    table = app.client.store._table
    # as an older version wrote it: no index keys
    table.put_item(Item={"pk": f"case#{old.case_id}", "sk": "case", "doc": old.model_dump_json(),
                         "status": old.status, "version": old.version, "team_id": team})
    assert f">{old.case_id}</a>" not in _page(app, "/pages/search", f"q={team}")
    assert app.client.store.reindex() >= 1
    assert f">{old.case_id}</a>" in _page(app, "/pages/search", f"q={team}")
    assert f">{old.case_id}</a>" in _page(app, "/pages/closed", "outcome=auto_fixed")
    assert app.client.store.get(old.case_id) == old  # rewritten as it was

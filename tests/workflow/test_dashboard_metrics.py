"""The dashboard's `Unblock` metrics are the ones the functions publish, with the dimensions they publish
them with: CloudWatch matches a metric by its name and its whole dimension set, so a row that names one
dimension too few or too many stays empty. The functions' embedded metric format (EMF) lines of a ticket that
is fixed and of one that goes to staff, read back as CloudWatch reads them."""

from __future__ import annotations

import json

from tests.contract.test_operations import dashboard_metrics
from tests.support import load_event


def _published(text: str) -> set[tuple[str, frozenset[tuple[str, str]]]]:
    """(metric name, its dimensions with their values) for every metric in the EMF lines of `text`."""
    out = set()
    for line in text.splitlines():
        if '"_aws"' not in line:
            continue
        doc = json.loads(line[line.index("{"):])
        for directive in doc["_aws"]["CloudWatchMetrics"]:
            if directive["Namespace"] != "Unblock":
                continue
            for dims in directive["Dimensions"]:
                for metric in directive["Metrics"]:
                    out.add((metric["Name"], frozenset((d, str(doc[d])) for d in dims)))
    return out


def test_the_dashboards_rows_match_what_a_fixed_and_an_escalated_case_publish(app, capfd):
    fixed = app.run(load_event("ticket-stale-billing-hold.json"))
    escalated = app.run(load_event("ticket-fraud-review.json"))
    assert (fixed.outcome, escalated.outcome) == ("auto_fixed", "escalated")
    captured = capfd.readouterr()
    published = _published(captured.out + captured.err)
    assert published, "no EMF line was captured"

    rows = {(r[1], frozenset(zip(r[2:-1:2], r[3:-1:2], strict=True)) if isinstance(r[-1], dict)
             else frozenset(zip(r[2::2], r[3::2], strict=True)))
            for r in dashboard_metrics() if isinstance(r[0], str) and r[0] == "Unblock"}
    names_seen = {name for name, _ in published}
    checked = {row for row in rows if row[0] in names_seen}
    assert {"CasesOpened", "FixesApplied", "CasesClosed", "Escalations"} <= {name for name, _ in checked}
    assert checked <= published, f"dashboard rows no function publishes so: {checked - published}"

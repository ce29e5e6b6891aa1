"""`make bench` cannot rot unnoticed: its cost section plays the samples as the bench plays them (fresh
ids, webhook samples re-signed, a no-text Zendesk delivery and a Discourse private message read back from
the sandbox help desk) on the session's stack. Every help-desk sample (the ones the bench prepares its own
way) and one ticket and one staff start of the plain kind (played as the workflow tests play them): a
sample the bench cannot play fails here, not minutes into `make bench`."""

from __future__ import annotations

import pytest

from benchmarks import cost
from benchmarks.embedded import Recorder, scenario_names


@pytest.fixture
def recorder(app):
    inner = app.stack._dispatch
    rec = Recorder(app.stack)
    yield rec
    app.stack._dispatch = inner  # the session's stack goes on untimed


def test_the_bench_plays_every_scenario_sample(app, recorder):
    desks = [n for n in scenario_names() if n.startswith(("zendesk-", "discourse-"))]
    assert "zendesk-ticket-created-no-text.json" in desks  # the sample that needs the sandbox help desk
    names = [*desks, "ticket-stale-billing-hold.json", "staff-manual.json"]

    report = cost.measure(app, recorder, reps=1, names=names)

    assert report.skipped == {}
    assert report.played() == names
    assert "auto_fixed" in report.by_outcome
    assert report.target_met and report.functions_target_met  # what the bench's section 2 reports on

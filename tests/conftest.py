"""Shared fixtures. The embedded stack is started once per session, that is once per xdist worker
under `make test` (it takes a few seconds), and reseeded per test; a unit test's own short-lived
moto mock nests inside it (moto resets nothing while another mock is active)."""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator

import pytest
from hypothesis import settings

from tests.support import EVENTS, out_of_reach

# `make test` is deterministic: the same examples on every run and machine (a property that fails
# fails every time, with its shrunk example), and a failing search never spends minutes shrinking.
# `pytest --hypothesis-profile=explore` searches afresh.
settings.register_profile("ci", derandomize=True, print_blob=True, suppress_health_check=[])
settings.register_profile("explore", derandomize=False)
settings.load_profile("ci")

# The one switch for the embedded stack's waits (tools/unblock_dev/local/timings.py), read when a stack
# starts, here and in the `unblock` subprocesses tests run: every Retry waits at most 1 s. The staff
# waits keep the ASL's day; the test that lets one lapse shortens its own (`app.stack.retimed`).
# `UNBLOCK_TEST_TIMINGS= pytest ...` runs the ASL's own timings.
os.environ.setdefault("UNBLOCK_TEST_TIMINGS", "retry_seconds=1")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests last: each worker that takes some starts a chromium, once the rest of its
    queue is done. The ticket corpus first (one test of a minute or more, four under a loaded
    machine): the other workers take the rest of the suite meanwhile, instead of waiting for it."""
    items.sort(key=lambda item: ("tests/browser/" in str(item.path).replace("\\", "/"),
                                 item.name != "test_the_corpus_through_the_workflow"))


@pytest.fixture(scope="session")
def stack_app() -> Iterator[object]:
    from unblock_dev.local.app import LocalApp

    # the hourly guardrails count by the case clock's hour, and most tests' cases open in one hour of one
    # day: the session's stack lifts them (tests/workflow/test_guardrails.py sets its own)
    app = LocalApp.from_seed_file(parameters={"MaxFixesPerHour": "1000000", "MaxRevertsPerHour": "0"})
    # The cyclic collector's full passes over a worker's heap (moto's tables, queues and execution
    # histories) took ~35 s of the suite's ~215 s of CPU; collecting less often took that to ~27 s
    # (BENCHMARKS.md section 7). What is alive now lives as long as the session, so it is also frozen
    # out of the collector's sight: measured alone, that changed nothing, but it is free.
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
    yield app
    app.close()


@pytest.fixture(scope="session")
def default_seed() -> object:
    """events/platform.json, read and validated once (every workflow test reseeds from it)."""
    from unblock.domain.platform_model import load_seed_text

    return load_seed_text((EVENTS / "platform.json").read_text())


@pytest.fixture
def app(stack_app, default_seed):  # type: ignore[no-untyped-def]
    """The session's embedded stack, reseeded from events/platform.json, clock at the events' time."""
    from datetime import UTC, datetime

    stack_app.seed(default_seed)
    stack_app.clock.set(datetime(2026, 11, 26, 10, 0, tzinfo=UTC))
    stack_app.stack.faults.clear()
    if stack_app.client.mode() != "live":  # a test that switched the mode and failed before switching back
        stack_app.client.switch_mode("live", "test:reset")
    out_of_reach(stack_app)
    return stack_app


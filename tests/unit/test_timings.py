"""The tests' one timing switch rewrites the loaded ASL in memory: only the waits change."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from unblock_dev.local.timings import ENV, Timings

ASL = (Path(__file__).resolve().parents[2] / "statemachine" / "remediation.asl.json").read_text()


def _states(definition: str) -> dict[str, dict]:  # type: ignore[type-arg]
    return json.loads(definition)["States"]


def test_retries_wait_at_most_the_switch_and_keep_their_attempts_and_what_they_catch():
    before, after = _states(ASL), _states(Timings(retry_seconds=1).apply(ASL))

    retried = [n for n, s in before.items() if s.get("Retry")]
    assert retried
    for name in retried:
        for old, new in zip(before[name]["Retry"], after[name]["Retry"], strict=True):
            assert (new["IntervalSeconds"], new["BackoffRate"], new["MaxDelaySeconds"]) == (1, 1.0, 1)
            assert (new["ErrorEquals"], new["MaxAttempts"]) == (old["ErrorEquals"], old["MaxAttempts"])
    for name in before:  # nothing else moves: the same states, routes and staff waits
        strip = lambda s: {k: v for k, v in s.items() if k != "Retry"}  # noqa: E731
        assert strip(after[name]) == strip(before[name])


def test_staff_waits_take_the_switchs_heartbeat_below_their_timeout():
    after = _states(Timings(staff_heartbeat_seconds=4, staff_timeout_seconds=30).apply(ASL))
    waits = {n: s for n, s in after.items() if s.get("Resource", "").endswith(".waitForTaskToken")}

    assert set(waits) == {"Escalate", "Failed"}
    assert all((w["HeartbeatSeconds"], w["TimeoutSeconds"]) == (4, 30) for w in waits.values())
    assert Timings().apply(ASL) == ASL  # unset: the ASL as written


def test_the_environment_switch_reads_its_names_and_refuses_anything_else():
    assert Timings.from_env({ENV: "retry_seconds=1,staff_heartbeat_seconds=5"}) == Timings(1, 5)
    assert Timings.from_env({}) == Timings()
    with pytest.raises(ValueError, match="retry_second=1"):
        Timings.from_env({ENV: "retry_second=1"})
    with pytest.raises(ValueError, match="retry_seconds=0"):
        Timings.from_env({ENV: "retry_seconds=0"})

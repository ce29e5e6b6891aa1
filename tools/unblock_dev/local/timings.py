"""The one switch for how long the embedded stack's state machines wait, for tests.

The ASL's Retry waits (1 s doubling, up to 30 s) and its staff waits (a day's heartbeat, 14 days in
all) are what AWS runs; a test that exhausts a Retry or lets a staff wait lapse should not take that
long. So the embedded stack loads the same .asl.json and, when asked, rewrites the loaded definition
in memory before it creates the state machine: there is never a second ASL file.

Asked in one place: `Timings.from_env()` reads UNBLOCK_TEST_TIMINGS (tests/conftest.py sets it for
the session and the CLI subprocesses it starts); `LocalStack.retimed(...)` changes them for the
executions a block starts (a test that lets a heartbeat lapse). Unset, the ASL's own values run.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, fields, replace
from typing import Any

ENV = "UNBLOCK_TEST_TIMINGS"


@dataclass(frozen=True)
class Timings:
    """None: as the ASL says. ASL allows whole seconds only (IntervalSeconds, MaxDelaySeconds >= 1)."""

    retry_seconds: int | None = None  # every Retry: IntervalSeconds and MaxDelaySeconds this long, no backoff
    staff_heartbeat_seconds: int | None = None  # a staff wait (waitForTaskToken) lapses this long without a heartbeat
    staff_timeout_seconds: int | None = None  # a staff wait times out after this long in all

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Timings:
        """`UNBLOCK_TEST_TIMINGS="retry_seconds=1,staff_heartbeat_seconds=5"`; a bad value is an error
        naming it (a test run that silently ran the real timings would only be slow)."""
        raw = (os.environ if environ is None else environ).get(ENV, "").strip()
        if not raw:
            return cls()
        names = {f.name for f in fields(cls)}
        values: dict[str, int] = {}
        for part in raw.split(","):
            name, _, value = part.partition("=")
            name = name.strip()
            if name not in names or not value.strip().isdigit() or int(value) < 1:
                raise ValueError(f"{ENV}: {part.strip()!r}: expected NAME=SECONDS (>= 1), NAME one of {sorted(names)}")
            values[name] = int(value)
        return cls(**values)

    def to_env(self) -> str:
        return ",".join(f"{f.name}={getattr(self, f.name)}" for f in fields(self) if getattr(self, f.name) is not None)

    def over(self, other: Timings) -> Timings:
        """These timings, with `other`'s where it sets one."""
        return replace(self, **{f.name: getattr(other, f.name) for f in fields(other) if getattr(other, f.name)})

    def apply(self, definition: str) -> str:
        """The ASL definition with these timings (unchanged when none is set)."""
        if self == Timings():
            return definition
        asl = json.loads(definition)
        self._states(asl["States"])
        return json.dumps(asl)

    def _states(self, states: dict[str, Any]) -> None:
        for state in states.values():
            if self.retry_seconds is not None:
                for retrier in state.get("Retry", []):
                    retrier.update(IntervalSeconds=self.retry_seconds, BackoffRate=1.0,
                                   MaxDelaySeconds=self.retry_seconds)
            if str(state.get("Resource", "")).endswith(".waitForTaskToken"):
                timeout = self.staff_timeout_seconds or state.get("TimeoutSeconds")
                heartbeat = self.staff_heartbeat_seconds or state.get("HeartbeatSeconds")
                if heartbeat is not None and timeout is not None:
                    heartbeat = min(heartbeat, timeout - 1)  # Step Functions: the heartbeat is below the timeout
                for key, value in (("TimeoutSeconds", timeout), ("HeartbeatSeconds", heartbeat)):
                    if value is not None:
                        state[key] = value
            for branch in state.get("Branches", []):
                self._states(branch["States"])
            for nested in ("Iterator", "ItemProcessor"):
                if nested in state:
                    self._states(state[nested]["States"])

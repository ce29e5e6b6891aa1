"""A clock that only moves when told to: the Clock port for tests, the demo and `unblock run --now`
(what ships reads the system's, unblock.domain.clock.SystemClock)."""

from __future__ import annotations

from datetime import datetime, timedelta


class FixedClock:
    """A clock that only moves when told to (tests, `unblock run --now`, the demo)."""

    def __init__(self, at: datetime) -> None:
        self._at = at

    def now(self) -> datetime:
        return self._at

    def advance(self, delta: timedelta) -> None:
        self._at += delta

    def set(self, at: datetime) -> None:
        self._at = at

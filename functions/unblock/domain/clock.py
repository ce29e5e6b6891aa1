"""Time as a port, so "older than 10 minutes", "past due" and "30 days" are testable (the clock
that only moves when told to, for tests, the demo and `unblock run --now`, is unblock_dev.clock)."""

from __future__ import annotations

from datetime import UTC, datetime


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

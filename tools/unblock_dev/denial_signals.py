"""The sandbox gateway's denial signals: the requests it answers, per team and window, become
`Requests Denied` events on the embedded stack's bus (DESIGN.md "Proactive cases").

The gateway hands every decision it makes to its `on_answer` hooks, from the one place a request is
admitted or refused (`GatewayServer.admit`); `DenialAggregator.answered` is such a hook. A window
that has ended (the sandbox clock moved past it, or `flush` is called) becomes one signal per team
that had refusals in it. Whether a signal is a case is the SignalsFunction's to say (its
thresholds): the gateway reports every refusal it counted, 429s and partial refusals included.

Windows are `window` long, aligned to it (09:00, 09:05, ...); a signal's `window_start` and
`window_end` are the team's first and last request in the window, so a short burst reads as short.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from unblock.domain.denials import DETAIL_TYPE, EVENT_SOURCE, MAX_LIST, iso
from unblock.ports import Clock

WINDOW = timedelta(minutes=5)


@dataclass
class _Tally:
    first: datetime
    last: datetime
    total: int = 0
    refusals: Counter[tuple[int, str]] = field(default_factory=Counter)
    first_refused: datetime | None = None
    last_refused: datetime | None = None
    keys: Counter[str] = field(default_factory=Counter)
    endpoints: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)
    request_ids: list[str] = field(default_factory=list)


def _add(values: list[str], value: str | None) -> None:
    if value and value not in values and len(values) < MAX_LIST:
        values.append(value)


class DenialAggregator:
    """Counts each team's answered requests per window; emits a signal per team with refusals."""

    def __init__(self, publish: Callable[[dict[str, Any]], Any], clock: Clock, window: timedelta = WINDOW) -> None:
        self._publish, self._clock, self._window = publish, clock, window
        self._windows: dict[tuple[datetime, str], _Tally] = {}
        self._lock = threading.Lock()
        self.emitted: list[dict[str, Any]] = []  # every signal put on the bus, in order
        self.answers: list[Any] = []  # what the bus's function answered for each

    def _bucket(self, at: datetime) -> datetime:
        seconds = int(self._window.total_seconds())
        epoch = int(at.timestamp())
        return datetime.fromtimestamp(epoch - epoch % seconds, UTC)

    def record(self, team_id: str, *, status: int, error_type: str | None = None, key_prefix: str | None = None,
               endpoint: str | None = None, model: str | None = None, request_id: str | None = None,
               at: datetime | None = None) -> None:
        """One answered request (200 or refused); ended windows are flushed first."""
        at = at or self._clock.now()
        self.flush(at)
        with self._lock:
            tally = self._windows.setdefault((self._bucket(at), team_id), _Tally(first=at, last=at))
            tally.first, tally.last, tally.total = min(tally.first, at), max(tally.last, at), tally.total + 1
            if status >= 400:
                tally.refusals[(status, error_type or "error")] += 1
                tally.first_refused = min(tally.first_refused or at, at)
                tally.last_refused = max(tally.last_refused or at, at)
                if key_prefix:
                    tally.keys[key_prefix] += 1
                _add(tally.endpoints, endpoint)
                _add(tally.models, model)
                _add(tally.request_ids, request_id)

    def answered(self, decision: Any) -> None:
        """The sandbox gateway's `on_answer` hook: each decision, served (`Admitted`) or refused (`Refusal`)."""
        team = getattr(decision, "team", None)
        if team is None:
            self.refused(decision)
            return
        self.record(team.team_id, status=getattr(decision, "status", 200), key_prefix=decision.key.prefix,
                    endpoint=decision.endpoint or None, model=decision.model, at=decision.at)

    def refused(self, refusal: Any) -> None:
        """A gateway refusal hook: anything with the sandbox gateway's Refusal fields (`at`, `status`,
        `error_type`, `team_id`, `key_prefix`, `endpoint`, `model`, `request_id`); an unknown key has no team."""
        if refusal.team_id:
            self.record(refusal.team_id, status=refusal.status, error_type=refusal.error_type,
                        key_prefix=refusal.key_prefix, endpoint=refusal.endpoint, model=refusal.model,
                        request_id=getattr(refusal, "request_id", None) or None, at=refusal.at)

    def served(self, team_id: str, at: datetime | None = None) -> None:
        """A request the gateway served: it counts towards the team's total (the share refused)."""
        self.record(team_id, status=200, at=at)

    def flush(self, now: datetime | None = None, *, everything: bool = False) -> list[dict[str, Any]]:
        """Put a signal on the bus for each team's ended window (every window with `everything`)."""
        now = now or self._clock.now()
        with self._lock:
            ended = sorted(k for k in self._windows if everything or k[0] + self._window <= now)
            tallies = [(k, self._windows.pop(k)) for k in ended]
        events = [signal_event(team_id, t) for (_, team_id), t in tallies if t.refusals]
        for event in events:
            self.emitted.append(event)
            self.answers.append(self._publish(event))
        return events


def signal_event(team_id: str, tally: _Tally) -> dict[str, Any]:
    """The window's `Requests Denied` event: its most frequent refusal names status and error type."""
    (status, error_type), denied = tally.refusals.most_common(1)[0]
    start, end = tally.first, tally.last
    return {
        "version": "0", "id": str(uuid.uuid4()), "source": EVENT_SOURCE, "detail-type": DETAIL_TYPE,
        "time": iso(end),
        "detail": {"team_id": team_id, "key_prefix": tally.keys.most_common(1)[0][0] if tally.keys else None,
                   "window_start": iso(start), "window_end": iso(end), "denied": denied, "total": tally.total,
                   "status": status, "error_type": error_type, "endpoints": tally.endpoints,
                   "models": tally.models, "sample_request_ids": tally.request_ids},
    }

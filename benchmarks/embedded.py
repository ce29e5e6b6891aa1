"""The embedded stack, instrumented: every in-process Lambda call timed, with its case id."""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from benchmarks.common import EVENTS

EVENT_TIME = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)  # the scenario events' own time


@dataclass
class Call:
    function: str  # logical id in template.yaml
    case_id: str | None
    start: float  # time.perf_counter()
    end: float
    ok: bool
    result: Any = None

    @property
    def ms(self) -> float:
        return (self.end - self.start) * 1000


def case_id_of(event: Any) -> str | None:
    """The case a state machine task is about (OpenCase gets the report, later steps `case` or `state`)."""
    if not isinstance(event, dict):
        return None
    for holder in (event, event.get("state") if isinstance(event.get("state"), dict) else None,
                   event.get("Payload") if isinstance(event.get("Payload"), dict) else None):
        if not holder:
            continue
        for key in ("case", "report"):
            part = holder.get(key)
            if isinstance(part, dict) and part.get("case_id"):
                return str(part["case_id"])
        if isinstance(holder.get("state"), dict):
            found = case_id_of(holder["state"])
            if found:
                return found
    return None


class Recorder:
    """Wraps LocalStack._dispatch (the one place every Lambda invoke reaches) with a timer."""

    def __init__(self, stack: Any) -> None:
        self.stack = stack
        self.calls: list[Call] = []
        self._lock = threading.Lock()
        inner = stack._dispatch

        def timed(function_name: str, body: Any, response_headers: dict[str, str]) -> bytes:
            try:
                event = json.loads(body) if body else {}
            except ValueError:
                event = None
            start = time.perf_counter()
            out: bytes = inner(function_name, body, response_headers)
            end = time.perf_counter()
            name = function_name.split(":function:")[-1].split(":")[0]
            ok = "x-amz-function-error" not in response_headers
            try:
                result = json.loads(out)
            except ValueError:
                result = None
            call = Call(stack.logical_id(name), case_id_of(event), start, end, ok, result)
            with self._lock:
                self.calls.append(call)
            return out

        stack._dispatch = timed

    def mark(self) -> int:
        return len(self.calls)

    def since(self, mark: int) -> list[Call]:
        with self._lock:
            return list(self.calls[mark:])


def load_event(name: str) -> dict[str, Any]:
    """A scenario event with a fresh ticket or case id (tests/support.py), webhook samples re-signed."""
    from tests.support import load_event as _load

    event = _load(name)
    if "headers" in event and isinstance(event.get("body"), dict):
        from unblock.domain.tickets.webhooks import canonical_body, discourse_signature, zendesk_signature
        from unblock_dev.local.stack import SAMPLE_SECRET

        body, headers = event["body"], event["headers"]
        fresh = str(uuid.uuid4().int)[:9]
        if isinstance(body.get("detail"), dict) and "X-Zendesk-Webhook-Signature" in headers:
            body["detail"]["id"] = fresh
            body["subject"] = f"zen:ticket:{fresh}"
            headers["X-Zendesk-Webhook-Signature"] = zendesk_signature(
                canonical_body(body), SAMPLE_SECRET, headers["X-Zendesk-Webhook-Signature-Timestamp"])
        elif isinstance(body.get("post"), dict) and "X-Discourse-Event-Signature" in headers:
            body["post"]["topic_id"] = int(fresh)
            body["post"]["id"] = int(fresh) + 1
            headers["X-Discourse-Event-Signature"] = discourse_signature(canonical_body(body), SAMPLE_SECRET)
    return event


def scenario_names() -> list[str]:
    return sorted(p.name for p in EVENTS.glob("*.json") if p.name != "platform.json")


def start_app() -> Any:
    from unblock_dev.local.app import LocalApp

    return LocalApp.from_seed_file(now=EVENT_TIME)


def reseed(app: Any) -> None:
    """Back to events/platform.json: a fix mends the sandbox, and the next case of that team must
    find the same problem again."""
    from unblock.domain.platform_model import load_seed_text

    app.seed(load_seed_text((EVENTS / "platform.json").read_text()))
    app.clock.set(EVENT_TIME)

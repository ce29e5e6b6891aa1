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
    step: str | None = None  # the workflow step a shared function served (the task's `step`)

    @property
    def ms(self) -> float:
        return (self.end - self.start) * 1000

    @property
    def key(self) -> str:
        """The function, with the step it served where it serves several: `DiagnoseFunction.open_case`."""
        return f"{self.function}.{self.step}" if self.step else self.function

    def is_(self, function: str, *steps: str) -> bool:
        return self.function == function and (not steps or self.step in steps)

    @property
    def verified(self) -> bool:
        """A fix step whose verification closes the case as auto_fixed (the FixFunction verifies its fixes)."""
        if not (self.is_("FixFunction", "fix") and self.ok and isinstance(self.result, dict)):
            return False
        verification = self.result.get("verification")
        return isinstance(verification, dict) and verification.get("outcome") == "auto_fixed"


def case_id_of(event: Any) -> str | None:
    """The case a state machine task is about (open_case gets the report, later steps `case` or `state`)."""
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
            step = event.get("step") if isinstance(event, dict) and isinstance(event.get("step"), str) else None
            call = Call(stack.logical_id(name), case_id_of(event), start, end, ok, result, step)
            with self._lock:
                self.calls.append(call)
            return out

        stack._dispatch = timed

    def mark(self) -> int:
        return len(self.calls)

    def since(self, mark: int) -> list[Call]:
        with self._lock:
            return list(self.calls[mark:])


def load_event(name: str, helpdesk: Any = None) -> dict[str, Any]:
    """A scenario event with a fresh ticket or case id (tests/support.py), webhook samples re-signed.

    A Zendesk delivery that carries no text makes the webhook read the ticket from the help desk's API, and a
    Discourse private message makes it ask whom the message is addressed to: `helpdesk` (the embedded stack's
    sandbox help desk) is given the sample's ticket or message under the fresh id too, or the webhook rightly
    refuses the delivery (400: a ticket it cannot read) or opens no case (a message not addressed to staff)."""
    from tests.support import load_event as _load

    event = _load(name)
    if "headers" in event and isinstance(event.get("body"), dict):
        from unblock.domain.helpdesks.discourse import discourse_signature
        from unblock.domain.helpdesks.zendesk import zendesk_signature
        from unblock.domain.tickets.webhooks import canonical_body
        from unblock_dev.local.stack import SAMPLE_SECRET

        body, headers = event["body"], event["headers"]
        fresh = str(uuid.uuid4().int)[:9]
        if isinstance(body.get("detail"), dict) and "X-Zendesk-Webhook-Signature" in headers:
            known = helpdesk.tickets.get(str(body["detail"].get("id"))) if helpdesk is not None else None
            if known is not None:  # the desk's copy of the ticket, under the fresh id
                copy = json.loads(json.dumps(known))
                helpdesk.tickets[fresh] = {**copy, "ticket": {**copy["ticket"], "id": int(fresh)}}
            body["detail"]["id"] = fresh
            body["subject"] = f"zen:ticket:{fresh}"
            headers["X-Zendesk-Webhook-Signature"] = zendesk_signature(
                canonical_body(body), SAMPLE_SECRET, headers["X-Zendesk-Webhook-Signature-Timestamp"])
        elif isinstance(body.get("post"), dict) and "X-Discourse-Event-Signature" in headers:
            addressed = helpdesk.messages.get(str(body["post"].get("topic_id"))) if helpdesk is not None else None
            if addressed is not None:  # a private message: the desk tells who it is addressed to, by topic
                helpdesk.messages[fresh] = {**json.loads(json.dumps(addressed)), "topic_id": int(fresh)}
            body["post"]["topic_id"] = int(fresh)
            body["post"]["id"] = int(fresh) + 1
            headers["X-Discourse-Event-Signature"] = discourse_signature(canonical_body(body), SAMPLE_SECRET)
    return event


def scenario_names() -> list[str]:
    """The scenario events of events/, as `unblock demo` runs them (not the seed, not the help desk's users)."""
    from unblock_dev.demo import scenarios

    return scenarios()


def start_app() -> Any:
    from unblock_dev.local.app import LocalApp

    return LocalApp.from_seed_file(now=EVENT_TIME)


def reseed(app: Any) -> None:
    """Back to events/platform.json: a fix mends the sandbox, and the next case of that team must
    find the same problem again."""
    from unblock.domain.platform_model import load_seed_text

    app.seed(load_seed_text((EVENTS / "platform.json").read_text()))
    app.clock.set(EVENT_TIME)

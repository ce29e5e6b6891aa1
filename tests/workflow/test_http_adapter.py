"""The workflow run through the HTTP platform adapter as well as in-process.

The embedded stack's sandbox is served over the admin API (docs/platform-api.yaml) on
127.0.0.1 and the handlers are pointed at it (PLATFORM_ADAPTER=http), as a deployed stack
is pointed at the operator's API. The environment and the runtime's cached adapters are
always restored afterwards, so every other test sees the sandbox adapter again.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.support import EVENTS, load_event
from unblock import composition
from unblock.adapters.platform_sandbox import SandboxPlatform
from unblock.domain.models import Result
from unblock.domain.platform_model import load_seed_text
from unblock_dev.api_server import make_api_server
from unblock_dev.local.stack import fresh_adapters

TOKEN = "workflow-test-token"
ENV = ("PLATFORM_ADAPTER", "PLATFORM_API_URL", "PLATFORM_API_TOKEN", "PLATFORM_API_TOKEN_SECRET", "GATEWAY_URL")


class Served:
    """The sandbox as the API server sees it: records each call; `before[name]` runs first."""

    def __init__(self, inner: SandboxPlatform) -> None:
        self.inner = inner
        self.calls: list[str] = []
        self.before: dict[str, Callable[..., None]] = {}
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        target = getattr(self.inner, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                self.calls.append(name)
            if name in self.before:
                self.before[name](*args)
            return target(*args, **kwargs)

        return call


@contextmanager
def http_adapter(app: Any) -> Iterator[Served]:
    """Serve app.platform over HTTP and point the handlers at it; everything is restored on exit."""
    served = Served(app.platform)
    server = make_api_server(served, "127.0.0.1", 0, TOKEN).start()  # type: ignore[arg-type]
    saved = {name: os.environ.get(name) for name in ENV}
    try:
        os.environ.pop("PLATFORM_API_TOKEN_SECRET", None)
        os.environ.pop("GATEWAY_URL", None)  # the probe too goes through the admin API here
        os.environ.update(PLATFORM_ADAPTER="http", PLATFORM_API_URL=server.url, PLATFORM_API_TOKEN=TOKEN)
        fresh_adapters()
        from unblock.adapters.platform_http import HttpPlatform

        assert isinstance(composition.platform(), HttpPlatform)
        yield served
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        fresh_adapters()
        server.close()


def reseed(app: Any) -> None:
    app.seed(load_seed_text((EVENTS / "platform.json").read_text()))
    app.clock.set(datetime(2026, 11, 26, 10, 0, tzinfo=UTC))


def comparable(result: Result) -> dict[str, Any]:
    """A result without what differs by construction between two runs (the case and ticket ids)."""
    data = result.model_dump(mode="json", exclude={"case_id"})
    if data["escalation"]:
        data["escalation"] = {k: v for k, v in data["escalation"].items() if k in ("reason", "priority",
                                                                                  "proposed_fixes", "findings")}
    return data


@pytest.mark.parametrize(("event", "outcome"), [
    ("ticket-stale-billing-hold.json", "auto_fixed"),
    ("ticket-two-fixes.json", "auto_fixed"),
    ("ticket-expired-card.json", "customer_action"),
    ("ticket-staff-billing-hold.json", "escalated"),
    ("ticket-no-team.json", "needs_info"),
])
def test_the_workflow_over_http_ends_as_it_does_in_process(app, event: str, outcome: str) -> None:
    in_process = app.run(load_event(event))
    assert in_process.outcome == outcome

    reseed(app)
    with http_adapter(app) as served:
        over_http = app.run(load_event(event))

    assert served.calls, "the handlers did not go through the HTTP adapter"
    assert comparable(over_http) == comparable(in_process)
    if in_process.team_id:
        assert app.platform.get_team(over_http.team_id) == app.platform.get_team(in_process.team_id)


def test_a_fix_made_by_staff_in_the_meantime_ends_verified_not_escalated(app) -> None:
    """The hidden failure: Decide chose clear_billing_hold, then staff cleared the hold by hand
    before ApplyFixes ran. The API answers 409; the case is verified and closed as auto_fixed."""

    def staff_clears_the_hold(team_id: str) -> None:
        team = app.platform.get_team(team_id)
        hold = team.billing.hold.model_copy(update={"active": False})
        app.platform.replace_team(team.model_copy(update={"billing": team.billing.model_copy(update={"hold": hold})}))

    with http_adapter(app) as served:
        served.before["clear_billing_hold"] = staff_clears_the_hold
        result = app.run(load_event("ticket-stale-billing-hold.json"))

    assert served.calls.count("clear_billing_hold") == 1  # a 409 is an answer: not retried
    assert result.outcome == "auto_fixed", result.escalation
    assert result.verified is True
    assert result.escalation is None
    assert "ApplyFixes" in result.trace.states and "Escalate" not in result.trace.states
    case = app.client.store.get(result.case_id)
    assert case.status == "closed" and case.resolution == "verified"
    [record] = case.fixes
    assert record.fix == "clear_billing_hold" and record.status == "already_done"
    assert record.after["hold"]["active"] is False and record.reason.startswith("Nothing to do")
    assert app.platform.probe(result.team_id).status == 200


def test_the_platform_down_over_http_escalates_with_the_partial_evidence(app) -> None:
    """Every retry answered 503: the checks report `<check>.unavailable` and the case goes to a person."""
    from unblock.ports import PlatformUnavailable

    def down(*_: Any) -> None:
        raise PlatformUnavailable("maintenance")

    with http_adapter(app) as served:
        served.before["get_keys"] = down
        result = app.run(load_event("ticket-risk-hold-lift.json"))

    # the adapter's retries (3 calls) inside each of the state machine's 3 attempts
    assert served.calls.count("get_keys") == 9

    assert result.outcome == "escalated"
    assert [f.code for f in result.findings] == ["billing.ok", "key.unavailable", "restrictions.risk_hold_liftable"]
    assert result.findings[1].evidence["error"] == "PlatformUnavailable"
    assert result.fixes_applied == []
    assert app.platform.get_team(result.team_id).restrictions  # the risk hold is still on



def test_the_handlers_use_the_sandbox_again_afterwards(app) -> None:
    with http_adapter(app):
        pass
    assert os.environ.get("PLATFORM_ADAPTER", "sandbox") != "http"
    platform = composition.platform()
    assert isinstance(getattr(platform, "inner", platform), SandboxPlatform)

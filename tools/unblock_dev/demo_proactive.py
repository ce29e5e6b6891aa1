"""The demo's proactive wave (DESIGN.md "Proactive cases"): teams' own SDK calls fail through the
sandbox gateway, its denial signals reach the stack's bus, the consistency repairs happen and the
wave held by one rule opens an incident with one staff alert, all before anyone writes in; then a
ticket from one of the held teams joins its proactive case.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

from unblock.domain.models import Result
from unblock.domain.platform_model import Seed
from unblock_dev.denial_signals import DenialAggregator
from unblock_dev.local.app import LocalApp
from unblock_dev.local.stack import ROOT

# four teams held by the "new account velocity" rule, and two whose state disagrees with itself
HELD = ["team_VeL0c1tyWave000000000001", "team_VeL0c1tyWave000000000002", "team_VeL0c1tyWave000000000003",
        "team_VeL0c1tyWave000000000004"]
REPAIRABLE = ["team_Q3xr89YFWHvqTRO0X0bmHkoU", "team_K3yN0tSynced000000000000"]  # stale hold, unsynced key
# a day of its own: the ticket wave's incident (2026-11-26) is over by then (24 hours without a member)
DAY = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
CALLS = 24  # per team, 12.5 s apart: a steady refusal over almost five minutes


def play_calls(app: LocalApp, call: Callable[[str], Any], teams: list[str], start: datetime,
               calls: int = CALLS, every: timedelta = timedelta(seconds=12.5)) -> dict[str, Any]:
    """Each team calls `calls` times, the sandbox clock moving on; returns each team's first answer."""
    first: dict[str, Any] = {}
    for i in range(calls):
        app.clock.set(start + i * every)
        for team in teams:
            answer = call(team)
            first.setdefault(team, answer)
    return first


def openai_call(view: Any, team_id: str) -> str | None:
    """The team's own OpenAI SDK call through the demo's gateway (the AI SDK's line is the scenarios')."""
    from unblock_dev.gateway import sdk_call

    secret = next((s for s in view.secrets.get(team_id, {}).values() if s), None)
    return sdk_call(view.server.base_url, secret) if secret else None


def run_proactive_demo(app: LocalApp, seed: Seed, out: TextIO, view: Any,
                       read_alerts: Callable[[], list[str]]) -> list[tuple[str, Result]]:
    app.seed(seed)
    read_alerts()  # what earlier parts of the demo published is theirs
    aggregator = DenialAggregator(app.put_event, app.clock)
    view.server.on_answer.append(aggregator.answered)  # the gateway's one hook for every answer it gives
    out.write("== proactive: six teams call the gateway and fail; nobody writes in yet\n")
    first = play_calls(app, lambda team: openai_call(view, team), [*HELD, *REPAIRABLE], DAY)
    for team, answer in first.items():
        out.write(f"  {team}  {answer}\n")
    app.clock.set(DAY + timedelta(minutes=5))
    aggregator.flush()
    view.server.on_answer.remove(aggregator.answered)
    out.write("denial signals on the stack's bus (Requests Denied), one per team and window:\n")
    rows: list[tuple[str, Result]] = []
    for event, answer in zip(aggregator.emitted, aggregator.answers, strict=True):
        d = event["detail"]
        out.write(f"  {d['team_id']}  {d['denied']}/{d['total']} {d['status']} {d['error_type']}  "
                  f"{d['window_start'][11:]}-{d['window_end'][11:]}  -> {answer.get('action', answer)}\n")
    for answer in aggregator.answers:
        if answer.get("case_id"):
            result = app.client.result(app.wait(answer["case_id"]))
            rows.append((result.case_id[:44], result))
            out.write(f"  {result.case_id:<58} {result.outcome or '-':<10} fixes: "
                      f"{','.join(result.fixes_applied) or '-'}  verified: {'yes' if result.verified else 'no'}  "
                      f"incident: {result.incident_id or '-'}\n")
    for subject in read_alerts():
        out.write(f"  staff alert: {subject}\n")
    for team in REPAIRABLE:
        out.write(f"  {team} calls again: {openai_call(view, team)}\n")

    ticket = json.loads((ROOT / "events" / "wave-1-comet-labs.json").read_text())
    ticket["detail"]["ticket_id"] = "4851"  # a new ticket: 4801 is the ticket wave's, two days ago
    out.write("\n== then comet-labs writes in (events/wave-1-comet-labs.json as ticket 4851, at 09:41)\n")
    result = app.run(ticket, at=DAY + timedelta(minutes=41))
    case = app.client.store.get(result.case_id)
    joined = case.proactive.case_id if case is not None and case.proactive else "-"
    out.write(f"  {result.case_id} joins {joined}; incident: {result.incident_id or '-'}\n"
              f"  reply: {(result.customer_reply or '-').splitlines()[0]}\n")
    rows.append(("proactive wave: ticket", result))
    return rows

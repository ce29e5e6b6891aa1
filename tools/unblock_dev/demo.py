"""`unblock demo`: every scenario in events/ on one embedded stack, then a staff decision.

For each auto-fixed scenario it also shows the customer's own call through the sandbox
gateway with the real OpenAI SDK: the exception before, the completion after.
"""

from __future__ import annotations

import json
from typing import Any, TextIO

from unblock.domain.models import Result
from unblock.domain.platform_model import Seed
from unblock_dev.local.app import LocalApp, event_time
from unblock_dev.local.stack import ROOT

EVENTS = ROOT / "events"


def scenarios() -> list[str]:
    names = sorted(p.name for p in EVENTS.glob("*.json") if p.name != "platform.json")
    return [n for n in names if n.startswith(("ticket-", "staff-", "zendesk-", "discourse-"))]


class CustomerView:
    """The customer's SDK call through the sandbox gateway, served on the demo's own stack."""

    def __init__(self, app: LocalApp, raw_seed: Any) -> None:
        from unblock_dev.gateway import make_gateway_server, seed_secrets, start_in_thread

        # the demo calls only /v1 (the customer's view); the operator routes keep a token of their own
        self.server = make_gateway_server(app.platform, app.clock)  # type: ignore[arg-type]
        start_in_thread(self.server)
        self.secrets = seed_secrets(raw_seed)

    def call(self, team_id: str | None) -> str | None:
        from unblock_dev.gateway import sdk_call

        secret = next((s for s in self.secrets.get(team_id or "", {}).values() if s), None)
        return sdk_call(self.server.base_url, secret) if secret else None

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def run_scenarios(app: LocalApp, seed: Seed, out: TextIO | None = None,
                  view: CustomerView | None = None) -> list[tuple[str, Result]]:
    """Every scenario in events/, each from the seed, on one stack; escalated cases stay waiting."""
    from unblock_dev.cli import render

    rows: list[tuple[str, Result]] = []
    for name in scenarios():
        event = json.loads((EVENTS / name).read_text())
        app.seed(seed)  # every scenario starts from the seed
        result = app.run(event)
        rows.append((name, result))
        if out is None:
            continue
        out.write(f"== {name}\n")
        render(result, out)
        if view is not None and result.outcome == "auto_fixed":
            after = view.call(result.team_id)
            app.seed(seed)
            before = view.call(result.team_id)
            out.write(f"customer's call before: {before}\ncustomer's call after:  {after}\n")
        out.write("\n")
    return rows


def run_demo(out: TextIO, seed: Seed, raw_seed: Any = None) -> int:
    from unblock_dev.cli import render

    app = LocalApp(seed)
    view = CustomerView(app, raw_seed) if raw_seed is not None else None
    rows: list[tuple[str, Result]] = []
    try:
        rows = run_scenarios(app, seed, out, view)
        # the escalation resumed by a staff decision: approve the proposed fix
        escalated = [(n, r) for n, r in rows if r.outcome == "escalated" and r.escalation
                     and r.escalation.get("proposed_fixes")]
        if escalated:
            name, first = escalated[0]
            app.seed(seed)
            app.clock.set(event_time(json.loads((EVENTS / name).read_text())) or app.clock.now())
            again = app.run({"report": {"case_id": f"{first.case_id}-approval-demo", "source": "staff",
                                        "team_id": first.team_id, "requested_by": "staff:demo"}})
            out.write(f"== {name}, then staff approve: {', '.join(again.escalation['proposed_fixes'])}\n"
                      if again.escalation else "")
            before = view.call(again.team_id) if view else None
            final = app.decide(again.case_id, "approve", actor="staff:demo")
            render(final, out)
            if view is not None:
                out.write(f"customer's call before: {before}\ncustomer's call after:  {view.call(final.team_id)}\n")
            rows.append((f"{name} + staff approve", final))
    finally:
        if view is not None:
            view.close()
        app.close()
    out.write("\nSummary\n")
    out.write(f"{'scenario':<44} {'outcome':<16} {'fixes':<40} {'verified':<8} transitions\n")
    for name, r in rows:
        out.write(f"{name:<44} {r.outcome or '-':<16} {','.join(r.fixes_applied) or '-':<40} "
                  f"{'yes' if r.verified else 'no':<8} {r.trace.state_transitions}\n")
    outcomes = sorted({r.outcome for _, r in rows if r.outcome})
    out.write(f"\noutcomes seen: {', '.join(outcomes)}\n")
    return 0

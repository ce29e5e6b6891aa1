"""`unblock demo`: every scenario in events/ on one embedded stack, then a staff decision."""

from __future__ import annotations

import json
from typing import TextIO

from unblock.local.app import LocalApp, event_time
from unblock.local.stack import ROOT
from unblock.seed import Seed

EVENTS = ROOT / "events"


def scenarios() -> list[str]:
    names = sorted(p.name for p in EVENTS.glob("*.json") if p.name != "platform.json")
    return [n for n in names if n.startswith(("ticket-", "staff-", "zendesk-", "discourse-"))]


def run_demo(out: TextIO, seed: Seed) -> int:
    app = LocalApp(seed)
    rows = []
    try:
        for name in scenarios():
            event = json.loads((EVENTS / name).read_text())
            app.seed(seed)  # every scenario starts from the seed
            result = app.run(event)
            rows.append((name, result))
            out.write(f"== {name}\n")
            from unblock.cli import render

            render(result, out)
            out.write("\n")
        # the escalation resumed by a staff decision: approve the proposed risk-hold lift
        escalated = [(n, r) for n, r in rows if r.outcome == "escalated" and r.escalation
                     and r.escalation.get("proposed_fixes")]
        if escalated:
            name, first = escalated[0]
            app.seed(seed)
            app.clock.set(event_time(json.loads((EVENTS / name).read_text())) or app.clock.now())
            again = app.run({"report": {"case_id": f"{first.case_id}-approval-demo", "source": "staff",
                                        "team_id": first.team_id, "requested_by": "staff:demo"}})
            out.write(f"== staff approves {again.case_id}: {', '.join(again.escalation['proposed_fixes'])}\n"
                      if again.escalation else "")
            final = app.decide(again.case_id, "approve", actor="staff:demo")
            from unblock.cli import render

            render(final, out)
            rows.append((f"{name} + staff approve", final))
    finally:
        app.close()
    out.write("\nSummary\n")
    out.write(f"{'scenario':<44} {'outcome':<16} {'fixes':<40} {'verified':<8} transitions\n")
    for name, r in rows:
        out.write(f"{name:<44} {r.outcome or '-':<16} {','.join(r.fixes_applied) or '-':<40} "
                  f"{'yes' if r.verified else 'no':<8} {r.trace.state_transitions}\n")
    outcomes = {r.outcome for _, r in rows}
    out.write(f"\noutcomes seen: {', '.join(sorted(o for o in outcomes if o))}\n")
    return 0

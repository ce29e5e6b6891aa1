"""How the CLI prints what it did: a Result for a person or as one JSON object, an incident as JSON."""

from __future__ import annotations

from typing import Any, TextIO

from unblock.domain.models import Result
from unblock.workflow.incidents import IncidentView


def render(result: Result, out: TextIO) -> None:
    r = result
    out.write(f"case {r.case_id}: {r.outcome}   team {r.team_id or '(not identified)'}\n")
    out.write(f"path: {' -> '.join(r.trace.states)}\n")
    out.write(f"      {r.trace.state_transitions} state transitions, {r.trace.lambda_invocations} Lambda invocations\n")
    if r.signals:
        from unblock.domain.tickets.signal_catalogue import BY_CODE

        out.write("customer saw:\n")
        for code in r.signals:
            spec = BY_CODE.get(code)
            out.write(f"  {code:<40} {spec.explanation if spec else ''}\n")
    for f in r.findings:
        out.write(f"  [{f.disposition:<15}] {f.code:<40} {f.summary}\n")
    if r.fixes_applied:
        out.write(f"fixes applied: {', '.join(r.fixes_applied)}   verified: {'yes' if r.verified else 'no'}\n")
    if r.escalation:
        out.write(f"escalated ({r.escalation.get('priority', 'normal')}): {r.escalation.get('reason')}\n")
        if r.escalation.get("proposed_fixes"):
            out.write(f"  proposed for staff approval: {', '.join(r.escalation['proposed_fixes'])}\n")
        # the embedded stack ends with the command: decide in the same run; a deployed stack keeps the case
        out.write("  decide with: unblock run EVENT --decide approve|resolve|reject (this embedded stack ends "
                  f"with the command); on a deployed stack: unblock decide {r.case_id} --stack NAME "
                  "--approve|--resolve|--reject\n")
    if r.incident_id:
        out.write(f"incident: {r.incident_id} (many teams, one cause: decide them at once with "
                  f"unblock decide --incident {r.incident_id})\n")
    if r.customer_reply:
        out.write("reply to customer:\n" + "\n".join("  | " + line for line in r.customer_reply.splitlines()) + "\n")


def emit(result: Result, as_json: bool, out: TextIO) -> None:
    """`--json`: exactly one JSON object per line; else `render`."""
    if as_json:
        out.write(result.model_dump_json() + "\n")
    else:
        render(result, out)


def member_verification(case_id: str, case: Any) -> str:
    """How a member's requester stands, as staff read it before a bulk approval: `verified`,
    `unverified` (an approval covers it only when ticked), `proactive` (no requester), `staff` or `unknown`."""
    from unblock.domain.incidents import is_proactive

    if is_proactive(case_id):
        return "proactive"
    if case is None:
        return "unknown"
    if case.report.source == "staff":
        return "staff"
    return "verified" if case.requester_verified else "unverified"


def incident_json(view: IncidentView) -> dict[str, Any]:
    """An incident as `unblock incidents --json` prints it (no task token, no report text)."""
    i = view.incident
    return {
        "incident_id": i.incident_id, "cause": i.cause.model_dump(mode="json"), "label": i.cause.label,
        "opened_at": i.opened_at.isoformat(), "last_joined_at": i.last_joined_at.isoformat() if i.last_joined_at
        else None, "teams": view.teams, "waiting": len(view.waiting),
        "members": [{"case_id": m.case_id, "team_id": m.team_id, "via": m.via, "status": c.status if c else None,
                     "outcome": c.outcome if c else None, "requester": member_verification(m.case_id, c)}
                    for m, c in view.members],
        "held_elsewhere": None if view.held_elsewhere is None else [
            t.model_dump(mode="json") for t in view.held_elsewhere],
        "decisions": [d.model_dump(mode="json") for d in i.decisions],
    }

"""What staff are told when a case starts waiting for them (escalated, or re-queued past the SLA),
and once per incident when many teams share one cause.

The message names the case, team, priority, reason and deciding finding, and links to the case in
the staff console; it carries no secret (no task token, no report text, no key). An incident's
names its cause, how many teams share it and how many cases wait, and links to the incident.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from unblock.domain.cases import Case
from unblock.domain.incidents import Incident
from unblock.domain.models import SEVERITY

AlertKind = Literal["escalated", "requeued"]


class StaffAlert(BaseModel):
    kind: AlertKind
    case_id: str
    team_id: str | None
    priority: str
    reason: str
    finding: str | None
    proposed_fixes: list[str]
    link: str | None
    # the proposal the alert shows (`Case.proposal_id`): its buttons decide that one, nothing later
    proposal: str | None = None

    @property
    def subject(self) -> str:
        what = "waits for staff" if self.kind == "escalated" else "is past its SLA (re-queued)"
        return f"[unblock] {self.priority}: case {self.case_id} {what}"[:100]

    @property
    def text(self) -> str:
        lines = [self.subject, f"Team: {self.team_id or 'not identified'}", f"Reason: {self.reason}"]
        if self.finding:
            lines.append(f"Deciding finding: {self.finding}")
        if self.proposed_fixes:
            lines.append(f"Proposed fixes: {', '.join(self.proposed_fixes)}")
        lines.append(f"Open it: {self.link}" if self.link else "Open it in the staff console.")
        return "\n".join(lines)


def _quote(text: str) -> str:
    """Percent-encode a path segment (the domain keeps clear of urllib)."""
    return "".join(c if (c.isascii() and c.isalnum()) or c in "-_.~" else "".join(f"%{b:02X}" for b in c.encode())
                   for c in text)


class IncidentAlert(BaseModel):
    """Staff are told once per incident: its cause, how many teams and cases, where to decide."""

    kind: Literal["incident"] = "incident"
    incident_id: str
    cause: str  # the cause's label: code and reason
    teams: int
    cases: int
    link: str | None
    priority: str = "high"

    @property
    def subject(self) -> str:
        return f"[unblock] incident {self.incident_id}: {self.teams} teams, one cause"[:100]

    @property
    def text(self) -> str:
        lines = [self.subject, f"Cause: {self.cause}",
                 f"Teams: {self.teams} ({self.cases} cases so far, within 24 hours)",
                 "One bulk decision (approve, resolve, reject) applies to every waiting member; teams held by the "
                 "same rule that have not written in can be included."]
        lines.append(f"Open it: {self.link}" if self.link else "Open it in the staff console (Incidents).")
        return "\n".join(lines)


class RevertAlert(BaseModel):
    """Staff are told who reverted which fix on which case (the customer is not told specifics)."""

    kind: Literal["reverted"] = "reverted"
    case_id: str
    team_id: str | None
    fixes: list[str]
    actor: str
    note: str
    link: str | None
    priority: str = "normal"

    @property
    def subject(self) -> str:
        return f"[unblock] {self.actor} reverted {', '.join(self.fixes)} on case {self.case_id}"[:100]

    @property
    def text(self) -> str:
        lines = [self.subject, f"Team: {self.team_id or 'not identified'}",
                 f"Put back: {', '.join(self.fixes)} (as the fix's audit recorded the team before it)",
                 f"Note: {self.note}"]
        lines.append(f"Open it: {self.link}" if self.link else "Open it in the staff console.")
        return "\n".join(lines)


class ModeAlert(BaseModel):
    """Staff are told the stack's mode changed: who (an admin, or the revert-rate guardrail), from, to."""

    kind: Literal["mode"] = "mode"
    actor: str
    was: str
    now: str
    note: str | None = None
    link: str | None = None
    priority: str = "high"

    @property
    def subject(self) -> str:
        return f"[unblock] {self.actor} switched the stack from {self.was} to {self.now}"[:100]

    @property
    def text(self) -> str:
        meaning = {"live": "safe fixes apply and customers are answered",
                   "approval": "every fix waits for staff approval",
                   "shadow": "nothing is changed and nobody is told (staff decisions included)"}
        lines = [self.subject, f"From now on: {meaning.get(self.now, self.now)}."]
        if self.note:
            lines.append(f"Note: {self.note}")
        lines.append(f"Mode page: {self.link}" if self.link else "See the console's Mode page.")
        return "\n".join(lines)


class RuleMisfiringAlert(BaseModel):
    """Staff are told (as the rule's owner is) once a cause's rule is likely misfiring (docs/causes.md)."""

    kind: Literal["rule_misfiring"] = "rule_misfiring"
    cause: str  # the cause's label: code and reason
    owner: str
    approvals: int
    decisions: int
    window_days: int
    teams: int
    time_to_fix_minutes: float | None = None
    link: str | None
    priority: str = "normal"

    @property
    def subject(self) -> str:
        return f"[unblock] rule likely misfiring: {self.cause}"[:100]

    @property
    def text(self) -> str:
        fix = f"{self.time_to_fix_minutes:g} minutes" if self.time_to_fix_minutes is not None else "not measured"
        lines = [self.subject, f"Owner told: {self.owner}",
                 f"Staff approved the lift for {self.approvals} of the last {self.decisions} decisions "
                 f"(within {self.window_days} days), no revert; {self.teams} teams held so far; "
                 f"customers' median time to fix: {fix}.",
                 "A standing policy can approve this cause's fix for the next wave (unblock policy create)."]
        lines.append(f"Open it: {self.link}" if self.link else "Open it in the staff console (Causes).")
        return "\n".join(lines)


AnyAlert = StaffAlert | IncidentAlert | RevertAlert | ModeAlert | RuleMisfiringAlert


def case_link(case_id: str, console_url: str | None) -> str | None:
    return console_url.rstrip("/") + "/cases/" + _quote(case_id) if console_url else None


def cause_link(cause_key: str, console_url: str | None) -> str | None:
    return console_url.rstrip("/") + "/causes/" + _quote(cause_key) if console_url else None


def incident_alert(incident: Incident, teams: int, cases: int, console_url: str | None) -> IncidentAlert:
    link = console_url.rstrip("/") + "/incidents/" + _quote(incident.incident_id) if console_url else None
    return IncidentAlert(incident_id=incident.incident_id, cause=incident.cause.label, teams=teams, cases=cases,
                         link=link)


def alert_for(case: Case, kind: AlertKind, console_url: str | None) -> StaffAlert:
    findings = case.escalation.findings if case.escalation else case.findings
    deciding = max(findings, key=lambda f: SEVERITY.get(f.disposition, 0)) if findings else None
    link = console_url.rstrip("/") + "/cases/" + _quote(case.case_id) if console_url else None
    return StaffAlert(kind=kind, case_id=case.case_id, team_id=case.team_id, priority=case.priority,
                      reason=case.escalation.reason if case.escalation else "Needs a person.",
                      finding=deciding.code if deciding else None,
                      proposed_fixes=list(case.escalation.proposed_fixes) if case.escalation else [], link=link,
                      proposal=case.proposal_id)

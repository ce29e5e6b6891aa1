"""Causes with a record: what one automated rule has cost, across incidents and time (issue 37).

Pure rules, no storage (`unblock.workflow.causes` applies them through the ports). A cause is the
incidents' cause (`unblock.domain.incidents.cause_of`: the deciding finding's code and its hold's
normalized reason, automated holds only). Its record is every case seen with it, each read from the
case itself when it is shown (the case keeps staff's decisions, the fixes and their reverts), so the
figures never drift from what happened:
- teams held, cases, proactive cases, waves (the incidents, or runs of cases 24 hours apart);
- what staff decided for each case (approve / resolve / reject, by whom, how fast: from the case
  waiting for staff to the decision), the decisions a standing policy made apart;
- reverts after a fix, and the customers' time to fix (report received to the case closed fixed).

A rule is **likely misfiring** when staff approved the lift for at least `approvals` of the last
`decisions` staff decisions of its cause within `window` (defaults 5 of 6 within 30 days) and no fix
of the cause was reverted in that window: the rule's owner is told once, with the evidence.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import AwareDatetime, BaseModel, ConfigDict

from unblock.domain.cases import Case
from unblock.domain.incidents import WINDOW, Cause, is_proactive
from unblock.domain.models import StaffDecision

POLICY_ACTOR = "policy:"  # the actor of a decision a standing policy made (`policy:<id>`)


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)  # stored documents: tolerate newer fields


class CauseSeen(_Model):
    """A case seen with the cause (kept for good: the cause's history)."""

    case_id: str
    team_id: str
    at: AwareDatetime


class CauseHead(_Model):
    """The cause as stored: when it was first and last seen, and when its owner was told."""

    cause: Cause
    first_seen: AwareDatetime
    last_seen: AwareDatetime
    owner_told_at: AwareDatetime | None = None


def is_policy(decision: StaffDecision) -> bool:
    return decision.actor.startswith(POLICY_ACTOR)


@dataclass(frozen=True)
class CaseLine:
    """One case of a cause, as its record shows it."""

    case_id: str
    team_id: str
    seen_at: datetime
    proactive: bool
    verified: bool
    status: str
    outcome: str | None
    decision: str | None  # the last decision on the case (staff's or a policy's)
    actor: str | None
    decided_at: datetime | None
    waited: timedelta | None  # from waiting for staff to the decision
    time_to_fix: timedelta | None  # report received to closed with the fix verified
    reverted_at: datetime | None

    @property
    def by_policy(self) -> bool:
        return bool(self.actor and self.actor.startswith(POLICY_ACTOR))


def case_line(seen: CauseSeen, case: Case | None) -> CaseLine:
    """What the record shows of one case (a case gone from the store shows as seen only)."""
    if case is None:
        return CaseLine(seen.case_id, seen.team_id, seen.at, is_proactive(seen.case_id), False, "unknown", None,
                        None, None, None, None, None, None)
    last = case.decisions[-1] if case.decisions else None
    waited = None
    if last is not None:
        since = case.escalation.queued_at if case.escalation and case.escalation.queued_at else case.created_at
        waited = max(last.decided_at - since, timedelta(0))
    fixed = case.outcome == "auto_fixed" and case.closed_at is not None
    received = case.report.received_at or case.created_at
    reverted = min((r.at for r in case.reverts), default=None)
    return CaseLine(case.case_id, seen.team_id, seen.at, is_proactive(case.case_id) or case.report.source == "gateway",
                    case.requester_verified, case.status, case.outcome,
                    last.decision if last else None, last.actor if last else None, last.decided_at if last else None,
                    waited, (case.closed_at - received) if fixed and case.closed_at else None, reverted)


@dataclass(frozen=True)
class CauseFigures:
    """The cause's record in figures (what `unblock causes` and the console's causes page show)."""

    teams: int
    cases: int
    proactive: int
    waves: int
    staff_decisions: dict[str, int]  # approve / resolve / reject by staff
    policy_approvals: int
    deciders: list[str]
    median_wait: timedelta | None  # staff's time to decide
    reverts: int
    median_time_to_fix: timedelta | None
    first_seen: datetime | None
    last_seen: datetime | None
    last_wave_started: datetime | None


def waves(lines: list[CaseLine]) -> list[list[CaseLine]]:
    """The cause's waves: cases seen within 24 hours of the one before (an incident's window)."""
    out: list[list[CaseLine]] = []
    for line in sorted(lines, key=lambda x: x.seen_at):
        if out and line.seen_at - out[-1][-1].seen_at <= WINDOW:
            out[-1].append(line)
        else:
            out.append([line])
    return out


def _median(values: list[timedelta]) -> timedelta | None:
    return timedelta(seconds=statistics.median(v.total_seconds() for v in values)) if values else None


def figures(lines: list[CaseLine]) -> CauseFigures:
    staff = [x for x in lines if x.decision and not x.by_policy]
    counts = {d: sum(1 for x in staff if x.decision == d) for d in ("approve", "resolve", "reject")}
    grouped = waves(lines)
    return CauseFigures(
        teams=len({x.team_id for x in lines}), cases=len(lines), proactive=sum(1 for x in lines if x.proactive),
        waves=len(grouped), staff_decisions=counts,
        policy_approvals=sum(1 for x in lines if x.by_policy and x.decision == "approve"),
        deciders=sorted({str(x.actor) for x in staff}),
        median_wait=_median([x.waited for x in staff if x.waited is not None]),
        reverts=sum(1 for x in lines if x.reverted_at is not None),
        median_time_to_fix=_median([x.time_to_fix for x in lines if x.time_to_fix is not None]),
        first_seen=min((x.seen_at for x in lines), default=None),
        last_seen=max((x.seen_at for x in lines), default=None),
        last_wave_started=grouped[-1][0].seen_at if grouped else None)


@dataclass
class CauseView:
    head: CauseHead
    lines: list[CaseLine]
    figures: CauseFigures
    notice: Evidence | None

    @property
    def key(self) -> str:
        return self.head.cause.key

    @property
    def misfiring(self) -> bool:
        return self.head.owner_told_at is not None


# --- a misfiring rule ---------------------------------------------------------------------------
@dataclass(frozen=True)
class MisfiringRule:
    """When a cause counts as a rule likely misfiring (parameters: MISFIRING_RULE, e.g. "5/6/30")."""

    approvals: int = 5
    decisions: int = 6
    window: timedelta = timedelta(days=30)

    @classmethod
    def parse(cls, text: str | None) -> MisfiringRule:
        """`N/M/DAYS`: at least N approvals of the last M staff decisions within DAYS days."""
        if not text or not text.strip():
            return cls()
        try:
            n, m, days = (int(p) for p in text.strip().split("/"))
        except ValueError:
            raise ValueError(f"MISFIRING_RULE {text!r} is not N/M/DAYS (e.g. 5/6/30)") from None
        if not (0 < n <= m and days > 0):
            raise ValueError(f"MISFIRING_RULE {text!r}: needs 0 < N <= M and DAYS > 0")
        return cls(n, m, timedelta(days=days))


class Evidence(_Model):
    """What the rule's owner is told (never a customer): the rule, the teams and dates, staff's
    decisions, the customers' time to fix. Team ids only: no names, no e-mail, no report text."""

    cause: Cause
    owner: str
    approvals: int
    decisions: int
    window_days: int
    teams: list[str]
    first_seen: AwareDatetime
    last_seen: AwareDatetime
    decided: list[tuple[str, str, str, AwareDatetime]]  # (case, decision, actor, when), newest first
    median_time_to_fix_minutes: float | None = None
    reverts: int = 0


def misfiring(cause: Cause, lines: list[CaseLine], now: datetime, rule: MisfiringRule,
              owner: str) -> Evidence | None:
    """The evidence that the cause's rule is likely misfiring, or None (staff's decisions only: a
    policy's approvals are staff's decision made once, not new evidence)."""
    recent = [x for x in lines if x.decided_at is not None and now - x.decided_at <= rule.window]
    if any(x.reverted_at is not None and now - x.reverted_at <= rule.window for x in lines):
        return None  # a fix of this cause was undone: staff do not all agree the hold was wrong
    staff = sorted((x for x in recent if not x.by_policy), key=lambda x: x.decided_at or now, reverse=True)
    last = staff[:rule.decisions]
    approved = [x for x in last if x.decision == "approve"]
    if len(approved) < rule.approvals:
        return None
    f = figures(lines)
    return Evidence(
        cause=cause, owner=owner, approvals=len(approved), decisions=len(last),
        window_days=rule.window.days, teams=sorted({x.team_id for x in lines}),
        first_seen=f.first_seen or now, last_seen=f.last_seen or now,
        decided=[(x.case_id, str(x.decision), str(x.actor), x.decided_at or now) for x in last],
        median_time_to_fix_minutes=round(f.median_time_to_fix.total_seconds() / 60, 1)
        if f.median_time_to_fix else None, reverts=f.reverts)


# --- who owns a rule ----------------------------------------------------------------------------
def owner_for(cause: Cause, owners: dict[str, str]) -> str:
    """The rule's owner: the longest configured prefix of the cause's reason, else of its code, else
    `default` (RULE_OWNERS: {"default": "...", "new account velocity": "...", "restrictions.": "..."})."""
    for text in (cause.reason, cause.code):
        hits = [k for k in owners if k != "default" and text.startswith(k.strip().casefold())]
        if hits:
            return owners[max(hits, key=len)]
    return owners.get("default", "unassigned")

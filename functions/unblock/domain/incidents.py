"""Incidents: many teams, one cause, one decision (DESIGN.md "Incidents").

Pure rules, no storage: what a case's cause is, when cases sharing one make an incident, and the
records an incident keeps. `unblock.workflow.incidents` applies them through the ports.

- The **cause** of a case is its deciding finding (the most severe of the first pass, in check
  order) when that finding is a hold or a restriction flag **placed by an automated rule**, with a
  reason: the code plus the reason, normalized (case and spacing folded; team ids, other prefixed
  ids such as `in_10023` or `ch_3Nx...`, UUIDs, e-mail addresses, key prefixes, URLs, amounts and
  any secret taken out). A reason about one team's money (an invoice or charge id, an amount) that
  names no rule is per team and has no cause: chargebacks never form a wave; a rule's id stays in
  the reason, so one rule groups and two rules do not. A hold or flag staff placed is a decision
  about that one team: it has no cause and never joins an incident. A bare number stays in the
  reason: "chargeback on invoice 10023" and "... 55871" are one chargeback each (per-team reasons).
  Every outcome counts: a wave unblock mends by itself is
  still one automated rule holding many teams, and its teams that have not written in yet are
  worth mending too. A finding without a reason (a key problem, a card, `<check>.unavailable`)
  has no cause: the same code alone does not say it is the same rule.
- The **cause key** (storage) is the code and a digest of the normalized reason: no secret, no
  team, no free text.
- An incident **opens** when `MIN_TEAMS` distinct teams have a case with one cause within
  `WINDOW`; it stays the cause's incident while cases keep joining (each join within `WINDOW`
  of the last), so later cases with that cause join it. After `WINDOW` without a new member a new
  wave opens a new incident.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from unblock.domain.models import SEVERITY, Finding, StaffDecisionName
from unblock.domain.platform_model import HoldKind

WINDOW = timedelta(hours=24)
MIN_TEAMS = 3
MAX_REASON = 200
MAX_INCLUDE = 50  # teams that did not write in, included in one bulk decision

# the deciding codes that carry a cause, and what carries it on the platform (a billing hold or a flag)
CAUSE_CODES: dict[str, HoldKind] = {
    "billing.stale_hold": "billing_hold",
    "billing.hold": "billing_hold",
    "restrictions.risk_hold": "risk_hold",
    "restrictions.risk_hold_liftable": "risk_hold",
    "restrictions.abuse": "abuse",
    "restrictions.fraud_review": "fraud_review",
    "restrictions.sanctions": "sanctions",
    "restrictions.staff_hold": "staff_hold",
}

_TEAM_ID = re.compile(r"\bteam_[A-Za-z0-9]{4,}\b")
_EMAIL = re.compile(r"[^\s@<>()\[\],;:\"']+@[^\s@<>()\[\],;:\"']+")
_KEY = re.compile(r"\bvck_[\w\u2026-]*")
_URL = re.compile(r"\bhttps?://\S+", re.IGNORECASE)
# what one team's money names: an invoice, a charge, a payment or a dispute (Stripe's `in_`, `ch_`, `py_`,
# `pi_`, `dp_`, `du_` ids); with an amount, it makes a reason one team's own (a chargeback each)
_PAYMENT_ID = re.compile(r"\b(?:in|ch|py|pi|dp|du)_[A-Za-z0-9]{4,}\b")
# ids the platform prints into a reason (`ch_3NxY...`, `usr_42`): a lower-case prefix, an underscore,
# and at least one digit (so a rule's own name, `new_account_velocity`, is kept); a rule's id is the
# cause itself and stays (`rule_42` and `rule_43` are two rules)
_PREFIXED_ID = re.compile(r"\b(?!(?:rule|rl|policy)_)[a-z]{2,12}_(?=[A-Za-z0-9]*\d)[A-Za-z0-9]+\b")
# the reason says it is a rule's (a rule's name or id): ids and amounts around it are the team's, the rule is shared
_NAMES_A_RULE = re.compile(r"(?i)\b(?:rule|rl|policy)\b|\b(?:rule|rl|policy)_\w")
_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.IGNORECASE)
_AMOUNT = re.compile(r"(?:[$\u20ac\u00a3]\s?\d[\d,]*(?:\.\d+)?|\b\d[\d,]*(?:\.\d+)?\s?(?:usd|eur|gbp|cents?)\b)",
                     re.IGNORECASE)
_SPACE = re.compile(r"\s+")


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)  # stored documents: tolerate newer fields


def normalize_reason(text: str) -> str:
    """A hold's reason as a cause: no secret and nothing naming one team, case and spacing folded.

    The platform's listing of held teams compares reasons this way too (the sandbox calls this)."""
    from unblock.domain.tickets.redaction import redact

    out, _ = redact(text or "")
    for pattern, mark in ((_URL, "<url>"), (_EMAIL, "<email>"), (_TEAM_ID, "<team>"), (_KEY, "<key>"),
                          (_UUID, "<id>"), (_PAYMENT_ID, "<id>"), (_PREFIXED_ID, "<id>"), (_AMOUNT, "<amount>")):
        out = pattern.sub(mark, out)
    return _SPACE.sub(" ", out).strip().casefold()[:MAX_REASON]


class Cause(_Model):
    """What many cases share: the deciding finding's code and its hold's (or flag's) reason, and who
    placed the hold (only an automated rule's holds form a cause: `cause_of`)."""

    code: str
    reason: str = Field(min_length=1, max_length=MAX_REASON)
    hold: HoldKind
    source: Literal["automated", "staff"] = "automated"

    @property
    def key(self) -> str:
        """The cause as a storage key: the code and a digest of the reason (no free text, no team)."""
        return f"{self.code}#{hashlib.sha256(self.reason.encode()).hexdigest()[:24]}"

    @property
    def label(self) -> str:
        return f"{self.code} \u2014 \u201c{self.reason}\u201d"

    @property
    def listable(self) -> bool:
        """An automated hold: the platform may list the other teams that carry it."""
        return self.source == "automated"


def deciding_finding(findings: list[Finding]) -> Finding | None:
    """The most severe finding (escalate before auto_fix before customer_action), first in check order."""
    worst = max(findings, key=lambda f: SEVERITY.get(f.disposition, 0), default=None)
    return worst if worst is not None and worst.disposition != "ok" else None


def cause_of(findings: list[Finding]) -> Cause | None:
    """The case's cause, or None when its deciding finding is not a hold or flag with a reason."""
    f = deciding_finding(findings)
    if f is None or f.code not in CAUSE_CODES:
        return None
    hold = CAUSE_CODES[f.code]
    if hold == "billing_hold":
        raw, source = f.evidence.get("hold_reason"), f.evidence.get("hold_source")
    else:
        flag = next((x for x in f.evidence.get("flags", []) if isinstance(x, dict) and x.get("flag") == hold
                     and x.get("reason")), None)
        raw, source = (flag or {}).get("reason"), (flag or {}).get("source")
    if source != "automated":  # a hold staff placed (or one the platform does not say who placed)
        return None
    reason = normalize_reason(str(raw or ""))
    if not reason or _per_team(str(raw or "")):
        return None
    return Cause(code=f.code, reason=reason, hold=hold, source="automated")


def _per_team(reason: str) -> bool:
    """A reason about one team's own money (an invoice, a charge, an amount) that names no rule: a
    chargeback on each team is not one wave, however alike the texts read once the ids are out."""
    return bool(_PAYMENT_ID.search(reason) or _AMOUNT.search(reason)) and not _NAMES_A_RULE.search(reason)


def staff_placed_holds(findings: list[Finding]) -> list[str]:
    """The holds and flags on the team that staff placed (`billing_hold`, `risk_hold`, ...): no bulk
    decision lifts or clears them; staff decide such a case on its own."""
    held: list[str] = []
    for f in findings:
        if f.evidence.get("hold_active") and f.evidence.get("hold_source") == "staff":
            held.append("billing_hold")
        for flag in f.evidence.get("flags", []) or []:
            if isinstance(flag, dict) and flag.get("source") == "staff":
                held.append(str(flag.get("flag")))
    return held


def incident_id_for(cause: Cause, opened_at: datetime) -> str:
    """A readable id: the day it opened and a digest of the cause and the moment."""
    digest = hashlib.sha256(f"{cause.key}|{opened_at.isoformat()}".encode()).hexdigest()[:8]
    return f"inc-{opened_at:%Y%m%d}-{digest}"


class Sighting(_Model):
    """A case seen with a cause (kept for `WINDOW`, to count the teams that share it)."""

    case_id: str
    team_id: str
    at: AwareDatetime


def teams_in(sightings: list[Sighting]) -> set[str]:
    return {s.team_id for s in sightings}


def opens(sightings: list[Sighting]) -> bool:
    """Whether these sightings (one cause, within the window) make an incident."""
    return len(teams_in(sightings)) >= MIN_TEAMS


MemberVia = Literal["cause", "included"]


class MemberCase(_Model):
    """A case in an incident: by its cause, or started for a team staff included."""

    case_id: str
    team_id: str
    joined_at: AwareDatetime
    via: MemberVia = "cause"


MemberResult = Literal["decided", "already_decided", "refused_stale", "refused", "not_waiting", "pending",
                       "started", "failed", "unverified"]


class MemberOutcome(_Model):
    """What one bulk decision did to one member (or to a team staff included)."""

    case_id: str
    team_id: str | None = None
    result: MemberResult
    detail: str = ""


class PendingDecision(_Model):
    """A bulk decision waiting for a member that was not yet waiting for staff (its execution still
    ran, or staff just included its team): applied once the case waits, by the console or the re-check."""

    incident_id: str
    decision: StaffDecisionName
    actor: str
    note: str | None = None
    decided_at: AwareDatetime
    include_unverified: list[str] = []  # the unverified members staff ticked one by one (case ids)


def is_proactive(case_id: str) -> bool:
    """A proactive case (`gateway:<team>:<window start>`, DESIGN.md "Proactive cases"): no requester."""
    return case_id.startswith("gateway:")


def bulk_approvable(case_id: str, requester_verified: bool, source: str, ticked: list[str]) -> bool:
    """Whether a bulk approval covers this member (DESIGN.md "Incidents"): a verified requester, a
    proactive case, a case staff started, or an unverified member staff ticked one by one."""
    return requester_verified or is_proactive(case_id) or source == "staff" or case_id in ticked


class IncidentDecision(_Model):
    """One bulk decision as the incident keeps it: what, who, when, and each member's outcome."""

    decision: StaffDecisionName
    actor: str
    note: str | None = None
    decided_at: AwareDatetime
    included: list[str] = []
    include_unverified: list[str] = []
    outcomes: list[MemberOutcome] = []


class Incident(_Model):
    incident_id: str
    cause: Cause
    opened_at: AwareDatetime
    opened_by: str  # the case whose arrival made it
    teams_at_open: int
    last_joined_at: AwareDatetime | None = None
    alerted_at: AwareDatetime | None = None
    decisions: list[IncidentDecision] = []

    def active(self, now: datetime) -> bool:
        """New cases with the cause still join it (a member within the window)."""
        return now - (self.last_joined_at or self.opened_at) <= WINDOW

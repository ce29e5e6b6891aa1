"""Standing policies made from staff's own decisions (docs/causes.md, issue 37): "approve this cause's
proposed fix for teams that meet these conditions, for the next D days, at most K teams a day".

Pure rules, no storage (`unblock.workflow.policies` applies them). A policy starts in `shadow` (it
records what it would have approved beside what staff then did), is switched `live` by a staff member,
and ends `revoked` (by staff), `stopped` (by itself: a fix it made was reverted) or expired. Whatever its
conditions say, a policy never:
- approves a case whose team carries a hold or flag staff placed (any of them, not only the cause's);
- approves for a requester not verified as a member of the team (a proactive case has no requester: it
  is approved like a verified one, as a bulk decision would; an unverified requester's consistency
  repairs already applied without anyone);
- approves when the hourly lift cap is reached (and the approved lift still claims its slot in the cap:
  a policy's approval keeps the automatic guardrails, as an incident's bulk approval does);
- approves a fix other than its cause's proposed fix (with the consistency repairs beside it), a case
  another finding escalates, a case whose run failed, or a case in approval or shadow mode;
- approves one case twice.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from unblock.domain.cases import Case
from unblock.domain.checks import CATALOGUE
from unblock.domain.fixes import CONSISTENCY_REPAIRS, STAFF_FIXES
from unblock.domain.incidents import Cause, cause_of, is_proactive, staff_placed_holds
from unblock.domain.models import FixName, Mode

PolicyStatus = Literal["shadow", "live", "revoked", "stopped"]
PolicyState = Literal["shadow", "live", "revoked", "stopped", "expired"]
MAX_DAYS = 90
MAX_NOTE = 500


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)  # stored documents: tolerate newer fields


class PolicyConditions(_Model):
    """Which teams the policy approves for (a verified requester or a proactive case, always)."""

    card_valid_and_verified: bool = True  # the team's card is valid and verified
    max_risk_score: float | None = Field(default=None, gt=0, le=1)  # every risk hold's score below this
    max_per_day: int = Field(default=10, ge=1, le=500)  # teams approved a day (UTC)


class PolicyChange(_Model):
    """Who switched the policy, when, to what (its audit of status changes)."""

    status: PolicyStatus
    actor: str
    at: AwareDatetime
    note: str | None = None


class Policy(_Model):
    policy_id: str
    cause: Cause
    fix: FixName
    owner: str
    created_by: str
    created_at: AwareDatetime
    expires_at: AwareDatetime
    conditions: PolicyConditions = PolicyConditions()
    status: PolicyStatus = "shadow"
    stopped_reason: str | None = None
    history: list[PolicyChange] = []
    version: int = 0

    @property
    def cause_key(self) -> str:
        return self.cause.key

    @property
    def actor(self) -> str:
        """The actor of the decisions it makes (a staff decision's actor: `policy:<id>`)."""
        return f"policy:{self.policy_id}"

    def state(self, now: datetime) -> PolicyState:
        if self.status in ("shadow", "live") and now >= self.expires_at:
            return "expired"
        return self.status


class PolicyDecision(_Model):
    """One decision a policy made (live) or would have made (shadow): its audit, one per case."""

    policy_id: str
    case_id: str
    team_id: str | None
    at: AwareDatetime
    mode: Literal["shadow", "live"]
    approve: bool  # approved (live) or would have approved (shadow)
    reason: str
    acted: bool = False  # live and the approval reached the workflow


class Verdict(_Model):
    approve: bool
    reason: str


def policy_id_for(cause: Cause, created_at: datetime) -> str:
    digest = hashlib.sha256(f"{cause.key}|{created_at.isoformat()}".encode()).hexdigest()[:6]
    return f"pol-{created_at:%Y%m%d}-{digest}"


def proposed_fix(cause: Cause) -> FixName | None:
    """The fix staff approve for the cause: the escalation's known remedy, or the finding's own fix."""
    if cause.code in STAFF_FIXES:
        return STAFF_FIXES[cause.code]
    row = CATALOGUE.get(cause.code)
    return row.fix if row is not None else None


def _risk_scores(case: Case) -> list[float | None]:
    return [flag.get("risk_score") for f in case.findings for flag in f.evidence.get("flags", []) or []
            if isinstance(flag, dict) and flag.get("flag") == "risk_hold"]


def _card_ok(case: Case) -> bool | None:
    seen: list[Any] = [f.evidence["card_valid_and_verified"] for f in case.findings
                       if "card_valid_and_verified" in f.evidence]
    if seen:
        return all(v is True for v in seen)
    billing = next((f for f in case.findings if f.check == "billing"), None)
    if billing is None or "payment_method" not in billing.evidence:
        return None
    return billing.evidence["payment_method"] == "valid" and billing.evidence.get("payment_verified") is True


def evaluate(policy: Policy, case: Case, now: datetime, *, lifts_last_hour: int, lift_cap: int,
             failed: bool = False, stack_mode: Mode = "live") -> Verdict:
    """Whether the policy approves the case's proposal now (the daily count is claimed apart, atomically)."""
    def no(reason: str) -> Verdict:
        return Verdict(approve=False, reason=reason)

    state = policy.state(now)
    if state not in ("shadow", "live"):
        return no(f"the policy is {state}")
    if case.mode != "live":
        return no(f"the case runs in {case.mode} mode: staff decide")
    if stack_mode != "live":  # an admin's switch (the kill switch) stops every policy at once
        return no(f"the stack is in {stack_mode} mode: staff decide")
    if failed:
        return no("a step of the case failed: staff look at it")
    cause = cause_of(case.findings)
    if cause is None or cause.key != policy.cause_key:
        return no("the case's cause is not the policy's")
    if held := staff_placed_holds(case.findings):
        return no(f"staff placed {', '.join(sorted(set(held)))} on this team: a policy never lifts it")
    if not (case.requester_verified or is_proactive(case.case_id) or case.report.source == "gateway"):
        return no("the requester is not verified as a member of the team")
    proposals = list(case.escalation.proposed_fixes) if case.escalation else []
    if policy.fix not in proposals or any(f != policy.fix and f not in CONSISTENCY_REPAIRS for f in proposals):
        return no(f"the case proposes {', '.join(proposals) or 'nothing'}, not the policy's {policy.fix}")
    others = sorted({f.code for f in case.findings if f.disposition == "escalate" and f.code != cause.code})
    if others:
        return no(f"another finding needs a person: {', '.join(others)}")
    c = policy.conditions
    if c.card_valid_and_verified and _card_ok(case) is not True:
        return no("the team's card is not known to be valid and verified")
    if c.max_risk_score is not None:
        scores = _risk_scores(case)
        if not scores or any(s is None or float(s) >= c.max_risk_score for s in scores):
            return no(f"a risk score is not below {c.max_risk_score:g}")
    if policy.fix == "lift_risk_hold" and lifts_last_hour >= lift_cap:
        return no(f"the hourly lift cap ({lift_cap}) is reached")
    return Verdict(approve=True, reason=f"meets policy {policy.policy_id}")


def expires(created_at: datetime, days: int) -> datetime:
    if not 0 < days <= MAX_DAYS:
        raise ValueError(f"a policy lasts 1 to {MAX_DAYS} days (got {days})")
    return created_at + timedelta(days=days)

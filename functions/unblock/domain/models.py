"""The support domain: reports, cases, findings, fixes, escalations and the result (DESIGN.md)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

Check = Literal["billing", "key", "restrictions"]
CHECKS: tuple[Check, ...] = ("billing", "key", "restrictions")
Disposition = Literal["ok", "customer_action", "auto_fix", "escalate"]
# handed_off: not a remediation case (a question, a dispute, the gateway's own failure): staff take it
# on the help desk (DESIGN.md "Scope")
Outcome = Literal["auto_fixed", "customer_action", "escalated", "already_working", "needs_info", "handed_off"]
OUTCOMES: tuple[Outcome, ...] = ("auto_fixed", "customer_action", "escalated", "already_working", "needs_info",
                                 "handed_off")
FixName = Literal["clear_billing_hold", "resync_key", "resync_entitlements", "lift_risk_hold"]
# Where a case came from: a help desk (its registry name, unblock.domain.helpdesks) or one of
# these ("gateway": a proactive case, opened from the gateway's denial signals: nobody wrote in)
SOURCES: tuple[str, ...] = ("eventbridge", "staff", "api", "schedule", "gateway")


def _known_source(value: str) -> str:
    from unblock.domain import helpdesks  # the registry's desks map onto models: imported when first used

    if value not in SOURCES and helpdesks.find(value) is None:
        raise ValueError(f"unknown source {value[:40]!r}: expected a help desk or one of {', '.join(SOURCES)}")
    return value


CaseSource = Annotated[str, AfterValidator(_known_source)]
# "deciding": a staff decision claimed the case (one conditional write) and is resuming the workflow
CaseStatus = Literal["open", "awaiting_customer", "awaiting_staff", "deciding", "closed"]
StaffDecisionName = Literal["approve", "resolve", "reject"]
# live: fixes apply; approval (the DryRun alias): every fix is a proposal staff approve; shadow: the
# checks and the decision run, nothing changes on the platform, nothing reaches the customer
Mode = Literal["live", "approval", "shadow"]
MODES: tuple[Mode, ...] = ("live", "approval", "shadow")
ShadowVerdict = Literal["agree", "disagree"]
STAFF_DECISIONS: tuple[StaffDecisionName, ...] = ("approve", "resolve", "reject")

# A help desk's username as unblock accepts one (a plain one; `.` and `..` are out): where a
# private message goes, and the only form that reaches a URL path.
REQUESTER_USERNAME = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,59}"

# escalate before auto_fix before customer_action (DESIGN.md "Findings").
SEVERITY: dict[str, int] = {"escalate": 3, "auto_fix": 2, "customer_action": 1, "ok": 0}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Stored(BaseModel):
    """Part of a document unblock keeps (a case, its fix ledger, an execution's state): read
    tolerantly, so that during a deploy a container of either version reads what the other wrote
    (a field it does not know is ignored). What comes from outside stays strict (ReportInput,
    the ticket event, the console's request bodies)."""

    model_config = ConfigDict(extra="ignore")


class Finding(_Stored):
    check: Check
    code: str = Field(pattern=r"^(billing|key|restrictions)\.[a-z_]+$")
    disposition: Disposition
    summary: str
    evidence: dict[str, Any] = {}
    fix: FixName | None = None


class ProbeResult(_Model):
    """What the gateway answers for a request now (DESIGN.md "Probe")."""

    status: int
    error_type: str | None = None
    message: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200


class Signal(_Stored):
    """What the customer saw (DESIGN.md "Signals"): a code, and the redacted snippet that shows it,
    from the ticket's text or from the gateway's request log."""

    code: str = Field(pattern=r"^[a-z]+\.[a-z_]+$", max_length=60)
    snippet: str = Field(default="", max_length=400)
    source: Literal["text", "request_log"] = "text"


class Report(_Stored):
    """A reported 403, already redacted: the only form in which ticket text enters the workflow."""

    case_id: str = Field(min_length=1, max_length=200)
    source: CaseSource
    ticket_id: str | None = None
    channel: str | None = None
    requested_by: str | None = None
    requester_email: str | None = None
    subject: str = ""
    text: str = ""
    team_id: str | None = None
    team_hint: str | None = None
    key_prefix: str | None = None
    note: str | None = None
    facts: dict[str, list[str]] = {}
    secrets_redacted: int = 0
    received_at: AwareDatetime | None = None
    signals: list[Signal] = Field(default=[], max_length=20)

    @property
    def must_rotate_key(self) -> bool:
        return self.secrets_redacted > 0


class ReportInput(Report):
    """A report as a staff start or a StartExecution hands it in: strict (a misspelt field is a named
    error, never silently dropped)."""

    model_config = ConfigDict(extra="forbid")


class NextStep(_Stored):
    """What the decision chose: the workflow's next step and why (stored as the case's `plan`; not the
    team's billing plan, platform_model.BillingPlan)."""

    action: Literal["needs_info", "escalate", "auto_fix", "customer_action", "already_working", "handed_off"]
    reason: str
    fixes: list[FixName] = []
    # False when nothing on the team can change the answer (the customer's own client, or no team):
    # a customer_action case then waits for the customer's follow-up, not for the schedule
    recheck: bool = True


class FixRecord(_Stored):
    """The audit of one fix: before, after, who or what, when."""

    case_id: str
    team_id: str
    fix: FixName
    status: Literal["applied", "proposed", "already_done", "refused"]
    actor: str
    at: AwareDatetime
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    reason: str = ""


class FixRevert(_Stored):
    """The audit of one revert: staff put back what a fix took away (DESIGN.md "Modes, undo")."""

    fix: FixName
    actor: str
    at: AwareDatetime
    note: str
    before: dict[str, Any] = {}  # the team as the revert found it
    after: dict[str, Any] = {}  # as the revert left it (the fix's own `before`, when it worked)


class ShadowRun(_Stored):
    """What unblock would have done in shadow mode, and what staff thought of it."""

    outcome: Outcome
    reason: str
    fixes: list[FixName] = []
    reply: str | None = None  # the reply it would have sent
    verdict: ShadowVerdict | None = None
    verdict_by: str | None = None
    verdict_note: str | None = None
    verdict_at: AwareDatetime | None = None


class Escalation(_Stored):
    reason: str
    priority: Literal["normal", "high", "urgent"] = "normal"
    findings: list[Finding] = []
    proposed_fixes: list[FixName] = []
    must_rotate_key: bool = False
    queued_at: AwareDatetime | None = None


class StaffDecision(_Stored):
    """One staff decision on an escalated case: what, who (from their token or IAM identity), when, why."""

    decision: StaffDecisionName
    actor: str
    note: str | None = None
    decided_at: AwareDatetime
    fixes: list[FixName] = []
    # a bulk decision on an incident: its fixes still pass the guardrails (DESIGN.md "Incidents")
    incident_id: str | None = None


class Trace(_Model):
    states: list[str] = []
    state_transitions: int = 0
    lambda_invocations: int = 0
    lambda_functions: list[str] = []  # distinct functions (template logical ids), in first-use order


class Result(_Model):
    """`unblock run --json` prints exactly this (DESIGN.md "Result")."""

    case_id: str
    outcome: Outcome | None
    team_id: str | None
    findings: list[Finding]
    fixes_applied: list[FixName]
    verified: bool
    escalation: dict[str, Any] | None
    customer_reply: str | None
    requester_verified: bool = False
    incident_id: str | None = None
    signals: list[str] = []  # codes of what the customer saw (DESIGN.md "Signals")
    follow_ups: int = 0  # the customer's follow-ups the case has taken in (DESIGN.md "Conversations")
    mode: Mode = "live"
    # shadow mode: what unblock would have done (outcome, fixes, reason, the reply it held back)
    shadow: dict[str, Any] | None = None
    trace: Trace

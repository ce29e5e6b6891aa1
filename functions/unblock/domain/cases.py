"""The case: one reported 403, from intake to close, and the store port that keeps it."""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from unblock.domain.models import (
    CaseStatus,
    Escalation,
    Finding,
    FixName,
    FixRecord,
    FixRevert,
    Mode,
    NextStep,
    Outcome,
    Report,
    ShadowRun,
    Signal,
    StaffDecision,
)
from unblock.domain.platform_model import RequestRecord


class ProactiveLink(BaseModel):
    """What the team's proactive case had found and done when the team's own ticket joined it
    (DESIGN.md "Proactive cases"): the ticket's reply starts from it."""

    model_config = ConfigDict(extra="ignore")

    case_id: str
    noticed_at: AwareDatetime
    status: CaseStatus
    outcome: Outcome | None = None
    fixes: list[FixName] = []
    fixed_at: AwareDatetime | None = None
    verified: bool = False


class Message(BaseModel):
    """One message of the case's conversation, redacted: the customer's, unblock's or staff's."""

    model_config = ConfigDict(extra="ignore")

    id: str = Field(min_length=1, max_length=300)  # the delivery's own id: a redelivery adds nothing
    author: Literal["customer", "unblock", "staff"]
    text: str = ""
    at: AwareDatetime
    channel: Literal["public", "private"] = "public"


Resolution = Literal["verified", "approved", "resolved", "rejected", "timed_out", "stale", "checks_pass", "shadow",
                     None]


class Case(BaseModel):
    # a stored document: tolerate fields another version of the code wrote (a deploy's warm
    # containers read what the new code writes, and the other way round)
    model_config = ConfigDict(extra="ignore")

    case_id: str
    status: CaseStatus = "open"
    outcome: Outcome | None = None
    resolution: Resolution = None
    team_id: str | None = None
    key_prefix: str | None = None
    # the requester speaks for the team (DESIGN.md "Who may act on which team"); decided at OpenCase
    requester_verified: bool = False
    report: Report
    # what the customer saw (the ticket's signals, then the request log's), and the request-log
    # record the ticket named: evidence staff see (DESIGN.md "Signals")
    signals: list[Signal] = []
    # what earlier messages showed, once a follow-up showed what fails now (DESIGN.md "Conversations":
    # the latest message's signals decide; the earlier ones stay in the case's signals and evidence)
    earlier_signals: list[Signal] = []
    request: RequestRecord | None = None
    identified_by: str | None = None
    # what the customer called: the probe (and the verification after a fix) asks the same
    endpoint: str | None = None
    model: str | None = None
    findings: list[Finding] = []
    plan: NextStep | None = None
    fixes: list[FixRecord] = []
    verification: dict[str, Any] | None = None
    escalation: Escalation | None = None
    customer_reply: str | None = None
    private_reply: str | None = None  # the specifics, privately, for a verified requester on a forum
    internal_note: str | None = None
    execution_arn: str | None = None
    task_token: str | None = None
    priority: Literal["normal", "high", "urgent"] = "normal"
    created_at: AwareDatetime
    updated_at: AwareDatetime
    next_check_at: AwareDatetime | None = None
    rechecks: int = 0
    decisions: list[StaffDecision] = []  # every staff decision, oldest first
    # the conversation (DESIGN.md "Conversations"): follow-ups taken in, unblock's replies, staff's
    # notes; `follow_ups` counts the customer's, `seen_follow_ups` those a run or staff took in
    conversation: list[Message] = []
    follow_ups: int = 0
    seen_follow_ups: int = 0
    last_customer_at: AwareDatetime | None = None
    closed_at: AwareDatetime | None = None
    runs: int = 1  # this case's executions so far; run n > 1 has its own name (adapters.stepfunctions)
    topic_cases: list[str] = []  # other requesters' cases in the same forum topic ("same here")
    next_case: str | None = None  # a follow-up after the 14 days went to this new case
    # the stack's mode when the latest run started (one execution keeps one mode), and each run's, first
    # run first (DESIGN.md "Modes": a run takes the stack's mode when it starts)
    mode: Mode = "live"
    modes: list[Mode] = []
    shadow: ShadowRun | None = None  # shadow mode: what unblock would have done
    reverts: list[FixRevert] = []  # fixes staff reverted, oldest first
    version: int = 0
    # proactive cases (DESIGN.md "Proactive cases"): who is told (the team's owner, a new ticket) and
    # the team's own tickets that joined it; a ticket case names the proactive case it joined
    notify_email: str | None = None
    joined_tickets: list[str] = []
    proactive: ProactiveLink | None = None
    # a team's ticket written while its proactive case is open joins it (one story per team): the
    # ticket's own record names that case (`joined_into`), and the proactive case answers on the
    # ticket (`reply_ticket`, its case id), its `proactive` link what was seen and done before
    joined_into: str | None = None
    reply_ticket: str | None = None

    @property
    def verified(self) -> bool:
        """Only a fix that the checks and the probe confirmed closes a case as auto_fixed."""
        return (self.verification or {}).get("outcome") == "auto_fixed"

    @property
    def proposal_id(self) -> str:
        """What a staff decision is drawn from (issue 35 item 2): this run's escalation and the fixes it
        proposes. A later run of the case (a follow-up, the re-check) that escalates again has another
        id, so a button or form drawn from the earlier one decides nothing; a re-queue keeps it."""
        e = self.escalation
        basis = json.dumps([self.case_id, self.runs, e.reason if e else None, list(e.proposed_fixes) if e else []])
        return hashlib.sha256(basis.encode("utf-8")).hexdigest()[:16]

    @property
    def reverted(self) -> list[FixName]:
        return [r.fix for r in self.reverts]

    @property
    def signal_codes(self) -> list[str]:
        return list(dict.fromkeys(s.code for s in self.signals))

    @property
    def all_signal_codes(self) -> list[str]:
        """What the whole conversation showed: what fails now first, then what earlier messages showed."""
        return list(dict.fromkeys([*self.signal_codes, *(s.code for s in self.earlier_signals)]))

    @property
    def run_key(self) -> str:
        """Whose fixes the fix ledger keeps for this run: the case's first run by its id, each later
        run by its own (`<case id>#run<n>`), so a later run applies a fix again, audited anew."""
        return self.case_id if self.runs <= 1 else f"{self.case_id}#run{self.runs}"

    @property
    def run_fixes(self) -> list[FixRecord]:
        """This run's fix records (earlier runs' stay on the case: the audit)."""
        return [f for f in self.fixes if f.case_id == self.run_key]

    @property
    def fixes_applied(self) -> list[FixName]:
        return [f.fix for f in self.run_fixes if f.status == "applied"]

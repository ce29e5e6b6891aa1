"""The case: one reported 403, from intake to close, and the store port that keeps it."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict

from unblock.domain.models import (
    CaseStatus,
    Escalation,
    Finding,
    FixName,
    FixRecord,
    NextStep,
    Outcome,
    Report,
    StaffDecision,
)

Resolution = Literal["verified", "approved", "resolved", "rejected", "timed_out", "stale", "checks_pass", None]


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
    version: int = 0

    @property
    def verified(self) -> bool:
        """Only a fix that the checks and the probe confirmed closes a case as auto_fixed."""
        return (self.verification or {}).get("outcome") == "auto_fixed"

    @property
    def fixes_applied(self) -> list[FixName]:
        return [f.fix for f in self.fixes if f.status == "applied"]

"""The state machine's task inputs and the execution state, typed.

Three functions serve the workflow's states (DESIGN "Layout", issue 17): each task's
Parameters name its `step`, and the function's handler dispatches on it. A step's input is
one of the models below, told apart by that field (a pydantic discriminated union).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from unblock.domain.models import Finding, FixName, Mode, NextStep, Outcome, ReportInput


class CaseRef(BaseModel):
    """What OpenCase returns and the later states pass on (`$.case`)."""

    model_config = ConfigDict(extra="ignore")
    case_id: str
    team_id: str | None = None
    key_prefix: str | None = None
    mode: Mode = "live"  # Route sends a shadow case from the decision straight to CloseCase
    joined_into: str | None = None  # the ticket joined its team's proactive case: its execution ends here


# --- DiagnoseFunction: reads the platform, writes the case's findings and plan ----------------
class OpenCaseStep(BaseModel):
    step: Literal["open_case"]
    report: ReportInput  # the execution's input: strict (a StartExecution by hand is an input too)
    execution_arn: str | None = None


class CheckStep(BaseModel):
    """CheckBilling, CheckKey: one finding each."""

    step: Literal["check_billing", "check_key"]
    case: CaseRef


class DiagnoseStep(BaseModel):
    """CheckRestrictions: the third finding, then the decision over all three (one invocation)."""

    step: Literal["check_restrictions"]
    case: CaseRef
    billing: Finding
    key: Finding


class DecideStep(BaseModel):
    """The decision alone: only after the restrictions check failed for good."""

    step: Literal["decide"]
    case: CaseRef
    billing: Finding
    key: Finding
    restrictions: Finding


DiagnoseInput = Annotated[OpenCaseStep | CheckStep | DiagnoseStep | DecideStep, Field(discriminator="step")]


class Diagnosis(BaseModel):
    """CheckRestrictions' result (`$.diagnosis`): the third finding and the plan Route follows."""

    restrictions: Finding
    plan: NextStep


# --- FixFunction: changes the platform, then verifies --------------------------------------
class FixStep(BaseModel):
    """ApplyFixes and ApplyApprovedFixes: apply (or propose), then verify what was applied."""

    step: Literal["fix"]
    case: CaseRef
    fixes: list[FixName]
    approved: bool = False
    actor: str = "unblock"


class HeldFix(BaseModel):
    fix: FixName
    status: str
    reason: str | None = None


class Verification(BaseModel):
    outcome: Outcome
    reason: str
    probe_status: int
    codes: list[str]


class Remedy(BaseModel):
    """The fix step's result (`$.remedy`): what is in place, what waits for staff, the verification."""

    applied: list[FixName] = []
    held: list[HeldFix] = []
    needs_staff: bool = False
    verification: Verification | None = None  # None when a fix waits for staff (nothing to verify yet)


# --- OutcomeFunction: writes the case's outcome, queues replies and evidence ------------------
class StaffAnswer(BaseModel):
    """What the waiting Escalate task was resumed with (`$.staff`), or the Pass state's stand-in."""

    model_config = ConfigDict(extra="ignore")
    # "requester": a verified requester's ticket joined the proactive case; its run replaces the wait
    decision: Literal["approve", "resolve", "reject", "timed_out", "requester"] | None = None
    resolution: str | None = None
    actor: str | None = None
    fixes: list[FixName] = []


class ExecutionState(BaseModel):
    """The execution's state as Escalate and CloseCase see it: what the earlier states wrote."""

    model_config = ConfigDict(extra="ignore")
    report: dict[str, Any] | None = None
    case: CaseRef | None = None
    billing: dict[str, Any] | None = None
    key: dict[str, Any] | None = None
    diagnosis: dict[str, Any] | None = None
    remedy: Remedy | None = None
    staff: StaffAnswer | None = None
    error: dict[str, Any] | None = None  # a step failed for good: {"Error", "Cause"}
    staff_error: dict[str, Any] | None = None  # the staff wait ended without a decision

    def case_id(self) -> str:
        if self.case is not None:
            return self.case.case_id
        return str((self.report or {})["case_id"])

    def plan(self) -> NextStep | None:
        raw = (self.diagnosis or {}).get("plan")
        return NextStep.model_validate(raw) if isinstance(raw, dict) and "action" in raw else None

    def findings(self) -> list[Finding]:
        """The findings gathered so far, in check order (a check that never ran is not evidence)."""
        found = [self.billing, self.key, (self.diagnosis or {}).get("restrictions")]
        return [Finding.model_validate(f) for f in found if isinstance(f, dict) and "code" in f]


class EscalateStep(BaseModel):
    step: Literal["escalate"]
    state: ExecutionState
    task_token: str


class CloseStep(BaseModel):
    step: Literal["close"]
    state: ExecutionState


OutcomeInput = Annotated[EscalateStep | CloseStep, Field(discriminator="step")]

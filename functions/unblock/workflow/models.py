"""The shapes of the state machine's task inputs (what each handler's event_parser expects)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from unblock.domain.models import Finding, FixName, Report


class CaseRef(BaseModel):
    """What OpenCase returns and the later states pass on (`$.case`)."""

    model_config = ConfigDict(extra="ignore")
    case_id: str
    team_id: str | None = None
    key_prefix: str | None = None


class OpenCaseInput(BaseModel):
    report: Report
    execution_arn: str | None = None


class CheckInput(BaseModel):
    case: CaseRef


class Findings(BaseModel):
    billing: Finding
    key: Finding
    restrictions: Finding


class DecideInput(BaseModel):
    case: CaseRef
    findings: Findings


class ApplyFixesInput(BaseModel):
    case: CaseRef
    fixes: list[FixName]
    approved: bool = False
    actor: str = "unblock"


class StateInput(BaseModel):
    """Steps that see the whole execution state (escalation, close)."""

    state: dict[str, Any]
    task_token: str | None = None

    def case_id(self) -> str:
        case = self.state.get("case") or self.state.get("report") or {}
        return str(case["case_id"])

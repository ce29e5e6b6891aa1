"""One execution per case: its name is the case id, so a redelivered ticket starts nothing new."""

from __future__ import annotations

import json
import re
from typing import Any

from unblock.domain.cases import Case
from unblock.domain.tickets.reports import redact_decision


def execution_name(case_id: str, suffix: str = "") -> str:
    """Step Functions execution names allow [A-Za-z0-9-_] up to 80 characters."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", case_id)[: 80 - len(suffix)] + suffix


def execution_arn(state_machine_arn: str, name: str) -> str:
    return state_machine_arn.replace(":stateMachine:", ":execution:") + ":" + name


def start(sfn: Any, state_machine_arn: str, report: dict[str, Any], suffix: str = "") -> tuple[str, bool]:
    """StartExecution for a (redacted) report; returns the execution ARN and whether it is new."""
    name = execution_name(report["case_id"], suffix)
    try:
        resp = sfn.start_execution(stateMachineArn=state_machine_arn, name=name, input=json.dumps({"report": report}))
    except sfn.exceptions.ExecutionAlreadyExists:
        return execution_arn(state_machine_arn, name), False
    return str(resp["executionArn"]), True


class StepFunctionsWorkflow:
    """The Workflow port over Step Functions."""

    def __init__(self, client: Any, state_machine_arn: str) -> None:
        self._sfn, self._arn = client, state_machine_arn

    def complete_staff_task(self, token: str, output: dict[str, Any]) -> None:
        # the output (a decision, its actor and note) is kept in the execution history: redacted
        self._sfn.send_task_success(taskToken=token, output=json.dumps(redact_decision(output)))

    def heartbeat(self, token: str) -> None:
        self._sfn.send_task_heartbeat(taskToken=token)

    def is_running(self, case: Case) -> bool:
        if not case.execution_arn:
            return False
        status = self._sfn.describe_execution(executionArn=case.execution_arn)["status"]
        return bool(status == "RUNNING")

    def rerun(self, case: Case) -> None:
        # a name of its own per re-run; a retried re-check finds it already started
        start(self._sfn, self._arn, case.report.model_dump(mode="json"), suffix=f"-r{case.rechecks}")

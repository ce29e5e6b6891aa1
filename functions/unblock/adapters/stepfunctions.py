"""One execution per case: its name derives from the case id, so a redelivered ticket starts nothing new."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from unblock.domain.cases import Case
from unblock.domain.models import Report
from unblock.domain.tickets.reports import redact_decision
from unblock.ports import TaskGone

DEAD_TOKEN_ERRORS = ("InvalidToken", "TaskDoesNotExist", "TaskTimedOut")


NAME_MAX = 80  # Step Functions execution names: [A-Za-z0-9-_], at most 80 characters
HASH_CHARS = 16  # 64 bits of the case id's SHA-256: two ids sharing a name is not a practical risk


def execution_name(case_id: str, suffix: str = "") -> str:
    """The case's execution name: a readable, sanitized part of the case id and a short hash
    of the exact id, so two different ids never share a name (`77.1` and `77/1`, or two long
    ids alike in their first 80 characters), and the same id always gets the same name."""
    import hashlib

    digest = hashlib.sha256(case_id.encode("utf-8")).hexdigest()[:HASH_CHARS]
    readable = re.sub(r"[^A-Za-z0-9_-]", "-", case_id)[: NAME_MAX - HASH_CHARS - 1 - len(suffix)]
    return f"{readable}-{digest}{suffix}"


def run_name(case_id: str, run: int) -> str:
    """The name of the case's run `run`: the first is the case's own name (a redelivered ticket
    finds it), each later run (a re-check's, a follow-up's) `<name>-run<n>`: distinct, and the
    same for a retried start of the same run."""
    return execution_name(case_id) if run <= 1 else execution_name(case_id, f"-run{run}")


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


@contextmanager
def _dead_token_is_task_gone() -> Iterator[None]:
    from botocore.exceptions import ClientError

    try:
        yield
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") in DEAD_TOKEN_ERRORS:
            raise TaskGone(err.response["Error"]["Code"]) from err
        raise


class StepFunctionsWorkflow:
    """The Workflow port over Step Functions."""

    def __init__(self, client: Any, state_machine_arn: str) -> None:
        self._sfn, self._arn = client, state_machine_arn

    def complete_staff_task(self, token: str, output: dict[str, Any]) -> None:
        self.send_task_success(token, output)

    def send_task_success(self, token: str, output: dict[str, Any]) -> None:
        # the output (a decision, its actor and note) is kept in the execution history: redacted
        with _dead_token_is_task_gone():
            self._sfn.send_task_success(taskToken=token, output=json.dumps(redact_decision(output)))

    def send_task_failure(self, token: str, error: str, cause: str) -> None:
        with _dead_token_is_task_gone():
            self._sfn.send_task_failure(taskToken=token, error=error, cause=redact_decision(cause))

    def heartbeat(self, token: str) -> None:
        with _dead_token_is_task_gone():
            self._sfn.send_task_heartbeat(taskToken=token)

    def is_running(self, case: Case) -> bool:
        if not case.execution_arn:
            return False
        try:
            status = self._sfn.describe_execution(executionArn=case.execution_arn)["status"]
        except self._sfn.exceptions.ExecutionDoesNotExist:
            return False  # a claimed run whose start failed: nothing runs
        return bool(status == "RUNNING")

    def path(self, case: Case) -> list[str] | None:
        """The states the case's execution entered, in order (None when its history cannot be read)."""
        if not case.execution_arn:
            return None
        from botocore.exceptions import ClientError

        states: list[str] = []
        kwargs: dict[str, Any] = {"executionArn": case.execution_arn, "maxResults": 1000}
        try:
            while True:
                page = self._sfn.get_execution_history(**kwargs)
                states += [e["stateEnteredEventDetails"]["name"] for e in page["events"]
                           if e["type"].endswith("StateEntered")]
                if not page.get("nextToken") or len(states) > 500:
                    return states
                kwargs["nextToken"] = page["nextToken"]
        except ClientError:
            return None

    def start_case(self, report: Report) -> tuple[str, bool]:
        return start(self._sfn, self._arn, report.model_dump(mode="json"))

    def rerun(self, case: Case) -> None:
        """Start the run the case has claimed (`case.runs`); a retried start finds it started."""
        name = run_name(case.case_id, case.runs)
        with suppress(self._sfn.exceptions.ExecutionAlreadyExists):
            self._sfn.start_execution(stateMachineArn=self._arn, name=name,
                                      input=json.dumps({"report": case.report.model_dump(mode="json")}))

    def rerun_arn(self, case: Case) -> str:
        """The execution of the case's next run (claimed on the case before it starts)."""
        return execution_arn(self._arn, run_name(case.case_id, case.runs + 1))

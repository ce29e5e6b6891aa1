"""Staff tooling over a stack's resources (deployed, or the embedded local one).

Everything is found from the stack's Outputs; staff actions use the caller's IAM identity.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from unblock.adapters import stepfunctions as executions
from unblock.adapters.dynamodb_cases import DynamoCaseStore
from unblock.adapters.dynamodb_causes import DynamoCauseStore
from unblock.adapters.dynamodb_incidents import DynamoIncidentStore
from unblock.adapters.dynamodb_policies import DynamoPolicyStore
from unblock.domain.cases import Case
from unblock.domain.clock import SystemClock
from unblock.domain.incidents import IncidentDecision
from unblock.domain.models import Finding, FixName, Mode, Result, Trace
from unblock.domain.modes import ModeChange
from unblock.domain.policies import Policy, PolicyConditions, PolicyStatus
from unblock.ports import Clock, Platform, StaffAlerts
from unblock.workflow import causes as cause_flow
from unblock.workflow import incidents as incident_flow
from unblock.workflow import policies as policy_flow
from unblock.workflow import staff_decisions
from unblock.workflow.incidents import IncidentView
from unblock.workflow.staff_decisions import Decision, StaffError
from unblock.workflow.steps import evidence_bundle

__all__ = ["StackClient", "Decision", "StaffError", "poll", "stack_outputs"]
T = TypeVar("T")


def stack_outputs(stack_name: str) -> dict[str, str]:
    import boto3

    try:
        stacks = boto3.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"]
    except Exception as err:  # noqa: BLE001 - any failure here is "cannot reach that stack"
        raise StaffError(f"cannot read stack {stack_name!r}: {err}") from err
    return {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}


class Changes(Protocol):
    """Something happening on a stack, for waiters to look again (the embedded stack's activity)."""

    def mark(self) -> int: ...

    def wait_after(self, mark: int, timeout: float) -> None: ...


def poll(check: Callable[[], T | None], timeout: float, what: str, changes: Changes | None = None) -> T:
    """`check()` until it returns something (executions run asynchronously), or StaffError: every
    50 ms, or with `changes` as soon as something happened on the stack (at least every 0.5 s)."""
    deadline = time.monotonic() + timeout
    while True:
        seen = changes.mark() if changes is not None else 0
        if (found := check()) is not None:
            return found
        if time.monotonic() > deadline:
            raise StaffError(f"{what} within {timeout:.0f}s")
        if changes is None:
            time.sleep(0.05)
        else:
            changes.wait_after(seen, 0.5)


class StackClient:
    """A client of one stack's resources (its cases table, state machine, queues, functions), found by
    the stack's Outputs: what staff tools act through on a deployed stack, and LocalApp on the embedded
    one. Not the staff console (unblock.console, the web pages)."""

    def __init__(self, outputs: dict[str, str], clock: Clock | None = None) -> None:
        import boto3

        from unblock.adapters.sqs import SqsHumanQueue
        from unblock.adapters.ssm_mode import SsmModeSwitch

        self.outputs = outputs
        self.clock: Clock = clock or SystemClock()
        self.changes: Changes | None = None  # a deployed stack is polled; the embedded one says when it moved
        self.sfn = boto3.client("stepfunctions")
        self.sqs = boto3.client("sqs")
        cases_table = boto3.resource("dynamodb").Table(outputs["CasesTableName"])
        self.store = DynamoCaseStore(cases_table)
        self.incidents = DynamoIncidentStore(cases_table)
        self.causes = DynamoCauseStore(cases_table)
        self.policies = DynamoPolicyStore(cases_table)
        self.workflow = executions.StepFunctionsWorkflow(self.sfn, outputs["StateMachineArn"])
        self.human_queue = SqsHumanQueue(self.sqs, outputs["HumanQueueUrl"])
        self.modes = SsmModeSwitch(outputs["ModeParameterName"], cases_table)
        # which teams a hold is on (an incident's teams that did not write in): the sandbox table
        # when the stack has one; a stack on the operator's admin API shows that list in the console
        self.platform: Platform | None = None
        if outputs.get("PlatformTableName"):
            from unblock.adapters.platform_sandbox import SandboxPlatform

            self.platform = SandboxPlatform(boto3.resource("dynamodb").Table(outputs["PlatformTableName"]),
                                            self.clock)

    # --- start -----------------------------------------------------------------------------
    def start(self, report: dict[str, Any]) -> str:
        """StartExecution for a report (already redacted); the execution name is the case id."""
        return executions.start(self.sfn, self.outputs["StateMachineArn"], report)[0]

    def execution_arn(self, case_id: str) -> str:
        return executions.execution_arn(self.outputs["StateMachineArn"], executions.execution_name(case_id))

    # --- wait and read ---------------------------------------------------------------------
    def execution_status(self, case_id: str) -> str:
        return str(self.sfn.describe_execution(executionArn=self.execution_arn(case_id))["status"])

    def wait(self, case_id: str, timeout: float = 120.0, *, after_token: str | None = None) -> Case:
        """Until the execution ends or the case waits on staff (with a task token other than
        `after_token`: after a decision, the next wait if the workflow escalates again)."""

        def settled() -> Case | None:
            # the case's latest run (a follow-up's or a re-check's), else its first
            before = self.store.get(case_id)
            arn = (before.execution_arn if before is not None else None) or self.execution_arn(case_id)
            try:
                status = str(self.sfn.describe_execution(executionArn=arn)["status"])
            except self.sfn.exceptions.ExecutionDoesNotExist:
                status = "RUNNING"  # a run claimed on the case, about to start
            if status == "RUNNING" and (before is None or before.status != "awaiting_staff"):
                return None  # still running and not waiting on staff: the next change looks again
            case = self.store.get(case_id)
            if status != "RUNNING" and case is None:
                raise StaffError(f"execution for {case_id} ended {status} without a case")
            if case is not None and case.execution_arn != arn and before is not None:
                return None  # the run ended by starting the next one (follow-ups that came meanwhile)
            waiting = case is not None and case.status == "awaiting_staff" and bool(case.task_token)
            if case is not None and (status != "RUNNING" or (waiting and case.task_token != after_token)):
                return case
            return None

        case = poll(settled, timeout, f"case {case_id} did not settle", self.changes)
        if case.joined_into:  # a ticket that joined its team's proactive case: that case answers it
            return self.wait(case.joined_into, timeout, after_token=after_token)
        return case

    def trace(self, case_id: str, execution_arn: str | None = None) -> Trace:
        events: list[Any] = []
        kwargs: dict[str, Any] = {"executionArn": execution_arn or self.execution_arn(case_id), "maxResults": 1000}
        while True:
            page = self.sfn.get_execution_history(**kwargs)
            events += page["events"]
            if not page.get("nextToken"):
                break
            kwargs["nextToken"] = page["nextToken"]
        states = [e["stateEnteredEventDetails"]["name"] for e in events if e["type"].endswith("StateEntered")]
        invocations = sum(1 for e in events if e["type"] == "LambdaFunctionScheduled" or (
            e["type"] == "TaskScheduled" and e["taskScheduledEventDetails"]["resourceType"] == "lambda"))
        # a retried task is billed as another transition
        task_states = sum(1 for e in events if e["type"] == "TaskStateEntered")
        retries = max(0, invocations - task_states)
        return Trace(states=states, state_transitions=len(states) + retries, lambda_invocations=invocations,
                     lambda_functions=self._functions(events))

    def _functions(self, events: list[Any]) -> list[str]:
        """The distinct functions (template logical ids) the execution invoked, in first-use order."""
        seen: list[str] = []
        for e in events:
            if e["type"] == "TaskScheduled" and e["taskScheduledEventDetails"]["resourceType"] == "lambda":
                params = json.loads(e["taskScheduledEventDetails"].get("parameters") or "{}")
                name = str(params.get("FunctionName", ""))
            elif e["type"] == "LambdaFunctionScheduled":
                name = str(e["lambdaFunctionScheduledEventDetails"].get("resource", ""))
            else:
                continue
            # SAM names a function <stack>-<LogicalId>-<suffix>; the embedded stack <stack>-<LogicalId>
            parts = name.split(":function:")[-1].split(":")[0].split("-")
            logical = next((p for p in reversed(parts) if p.endswith("Function")), parts[-1])
            if logical and logical not in seen:
                seen.append(logical)
        return seen

    def queued_evidence(self, case_id: str) -> dict[str, Any] | None:
        """The escalation message as staff see it on the human queue (left in place, but received
        once: for tests that check what was queued, never for display)."""
        url = self.outputs["HumanQueueUrl"]
        found, handles = None, []
        # page past the first ten (other cases wait too): each batch hidden while the next is read
        while found is None and (batch := self.sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30,
                MessageAttributeNames=["All"]).get("Messages", [])):
            handles += [m["ReceiptHandle"] for m in batch]
            found = next((b for m in batch if (b := json.loads(m["Body"])).get("case_id") == case_id), None)
        for handle in handles:  # visible again, as they were
            self.sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=0)
        return found

    def result(self, case: Case) -> Result:
        escalation = None
        if case.outcome == "escalated" and case.escalation is not None:
            # the evidence bundle as queued, from the case record: showing a case never receives
            # from the human queue (each receive would count towards its dead-letter redrive)
            escalation = evidence_bundle(case) if case.status == "awaiting_staff" else None
            escalation = escalation or {"reason": case.escalation.reason, "priority": case.escalation.priority,
                                        "proposed_fixes": case.escalation.proposed_fixes}
        first_pass: list[Finding] = case.findings
        return Result(case_id=case.case_id, outcome=case.outcome, team_id=case.team_id, findings=first_pass,
                      fixes_applied=case.fixes_applied, verified=case.verified, escalation=escalation,
                      customer_reply=case.customer_reply, requester_verified=case.requester_verified,
                      incident_id=self.incidents.incident_of(case.case_id), signals=case.all_signal_codes,
                      follow_ups=case.follow_ups, mode=case.mode,
                      shadow=case.shadow.model_dump(mode="json", include={"outcome", "reason", "fixes", "reply"})
                      if case.shadow else None,
                      trace=self.trace(case.case_id, case.execution_arn))

    def recheck(self) -> dict[str, Any]:
        """One pass of the scheduled re-check, by hand (invokes the RecheckFunction)."""
        import boto3

        resp = boto3.client("lambda").invoke(FunctionName=self.outputs["RecheckFunctionName"], Payload=b"{}")
        payload: dict[str, Any] = json.loads(resp["Payload"].read() or b"{}")
        if resp.get("FunctionError"):
            raise StaffError(f"re-check failed: {payload.get('errorMessage')}")
        return payload

    def cases(self, status: str | None = None) -> list[Case]:
        return self.store.list(status)  # type: ignore[arg-type]

    # --- replay ----------------------------------------------------------------------------
    def replay(self) -> list[Any]:
        """Re-drive the events kept on the intake dead-letter queue through the function that refused them."""
        import boto3

        from unblock.adapters.dead_letters import FailedIntakeEvents, IntakeDeadLetters

        lam = boto3.client("lambda")

        def redrive(event: dict[str, Any]) -> Any:
            # a denial signal goes back to the function its rule reaches; everything else to the intake
            denial = event.get("replay", {}).get("kind") == "denial" or event.get("detail-type") == "Requests Denied"
            function = self.outputs["SignalsFunctionName" if denial else "IntakeFunctionName"]
            resp = lam.invoke(FunctionName=function, Payload=json.dumps(event).encode())
            payload = json.loads(resp["Payload"].read() or b"null")
            if resp.get("FunctionError"):
                raise StaffError(str(payload.get("errorMessage")))
            return payload

        outcomes = IntakeDeadLetters(self.sqs, self.outputs["IntakeDeadLetterQueueUrl"]).replay(redrive)
        if self.outputs.get("IntakeFailedEventsQueueUrl"):  # events the intake failed on, after Lambda's retries
            outcomes += FailedIntakeEvents(self.sqs, self.outputs["IntakeFailedEventsQueueUrl"]).replay(redrive)
        return outcomes

    def replay_in_flight(self) -> int:
        """Kept events another reader holds right now (visible again within their visibility timeout)."""
        from unblock.adapters.dead_letters import in_flight

        return sum(in_flight(self.sqs, self.outputs[name])
                   for name in ("IntakeDeadLetterQueueUrl", "IntakeFailedEventsQueueUrl") if self.outputs.get(name))

    # --- decide ----------------------------------------------------------------------------
    def decide(self, case_id: str, decision: Decision, actor: str, note: str | None = None,
               expected_version: int | None = None) -> Case:
        """One staff decision (unblock.workflow.staff_decisions); returns the case as it was claimed,
        with the task token it resumed (for `wait(..., after_token=...)`)."""
        return staff_decisions.decide(self.store, self.workflow, self.human_queue, self.clock, case_id, decision,
                                      actor, note, stack_mode=self.modes.current(fresh=True),
                                      expected_version=expected_version)

    # --- mode ------------------------------------------------------------------------------
    def mode(self) -> Mode:
        """The stack's mode now (DESIGN.md "Modes")."""
        return self.modes.current(fresh=True)

    def switch_mode(self, to: str, actor: str, note: str | None = None) -> ModeChange | None:
        """Switch the stack's mode, audited and told to staff (unblock.workflow.modes); None when it
        is in that mode already. Functions obey within a minute (their cache); this process at once."""
        from unblock.workflow.modes import switch_mode

        return switch_mode(self.modes, self.clock, to, actor, note, alerts=self._staff_alerts())

    def _staff_alerts(self) -> StaffAlerts | None:
        if topic := self.outputs.get("StaffAlertsTopicArn"):
            import boto3

            from unblock.adapters.staff_alerts import SnsStaffAlerts

            return SnsStaffAlerts(boto3.client("sns"), topic)
        return None

    # --- revert ----------------------------------------------------------------------------
    def revert(self, case_id: str, actor: str, note: str, fix: FixName | None = None) -> Case:
        """Staff undo a fix unblock applied (unblock.workflow.reverts), through the stack's platform."""
        from unblock.workflow import reverts
        from unblock.workflow.guardrails import RevertGuard

        if self.platform is None:
            raise StaffError("this stack's platform is the operator's admin API: revert from the staff console")
        outbox = None
        if url := self.outputs.get("OutboxQueueUrl"):  # the help desk's internal note, as the console writes it
            from unblock.adapters.sqs import SqsOutbox

            outbox = SqsOutbox(self.sqs, url)
        # staff are told who reverted what
        guard = RevertGuard(self.store, self.modes, int(self.outputs.get("MaxRevertsPerHour", "3")))
        return reverts.revert(self.platform, self.store, self.clock, case_id, actor, note, fix=fix,
                              alerts=self._staff_alerts(), outbox=outbox, console_url=self.outputs.get("ConsoleUrl"),
                              guard=guard)

    # --- causes ----------------------------------------------------------------------------
    def list_causes(self, limit: int = 50) -> list[cause_flow.CauseView]:
        """Each cause's record with its figures, newest wave first (docs/causes.md)."""
        return cause_flow.list_causes(self.causes, self.store, limit)

    def cause(self, cause_key: str) -> cause_flow.CauseView | None:
        return cause_flow.cause_view(self.causes, self.store, cause_key)

    # --- standing policies -----------------------------------------------------------------
    def create_policy(self, cause_key: str, actor: str, *, owner: str | None = None, days: int = 14,
                      conditions: PolicyConditions | None = None) -> Policy:
        return policy_flow.create(self.policies, self.causes, self.clock, cause_key, actor, owner=owner, days=days,
                                  conditions=conditions)

    def switch_policy(self, policy_id: str, status: PolicyStatus, actor: str, note: str | None = None) -> Policy:
        return policy_flow.switch(self.policies, self.clock, policy_id, status, actor, note)

    def list_policies(self, cause_key: str | None = None) -> list[policy_flow.PolicyView]:
        return policy_flow.list_policies(self.policies, self.store, self.clock, cause_key)

    # --- incidents -------------------------------------------------------------------------
    def list_incidents(self, limit: int = 100) -> list[IncidentView]:
        views = (incident_flow.incident_view(self.incidents, self.store, self.platform, i.incident_id)
                 for i in self.incidents.list(limit))
        return [v for v in views if v is not None]

    def incident(self, incident_id: str) -> IncidentView | None:
        return incident_flow.incident_view(self.incidents, self.store, self.platform, incident_id)

    def decide_incident(self, incident_id: str, decision: Decision, actor: str, note: str | None = None,
                        include: tuple[str, ...] = (), settle: float = 60.0,
                        include_unverified: tuple[str, ...] = ()) -> IncidentDecision:
        """One bulk decision (unblock.workflow.incidents): each waiting member through its own staff
        decision; included teams get a staff case, decided once it waits (within `settle` seconds,
        else by the re-check)."""
        return incident_flow.decide_incident(self.incidents, self.store, self.workflow, self.human_queue, self.clock,
                                             incident_id, decision, actor, note,
                                             stack_mode=self.modes.current(fresh=True), include=include,
                                             include_unverified=include_unverified, platform=self.platform,
                                             settle=settle)

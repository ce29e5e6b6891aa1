"""Follow-ups, re-checks and staff decisions interleaved (DESIGN.md "Conversations"), on in-memory
fakes: never two runs of a case at once, and never a follow-up lost.

A run is modelled as the workflow's steps in turn (OpenCase; CloseCase or Escalate, each ending
with `drain`, as the OutcomeFunction does); any step of any run may be followed by a follow-up, a
re-check, a staff decision or a crash of the run. The workflow fake refuses to start a run of a
case while another runs; at the end, once everything has settled, every follow-up sent is in the
conversation, counted once, and taken in (by a run, by staff's evidence, or noted).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from unblock.domain.cases import Case
from unblock.domain.conversations import unseen
from unblock.domain.models import Report
from unblock.domain.platform_model import Team
from unblock.ports import CaseConflict
from unblock.workflow import conversations, recheck, steps
from unblock_dev.clock import FixedClock

TEAM = "team_Q3xr89YFWHvqTRO0X0bmHkoU"
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


class Store:
    """A CaseStore in memory: conditional writes on `version`, as DynamoDB's."""

    def __init__(self) -> None:
        self.docs: dict[str, str] = {}

    def get(self, case_id: str) -> Case | None:
        doc = self.docs.get(case_id)
        return Case.model_validate_json(doc) if doc else None

    def create(self, case: Case) -> bool:
        if case.case_id in self.docs:
            return False
        self.docs[case.case_id] = case.model_dump_json()
        return True

    def save(self, case: Case) -> Case:
        current = self.get(case.case_id)
        if current is None or current.version != case.version:
            raise CaseConflict(case.case_id)
        new = case.model_copy(update={"version": case.version + 1})
        self.docs[case.case_id] = new.model_dump_json()
        return new


class Workflow:
    """Executions of the remediation workflow, stepped by the test; at most one runs per case."""

    def __init__(self) -> None:
        self.running: dict[str, dict[str, Any]] = {}  # execution ARN -> {"case_id", "step", "report"}
        self.started: list[str] = []
        self.overlaps = 0

    def rerun_arn(self, case: Case) -> str:
        return f"arn:{case.case_id}:run{case.runs + 1}"

    def start(self, arn: str, case_id: str, report: Report) -> None:
        if arn in self.started:
            return  # a retried start of the same run
        if any(r["case_id"] == case_id for r in self.running.values()):
            self.overlaps += 1
        self.started.append(arn)
        self.running[arn] = {"case_id": case_id, "step": "open", "report": report}

    def rerun(self, case: Case) -> None:
        self.start(f"arn:{case.case_id}:run{case.runs}", case.case_id, case.report)

    def is_running(self, case: Case) -> bool:
        return case.execution_arn in self.running


class Platform:
    def find_team(self, *, team_id: str | None = None, slug: str | None = None,
                  owner_email: str | None = None, member_email: str | None = None) -> Team | None:
        return Team(team_id=TEAM, plan="pro", owner_email="dev@acme.test") if team_id == TEAM else None


class Queue:
    def send(self, message: dict[str, Any], *, priority: str) -> None:
        pass


def _report(text: str, team_id: str | None = None) -> Report:
    return Report(case_id="zendesk:1", source="zendesk", ticket_id="1", channel="email", text=text,
                  team_id=team_id, requester_email="dev@acme.test", received_at=NOW)


def _step(world: dict[str, Any], arn: str, outcome: str) -> None:
    """One step of a running execution: OpenCase, then its end (CloseCase or Escalate, then drain)."""
    store, workflow, clock = world["store"], world["workflow"], world["clock"]
    run = workflow.running[arn]
    if run["step"] == "open":
        steps.open_case(Platform(), store, clock, run["report"], execution_arn=arn)
        run["step"] = "decide"
        return
    case = store.get(run["case_id"])
    if run["step"] == "decide":
        if case.team_id is None:
            steps.close_case(store, clock, case.case_id, "needs_info")
        elif outcome == "escalate":
            steps.escalate_case(store, Queue(), clock, case.case_id, "needs a person", task_token=f"token:{arn}")
            run["step"] = "staff"
            conversations.drain(store, workflow, clock, case.case_id)
            return
        else:
            steps.close_case(store, clock, case.case_id, outcome)
    elif run["step"] == "staff":
        return  # waits for a staff decision
    elif run["step"] == "resumed":
        steps.close_case(store, clock, case.case_id, "escalated", "resolved")
    del workflow.running[arn]  # the run settled the case; its last step takes in what came meanwhile
    conversations.drain(store, workflow, clock, case.case_id)


def _recheck(world: dict[str, Any]) -> None:
    """The re-check's branches for follow-ups: a dead run is run again, left-over follow-ups taken in."""
    store, workflow, clock = world["store"], world["workflow"], world["clock"]
    case = store.get("zendesk:1")
    if case is None:
        return
    try:
        if case.status == "open":
            if not workflow.is_running(case):
                recheck._rerun(store, workflow, case, clock.now())
        elif unseen(case) and case.status != "deciding":
            conversations.drain(store, workflow, clock, case.case_id)
    except CaseConflict:
        pass


def _decide(world: dict[str, Any]) -> None:
    """A staff decision on a case waiting for staff: claimed, then the execution resumes."""
    store, workflow, clock = world["store"], world["workflow"], world["clock"]
    case = store.get("zendesk:1")
    if case is None or case.status != "awaiting_staff" or not case.task_token:
        return
    store.save(case.model_copy(update={"status": "deciding", "updated_at": clock.now()}))
    arn = case.task_token.removeprefix("token:")
    if arn in workflow.running:
        workflow.running[arn]["step"] = "resumed"


texts = st.sampled_from(["still failing with 403", "thanks, works now", f"our team is {TEAM}",
                         "any news?", "I updated the card"])
operation = st.one_of(
    st.tuples(st.just("follow_up"), texts),
    st.tuples(st.just("step"), st.sampled_from(["customer_action", "escalate", "already_working"])),
    st.tuples(st.just("recheck"), st.none()),
    st.tuples(st.just("decide"), st.none()),
    st.tuples(st.just("crash"), st.none()),
    st.tuples(st.just("later"), st.sampled_from([1, 60, 60 * 24 * 3])),
)


@settings(max_examples=150, deadline=None)
@given(first_team=st.booleans(), ops=st.lists(operation, max_size=30))
def test_follow_ups_interleaved_with_runs_rechecks_and_staff_are_never_lost_nor_run_twice(first_team, ops):
    world: dict[str, Any] = {"store": Store(), "workflow": Workflow(), "clock": FixedClock(NOW)}
    store, workflow, clock = world["store"], world["workflow"], world["clock"]
    workflow.start("arn:zendesk:1:run1", "zendesk:1", _report("403 Forbidden", TEAM if first_team else None))
    sent: list[str] = []
    for n, (op, arg) in enumerate(ops):
        if op == "follow_up":
            message_id = f"m{n}"
            follow_up = _report(str(arg))
            if store.get("zendesk:1") is None:
                continue  # no case yet: a webhook ignores it, a normalized event opens it (tested elsewhere)
            taken = conversations.take_follow_up(store, workflow, clock, follow_up, message_id)
            if taken.action != "new_case":
                sent.append(message_id)
        elif op == "step" and workflow.running:
            _step(world, next(iter(workflow.running)), str(arg))
        elif op == "recheck":
            _recheck(world)
        elif op == "decide":
            _decide(world)
        elif op == "crash" and workflow.running:
            arn = next(iter(workflow.running))
            if workflow.running[arn]["step"] in ("open", "decide"):
                del workflow.running[arn]  # the execution died before it settled the case
        elif op == "later":
            clock.advance(timedelta(minutes=int(arg)))
        assert workflow.overlaps == 0, "two runs of the case at once"

    # everything settles: runs finish, staff decide, the re-check runs what died
    for _ in range(200):
        if workflow.running:
            arn = next(iter(workflow.running))
            if workflow.running[arn]["step"] == "staff":
                _decide(world)
            _step(world, arn, "customer_action")
        else:
            _recheck(world)
            case = store.get("zendesk:1")
            if case is None or (case.status != "open" and not unseen(case)):
                break
    assert workflow.overlaps == 0
    case = store.get("zendesk:1")
    if case is None:
        assert not sent
        return
    kept = [m.id for m in case.conversation if m.author == "customer"]
    assert kept == sent  # every follow-up, once, in order
    assert case.follow_ups == len(sent) and unseen(case) == []  # and each one taken in

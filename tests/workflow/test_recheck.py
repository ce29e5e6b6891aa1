"""The scheduled re-check on the embedded stack, with a movable clock."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from tests.support import load_event, take_human_queue_messages
from unblock.domain.platform_model import PaymentMethod

# The module's cases open on a day before every other test's: a re-check pass reads every due case on
# the session's stack, and other tests leave hundreds that would be due on their day (each re-run,
# probed or requeued in this module's passes: slower, and a case of the same team may act first).
DAY = datetime(2026, 10, 5, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def on_the_modules_day(app):  # type: ignore[no-untyped-def]
    app.clock.set(DAY)  # what `app.submit` opens (`app.run` takes the event's own time: see _run)


def _run(app, event_file: str):  # type: ignore[no-untyped-def]
    """A ticket event through the workflow, opened on the module's day (not the event's own time)."""
    return app.run(load_event(event_file), at=DAY)


def _mend_card(app, team_id: str) -> None:
    team = app.platform.get_team(team_id)
    billing = team.billing.model_copy(update={"payment_method": PaymentMethod(status="valid", verified=True)})
    app.platform.replace_team(team.model_copy(update={"billing": billing}))


def test_customer_adds_a_card_and_the_case_closes_with_access_back(app):
    result = _run(app, "ticket-free-tier-no-card.json")
    assert result.outcome == "customer_action"

    _mend_card(app, result.team_id)
    app.clock.advance(timedelta(minutes=16))
    report = app.recheck()

    assert report["actions"][result.case_id] == "closed_access_back"
    case = app.client.store.get(result.case_id)
    assert case.status == "closed" and case.resolution == "checks_pass"
    assert "succeed again" in case.customer_reply


def test_customer_mends_billing_then_the_stale_hold_is_cleared_by_a_rerun(app):
    # no other case of this team is due in this pass (DAY): its re-run could clear the hold first, and
    # this case would then close with access back, not re-run
    result = _run(app, "ticket-expired-card.json")
    assert result.findings[0].code == "billing.payment_method_expired"

    _mend_card(app, result.team_id)  # the automated hold is now stale
    app.clock.advance(timedelta(minutes=16))
    assert app.recheck()["actions"][result.case_id] == "rerun"

    case = app.wait_for(result.case_id, lambda c: c.status == "closed")
    assert case.outcome == "auto_fixed" and case.verified
    # this run cleared the hold, or (on the session's shared stack) another due case of the same team's
    # re-run did a moment before: either way the fix is this run's, audited, and the hold is gone
    assert [(f.fix, f.status in ("applied", "already_done")) for f in case.run_fixes] == [("clear_billing_hold", True)]
    assert not app.platform.get_team(result.team_id).billing.hold.active
    assert app.platform.probe(result.team_id).status == 200


def test_staff_mend_the_team_by_hand_and_the_waiting_execution_completes(app):
    result = _run(app, "ticket-fraud-review.json")
    team = app.platform.get_team(result.team_id)
    app.platform.replace_team(team.model_copy(update={"restrictions": ()}))  # staff cleared the review

    app.clock.advance(timedelta(minutes=16))
    assert app.recheck()["actions"][result.case_id] == "staff_task_completed"

    case = app.wait_for(result.case_id, lambda c: c.status == "closed")
    assert case.outcome == "escalated" and case.resolution == "checks_pass"
    assert case.task_token is None
    states = app.client.trace(result.case_id).states
    assert states[-3:] == ["Escalate", "StaffDecision", "CloseCase"]


def test_a_staff_case_past_its_sla_is_requeued_with_higher_priority(app):
    result = _run(app, "ticket-staff-billing-hold.json")
    app.clock.advance(timedelta(hours=5))

    assert app.recheck()["actions"][result.case_id] == "requeued"

    case = app.client.store.get(result.case_id)
    assert case.priority == "high" and case.status == "awaiting_staff"
    messages = take_human_queue_messages(app, {result.case_id})  # however many other tests queued before
    requeued = [m for m in messages if '"requeued": true' in m["Body"]]
    assert requeued and requeued[0]["MessageAttributes"]["priority"]["StringValue"] == "high"


def test_the_next_recheck_backs_off_and_a_case_closes_as_stale_after_14_days(app):
    result = _run(app, "ticket-expired-card.json")  # nobody mends it
    waits = []
    for _ in range(4):
        case = app.client.store.get(result.case_id)
        app.clock.set(case.next_check_at)
        assert app.recheck()["actions"][result.case_id] == "backed_off"
        after = app.client.store.get(result.case_id)
        waits.append(after.next_check_at - case.next_check_at)
    assert waits == [timedelta(minutes=15), timedelta(minutes=30), timedelta(hours=1), timedelta(hours=2)]

    app.clock.advance(timedelta(days=15))
    assert app.recheck()["actions"][result.case_id] == "closed_stale"
    case = app.client.store.get(result.case_id)
    assert case.status == "closed" and case.resolution == "stale"
    assert "14 days" in case.customer_reply


def test_a_case_not_yet_due_is_not_read(app):
    result = _run(app, "ticket-expired-card.json")
    app.clock.advance(timedelta(minutes=5))  # first re-check is due after 15 minutes

    assert result.case_id not in app.recheck()["actions"]


def test_a_case_whose_execution_died_is_run_again_by_the_recheck(app):
    from unblock.ports import PlatformUnavailable

    # the platform is down for the diagnosis, and the escalation that should catch it fails: the execution fails
    app.stack.faults["DiagnoseFunction.check_restrictions"] = [PlatformUnavailable("down")] * 3
    app.stack.faults["OutcomeFunction.escalate"] = [RuntimeError("queue unreachable")]
    result = _run(app, "ticket-entitlement-off.json")
    status = app.client.sfn.describe_execution(executionArn=app.client.execution_arn(result.case_id))["status"]
    assert status == "FAILED"
    assert app.client.store.get(result.case_id).status == "open"

    app.clock.advance(timedelta(minutes=16))  # the platform is back; the schedule fires
    assert app.recheck()["actions"][result.case_id] == "rerun"

    case = app.wait_for(result.case_id, lambda c: c.status == "closed")
    assert case.outcome == "auto_fixed" and case.fixes_applied == ["resync_entitlements"]


def test_a_dead_task_token_on_one_case_is_recovered_and_the_pass_goes_on(app, monkeypatch):
    from unblock import composition
    from unblock_dev.staff import poll

    class DownQueue:
        def send(self, message, *, priority):
            raise RuntimeError("human queue unreachable")

    # Escalate writes the case (with its task token), then the human queue fails: the execution
    # fails and the case keeps a dead token
    monkeypatch.setattr(composition, "human_queue", lambda: DownQueue())
    stuck = app.submit(load_event("ticket-fraud-review.json"))
    poll(lambda: app.client.execution_status(stuck) != "RUNNING" or None, 60, "execution did not end")
    monkeypatch.undo()
    dead = app.client.store.get(stuck)
    assert dead.status == "awaiting_staff" and dead.task_token
    mended = [_run(app, "ticket-free-tier-no-card.json") for _ in range(3)]
    for result in mended:
        _mend_card(app, result.team_id)

    app.clock.advance(timedelta(minutes=16))
    report = app.recheck()

    assert report["actions"][stuck] == "recovered"  # the workflow runs again for it
    assert all(report["actions"][r.case_id] == "closed_access_back" for r in mended)
    case = app.wait_for(stuck, lambda c: bool(c.task_token) and c.task_token != dead.task_token)
    assert case.status == "awaiting_staff" and case.task_token != dead.task_token
    # Escalate writes the case, then queues it: the message may be a moment behind the token
    queued = poll(lambda: take_human_queue_messages(app, {stuck}) or None, 30, "the case was not queued")
    assert [json.loads(m["Body"])["case_id"] for m in queued] == [stuck]


def test_an_error_on_one_case_is_recorded_and_the_pass_goes_on(app, monkeypatch):
    from unblock.workflow import recheck

    results = [_run(app, "ticket-free-tier-no-card.json") for _ in range(2)]
    for result in results:
        _mend_card(app, result.team_id)
    broken = results[0].case_id
    real = recheck._recheck

    def flaky(platform, store, queue, workflow, clock, case, *rest):
        if case.case_id == broken:
            raise RuntimeError("throttled")
        return real(platform, store, queue, workflow, clock, case, *rest)

    monkeypatch.setattr(recheck, "_recheck", flaky)
    app.clock.advance(timedelta(minutes=16))
    report = app.recheck()

    assert report["actions"] == {broken: "failed", results[1].case_id: "closed_access_back"} | {
        k: v for k, v in report["actions"].items() if k not in (broken, results[1].case_id)}
    assert report["failures"][broken] == "RuntimeError: throttled"
    after = app.client.store.get(broken)
    assert after.next_check_at > app.clock.now()  # put off to its next turn, not blocking the index


def test_a_staff_case_is_heartbeated_well_inside_its_wait_whatever_the_back_off(app):
    from tests.support import ROOT

    states = json.loads((ROOT / "statemachine" / "remediation.asl.json").read_text())["States"]
    heartbeat = timedelta(seconds=states["Escalate"]["HeartbeatSeconds"])
    result = _run(app, "ticket-fraud-review.json")
    for _ in range(9):  # the customer back-off would reach 24 h by now
        case = app.client.store.get(result.case_id)
        app.clock.set(case.next_check_at)
        assert app.recheck()["actions"][result.case_id] in ("backed_off", "requeued")  # heartbeat accepted
        after = app.client.store.get(result.case_id)
        assert after.next_check_at - app.clock.now() <= heartbeat / 4
    assert app.client.execution_status(result.case_id) == "RUNNING"
    take_human_queue_messages(app, {result.case_id})


def test_a_case_is_never_rerun_while_its_rerun_still_runs(app, monkeypatch):
    import threading

    from unblock.handlers import diagnose

    result = _run(app, "ticket-expired-card.json")
    _mend_card(app, result.team_id)  # the automated hold is now stale
    real = diagnose.check
    rerun_checking, next_pass_done = threading.Event(), threading.Event()

    def held(name, case):
        if name == "billing":
            rerun_checking.set()
            next_pass_done.wait(60)  # the re-run is still running when the next pass comes
        return real(name, case)

    monkeypatch.setattr(diagnose, "check", held)
    app.clock.advance(timedelta(minutes=16))
    try:
        assert app.recheck()["actions"][result.case_id] == "rerun"
        assert rerun_checking.wait(60)  # the re-run has opened its case and is checking
        app.clock.set(app.client.store.get(result.case_id).next_check_at)
        assert app.recheck()["actions"][result.case_id] == "backed_off"  # the first re-run still runs
    finally:
        next_pass_done.set()

    case = app.wait_for(result.case_id, lambda c: c.status == "closed")
    assert case.outcome == "auto_fixed"
    executions = app.client.sfn.list_executions(stateMachineArn=app.stack.outputs["StateMachineArn"])["executions"]
    base = app.client.execution_arn(result.case_id).rsplit(":", 1)[1]
    assert len([e for e in executions if e["name"].startswith(base + "-r")]) == 1

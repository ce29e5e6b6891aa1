"""Staff decisions (unblock.workflow.staff_decisions) on the embedded stack: exactly once, recorded
with the actor and note, stale ones refused, the human queue emptied of the case."""

from __future__ import annotations

import threading

import pytest

from tests.support import load_event
from unblock.workflow import staff_decisions
from unblock.workflow.staff_decisions import AlreadyDecided, StaffError, StaleDecision


def _queued_case_ids(app) -> list[str]:  # type: ignore[no-untyped-def]
    import json

    sqs, url = app.client.sqs, app.stack.outputs["HumanQueueUrl"]
    ids, handles = [], []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30).get("Messages"):
        ids += [json.loads(m["Body"])["case_id"] for m in batch]
        handles += [m["ReceiptHandle"] for m in batch]
    for h in handles:
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=h, VisibilityTimeout=0)
    return ids


def test_a_decision_is_recorded_with_actor_and_note_and_leaves_the_human_queue(app):
    escalated = app.run(load_event("ticket-fraud-review.json"))
    other = app.run(load_event("ticket-fraud-review.json"))
    assert escalated.case_id in _queued_case_ids(app)

    final = app.client.decide(escalated.case_id, "reject", "staff:dana@example.com", note="  confirmed fraud ")

    assert final.status == "deciding"
    done = app.wait_for(escalated.case_id, lambda c: c.status == "closed")
    assert done.resolution == "rejected"
    [decision] = done.decisions
    assert (decision.decision, decision.actor, decision.note) == ("reject", "staff:dana@example.com", "confirmed fraud")
    assert done.task_token is None
    queued = _queued_case_ids(app)
    assert escalated.case_id not in queued and other.case_id in queued  # only the decided case's message left


def test_two_racing_decisions_end_with_exactly_one_applied(app):
    escalated = app.run(load_event("ticket-high-risk-hold.json"))
    outcomes: dict[str, object] = {}
    barrier = threading.Barrier(2)

    def decide(actor: str, decision: str) -> None:
        barrier.wait()
        try:
            outcomes[actor] = app.client.decide(escalated.case_id, decision, actor)
        except StaffError as err:
            outcomes[actor] = err

    threads = [threading.Thread(target=decide, args=a) for a in (("staff:a", "approve"), ("staff:b", "reject"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    errors = [v for v in outcomes.values() if isinstance(v, StaffError)]
    assert len(errors) == 1 and isinstance(errors[0], AlreadyDecided | StaleDecision)
    assert "already decided" in str(errors[0]) or "changed" in str(errors[0])
    done = app.wait_for(escalated.case_id, lambda c: c.status == "closed")
    assert len(done.decisions) == 1
    assert done.resolution == ("approved" if done.decisions[0].decision == "approve" else "rejected")


def test_a_decision_on_a_case_that_moved_on_is_refused_as_stale(app):
    escalated = app.run(load_event("ticket-fraud-review.json"))
    seen = app.client.store.get(escalated.case_id)
    # the re-check re-queues it meanwhile (a write the staff member did not see)
    app.client.store.save(seen.model_copy(update={"priority": "high"}))

    with pytest.raises(StaleDecision, match="changed since you opened it"):
        app.client.decide(escalated.case_id, "resolve", "staff:eve", expected_version=seen.version)
    assert app.client.store.get(escalated.case_id).status == "awaiting_staff"


def test_a_decision_after_the_case_closed_names_who_decided(app):
    escalated = app.run(load_event("ticket-fraud-review.json"))
    app.decide(escalated.case_id, "resolve", actor="staff:fay")

    with pytest.raises(AlreadyDecided, match=r"already decided \(resolve by staff:fay"):
        app.client.decide(escalated.case_id, "reject", "staff:gus")


def test_approve_without_a_proposed_fix_and_unknown_cases_are_clear_errors(app):
    escalated = app.run(load_event("ticket-fraud-review.json"))
    with pytest.raises(StaffError, match="no proposed fix to approve"):
        app.client.decide(escalated.case_id, "approve", "staff:hal")
    with pytest.raises(staff_decisions.NoSuchCase, match="no case 'zendesk:nope'"):
        app.client.decide("zendesk:nope", "resolve", "staff:hal")
    assert app.client.store.get(escalated.case_id).status == "awaiting_staff"


def test_the_public_view_never_carries_the_task_token(app):
    escalated = app.run(load_event("ticket-fraud-review.json"))
    case = app.client.store.get(escalated.case_id)
    assert case.task_token
    assert "task_token" not in staff_decisions.public_view(case)
    assert case.task_token not in str(staff_decisions.public_view(case))


def test_a_claim_that_never_reached_the_workflow_is_released_by_the_recheck(app):
    from datetime import timedelta

    from unblock.domain.models import StaffDecision

    escalated = app.run(load_event("ticket-fraud-review.json"))
    case = app.client.store.get(escalated.case_id)
    lost = StaffDecision(decision="resolve", actor="staff:crashed", decided_at=app.clock.now())
    app.client.store.save(case.model_copy(update={"status": "deciding", "decisions": [lost]}))
    with pytest.raises(AlreadyDecided):
        app.client.decide(escalated.case_id, "reject", "staff:ivy")

    app.clock.advance(timedelta(minutes=16))
    assert app.recheck()["actions"][escalated.case_id] == "decision_released"

    released = app.client.store.get(escalated.case_id)
    assert released.status == "awaiting_staff" and released.decisions == []
    app.client.decide(escalated.case_id, "reject", "staff:ivy")
    assert app.wait_for(escalated.case_id, lambda c: c.status == "closed").resolution == "rejected"


def test_showing_a_case_never_receives_from_the_human_queue(app):
    """Issue 13.4: each receive counts towards the redrive to the DLQ; display reads the case record."""
    escalated = app.run(load_event("ticket-high-risk-hold.json"))
    url = app.stack.outputs["HumanQueueUrl"]
    before = _receive_counts(app, url)

    for _ in range(3):
        shown = app.client.result(app.client.store.get(escalated.case_id))
        assert shown.escalation["proposed_fixes"] == ["lift_risk_hold"]

    assert _receive_counts(app, url) == before


def _receive_counts(app, url):
    """ApproximateReceiveCount of every message, read off moto's queue without receiving."""
    from moto.backends import get_backend

    queue = get_backend("sqs")["123456789012"]["us-east-1"].queues[url.rsplit("/", 1)[1]]
    return {m.id: m.approximate_receive_count for m in queue._messages}


def test_a_lapsed_staff_wait_goes_back_to_staff_and_the_customer_hears_nothing_new(app):
    """Issue 22.5: a wait whose heartbeat lapses fails with States.HeartbeatTimeout, as on Step
    Functions: BackToStaff queues the case for staff again (a new task token, the same reply), never
    TimedOut -> CloseCase with the 14-day "nobody reviewed" reply. A staff decision then ends it."""
    from tests.support import take_human_queue_messages
    from unblock_dev.local.timings import Timings

    # only this execution's waits are short (10 s: under load, 5 s lapsed before the first wait began)
    with app.stack.retimed(Timings(staff_heartbeat_seconds=10)):
        first = app.run(load_event("ticket-fraud-review.json"))
    waiting = app.client.store.get(first.case_id)
    assert waiting.status == "awaiting_staff"

    # the wait lapses: the case waits for staff again with a new token (or, as moto had it, closes)
    lapsed = {None, waiting.task_token}
    again = app.wait_for(first.case_id, lambda c: c.status == "closed" or c.task_token not in lapsed, timeout=60)

    assert again.status == "awaiting_staff" and app.client.execution_status(first.case_id) == "RUNNING"
    assert again.customer_reply == waiting.customer_reply
    history = app.client.sfn.get_execution_history(executionArn=app.client.execution_arn(first.case_id))["events"]
    lapses = [e["taskTimedOutEventDetails"]["error"] for e in history if e["type"] == "TaskTimedOut"]
    assert lapses[:1] == ["States.HeartbeatTimeout"]
    states = app.client.trace(first.case_id).states
    assert states[states.index("BackToStaff") - 1:][:3] == ["Escalate", "BackToStaff", "Escalate"]
    assert "TimedOut" not in states and "CloseCase" not in states

    final = app.decide(first.case_id, "resolve", actor="staff:dana")
    assert final.outcome == "escalated" and app.client.store.get(first.case_id).resolution == "resolved"
    take_human_queue_messages(app, {first.case_id})

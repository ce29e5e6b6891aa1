"""Follow-ups reach the case (DESIGN.md "Conversations"), through the real ASL on the embedded stack:
each follow-up kind, and what a follow-up does in each state of the case."""

from __future__ import annotations

import copy
import uuid
from datetime import timedelta

from tests.support import load_event, take_human_queue_messages

ACME = "team_Q3xr89YFWHvqTRO0X0bmHkoU"  # an automated billing hold gone stale: auto_fixed once known


def _report(ticket: str, text: str, *, email: str = "someone@unknown.test") -> dict:
    event = load_event("ticket-no-team.json", unique=False)
    event["detail"].update({"ticket_id": ticket, "text": text, "requester_email": email})
    return event


def _reply(ticket: str, text: str, **detail: object) -> dict:
    """A normalized `Customer Replied` event on the ticket's case."""
    event = _report(ticket, text)
    event["id"] = str(uuid.uuid4())
    event["detail-type"] = "Customer Replied"
    event["detail"].update({"subject": "Re: 403 Forbidden", **detail})
    return event


def _ticket() -> str:
    return str(uuid.uuid4().int)[:9]


def test_a_needs_info_case_waits_for_the_customer_and_their_team_id_runs_it_again(app):
    ticket = _ticket()
    first = app.run(_report(ticket, "Every request returns 403 Forbidden. What is going on?"))
    assert first.outcome == "needs_info" and first.follow_ups == 0
    case = app.console.store.get(first.case_id)
    assert case.status == "awaiting_customer"  # no longer closed the moment unblock asks

    again = app.run(_reply(ticket, f"Sorry! Our team is {ACME}."))

    assert again.case_id == first.case_id
    assert again.outcome == "auto_fixed" and again.team_id == ACME and again.follow_ups == 1
    assert again.trace.states[0] == "OpenCase" and "ApplyFixes" in again.trace.states
    case = app.console.store.get(first.case_id)
    assert case.runs == 2 and case.execution_arn != first_arn(app, first.case_id)
    authors = [m.author for m in case.conversation]
    assert authors == ["unblock", "customer", "unblock"]  # asked, answered, fixed: in order


def first_arn(app, case_id: str) -> str:
    return app.console.execution_arn(case_id)


def test_a_follow_up_that_still_names_no_team_runs_nothing(app):
    ticket = _ticket()
    first = app.run(_report(ticket, "403 on everything"))
    again = app.run(_reply(ticket, "Any news? It still fails."))
    assert again.outcome == "needs_info" and again.follow_ups == 1
    case = app.console.store.get(first.case_id)
    assert case.runs == 1 and case.status == "awaiting_customer"


def test_a_redelivered_follow_up_is_taken_in_once(app):
    ticket = _ticket()
    app.run(_report(ticket, "403 on everything"))
    reply = _reply(ticket, "still failing, no idea which team")
    app.run(reply)
    again = app.run(copy.deepcopy(reply))
    assert again.follow_ups == 1


def test_needs_info_is_closed_as_stale_14_days_after_the_customers_last_message(app):
    ticket = _ticket()
    first = app.run(_report(ticket, "403 on everything"))
    app.clock.advance(timedelta(days=10))
    app.run(_reply(ticket, "hello? still failing"), at=app.clock.now())
    app.clock.advance(timedelta(days=5))  # 15 days after the report, 5 after the customer wrote
    app.recheck()
    assert app.console.store.get(first.case_id).status == "awaiting_customer"
    app.clock.advance(timedelta(days=10))
    assert app.recheck()["actions"][first.case_id] == "closed_stale"
    case = app.console.store.get(first.case_id)
    assert case.status == "closed" and case.resolution == "stale" and "14 days" in case.customer_reply


def test_a_customer_action_case_runs_again_when_the_customer_says_they_did_the_step(app):
    event = load_event("ticket-expired-card.json")
    first = app.run(event)
    assert first.outcome == "customer_action"
    team = app.platform.get_team(first.team_id)  # the customer mends the card
    seed_card_valid(app, first.team_id)
    assert team is not None

    again = app.run(_reply(event["detail"]["ticket_id"], "I updated the card, please check again.",
                           requester_email=event["detail"]["requester_email"]))

    assert again.outcome == "auto_fixed" and again.follow_ups == 1 and again.requester_verified


def seed_card_valid(app, team_id: str) -> None:
    from tests.workflow.test_recheck import _mend_card

    _mend_card(app, team_id)


def test_a_staff_case_gets_the_follow_up_in_its_evidence_and_nothing_runs(app):
    event = load_event("ticket-fraud-review.json")
    first = app.run(event)
    assert first.outcome == "escalated"
    token = app.console.store.get(first.case_id).task_token

    again = app.run(_reply(event["detail"]["ticket_id"], "Here is more context: we are a bank, please hurry.",
                           requester_email=event["detail"]["requester_email"]))

    case = app.console.store.get(first.case_id)
    assert again.follow_ups == 1 and case.runs == 1 and case.task_token == token  # the same wait
    assert case.status == "awaiting_staff"
    from unblock.workflow.states import evidence_bundle

    assert "we are a bank" in evidence_bundle(case)["conversation"][-1]["text"]
    take_human_queue_messages(app, {first.case_id})


def test_a_closed_case_that_still_fails_runs_again_and_a_thanks_does_not(app):
    event = load_event("ticket-stale-billing-hold.json")
    first = app.run(event)
    assert first.outcome == "auto_fixed"
    ticket, email = event["detail"]["ticket_id"], event["detail"]["requester_email"]

    thanks = app.run(_reply(ticket, "Thanks, all good now!", requester_email=email))
    assert thanks.follow_ups == 1 and app.console.store.get(first.case_id).runs == 1

    again = app.run(_reply(ticket, "It is failing again with 403 since an hour.", requester_email=email))
    assert again.follow_ups == 2 and app.console.store.get(first.case_id).runs == 2
    assert again.outcome == "already_working"  # checked afresh: nothing blocks the team now


def test_a_follow_up_after_14_days_opens_a_new_case(app):
    event = load_event("ticket-stale-billing-hold.json")
    first = app.run(event)
    app.clock.advance(timedelta(days=15))
    later = app.run(_reply(event["detail"]["ticket_id"], "403 Forbidden again on team " + ACME,
                           requester_email=event["detail"]["requester_email"]), at=app.clock.now())
    assert later.case_id == first.case_id + "~2" and later.follow_ups == 0
    assert later.outcome in ("already_working", "auto_fixed")
    assert app.console.store.get(first.case_id).next_case == later.case_id

"""Follow-ups reach the case (DESIGN.md "Conversations"), through the real ASL on the embedded stack:
each follow-up kind, and what a follow-up does in each state of the case."""

from __future__ import annotations

import copy
import uuid
from datetime import timedelta

from tests.support import EVENTS, load_event, take_human_queue_messages

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


def test_a_follow_up_that_still_names_no_team_is_answered_and_still_asks_for_it(app):
    ticket = _ticket()
    first = app.run(_report(ticket, "403 on everything"))
    again = app.run(_reply(ticket, "Any news? It still fails."))
    assert again.outcome == "needs_info" and again.follow_ups == 1
    assert again.customer_reply != first.customer_reply and "team ID" in again.customer_reply
    case = app.console.store.get(first.case_id)
    assert case.runs == 2 and case.status == "awaiting_customer"


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
    from unblock.workflow.steps import evidence_bundle

    assert "we are a bank" in evidence_bundle(case)["conversation"][-1]["text"]
    take_human_queue_messages(app, {first.case_id})


def test_a_closed_case_that_still_fails_runs_again_and_a_plain_thanks_does_not(app):
    event = load_event("ticket-stale-billing-hold.json")
    first = app.run(event)
    assert first.outcome == "auto_fixed"
    ticket, email = event["detail"]["ticket_id"], event["detail"]["requester_email"]

    thanks = app.run(_reply(ticket, "Thanks!", requester_email=email))
    assert thanks.follow_ups == 1 and app.console.store.get(first.case_id).runs == 1
    assert thanks.customer_reply == first.customer_reply  # nothing new to answer

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


# --- the help desks' follow-ups: signed samples in events/ -------------------------------------

def _zendesk_sample(name: str, ticket: str, **comment: object) -> dict:
    """A Zendesk delivery for another ticket, signed as Zendesk would."""
    from unblock.domain.helpdesks.zendesk import zendesk_signature
    from unblock.domain.tickets.webhooks import canonical_body
    from unblock_dev.local.stack import SAMPLE_SECRET

    sample = load_event(name, unique=False)
    sample["body"]["detail"]["id"] = ticket
    sample["body"]["subject"] = f"zen:ticket:{ticket}"
    if comment:
        sample["body"]["event"]["comment"].update(comment)
    ts = sample["headers"]["X-Zendesk-Webhook-Signature-Timestamp"]
    sample["headers"]["X-Zendesk-Webhook-Signature"] = zendesk_signature(canonical_body(sample["body"]),
                                                                         SAMPLE_SECRET, ts)
    return sample


def _discourse_sample(name: str, topic: int, **post: object) -> dict:
    from unblock.domain.helpdesks.discourse import discourse_signature
    from unblock.domain.tickets.webhooks import canonical_body
    from unblock_dev.local.stack import SAMPLE_SECRET

    sample = load_event(name, unique=False)
    if sample["body"]["post"].get("topic_archetype") == "private_message":
        sample["body"]["post"]["topic_title"] = f"About your report in topic {topic}"
        sample["body"]["post"]["topic_id"] = topic + 7
    else:
        sample["body"]["post"]["topic_id"] = topic
    sample["body"]["post"]["id"] = int(str(uuid.uuid4().int)[:8])
    sample["body"]["post"].update(post)
    sample["headers"]["X-Discourse-Event-Signature"] = discourse_signature(canonical_body(sample["body"]),
                                                                           SAMPLE_SECRET)
    return sample


def test_the_requesters_zendesk_comment_runs_a_closed_case_that_still_fails_again(app):
    ticket = _ticket()
    first = app.run(_zendesk_sample("zendesk-ticket-created.json", ticket))
    assert first.outcome == "auto_fixed"
    from unblock.domain.platform_model import Hold

    team = app.platform.get_team(ACME)  # the automated hold comes back
    app.platform.replace_team(team.model_copy(update={"billing": team.billing.model_copy(
        update={"hold": Hold(active=True, source="automated", reason="payment retry", since=app.clock.now())})}))

    again = app.run(_zendesk_sample("zendesk-comment-added.json", ticket))

    assert again.case_id == first.case_id == f"zendesk:{ticket}"
    assert again.follow_ups == 1 and again.outcome == "auto_fixed" and again.requester_verified
    assert app.console.store.get(first.case_id).runs == 2


def test_agents_private_notes_and_other_peoples_zendesk_comments_are_not_follow_ups(app):
    ticket = _ticket()
    first = app.run(_zendesk_sample("zendesk-ticket-created.json", ticket))
    for change in ({"is_public": False}, {"author": {"id": "9012345678901", "is_staff": True, "name": "unblock"}},
                   {"author": {"id": "555", "is_staff": False, "name": "A CC"}}):
        out = app.stack.invoke(app.wiring.webhooks, _request(app, _zendesk_sample("zendesk-comment-added.json", ticket,
                                                                              **change)))
        assert out["statusCode"] == 200 and "ignored" in out["body"]
    assert app.console.store.get(first.case_id).follow_ups == 0


def _request(app, sample: dict) -> dict:
    """The delivery as the Function URL passes it, the clock at its time (Zendesk's signature window)."""
    from unblock_dev.local.app import event_time, webhook_request

    app.clock.set(event_time(sample))
    return webhook_request(sample)


def test_a_zendesk_delivery_without_text_is_read_from_zendesks_api(app):
    ticket = "4740"  # the sandbox help desk holds this ticket (events/helpdesk-users.json)
    result = app.run(load_event("zendesk-ticket-created-no-text.json", unique=False))
    assert result.case_id == f"zendesk:{ticket}" and result.team_id == ACME
    assert result.requester_verified and result.outcome == "auto_fixed"
    case = app.console.store.get(result.case_id)
    assert "acme-projects" in case.report.text
    assert any(p.endswith("/api/v2/tickets/4740/comments.json") for p in app.helpdesk.looked_up)


def test_the_same_authors_next_post_in_the_topic_follows_up_their_case(app):
    topic = int(_ticket())
    first = app.run(_discourse_sample("discourse-post-created.json", topic))
    assert first.outcome == "auto_fixed"
    from unblock.domain.platform_model import Restriction

    team = app.platform.get_team(first.team_id)  # held again by the same rule
    app.platform.replace_team(team.model_copy(update={"restrictions": (Restriction(
        flag="risk_hold", source="automated", risk_score=0.2, reason="new account velocity",
        created_at=app.clock.now()),)}))

    again = app.run(_discourse_sample("discourse-reply-same-author.json", topic))

    assert again.case_id == first.case_id and again.follow_ups == 1
    assert app.console.store.get(first.case_id).runs == 2


def test_an_edit_staff_post_and_unblocks_own_post_are_not_follow_ups(app):
    topic = int(_ticket())
    first = app.run(_discourse_sample("discourse-post-created.json", topic))
    for change in ({"version": 2}, {"staff": True, "moderator": True}, {"username": "unblock"}):
        out = app.stack.invoke(app.wiring.webhooks, _request(app, _discourse_sample("discourse-reply-same-author.json",
                                                                                topic, **change)))
        assert out["statusCode"] == 200 and "ignored" in out["body"], out
    assert app.console.store.get(first.case_id).follow_ups == 0


def test_same_here_from_another_author_is_a_case_of_its_own_linked_to_the_topic(app):
    topic = int(_ticket())
    first = app.run(_discourse_sample("discourse-post-created.json", topic))
    other = app.run(_discourse_sample("discourse-same-here.json", topic))

    assert other.case_id == f"discourse:{topic}/u/noor_pxh" and other.case_id != first.case_id
    assert other.team_id == "team_VeL0c1tyWave000000000005" and other.requester_verified  # their own
    assert app.console.store.get(first.case_id).follow_ups == 0
    assert app.console.store.get(first.case_id).topic_cases == [other.case_id]
    posted = [p for p in app.helpdesk.posted if p["body"].get("topic_id") == topic]
    app.deliver_replies()
    posted = [p for p in app.helpdesk.posted if p["body"].get("topic_id") == topic]
    assert posted  # answered in the topic itself
    take_human_queue_messages(app, {other.case_id})


def test_a_forum_post_without_a_team_gets_a_private_question_and_the_answer_fixes_it(app):
    topic = int(_ticket())
    first = app.run(_discourse_sample("discourse-post-no-team.json", topic))
    assert first.outcome == "needs_info"
    case = app.console.store.get(first.case_id)
    assert "team_" not in case.customer_reply and "private message" in case.customer_reply
    assert "team ID" in case.private_reply  # the question is asked privately

    again = app.run(_discourse_sample("discourse-private-reply.json", topic))

    assert again.case_id == first.case_id and again.follow_ups == 1
    assert again.outcome == "auto_fixed" and again.team_id == "team_K3yN0tSynced000000000000"
    assert again.requester_verified and "team_" not in again.customer_reply
    case = app.console.store.get(first.case_id)
    assert [m.channel for m in case.conversation if m.author == "customer"] == ["private"]


def test_the_demo_shows_the_loop_closing_on_one_case(app):
    import io

    from unblock.domain.platform_model import load_seed_text
    from unblock_dev.demo import run_conversation_demo

    out = io.StringIO()
    rows = run_conversation_demo(app, load_seed_text((EVENTS / "platform.json").read_text()), out)

    (_, asked), (_, answered) = rows
    assert asked.outcome == "needs_info" and answered.outcome == "auto_fixed"
    assert asked.case_id == answered.case_id and answered.follow_ups == 1
    lines = out.getvalue().splitlines()
    said = [line.split(":")[0].strip() for line in lines if line.startswith("    ")]
    assert said == ["customer (public)", "unblock (private)", "unblock (public)", "customer (private)",
                    "unblock (private)", "unblock (public)"], out.getvalue()
    assert "team_K3yN0tSynced" not in "".join(line for line in lines if "unblock (public)" in line)


def test_the_console_shows_the_conversation_in_order_redacted(app):
    import re
    from datetime import timedelta as td

    from unblock.console.views import case_page

    event = load_event("ticket-fraud-review.json")
    first = app.run(event)
    secret = "vck_9fK2mZq8Lr4TtW1xYb7NcD3hJ6pS0aE5uG"
    app.clock.advance(td(minutes=5))
    app.run(_reply(event["detail"]["ticket_id"], f"More context: we use key {secret}, please hurry.",
                   requester_email=event["detail"]["requester_email"]), at=app.clock.now())
    app.clock.advance(td(minutes=5))
    app.decide(first.case_id, "resolve", actor="staff:ana")
    case = app.console.store.get(first.case_id)

    page = case_page(case, app.clock.now(), td(hours=4), path=None)

    assert secret not in page and "[REDACTED]" in page
    section = page[page.index('id="conversation"'):page.index('id="findings"')]
    who = re.findall(r'<p class="who">(\w+)', section)
    assert who == ["Customer", "Unblock", "Customer", "Staff", "Unblock"]
    assert "1 follow-up from the customer" in section
    take_human_queue_messages(app, {first.case_id})


def test_a_follow_up_redelivered_after_it_opened_a_later_case_opens_nothing_more(app):
    event = load_event("ticket-stale-billing-hold.json")
    first = app.run(event)
    app.clock.advance(timedelta(days=15))
    reply = _reply(event["detail"]["ticket_id"], "403 Forbidden again",
                   requester_email=event["detail"]["requester_email"])
    later = app.run(reply, at=app.clock.now())
    again = app.run(copy.deepcopy(reply), at=app.clock.now())
    assert again.case_id == later.case_id and again.follow_ups == 0
    assert app.console.store.get(first.case_id).next_case == later.case_id


def test_a_customer_replied_event_for_a_ticket_without_a_case_opens_one(app):
    ticket = _ticket()
    result = app.run(_reply(ticket, f"Hi, our team {ACME} gets 403 Forbidden."))
    # a normalized event no help desk produced: its own namespace (DESIGN.md "Triggers")
    assert result.case_id == f"ticket:{ticket}" and result.outcome == "auto_fixed" and result.follow_ups == 0


def test_a_follow_up_during_the_run_is_taken_in_once_the_run_ends(app, monkeypatch):
    import threading
    import time

    from unblock.handlers import diagnose

    event = load_event("ticket-expired-card.json")
    real = diagnose.check

    checked = threading.Event()

    def slow(name, case):
        finding = real(name, case)
        if name == "billing":
            checked.set()
            time.sleep(2)  # the customer mends the card and writes again while the run goes on
        return finding

    monkeypatch.setattr(diagnose, "check", slow)
    case_id = app.submit(event)
    assert checked.wait(30)  # the run found the expired card
    team_id = app.console.store.get(case_id).team_id
    seed_card_valid(app, team_id)
    app.submit(_reply(event["detail"]["ticket_id"], "I have just updated the card.",
                      requester_email=event["detail"]["requester_email"]))
    assert app.console.store.get(case_id).runs == 1  # not while the run is in flight

    result = app.console.result(app.wait(case_id))

    assert result.follow_ups == 1 and result.outcome == "auto_fixed"
    case = app.console.store.get(case_id)
    assert case.runs == 2 and case.seen_follow_ups == 1
    names = [e["name"] for e in app.console.sfn.list_executions(
        stateMachineArn=app.stack.outputs["StateMachineArn"])["executions"] if case_id.split(":")[1] in e["name"]]
    assert len(names) == 2 and len(set(names)) == 2


# --- a kept follow-up is never lost ---------------------------------------------------------------------

def _keep(app, sample: dict, reason: str) -> None:
    """The delivery as the webhook keeps one it could not take (redacted, with its reason)."""
    import json

    from unblock.adapters.dead_letters import IntakeDeadLetters

    url = app.stack.outputs["IntakeDeadLetterQueueUrl"]
    IntakeDeadLetters(app.client.sqs, url).keep(
        "zendesk", {"headers": sample["headers"], "body": json.dumps(sample["body"])}, reason, app.clock.now())


def _replayed(app) -> list:
    return [o for o in app.client.replay() if o.kind == "zendesk"]


def test_a_kept_zendesk_comment_reaches_its_case_when_replayed(app):
    ticket = _ticket()
    first = app.run(_zendesk_sample("zendesk-ticket-created.json", ticket))
    from unblock.domain.platform_model import Hold

    team = app.platform.get_team(ACME)  # the automated hold comes back, and the customer says so
    app.platform.replace_team(team.model_copy(update={"billing": team.billing.model_copy(
        update={"hold": Hold(active=True, source="automated", reason="payment retry", since=app.clock.now())})}))
    _keep(app, _zendesk_sample("zendesk-comment-added.json", ticket), "the case store did not answer")

    [outcome] = _replayed(app)

    assert outcome.ok, outcome
    case = app.wait_for(first.case_id, lambda c: c.runs == 2 and c.status == "closed")
    assert case.follow_ups == 1 and case.outcome == "auto_fixed"


def test_a_kept_delivery_without_text_stays_kept_when_replayed(app):
    import json

    from unblock.adapters.dead_letters import kept_message

    ticket = _ticket()
    sample = _zendesk_sample("zendesk-comment-added.json", ticket)
    del sample["body"]["event"]["comment"]["body"]  # only the webhook can read it from Zendesk's API
    kept = kept_message("zendesk", {"headers": sample["headers"], "body": json.dumps(sample["body"])},
                        "Zendesk comment has no body and could not be read", app.clock.now())

    # what `unblock replay` sends the intake for it: an error, so the kept message is not deleted
    answer = app.stack.invoke("IntakeFunction", {"replay": json.loads(kept)})

    assert answer["kept"] is True and "read the ticket from Zendesk" in answer["error"]

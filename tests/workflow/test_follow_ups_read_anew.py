"""Follow-ups read anew (DESIGN.md "Conversations", docs/conversations.md): real conversation
sequences played on the embedded stack, asserting what the customer notices: the outcome, a
reply that answers the latest message (never the previous one again), no team question once the
team is known, a short thanks when it works now."""

from __future__ import annotations

import uuid

from tests.support import load_event

ACME = "team_Q3xr89YFWHvqTRO0X0bmHkoU"  # an automated billing hold gone stale: auto_fixed once known
ASKS_FOR_TEAM = ("team ID", "which team")

OIDC_401 = ('Now it is different, I get: 401 {"error":{"message":"Error verifying OIDC token",'
            '"type":"authentication_error"}} from ai-gateway.vercel.sh')
RATE_LIMITED = ('Update: the 403 is gone but now every second call fails with 429 '
                '{"error":{"message":"Rate limit exceeded","type":"rate_limit_exceeded"}}')


def _ticket() -> str:
    return str(uuid.uuid4().int)[:9]


def _report(ticket: str, text: str, *, email: str = "someone@unknown.test") -> dict:
    event = load_event("ticket-no-team.json", unique=False)
    event["detail"].update({"ticket_id": ticket, "text": text, "requester_email": email})
    return event


def _reply(ticket: str, text: str, *, email: str = "someone@unknown.test") -> dict:
    """The customer's next message: a normalized `Customer Replied` event on the ticket's case."""
    event = _report(ticket, text, email=email)
    event["id"] = str(uuid.uuid4())
    event["detail-type"] = "Customer Replied"
    event["detail"]["subject"] = "Re: 403 Forbidden"
    return event


def _asks_for_team(reply: str | None) -> bool:
    return any(words in (reply or "") for words in ASKS_FOR_TEAM)


def test_a_new_error_pasted_in_a_follow_up_is_answered_for_that_error(app):
    ticket = _ticket()
    first = app.run(_report(ticket, "Every request returns 403 Forbidden. What is going on?"))
    assert first.outcome == "needs_info" and _asks_for_team(first.customer_reply)

    again = app.run(_reply(ticket, OIDC_401))

    assert again.case_id == first.case_id and again.follow_ups == 1
    assert again.outcome == "customer_action"  # the 401 needs no team: its steps answer it
    assert again.customer_reply != first.customer_reply and not _asks_for_team(again.customer_reply)
    assert "401" in again.customer_reply or "OIDC" in again.customer_reply
    assert "the error you see now" in again.customer_reply  # it answers what the follow-up added
    assert "gateway.access_denied" in again.signals  # the earlier message's signal stays the case's
    assert app.console.store.get(first.case_id).signal_codes[0] != "gateway.access_denied"  # what fails now


def test_a_429_pasted_after_the_team_was_fixed_is_answered_as_a_rate_limit(app):
    event = load_event("ticket-expired-card.json")
    ticket, email = event["detail"]["ticket_id"], event["detail"]["requester_email"]
    first = app.run(event)
    assert first.outcome == "customer_action"

    again = app.run(_reply(ticket, RATE_LIMITED, email=email))

    assert "gateway.rate_limited" in again.signals
    assert "429" in again.customer_reply and "backoff" in again.customer_reply
    assert again.customer_reply != first.customer_reply and not _asks_for_team(again.customer_reply)


def test_works_now_closes_the_case_with_a_short_thanks_and_no_question(app):
    ticket = _ticket()
    first = app.run(_report(ticket, "Every request returns 403 Forbidden. What is going on?"))

    done = app.run(_reply(ticket, "Never mind, it works now. I was using the key of my other team."))

    assert done.case_id == first.case_id and done.outcome == "already_working"
    assert "thanks" in done.customer_reply.lower() and "?" not in done.customer_reply
    assert not _asks_for_team(done.customer_reply) and len(done.customer_reply) < 200
    case = app.console.store.get(first.case_id)
    assert case.status == "closed" and case.next_check_at is None


def test_works_now_on_a_known_team_closes_it_without_applying_anything(app):
    event = load_event("ticket-expired-card.json")
    ticket, email = event["detail"]["ticket_id"], event["detail"]["requester_email"]
    first = app.run(event)
    assert first.outcome == "customer_action"

    done = app.run(_reply(ticket, "Resolved, thanks! We updated the card.", email=email))

    assert done.outcome == "already_working" and done.fixes_applied == []
    assert "thanks" in done.customer_reply.lower() and "?" not in done.customer_reply
    assert app.console.store.get(first.case_id).status == "closed"


def test_a_team_named_in_a_follow_up_is_remembered_and_never_asked_again(app):
    ticket = _ticket()
    first = app.run(_report(ticket, "Every request returns 403 Forbidden."))
    named = app.run(_reply(ticket, f"Sorry! Our team is {ACME}."))
    assert named.outcome == "auto_fixed" and named.team_id == ACME
    assert "which team to look at" in named.customer_reply  # it answers the team they gave

    again = app.run(_reply(ticket, "Hmm, it is failing again with 403 Forbidden since an hour."))

    assert again.team_id == ACME and again.follow_ups == 2
    assert not _asks_for_team(again.customer_reply)
    assert again.customer_reply != named.customer_reply != first.customer_reply
    assert app.console.store.get(first.case_id).runs == 3


def test_a_follow_up_that_adds_nothing_gets_a_new_answer_not_the_same_reply(app):
    ticket = _ticket()
    first = app.run(_report(ticket, "403 on everything"))
    nudge = app.run(_reply(ticket, "Any news? It still fails."))
    again = app.run(_reply(ticket, "Any news? It still fails."))

    assert first.outcome == nudge.outcome == again.outcome == "needs_info"
    replies = [first.customer_reply, nudge.customer_reply, again.customer_reply]
    assert len(set(replies)) == 3  # never the previous reply word for word
    assert all(_asks_for_team(r) for r in replies)  # the team is still unknown: still asked, once per reply


def test_still_fails_after_the_step_runs_it_again_and_says_so(app):
    event = load_event("ticket-expired-card.json")
    ticket, email = event["detail"]["ticket_id"], event["detail"]["requester_email"]
    first = app.run(event)

    again = app.run(_reply(ticket, "I tried that, still 403 Forbidden.", email=email))

    assert again.outcome == "customer_action" and again.follow_ups == 1
    assert "checked again" in again.customer_reply and again.customer_reply != first.customer_reply
    assert app.console.store.get(first.case_id).runs == 2


def test_works_now_after_a_fix_closes_it_already_working_with_a_thanks_on_the_ticket(app):
    from tests.workflow.test_conversations import _zendesk_sample

    ticket = _ticket()
    first = app.run(_zendesk_sample("zendesk-ticket-created.json", ticket))
    assert first.outcome == "auto_fixed"
    app.deliver_replies()

    done = app.run(_zendesk_sample("zendesk-comment-added.json", ticket, body="Confirmed, works again. Thanks a lot!"))

    assert done.outcome == "already_working" and done.follow_ups == 1 and done.fixes_applied == []
    assert done.customer_reply != first.customer_reply and "thanks" in done.customer_reply.lower()
    assert "?" not in done.customer_reply
    assert [f.fix for f in app.console.store.get(first.case_id).fixes] == first.fixes_applied  # the audit stays
    app.deliver_replies()
    said = [p["body"]["ticket"]["comment"]["body"] for p in app.helpdesk.posted
            if p["path"] == f"/api/v2/tickets/{ticket}.json" and p["body"].get("ticket", {}).get("comment", {}).get(
                "public")]
    assert said[-1] == done.customer_reply  # the thanks reached the ticket


# --- the help desks' own conversations -------------------------------------------------------------

def test_a_zendesk_comment_after_the_14_days_opens_a_verified_case_for_the_same_team(app):
    from datetime import timedelta

    from tests.workflow.test_conversations import _zendesk_sample

    ticket = _ticket()
    first = app.run(_zendesk_sample("zendesk-ticket-created.json", ticket))
    assert first.requester_verified and first.team_id == ACME
    app.clock.advance(timedelta(days=15))
    comment = _zendesk_sample("zendesk-comment-added.json", ticket,
                              body="Hi again, we get 403 Forbidden on every request since this morning.")
    when = app.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    comment["body"]["time"] = comment["headers"]["X-Zendesk-Webhook-Signature-Timestamp"] = when
    _resign(comment)

    later = app.run(comment, at=app.clock.now())

    assert later.case_id == f"zendesk:{ticket}~2"
    assert later.requester_verified and later.team_id == ACME  # looked up as on ticket.created
    assert not _asks_for_team(later.customer_reply)


def _resign(sample: dict) -> None:
    from unblock.domain.helpdesks.zendesk import zendesk_signature
    from unblock.domain.tickets.webhooks import canonical_body
    from unblock_dev.local.stack import SAMPLE_SECRET

    ts = sample["headers"]["X-Zendesk-Webhook-Signature-Timestamp"]
    sample["headers"]["X-Zendesk-Webhook-Signature"] = zendesk_signature(canonical_body(sample["body"]),
                                                                         SAMPLE_SECRET, ts)


def _discourse(name: str, topic: int, **post: object) -> dict:
    """A Discourse delivery of a sample, for another topic, signed as Discourse would."""
    from unblock.domain.helpdesks.discourse import discourse_signature
    from unblock.domain.tickets.webhooks import canonical_body
    from unblock_dev.local.stack import SAMPLE_SECRET

    sample = load_event(name, unique=False)
    sample["body"]["post"].update({"topic_id": topic, "id": int(str(uuid.uuid4().int)[:8]), **post})
    sample["headers"]["X-Discourse-Event-Signature"] = discourse_signature(canonical_body(sample["body"]),
                                                                           SAMPLE_SECRET)
    return sample


def _addressed(app, topic: int, users: list[str], groups: list[str]) -> None:
    app.helpdesk.messages[str(topic)] = {"topic_id": topic, "allowed_users": users, "allowed_groups": groups}


def test_a_private_message_to_staff_opens_a_case_answered_in_the_message(app):
    topic = int(_ticket())
    _addressed(app, topic, ["eli_edge"], ["staff"])

    result = app.run(_discourse("discourse-private-message-to-staff.json", topic))

    assert result.case_id == f"discourse:{topic}"
    assert result.outcome == "auto_fixed" and result.requester_verified  # eli_edge's email is a member's
    assert result.team_id == "team_K3yN0tSynced000000000000"
    app.deliver_replies()
    [posted] = [p["body"] for p in app.helpdesk.posted if p["body"].get("topic_id") == topic]
    assert "fixed" in posted["raw"]  # answered in the private message itself, with the specifics
    assert not any(p["body"].get("archetype") == "private_message" for p in app.helpdesk.posted
                   if str(topic) in str(p["body"].get("title", "")))  # no second private message about it


def test_the_requesters_next_post_in_their_private_message_follows_up_its_case(app):
    topic = int(_ticket())
    _addressed(app, topic, ["eli_edge"], ["staff"])
    first = app.run(_discourse("discourse-private-message-to-staff.json", topic))

    done = app.run(_discourse("discourse-private-message-to-staff.json", topic, post_number=2,
                              raw="It works now, thanks a lot!"))

    assert done.case_id == first.case_id and done.follow_ups == 1 and done.outcome == "already_working"
    assert "thanks" in done.customer_reply.lower()
    app.deliver_replies()
    assert [p["body"]["raw"] for p in app.helpdesk.posted if p["body"].get("topic_id") == topic][-1] \
        == done.customer_reply  # answered in the private message


def test_a_private_message_between_customers_or_a_staff_answer_in_one_opens_nothing(app):
    topic = int(_ticket())
    _addressed(app, topic, ["eli_edge", "lena_v"], [])  # two customers writing to each other
    out = app.stack.invoke(app.wiring.webhooks, _webhook(app, _discourse("discourse-private-message-to-staff.json",
                                                                         topic)))
    assert out["statusCode"] == 200 and "not addressed to staff" in out["body"]
    assert app.console.store.get(f"discourse:{topic}") is None

    staff_topic = int(_ticket())
    _addressed(app, staff_topic, ["eli_edge"], ["staff"])
    app.run(_discourse("discourse-private-message-to-staff.json", staff_topic))
    by_staff = _discourse("discourse-private-message-to-staff.json", staff_topic, post_number=2, username="ana",
                          staff=True, moderator=True, raw="Looking into it.")
    out = app.stack.invoke(app.wiring.webhooks, _webhook(app, by_staff))
    assert out["statusCode"] == 200 and "ignored" in out["body"]
    assert app.console.store.get(f"discourse:{staff_topic}").follow_ups == 0


def _webhook(app, sample: dict) -> dict:
    from unblock_dev.local.app import event_time, webhook_request

    app.clock.set(event_time(sample))
    return webhook_request(sample)


def test_someone_elses_same_here_on_a_ticket_is_their_own_case(app):
    ticket = _ticket()
    first = app.run(_report(ticket, f"Every request of team {ACME} returns 403 Forbidden.",
                            email="dev@acme.test"))
    assert first.outcome == "auto_fixed"

    other = app.run(_reply(ticket, "Same here, 403 Forbidden on all our calls.", email="someone@elsewhere.test"))

    assert other.case_id != first.case_id and other.case_id.startswith(first.case_id + "/r/")
    assert "elsewhere" not in other.case_id  # no address in a case id (nor in an execution name)
    assert other.outcome == "needs_info" and other.team_id is None and not other.requester_verified
    assert "case of its own" in other.customer_reply  # not the first requester's answer
    assert app.console.store.get(first.case_id).follow_ups == 0  # the first requester's case is untouched
    again = app.run(_reply(ticket, f"Our team is {ACME}", email="someone@elsewhere.test"))
    assert again.case_id == other.case_id and again.follow_ups == 1 and not again.requester_verified


def test_a_new_error_after_a_request_id_is_answered_for_the_new_error_not_the_logged_refusal(app):
    event = load_event("ticket-request-id.json")  # the gateway's log names the team and its 403
    ticket, email = event["detail"]["ticket_id"], event["detail"]["requester_email"]
    first = app.run(event)
    assert "gateway.access_denied" in first.signals and first.team_id is not None

    again = app.run(_reply(ticket, RATE_LIMITED, email=email))

    assert again.team_id == first.team_id  # still identified by the request log
    assert again.signals[0] == "gateway.rate_limited" and "429" in again.customer_reply
    assert again.outcome == "customer_action" and not _asks_for_team(again.customer_reply)


def test_still_fails_after_the_customers_own_steps_asks_for_the_failing_request_not_the_steps_again(app):
    ticket = _ticket()
    report = _report(ticket, 'Every second call fails with 429 {"error":{"message":"Rate limit exceeded",'
                             '"type":"rate_limit_exceeded"}}')
    report["detail"]["subject"] = "429 on half of our calls"
    first = app.run(report)
    assert first.outcome == "customer_action" and "backoff" in first.customer_reply

    again = app.run(_reply(ticket, "I added backoff as you said, still fails with the same error."))

    assert again.outcome == "customer_action" and again.follow_ups == 1
    assert again.customer_reply.startswith("Sorry it still fails")  # it moves on: the failing request itself
    assert "X-Vercel-Id" in again.customer_reply and not _asks_for_team(again.customer_reply)

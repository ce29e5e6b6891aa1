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


def test_works_now_after_a_fix_gets_a_thanks_not_the_fix_reply_again(app):
    event = load_event("ticket-stale-billing-hold.json")
    ticket, email = event["detail"]["ticket_id"], event["detail"]["requester_email"]
    first = app.run(event)
    assert first.outcome == "auto_fixed"

    done = app.run(_reply(ticket, "It works now, thank you!", email=email))

    assert done.outcome == "already_working" and done.fixes_applied == []
    assert done.customer_reply != first.customer_reply and "thanks" in done.customer_reply.lower()
    assert "?" not in done.customer_reply


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
    from unblock.domain.tickets.webhooks import canonical_body, zendesk_signature
    from unblock_dev.local.stack import SAMPLE_SECRET

    ts = sample["headers"]["X-Zendesk-Webhook-Signature-Timestamp"]
    sample["headers"]["X-Zendesk-Webhook-Signature"] = zendesk_signature(canonical_body(sample["body"]),
                                                                         SAMPLE_SECRET, ts)

"""Each run takes the stack's mode when it starts (DESIGN.md "Modes"; issue 35 item 1): a shadow stack
changes nothing and tells no one whatever mode the case was opened in, and a live stack answers every
case it runs, one opened in shadow included. The first tests are the red team's two attacks."""

from __future__ import annotations

import argparse
import io
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.support import load_event, take_human_queue_messages
from tests.workflow.test_recheck import _mend_card

# Cases open on a day before every other module's (test_recheck.py's included): a re-check pass reads
# every due case on the session's stack, and only this module's are due on it.
DAY = datetime(2026, 9, 1, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def on_the_modules_day(app):  # type: ignore[no-untyped-def]
    app.clock.set(DAY)


def _posted(app, ticket: str) -> list[dict]:
    """What reached the help desk for the ticket so far (every queued reply delivered first)."""
    app.deliver_replies()
    return [p for p in app.helpdesk.posted if f"/tickets/{ticket}.json" in p["path"]]


def _reply(event: dict, text: str) -> dict:
    """The customer's `Customer Replied` event on the ticket's case."""
    reply = load_event("ticket-no-team.json", unique=False)
    reply["id"] = str(uuid.uuid4())
    reply["detail-type"] = "Customer Replied"
    reply["detail"].update({"ticket_id": event["detail"]["ticket_id"], "text": text, "subject": "Re: 403",
                            "requester_email": event["detail"]["requester_email"]})
    return reply


# --- the attacks ------------------------------------------------------------------------------------
def test_a_shadow_stack_rechecking_a_case_opened_live_clears_no_hold_and_tells_no_one(app):
    event = load_event("ticket-expired-card.json")
    opened = app.run(event, at=DAY)
    assert (opened.mode, opened.outcome) == ("live", "customer_action")
    ticket = event["detail"]["ticket_id"]
    told = len(_posted(app, ticket))
    _mend_card(app, opened.team_id)  # the automated hold is stale now: a live re-check would clear it

    with app.mode("shadow"):
        app.clock.advance(timedelta(minutes=16))
        assert app.recheck()["actions"][opened.case_id] == "held_shadow"

        case = app.client.store.get(opened.case_id)
        assert app.platform.get_team(opened.team_id).billing.hold.active  # the hold stays on
        assert (case.status, case.runs, case.fixes_applied) == ("awaiting_customer", 1, [])
        assert len(_posted(app, ticket)) == told  # nobody was told anything

    # live again: the next pass does what the shadow one held back
    app.clock.advance(timedelta(hours=1))
    assert app.recheck()["actions"][opened.case_id] == "rerun"
    case = app.wait_for(opened.case_id, lambda c: c.status == "closed")
    assert case.outcome == "auto_fixed" and case.modes == ["live", "live"]
    assert not app.platform.get_team(opened.team_id).billing.hold.active


def test_a_shadow_stack_rechecking_closes_nothing_and_completes_no_staff_task(app):
    card = app.run(load_event("ticket-free-tier-no-card.json"), at=DAY)
    review = app.run(load_event("ticket-fraud-review.json"), at=DAY)
    assert (card.outcome, review.outcome) == ("customer_action", "escalated")
    _mend_card(app, card.team_id)  # access is back: live, the re-check would close it with a reply
    team = app.platform.get_team(review.team_id)
    app.platform.replace_team(team.model_copy(update={"restrictions": ()}))  # staff mended it by hand
    token = app.client.store.get(review.case_id).task_token
    try:
        with app.mode("shadow"):
            app.clock.advance(timedelta(minutes=16))
            actions = app.recheck()["actions"]

            assert actions[card.case_id] == actions[review.case_id] == "held_shadow"
            assert app.client.store.get(card.case_id).status == "awaiting_customer"
            staff_case = app.client.store.get(review.case_id)
            assert (staff_case.status, staff_case.task_token) == ("awaiting_staff", token)  # still waits
            assert app.client.execution_status(review.case_id) == "RUNNING"
    finally:
        take_human_queue_messages(app, {review.case_id})


def test_a_live_follow_up_on_a_case_opened_in_shadow_answers_the_customer(app):
    event = load_event("ticket-stale-billing-hold.json")
    with app.mode("shadow"):
        shadow = app.run(event)
    assert (shadow.mode, shadow.outcome, shadow.customer_reply) == ("shadow", None, None)
    assert app.platform.get_team(shadow.team_id).billing.hold.active

    again = app.run(_reply(event, "Any news? Still 403 on every call."))

    assert again.case_id == shadow.case_id and again.mode == "live"
    assert again.outcome == "auto_fixed" and again.fixes_applied == ["clear_billing_hold"] and again.customer_reply
    assert not app.platform.get_team(shadow.team_id).billing.hold.active
    case = app.client.store.get(shadow.case_id)
    assert case.modes == ["shadow", "live"] and case.resolution == "verified"
    assert [m.text for m in case.conversation if m.author == "unblock"] == [again.customer_reply]


def test_any_follow_up_on_a_shadow_case_runs_it_the_customer_was_never_answered(app):
    event = load_event("ticket-stale-billing-hold.json")
    with app.mode("shadow"):
        shadow = app.run(event)

    again = app.run(_reply(event, "Hello? Any update on this?"))  # no failure word: still never answered

    assert again.outcome == "auto_fixed" and app.client.store.get(shadow.case_id).runs == 2


def test_a_follow_up_on_a_live_case_while_the_stack_is_in_shadow_changes_nothing(app):
    event = load_event("ticket-expired-card.json")
    opened = app.run(event, at=DAY)
    assert opened.outcome == "customer_action"
    _mend_card(app, opened.team_id)

    with app.mode("shadow"):
        held = app.run(_reply(event, "I updated the card, please check again."))

    assert (held.mode, held.outcome, held.customer_reply, held.fixes_applied) == ("shadow", None, None, [])
    assert held.shadow["outcome"] == "auto_fixed" and held.shadow["fixes"] == ["clear_billing_hold"]
    assert app.platform.get_team(opened.team_id).billing.hold.active

    answered = app.run(_reply(event, "Still failing with 403?"))  # live again: this run answers
    assert (answered.mode, answered.outcome) == ("live", "auto_fixed")
    assert app.client.store.get(opened.case_id).modes == ["live", "shadow", "live"]


# --- staff decisions take the stack's mode too ------------------------------------------------------
def test_a_shadow_stack_refuses_staff_decisions_from_every_door(app):
    from unblock.domain.modes import ShadowStack

    review = app.run(load_event("ticket-fraud-review.json"), at=DAY)
    try:
        with app.mode("shadow"):
            with pytest.raises(ShadowStack, match="shadow mode"):
                app.client.decide(review.case_id, "resolve", "staff:alice")
            answer = _console_decision(app, review.case_id)
            assert answer["statusCode"] == 422 and "shadow mode" in answer["body"]
            assert app.client.store.get(review.case_id).status == "awaiting_staff"
        done = app.decide(review.case_id, "reject", actor="staff:alice")  # live again: decided
        assert done.outcome == "escalated" and app.client.store.get(review.case_id).resolution == "rejected"
    finally:
        take_human_queue_messages(app, {review.case_id})


def _console_decision(app, case_id: str) -> dict:
    import json
    from urllib.parse import quote

    from unblock_dev.console_server import http_api_event

    body = json.dumps({"decision": "resolve", "note": "mended by hand"}).encode()
    return app.stack.invoke("ConsoleFunction", http_api_event(
        "POST", f"/api/cases/{quote(case_id, safe='')}/decision", "", {"content-type": "application/json"}, body,
        {"sub": "staff-1", "email": "alice@example.test"}))


# --- the kill switch ----------------------------------------------------------------------------------
def test_unblock_mode_flips_the_stack_while_cases_run_and_the_next_run_obeys(app):
    from unblock_dev.commands.mode import cmd_mode

    def mode(value: str | None) -> str:
        out = io.StringIO()
        args = argparse.Namespace(mode=value, stack=None, actor="staff:oncall", note="a fix misbehaves")
        assert cmd_mode(args, out, client=app.client) == 0
        return out.getvalue()

    assert mode(None).startswith("live:")
    first = load_event("ticket-stale-billing-hold.json")
    running = app.submit(first)  # a case runs while on-call flips the switch
    app.wait_for(running, lambda c: bool(c.modes))  # its run has started (live)
    try:
        assert mode("shadow").startswith("live -> shadow by staff:oncall")
        later = app.run(load_event("ticket-entitlement-off.json"))  # another team's fix
        assert (later.mode, later.outcome, later.fixes_applied) == ("shadow", None, [])
        assert later.shadow["outcome"] == "auto_fixed"
        assert app.platform.get_team(later.team_id).entitlements.ai_gateway is False  # nothing changed
        assert mode(None).startswith("shadow:") and "staff:oncall: live -> shadow (a fix misbehaves)" in mode(None)
    finally:
        mode("live")
    started = app.wait(running)
    assert started.modes == ["live"] and started.outcome == "auto_fixed"  # the run in flight kept its mode
    now_live = app.run(load_event("ticket-entitlement-off.json"))  # the next run after the switch back: live
    assert (now_live.mode, now_live.outcome) == ("live", "auto_fixed")


def test_a_switch_is_audited_and_told_to_staff(app):
    from tests.workflow.test_staff_alerts import _topic_messages

    read = next(_topic_messages(app))
    with app.mode("approval", actor="staff:bob"):
        change = app.client.modes.changes(limit=1)[0]
        assert (change.actor, change.was, change.now) == ("staff:bob", "live", "approval")
        assert change.at == app.clock.now()
        assert app.client.switch_mode("approval", "staff:bob") is None  # already approval: nothing to audit
    assert app.client.modes.changes(limit=1)[0].now == "live"
    subjects = [m["Subject"] for m in read()]
    assert subjects == ["[unblock] staff:bob switched the stack from live to approval",
                        "[unblock] staff:bob switched the stack from approval to live"]


# --- the console's Mode page ----------------------------------------------------------------------
ADMIN = {"sub": "admin-1", "email": "dana@example.test", "email_verified": "true",
         "cognito:groups": "[support unblock-admins]"}  # API Gateway hands a list claim over as a string
STAFF = {"sub": "staff-1", "email": "alice@example.test", "email_verified": "true", "cognito:groups": "[support]"}


def _console(app, method: str, path: str, claims: dict, body: bytes = b"") -> dict:
    from unblock_dev.console_server import http_api_event

    return app.stack.invoke("ConsoleFunction", http_api_event(
        method, path, "", {"content-type": "application/x-www-form-urlencoded"}, body, claims))


def test_an_admin_switches_the_mode_in_the_console_audited_and_others_only_see_it(app):
    refused = _console(app, "POST", "/api/mode", STAFF, b"mode=shadow&note=just+trying")
    assert refused["statusCode"] == 403 and "only admins" in refused["body"]
    assert app.client.mode() == "live"
    page = _console(app, "GET", "/pages/mode", STAFF)["body"]
    assert "Mode: live" in page and "Only admins" in page and "Switch to shadow" not in page

    try:
        done = _console(app, "POST", "/api/mode", ADMIN, b"mode=shadow&note=a+fix+misbehaves")
        assert done["statusCode"] == 200 and "Switched from live to shadow by dana@example.test" in done["body"]
        assert app.client.mode() == "shadow"
        shadow = app.run(load_event("ticket-stale-billing-hold.json"))  # the next run obeys
        assert (shadow.mode, shadow.outcome) == ("shadow", None)

        page = _console(app, "GET", "/pages/mode", ADMIN)["body"]
        assert "Mode: shadow" in page and "Switch to live" in page and "Switch to shadow" not in page
        assert "dana@example.test" in page and "a fix misbehaves" in page  # the audit: who, from, to, why
        bad = _console(app, "POST", "/api/mode", ADMIN, b"mode=off")
        assert bad["statusCode"] == 400 and "mode" in bad["body"]
    finally:
        _console(app, "POST", "/api/mode", ADMIN, b"mode=live")
    assert app.client.mode() == "live"
    case_page = _console(app, "GET", f"/pages/cases/{shadow.case_id.replace(':', '%3A')}", STAFF)["body"]
    assert "run 1: shadow" in case_page  # the case shows the mode its run used


def test_a_switch_by_another_writer_reaches_a_function_once_its_short_cache_expires(app):
    """Each container caches the mode briefly (MODE_MAX_AGE, 30 s: every function obeys within a minute);
    here a 1 s cache, and an operator's own `aws ssm put-parameter`."""
    import time

    import boto3

    from unblock.adapters.ssm_mode import MODE_MAX_AGE, SsmModeSwitch
    from unblock.domain.modes import UnknownMode

    assert MODE_MAX_AGE <= 30
    name = app.stack.outputs["ModeParameterName"]
    function = SsmModeSwitch(name, app.client.store._table, max_age=1)
    assert function.current(fresh=True) == "live"
    boto3.client("ssm").put_parameter(Name=name, Value="approval", Type="String", Overwrite=True)
    try:
        assert function.current() == "live"  # still cached
        time.sleep(1.1)
        assert function.current() == "approval"
        boto3.client("ssm").put_parameter(Name=name, Value="shadw", Type="String", Overwrite=True)
        with pytest.raises(UnknownMode, match="shadw"):  # a typo never runs live: every run fails loudly
            function.current(fresh=True)
    finally:
        boto3.client("ssm").put_parameter(Name=name, Value="live", Type="String", Overwrite=True)
        app.client.mode()  # this process's cache, fresh again

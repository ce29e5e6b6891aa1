"""Staff decide from Slack: signed clicks from a local Slack stand-in reach the SlackActionsFunction,
take the console's decision path, and update the alert in place."""

from __future__ import annotations

import json
import time

import pytest

from tests.support import load_event, take_human_queue_messages
from unblock.domain import slack
from unblock.domain.staff_alerts import alert_for
from unblock_dev.local.stack import SAMPLE_SECRET
from unblock_dev.slack import SlackStandIn

ALLOWED = "U0ALICE"


@pytest.fixture
def standin(monkeypatch):
    monkeypatch.setenv("SLACK_ALLOWED_USERS", f"{ALLOWED},U0BOB")
    s = SlackStandIn().start()
    yield s
    s.stop()


def _click(app, standin, case_id, decision, user=ALLOWED, **kw):
    """A click on the case's latest alert (its buttons name the proposal they show), unless `proposal` says."""
    if "proposal" not in kw:
        kw["proposal"] = app.client.store.get(case_id).proposal_id
    event, path = standin.click_request(case_id, decision, user, SAMPLE_SECRET, user_name="alice", **kw)
    started = time.monotonic()
    answer = app.stack.invoke("SlackActionsFunction", event)
    return answer, path, time.monotonic() - started


def test_the_alert_is_block_kit_with_buttons_a_link_and_a_confirmation_for_a_lift(app):
    result = app.run(load_event("ticket-high-risk-hold.json"))
    case = app.client.store.get(result.case_id)
    message = slack.alert_message(alert_for(case, "escalated", "https://console.test/"))

    [actions] = [b for b in message["blocks"] if b["type"] == "actions"]
    by_id = {e["action_id"]: e for e in actions["elements"]}
    assert set(by_id) == {"unblock_approve", "unblock_resolve", "unblock_reject", "unblock_open"}
    assert by_id["unblock_approve"]["confirm"]["confirm"]["text"] == "Lift it"  # a lift asks first
    assert by_id["unblock_open"]["url"].startswith("https://console.test/cases/")
    assert all(slack.parse_action({"payload": [json.dumps({
        "type": "block_actions", "user": {"id": "U1"}, "response_url": "https://hooks.slack.com/a",
        "actions": [e]})]}).case_id == result.case_id for k, e in by_id.items() if k != "unblock_open")


def test_an_allowed_user_approves_from_slack_and_the_message_says_who(app, standin):
    result = app.run(load_event("ticket-high-risk-hold.json"))

    answer, path, took = _click(app, standin, result.case_id, "approve")

    assert answer["statusCode"] == 200 and took < 3
    closed = app.wait_for(result.case_id, lambda c: c.status == "closed")
    assert closed.outcome == "auto_fixed"
    assert closed.decisions[-1].actor == f"slack:{ALLOWED} (alice)"
    [update] = standin.responses(path)
    assert update["replace_original"] is True and f"<@{ALLOWED}>" in update["blocks"][0]["text"]["text"]


@pytest.mark.parametrize("decision", ["resolve", "reject"])
def test_resolve_and_reject_from_slack(app, standin, decision):
    result = app.run(load_event("ticket-fraud-review.json"))

    _click(app, standin, result.case_id, decision)

    closed = app.wait_for(result.case_id, lambda c: c.status == "closed")
    assert closed.resolution == {"resolve": "resolved", "reject": "rejected"}[decision]
    assert closed.decisions[-1].decision == decision


def test_an_unknown_user_is_told_no_ephemerally_and_nothing_changes(app, standin):
    result = app.run(load_event("ticket-fraud-review.json"))

    _, path, _ = _click(app, standin, result.case_id, "resolve", user="U0MALLORY")

    [reply] = standin.responses(path)
    assert reply["response_type"] == "ephemeral" and "not allowed" in reply["text"]
    assert app.client.store.get(result.case_id).status == "awaiting_staff"


def test_a_click_on_the_console_link_is_answered_200_and_changes_nothing(app, standin):
    """Slack posts a link button's click too, and shows a warning unless it gets a 200."""
    result = app.run(load_event("ticket-fraud-review.json"))
    link = f"https://console.test/cases/{result.case_id}"

    answer, path, took = _click(app, standin, result.case_id, "open", link=link)
    forged, _, _ = _click(app, standin, result.case_id, "open", link=link, forge=True)

    assert answer["statusCode"] == 200 and took < 3
    assert forged["statusCode"] == 401  # still only Slack's own requests
    assert standin.responses(path) == []  # no decision ran, so no message update
    case = app.client.store.get(result.case_id)
    assert case.status == "awaiting_staff" and case.decisions == []


@pytest.mark.parametrize("how", ["forged", "replayed"])
def test_a_forged_or_replayed_request_is_refused(app, standin, how):
    result = app.run(load_event("ticket-fraud-review.json"))
    kw = {"forge": True} if how == "forged" else {"timestamp": int(time.time()) - 6 * 60}

    answer, path, _ = _click(app, standin, result.case_id, "resolve", **kw)

    assert answer["statusCode"] == 401 and standin.responses(path) == []
    assert app.client.store.get(result.case_id).status == "awaiting_staff"


def test_a_click_after_the_console_decided_is_refused_in_slack(app, standin):
    result = app.run(load_event("ticket-fraud-review.json"))
    app.client.decide(result.case_id, "reject", "carol@example.test", "console first")  # the console wins the race

    _, path, _ = _click(app, standin, result.case_id, "resolve")

    [reply] = standin.responses(path)
    assert reply["replace_original"] is False and "already decided" in reply["text"]
    assert "reject by carol@example.test" in reply["text"]
    closed = app.wait_for(result.case_id, lambda c: c.status == "closed")
    assert closed.resolution == "rejected" and len(closed.decisions) == 1


def test_a_stale_case_is_refused(app, standin):
    result = app.run(load_event("ticket-stale-billing-hold.json"))  # closed: nobody waits

    _, path, _ = _click(app, standin, result.case_id, "approve")

    [reply] = standin.responses(path)
    assert "not waiting for staff" in reply["text"]


def test_a_click_racing_the_console_decides_once(app, standin):
    import threading

    result = app.run(load_event("ticket-fraud-review.json"))
    outcomes: dict[str, object] = {}

    def console() -> None:
        try:
            app.client.decide(result.case_id, "reject", "carol@example.test", "console")
            outcomes["console"] = "decided"
        except Exception as err:  # noqa: BLE001 - the loser's refusal is what is compared
            outcomes["console"] = type(err).__name__

    racer = threading.Thread(target=console)
    racer.start()
    _, path, _ = _click(app, standin, result.case_id, "resolve")
    racer.join()

    closed = app.wait_for(result.case_id, lambda c: c.status == "closed")
    assert len(closed.decisions) == 1  # one claim won, the other was refused
    [reply] = standin.responses(path)
    slack_won = reply.get("replace_original") is True
    assert slack_won == (outcomes["console"] in ("AlreadyDecided", "StaleDecision"))
    assert closed.decisions[0].actor == (f"slack:{ALLOWED} (alice)" if slack_won else "carol@example.test")


def test_a_signed_payload_nested_too_deep_is_a_clear_400_not_a_crash(app, standin):
    from urllib.parse import urlencode

    deep = "[" * 5000 + "]" * 5000  # under Slack's 64 KiB; json.loads would raise RecursionError
    body = urlencode({"payload": deep})
    ts = str(int(time.time()))
    event = {"version": "2.0", "rawPath": "/", "body": body, "isBase64Encoded": False,
             "requestContext": {"http": {"method": "POST", "path": "/"}},
             "headers": {"content-type": "application/x-www-form-urlencoded", "x-slack-request-timestamp": ts,
                         "x-slack-signature": slack.signature(SAMPLE_SECRET, ts, body.encode())}}

    answer = app.stack.invoke("SlackActionsFunction", event)

    assert answer["statusCode"] == 400
    assert "nests deeper than 32 levels" in answer["body"]


def test_an_older_alerts_button_decides_nothing_once_a_later_run_proposed_again(app, standin):
    # the red team: an older alert's Approve button approved what a later run of the same case proposed
    event = load_event("ticket-high-risk-hold.json")
    first = app.run(event)
    drawn_from = app.client.store.get(first.case_id).proposal_id  # what the first alert's buttons carry
    app.client.decide(first.case_id, "resolve", "carol@example.test", "told them to wait")
    app.wait_for(first.case_id, lambda c: c.status == "closed")
    again = dict(event, id=f"{event['id']}-again", **{"detail-type": "Customer Replied"})
    again["detail"] = {**event["detail"], "text": "It still fails with 403, same as before."}
    app.run(again)
    waiting = app.wait_for(first.case_id, lambda c: c.status == "awaiting_staff")
    assert waiting.proposal_id != drawn_from and waiting.runs == 2

    _, path, _ = _click(app, standin, first.case_id, "approve", proposal=drawn_from)

    [reply] = standin.responses(path)
    assert "this case changed: see the latest alert" in reply["text"] and reply["replace_original"] is False
    case = app.client.store.get(first.case_id)
    assert case.status == "awaiting_staff" and len(case.decisions) == 1  # only the console's resolve
    assert any(r.flag == "risk_hold" for r in app.platform.get_restrictions(first.team_id))  # nothing lifted

    _, path, _ = _click(app, standin, first.case_id, "approve", proposal=None)  # a button naming no proposal
    [reply] = standin.responses(path)
    assert "this case changed: see the latest alert" in reply["text"]
    take_human_queue_messages(app, {first.case_id})
    app.client.decide(first.case_id, "reject", "carol@example.test", "cleanup")

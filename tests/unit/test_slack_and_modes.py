"""Slack's request signature and the Mode parameter, without a stack."""

from __future__ import annotations

import json

import pytest

from unblock.domain import slack

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BODY = b"payload=%7B%7D"


def test_a_request_signed_now_passes_and_anything_else_is_refused():
    ts = "1764151200"
    sig = slack.signature(SECRET, ts, BODY)
    assert sig.startswith("v0=") and len(sig) == 67
    slack.verify(SECRET, ts, BODY, sig, now=1764151200 + 299)
    with pytest.raises(slack.SlackRequestRefused, match="5 minutes"):
        slack.verify(SECRET, ts, BODY, sig, now=1764151200 + 301)  # a replay
    with pytest.raises(slack.SlackRequestRefused, match="does not match"):
        slack.verify(SECRET, ts, BODY + b"x", sig, now=1764151200)  # the body changed
    with pytest.raises(slack.SlackRequestRefused, match="does not match"):
        slack.verify(SECRET, ts, BODY, sig.upper(), now=1764151200)
    with pytest.raises(slack.SlackRequestRefused, match="no signing secret"):
        slack.verify("", ts, BODY, sig, now=1764151200)


def test_only_unblocks_buttons_are_read():
    click = {"type": "block_actions", "user": {"id": "U1", "username": "ann"}, "response_url": "https://hooks.slack.com/a",
             "actions": [{"action_id": "unblock_resolve", "value": "zendesk:1", "type": "button"}]}
    action = slack.parse_action({"payload": [json.dumps(click)]})
    assert action is not None
    assert (action.decision, action.case_id, action.actor) == ("resolve", "zendesk:1", "slack:U1 (ann)")
    link = {"action_id": "unblock_open", "type": "button", "url": "https://console.test/cases/zendesk%3A1"}
    assert slack.parse_action({"payload": [json.dumps({**click, "actions": [link]})]}) is None  # nothing to decide
    for bad in ({**click, "type": "view_submission"}, {**click, "response_url": "http://evil.test/"},
                {**click, "actions": [{"action_id": "other", "value": "x"}]},
                {**click, "actions": [{**link, "type": "static_select"}]}):
        with pytest.raises(slack.SlackRequestRefused):
            slack.parse_action({"payload": [json.dumps(bad)]})


@pytest.mark.parametrize(("parameters", "mode"), [
    ({}, "live"), ({"DryRun": "true"}, "approval"), ({"Mode": "shadow", "DryRun": "true"}, "shadow"),
    ({"Mode": "approval"}, "approval"), ({"Mode": "approval", "DryRun": "false"}, "approval")])
def test_the_stack_starts_in_its_mode_and_its_older_parameter_means_approval(parameters, mode):
    """template.yaml's ModeParameter starts at Mode, or approval when the operator says DryRun=true."""
    from tests.support import ROOT
    from unblock_dev.local.template import Resolver, load_template

    template = load_template(ROOT / "template.yaml")
    resolver = Resolver(template, parameters, "s", "us-east-1", "123456789012")
    assert resolver.resolve(template["Resources"]["ModeParameter"]["Properties"]["Value"]) == mode


def test_a_misspelt_mode_never_runs_live():
    from unblock.domain.modes import UnknownMode, parse_mode

    assert parse_mode(" Shadow\n") == "shadow"
    with pytest.raises(UnknownMode, match="'shadw'"):
        parse_mode("shadw")


def test_a_decision_that_fails_is_reported_in_slack_and_raised_for_lambda_to_retry():
    from datetime import UTC, datetime

    from unblock.domain.cases import Case
    from unblock.domain.models import Report
    from unblock.workflow.slack_actions import carry_out
    from unblock_dev.clock import FixedClock

    now = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
    case = Case(case_id="zendesk:1", status="awaiting_staff", task_token="tok", created_at=now, updated_at=now,
                report=Report(case_id="zendesk:1", source="zendesk"))

    class Store:
        def __init__(self) -> None:
            self.case = case

        def get(self, case_id):
            return self.case

        def save(self, c):
            self.case = c.model_copy(update={"version": c.version + 1})
            return self.case

    class Down:
        def send_task_success(self, *a):
            raise ConnectionError("states unreachable")

        send_task_failure = send_task_success

    posted = []
    action = slack.SlackAction("U1", "ann", "resolve", "zendesk:1", "https://hooks.slack.com/a", case.proposal_id)
    store = Store()
    with pytest.raises(ConnectionError):
        carry_out(action, allowed={"U1"}, store=store, workflow=Down(), queue=None, clock=FixedClock(now),
                  post=lambda url, m: posted.append(m), stack_mode=lambda: "live")
    assert "it is retried" in posted[0]["text"]
    assert store.case.status == "awaiting_staff" and store.case.decisions == []  # the claim was given back

"""Issue 22 item 8, the small ones: e-mails compared without turning non-ASCII into ASCII, the decision
actor's e-mail only when verified, a deeply nested decision body, deliveries that open no case, and no
Powertools warning on every run."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest

from tests.support import ROOT, load_event
from unblock.domain.helpdesks.discourse import discourse_signature
from unblock.domain.platform_model import Team, email_key
from unblock.domain.tickets.webhooks import canonical_body
from unblock_dev.local.app import OpensNoCase
from unblock_dev.local.stack import SAMPLE_SECRET
from unblock_dev.local.template import load_template


def test_the_kelvin_sign_is_not_a_k():
    team = Team(team_id="team_Q3xr89YFWHvqTRO0X0bmHkoU", plan="pro", owner_email="kate@acme.test")
    assert not team.has_member("\u212aate@acme.test")  # U+212A lower-cases to "k" in Python
    assert team.has_member("KATE@Acme.test")  # ASCII letters still compare case-insensitively
    assert email_key("\u212aate@acme.test") != "kate@acme.test"


def test_an_email_change_stays_unverified_until_confirmed():
    pool = load_template(ROOT / "template.yaml")["Resources"]["ConsoleUserPool"]["Properties"]
    assert pool["UserAttributeUpdateSettings"] == {"AttributesRequireVerificationBeforeUpdate": ["email"]}


def _decide(app: Any, case_id: str, claims: dict[str, str], body: str) -> dict[str, Any]:
    from unblock_dev.console_server import http_api_event

    answer: dict[str, Any] = app.stack.invoke("ConsoleFunction", http_api_event(
        "POST", f"/api/cases/{quote(case_id, safe='')}/decision", "", {"content-type": "application/json"},
        body.encode(), claims))
    return answer


@pytest.mark.parametrize(("verified", "actor"), [("false", "staff-sub-1"), (None, "staff-sub-1"),
                                                 ("true", "alice@example.test")])
def test_the_decision_actor_is_the_email_only_when_verified(app, verified, actor):
    result = app.run(load_event("ticket-fraud-review.json"))
    assert result.outcome == "escalated"
    claims = {"sub": "staff-sub-1", "email": "alice@example.test"}
    if verified is not None:
        claims["email_verified"] = verified

    done = _decide(app, result.case_id, claims, json.dumps({"decision": "resolve", "note": "by hand"}))

    assert done["statusCode"] == 200, done["body"]
    case = app.wait_for(result.case_id, lambda c: c.status == "closed")
    assert case.decisions[-1].actor == actor


@pytest.mark.parametrize(("depth", "named"), [(100_000, "at most 65536"), (10_000, "nests deeper than 32 levels")])
def test_a_decision_body_nested_100000_deep_is_a_named_400(app, depth, named):
    # was a RecursionError (a 500) in json.loads
    done = _decide(app, "ticket:1", {"sub": "staff-sub-1"}, '{"decision": ' + "[" * depth + "]" * depth + "}")
    assert done["statusCode"] == 400
    assert named in json.loads(done["body"])["error"]


def _discourse(body: dict[str, Any]) -> dict[str, Any]:
    return {"headers": {"X-Discourse-Event-Signature": discourse_signature(canonical_body(body), SAMPLE_SECRET),
                        "X-Discourse-Event": "topic_created"}, "body": body, "path": "/discourse"}


@pytest.mark.parametrize("body", [{"ping": "OK"}, {"topic": {"id": 8812, "title": "403 everywhere"}}])
def test_a_delivery_that_opens_no_case_says_what_the_function_answered(app, body):
    with pytest.raises(OpensNoCase) as info:
        app.run(_discourse(body))
    assert info.value.status == 200 and info.value.answer in ({"pong": True}, {
        "ignored": "a Discourse 'topic' delivery, not a post: opens no case"})


def test_unblock_run_prints_the_answer_of_a_zendesk_comment_event_and_no_metrics_warning(tmp_path):
    # the requester's comment on a ticket unblock has no case for: taken, and nothing to run
    sample = load_event("zendesk-comment-added.json", unique=False)
    sample["body"]["detail"]["id"] = "990077"
    from unblock.domain.helpdesks.zendesk import zendesk_signature

    ts = sample["headers"]["X-Zendesk-Webhook-Signature-Timestamp"]
    sample["headers"]["X-Zendesk-Webhook-Signature"] = zendesk_signature(canonical_body(sample["body"]),
                                                                         SAMPLE_SECRET, ts)
    (tmp_path / "comment.json").write_text(json.dumps(sample))
    from tests.workflow.test_cli import _unblock

    done = _unblock("run", str(tmp_path / "comment.json"), "events/ticket-stale-billing-hold.json", "--json")

    assert done.returncode == 0, done.stderr
    ignored, fixed = (json.loads(line) for line in done.stdout.splitlines())
    assert ignored["case_id"] is None and ignored["status"] == 200 and "no case" in ignored["answer"]["ignored"]
    assert fixed["outcome"] == "auto_fixed"
    assert "No application metrics to publish" not in done.stderr


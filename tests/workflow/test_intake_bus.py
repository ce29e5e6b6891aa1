"""Issue 22 items 3, 4 and 6: events prove who sent them, case namespaces come from the producing
adapter, and nothing is lost at intake."""

from __future__ import annotations

import io
import json

import boto3
import pytest

from tests.support import ROOT, load_event
from unblock.adapters.dead_letters import in_flight
from unblock.adapters.stepfunctions import execution_name
from unblock.domain.helpdesks.zendesk import zendesk_signature
from unblock.domain.tickets.webhooks import canonical_body
from unblock_dev.commands.replay import cmd_replay
from unblock_dev.local.app import BadEvent
from unblock_dev.local.stack import SAMPLE_SECRET
from unblock_dev.local.template import load_template

TEMPLATE = load_template(ROOT / "template.yaml")


def _zendesk(ticket: str, via: str = "web") -> dict:
    """A signed Zendesk `ticket.created` delivery for `ticket`, created through `via`."""
    sample = load_event("zendesk-ticket-created.json", unique=False)
    sample["body"]["detail"].update(id=ticket, via={"channel": via, "source": {}})
    sample["body"]["subject"] = f"zen:ticket:{ticket}"
    ts = sample["headers"]["X-Zendesk-Webhook-Signature-Timestamp"]
    sample["headers"]["X-Zendesk-Webhook-Signature"] = zendesk_signature(canonical_body(sample["body"]),
                                                                         SAMPLE_SECRET, ts)
    return sample


def _drain(app) -> int:
    """Both queues `unblock replay` reads, emptied of what earlier tests kept; returns how many kept
    events other readers still hold (in flight: they cannot be received until they are visible again)."""
    held = 0
    for output in ("IntakeDeadLetterQueueUrl", "IntakeFailedEventsQueueUrl"):
        url = app.stack.outputs[output]
        while messages := app.client.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
            for m in messages:
                app.client.sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        held += in_flight(app.client.sqs, url)
    return held


# --- item 3: the stack's own bus ---------------------------------------------------------------------


def test_every_rule_is_on_the_stacks_own_bus_never_the_default_bus(app):
    resources = TEMPLATE["Resources"]
    rules = [(lid, e["Properties"]) for lid, r in resources.items() if r["Type"] == "AWS::Serverless::Function"
             for e in (r["Properties"].get("Events") or {}).values() if e["Type"] == "EventBridgeRule"]
    assert rules and all(p.get("EventBusName") == {"Ref": "IntakeEventBus"} for _, p in rules)
    assert resources["IntakeEventBus"]["Type"] == "AWS::Events::EventBus"

    # the embedded stack builds what the template says: the ticket rule on the stack's bus, none on default
    events = boto3.client("events")
    bus = app.stack.outputs["IntakeEventBusName"]
    [rule] = [r for r in events.list_rules(EventBusName=bus)["Rules"]
              if "unblock.tickets" in json.loads(r["EventPattern"])["source"]]
    [target] = events.list_targets_by_rule(Rule=rule["Name"], EventBusName=bus)["Targets"]
    assert target["Arn"].endswith(":function:unblock-local-IntakeFunction")
    assert target["DeadLetterConfig"]["Arn"].endswith("IntakeFailedEventsQueue")
    assert events.list_rules()["Rules"] == []  # nothing listens on the account's default bus


def _admits(policy: dict, principal: str, source: str) -> bool:
    """IAM's evaluation of a resource policy for one PutEvents entry: an explicit deny wins, then an allow."""
    from fnmatch import fnmatchcase

    def holds(op: str, key: str, want: object) -> bool:
        values = want if isinstance(want, list) else [want]
        have = principal if key == "aws:PrincipalArn" else source
        hit = any(fnmatchcase(have, v) if op.startswith("Arn") else have == v for v in values)
        return not hit if "Not" in op else hit

    def applies(st: dict) -> bool:
        who = st["Principal"]
        if who != "*" and principal not in who["AWS"]:
            return False
        return all(holds(op, k, v) for op, cond in st.get("Condition", {}).items() for k, v in cond.items())

    statements = [st for st in policy["Statement"] if applies(st)]
    return not any(st["Effect"] == "Deny" for st in statements) and any(st["Effect"] == "Allow" for st in statements)


def test_the_bus_policy_admits_only_the_producers_the_operator_names(app):
    policy = json.loads(boto3.client("events").describe_event_bus(
        Name=app.stack.outputs["IntakeEventBusName"])["Policy"])
    # no producer named: explicit denies for every principal, no allow
    assert {st["Effect"] for st in policy["Statement"]} == {"Deny"}
    assert all(st["Resource"].endswith(":event-bus/unblock-local-intake") for st in policy["Statement"])
    assert not _admits(policy, "arn:aws:iam::123456789012:role/anyone", "unblock.tickets")

    from unblock_dev.local.template import Resolver

    bridge, gateway = "arn:aws:iam::123456789012:role/helpdesk-bridge", "arn:aws:iam::123456789012:role/gateway-denials"
    resolver = Resolver(TEMPLATE, {"IntakeEventProducers": bridge, "SignalEventProducers": gateway},
                        "unblock", "us-east-1", "123456789012")
    policy = resolver.resolve(TEMPLATE["Resources"]["IntakeEventBus"]["Properties"]["Policy"])
    assert _admits(policy, bridge, "unblock.tickets") and _admits(policy, gateway, "unblock.gateway")
    assert not _admits(policy, "arn:aws:iam::123456789012:role/other", "unblock.tickets")


def test_each_producer_is_admitted_only_for_its_own_source(app):
    # the red team: the gateway's producer put a ticket with a claimed requester email
    from unblock_dev.local.template import Resolver

    bridge, gateway = "arn:aws:iam::123456789012:role/helpdesk-bridge", "arn:aws:iam::123456789012:role/gateway-denials"
    resolver = Resolver(TEMPLATE, {"IntakeEventProducers": bridge, "SignalEventProducers": gateway},
                        "unblock", "us-east-1", "123456789012")
    policy = resolver.resolve(TEMPLATE["Resources"]["IntakeEventBus"]["Properties"]["Policy"])

    assert not _admits(policy, gateway, "unblock.tickets")
    assert not _admits(policy, bridge, "unblock.gateway")
    assert not _admits(policy, bridge, "aws.partner/anything")


def test_a_zendesk_ticket_and_a_producerless_ticket_with_one_number_are_two_cases(app):
    # the red team's order: the normalized event for 6100 first, then the real Zendesk ticket 6100
    forged = load_event("ticket-high-risk-hold.json", unique=False)
    forged["detail"].update(ticket_id="6100", requester_email="attacker@evil.test")
    first = app.run(forged)
    real = app.run(_zendesk("6100"))

    assert (first.case_id, real.case_id) == ("ticket:6100", "zendesk:6100")
    assert real.team_id == "team_Q3xr89YFWHvqTRO0X0bmHkoU" != first.team_id
    executions = app.client.sfn.list_executions(stateMachineArn=app.stack.outputs["StateMachineArn"])["executions"]
    names = {e["name"] for e in executions}
    assert {execution_name("ticket:6100"), execution_name("zendesk:6100")} <= names
    # and the normalized case's reply never reaches Zendesk ticket 6100: only the real ticket's is queued
    url = app.stack.outputs["OutboxQueueUrl"]
    queued = [json.loads(m["Body"]) for m in app.client.sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages", [])]
    assert "ticket:6100" not in {q["case_id"] for q in queued}
    assert all(q["case_id"] == "zendesk:6100" for q in queued if q["ticket_id"] == "6100")
    assert app.client.store.get("ticket:6100").report.requester_email == "attacker@evil.test"
    assert app.client.store.get("zendesk:6100").report.requester_email != "attacker@evil.test"


# --- item 4: a Zendesk ticket is zendesk:<id> whatever its channel -------------------------------------


@pytest.mark.parametrize("via", ["web_service", "api", "email"])
def test_a_zendesk_ticket_created_through_its_api_is_a_zendesk_case(app, via):
    ticket = {"web_service": "6201", "api": "6202", "email": "6203"}[via]
    result = app.run(_zendesk(ticket, via))
    assert result.case_id == f"zendesk:{ticket}" and result.outcome == "auto_fixed"

    app.helpdesk.posted.clear()
    app.deliver_replies()  # the reply goes to the Zendesk ticket itself
    assert any(f"/tickets/{ticket}" in p["path"] for p in app.helpdesk.posted)


# --- item 6: nothing lost at intake ------------------------------------------------------------------


def test_an_event_the_intake_crashes_on_is_kept_and_replayed(app):
    others = _drain(app)
    event = load_event("ticket-entitlement-off.json")
    retries = TEMPLATE["Resources"]["IntakeFunction"]["Properties"]["EventInvokeConfig"]["MaximumRetryAttempts"]
    app.stack.faults["IntakeFunction"] = [MemoryError("Runtime exited: out of memory")] * (1 + retries)

    with pytest.raises(BadEvent, match="failed-events queue"):
        app.submit(event)

    url = app.stack.outputs["IntakeFailedEventsQueueUrl"]
    [kept] = app.client.sqs.receive_message(QueueUrl=url, VisibilityTimeout=0)["Messages"]
    assert json.loads(kept["Body"])["requestPayload"] == event  # Lambda's on-failure record, as it came

    out = io.StringIO()
    assert cmd_replay(None, out, app.client) == (1 if others else 0)  # type: ignore[arg-type]
    case_id = "ticket:" + event["detail"]["ticket_id"]
    assert f"replayed    ticket     {case_id}" in out.getvalue()
    assert app.wait(case_id).outcome == "auto_fixed"
    assert app.client.sqs.receive_message(QueueUrl=url).get("Messages") is None


def test_replay_says_when_kept_events_are_in_flight(app):
    others = _drain(app)
    bad = load_event("ticket-stale-billing-hold.json")
    bad["detail"]["channel"] = "carrier-pigeon"
    with pytest.raises(BadEvent):
        app.submit(bad)
    url = app.stack.outputs["IntakeDeadLetterQueueUrl"]
    held = app.client.sqs.receive_message(QueueUrl=url, VisibilityTimeout=300)["Messages"]  # another reader

    out = io.StringIO()
    assert cmd_replay(None, out, app.client) == 1  # type: ignore[arg-type]
    assert "0 replayed, 0 still kept" in out.getvalue() and f"{others + 1} kept event(s) in flight" in out.getvalue()
    app.client.sqs.delete_message(QueueUrl=url, ReceiptHandle=held[0]["ReceiptHandle"])

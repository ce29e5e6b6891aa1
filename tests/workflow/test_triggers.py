"""The three ways in: help-desk webhooks and ticket events, staff starts, and replays of kept events."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from tests.support import load_event
from unblock.adapters.stepfunctions import execution_name
from unblock.domain.helpdesks.discourse import discourse_signature
from unblock.domain.helpdesks.zendesk import zendesk_signature
from unblock.domain.tickets.webhooks import canonical_body
from unblock_dev.local.app import BadEvent, webhook_request
from unblock_dev.local.stack import SAMPLE_SECRET


def _resign_zendesk(sample: dict, ticket: str) -> dict:
    """A fresh Zendesk delivery for another ticket, signed as Zendesk would."""
    sample["body"]["detail"]["id"] = ticket
    sample["body"]["subject"] = f"zen:ticket:{ticket}"
    ts = sample["headers"]["X-Zendesk-Webhook-Signature-Timestamp"]
    sample["headers"]["X-Zendesk-Webhook-Signature"] = zendesk_signature(canonical_body(sample["body"]),
                                                                         SAMPLE_SECRET, ts)
    return sample


def _dlq_messages(app) -> list[dict]:
    resp = app.client.sqs.receive_message(QueueUrl=app.stack.outputs["IntakeDeadLetterQueueUrl"],
                                           MaxNumberOfMessages=10, VisibilityTimeout=0)
    return [json.loads(m["Body"]) for m in resp.get("Messages", [])]


def _drain_dlq(app) -> None:
    url = app.stack.outputs["IntakeDeadLetterQueueUrl"]
    while messages := app.client.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        for m in messages:
            app.client.sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


def test_zendesk_webhook_runs_the_workflow_and_a_redelivery_makes_one_case(app):
    sample = _resign_zendesk(load_event("zendesk-ticket-created.json", unique=False), "900001")

    first = app.run(sample)
    again = app.submit(sample)  # Zendesk retries a delivery it did not see acknowledged

    assert first.case_id == again == "zendesk:900001"
    assert first.outcome == "auto_fixed" and first.team_id == "team_Q3xr89YFWHvqTRO0X0bmHkoU"
    executions = app.client.sfn.list_executions(stateMachineArn=app.stack.outputs["StateMachineArn"])["executions"]
    assert sum(e["name"] == execution_name("zendesk:900001") for e in executions) == 1


def test_discourse_post_with_a_pasted_key_is_redacted_and_asks_for_rotation(app):
    sample = load_event("discourse-post-created.json", unique=False)
    secret = "vck_lowr01sandboxlowrisklabstestsecret"
    assert secret in json.dumps(sample)

    result = app.run(sample)

    assert result.outcome == "auto_fixed"
    case = app.client.store.get(result.case_id)
    assert case.report.secrets_redacted == 1 and secret not in case.model_dump_json()
    assert "revoke it and create a new one" in result.customer_reply
    history = app.client.sfn.get_execution_history(executionArn=app.client.execution_arn(result.case_id))
    assert secret not in json.dumps(history, default=str)


@pytest.mark.parametrize(
    ("mutate", "status"),
    [
        (lambda s: s["headers"].update({"X-Zendesk-Webhook-Signature": "AAAA"}), 401),
        (lambda s: s["headers"].pop("X-Zendesk-Webhook-Signature"), 401),
        (lambda s: s["body"]["detail"].update({"description": "tampered"}), 401),
        (lambda s: s["headers"].update({"X-Zendesk-Webhook-Signature-Timestamp": "2026-11-26T09:00:00Z"}), 401),
    ],
    ids=["wrong-signature", "missing-header", "tampered-body", "stale-timestamp"],
)
def test_unsigned_zendesk_deliveries_are_refused_before_anything_is_stored(app, mutate, status):
    sample = load_event("zendesk-ticket-created.json", unique=False)
    mutate(sample)
    _drain_dlq(app)
    app.clock.set(datetime(2026, 11, 26, 10, 0, tzinfo=UTC))

    with pytest.raises(BadEvent, match=f"webhook refused \\({status}\\)"):
        app.submit(sample)
    assert _dlq_messages(app) == []  # an unauthenticated request is not ours to keep


def test_discourse_ping_is_answered(app):
    body = {"ping": "OK"}
    headers = {"X-Discourse-Event": "ping", "X-Discourse-Event-Type": "ping",
               "X-Discourse-Event-Signature": discourse_signature(canonical_body(body), SAMPLE_SECRET)}
    response = app.stack.invoke("WebhookFunction", webhook_request({"headers": headers, "body": body}))

    assert response["statusCode"] == 200 and json.loads(response["body"]) == {"pong": True}


def test_a_bad_ticket_event_is_kept_redacted_with_its_reason(app):
    _drain_dlq(app)
    event = load_event("ticket-stale-billing-hold.json")
    event["detail"]["channel"] = "carrier-pigeon"
    event["detail"]["text"] += " my key: vck_3f9aZZsupersecretvaluethatmustnotleak"

    with pytest.raises(BadEvent, match="detail.channel"):
        app.submit(event)

    [kept] = _dlq_messages(app)
    assert kept["kind"] == "ticket" and "detail.channel" in kept["reason"]
    assert "supersecretvalue" not in json.dumps(kept)
    assert "vck_3f9aZZsu" in kept["payload"]["detail"]["text"]  # the prefix survives for staff


def test_a_kept_event_is_replayed_once_the_cause_is_fixed(app, monkeypatch):
    import unblock.workflow.intake as intake

    _drain_dlq(app)

    def misconfigured(kind, payload, now):  # e.g. a deploy that briefly broke the intake
        raise intake.UnprocessableEvent("intake temporarily misconfigured")

    monkeypatch.setattr(intake, "to_report", misconfigured)
    with pytest.raises(BadEvent, match="misconfigured"):
        app.submit(load_event("ticket-entitlement-off.json"))
    assert len(_dlq_messages(app)) == 1

    monkeypatch.undo()  # the cause is fixed
    outcomes = app.client.replay()

    assert [o.ok for o in outcomes] == [True]
    assert app.wait(outcomes[0].detail).outcome == "auto_fixed"
    assert _dlq_messages(app) == []


def test_staff_start_input_runs_like_a_ticket(app):
    result = app.run(load_event("staff-manual.json"))

    assert result.case_id.startswith("staff:orbit-studio-manual")
    assert result.outcome == "escalated"
    case = app.client.store.get(result.case_id)
    assert case.report.requested_by == "alice@support.test" and case.report.source == "staff"


def test_case_ids_that_sanitize_alike_each_get_their_own_execution(app):
    from tests.support import EVENTS

    results = []
    for case_id in ("staff:77.1", "staff:77/1"):
        event = json.loads((EVENTS / "staff-manual.json").read_text())
        event["report"]["case_id"] = case_id
        results.append(app.run(event))

    assert [r.case_id for r in results] == ["staff:77.1", "staff:77/1"]
    assert all(r.outcome == "escalated" for r in results)  # both opened, neither answered "duplicate"
    assert app.client.execution_arn("staff:77.1") != app.client.execution_arn("staff:77/1")

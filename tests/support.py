"""Helpers shared by the test suites."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
EVENTS = ROOT / "events"


def load_event(name: str, *, unique: bool = True) -> dict[str, Any]:
    """A sample event; by default with a fresh ticket or case id, so each test opens its own case."""
    data: dict[str, Any] = json.loads((EVENTS / name).read_text())
    if unique:
        if "detail" in data:  # help-desk ticket ids are numbers
            data["detail"]["ticket_id"] += str(uuid.uuid4().int)[:8]
        elif "report" in data:
            data["report"]["case_id"] += f"-{uuid.uuid4().hex[:8]}"
    return data


def take_human_queue_messages(app: Any, case_ids: set[str]) -> list[dict[str, Any]]:
    """Remove the human queue's messages for these cases (tests that escalate many cases clean up
    after themselves, so tests that read the queue's first messages find theirs); returns them
    (SQS messages, with their attributes)."""
    sqs, url = app.client.sqs, app.stack.outputs["HumanQueueUrl"]
    taken, others = [], []
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60,
                                    MessageAttributeNames=["All"]).get("Messages", [])
        if not batch:
            break
        for m in batch:
            mine = m["MessageAttributes"]["case_id"]["StringValue"] in case_ids
            (taken if mine else others).append(m)
            if mine:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    for m in others:  # visible again, as they were
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0)
    return taken


def zendesk_delivery(event: dict[str, Any], requester_id: int = 9012345678901) -> dict[str, Any]:
    """The normalized sample `event` as the signed Zendesk `ticket.created` delivery of the same ticket
    (id, subject, text): a case that answers a Zendesk ticket is one the Zendesk adapter produced
    (DESIGN.md "Triggers"). The requester is a sandbox help-desk user (events/helpdesk-users.json)."""
    from unblock.domain.helpdesks.zendesk import zendesk_signature
    from unblock.domain.tickets.webhooks import canonical_body
    from unblock_dev.local.stack import SAMPLE_SECRET

    sample = load_event("zendesk-ticket-created.json", unique=False)
    d = event["detail"]
    sample["body"]["detail"].update(id=d["ticket_id"], subject=d.get("subject", ""), description=d.get("text", ""),
                                    requester_id=str(requester_id))
    sample["body"]["subject"] = f"zen:ticket:{d['ticket_id']}"
    ts = sample["headers"]["X-Zendesk-Webhook-Signature-Timestamp"]
    sample["headers"]["X-Zendesk-Webhook-Signature"] = zendesk_signature(canonical_body(sample["body"]),
                                                                         SAMPLE_SECRET, ts)
    return sample


FAR = "2999-01-01T00:00:00+00:00"


def out_of_reach(app: Any) -> int:
    """The cases earlier tests left pending leave the re-check's reach: their next check moves to
    2999 (the case itself is untouched). A test's re-check then meets its own cases only, however
    many tests ran before it on this stack: in one process (`make test TEST_WORKERS=0`) hundreds of
    leftovers were due before a test's own case, past the pass's 100, and another test's case of the
    same team could re-run first."""
    import boto3
    from boto3.dynamodb.conditions import Key

    from unblock.adapters.dynamodb_cases import PENDING_INDEX

    table = boto3.resource("dynamodb").Table(app.stack.resolver.refs["CasesTable"])
    moved, query = 0, {"IndexName": PENDING_INDEX, "ProjectionExpression": "pk, sk",
                       "KeyConditionExpression": Key("pending").eq("PENDING") & Key("next_check_at").lt(FAR)}
    while True:
        page = table.query(**query)
        for item in page.get("Items", []):
            table.update_item(Key={"pk": item["pk"], "sk": item["sk"]}, UpdateExpression="SET next_check_at = :far",
                              ExpressionAttributeValues={":far": FAR})
            moved += 1
        if "LastEvaluatedKey" not in page:
            return moved
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]

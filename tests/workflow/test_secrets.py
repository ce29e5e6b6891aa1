"""No secret pasted into a ticket reaches a log, a table, a queue or an execution.

The scenarios run with pasted keys and tokens on the embedded stack; then every table item,
every queue message, every execution's input and history and every captured log line is
read back and searched.
"""

from __future__ import annotations

import io
import json
import logging

import boto3
import pytest

from tests.support import load_event
from unblock.domain.helpdesks.discourse import discourse_signature
from unblock.domain.tickets.webhooks import canonical_body
from unblock_dev.local.app import BadEvent
from unblock_dev.local.stack import SAMPLE_SECRET

SECRETS = {
    "gateway key": "vck_acme01Zq8XwPp3LmN7tRvB2yKc5HdJ",
    "access token": "vca_9fK2mQ7xLp4RtW8zN3vB6yHc1DjG5sA",
    "personal token": "vcp_Tz3Nq8Wm2Xr6Lp9Kv4Bj7Hd1Fs5Gc0Ya",
    "openai key": "sk-proj-Qm7Xw2Lp9Rt4Nz8Kv3Bj6Hd1Fs5Gc0YaT2uE",
    "bearer token": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ0ZWFtIn0.kX9mQ2pL7rT4wN8zV3bJ6hD1fS5gC0yA",
}
PASTE = (
    "Still 403. My key is {gateway key} and our deploy token {access token} (also tried {personal token}).\n"
    "```\ncurl https://ai-gateway.vercel.sh/v1/chat/completions \\\n"
    "  -H \"Authorization: Bearer {bearer token}\" -d '{{\"model\": \"openai/gpt-4o\"}}'\n```\n"
    "Fallback config: {{\"openai_api_key\": \"{openai key}\"}}"
).format_map(SECRETS)


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def captured_logs():
    from unblock.observability import logger

    capture = _Capture()
    capture.setFormatter(logger.registered_formatter)
    logger._logger.addHandler(capture)  # alongside Powertools' own stderr handler, same JSON lines
    yield capture
    logger._logger.removeHandler(capture)


def _everything_stored(app) -> str:
    blobs: list[str] = []
    ddb = boto3.client("dynamodb")
    for table in ddb.list_tables()["TableNames"]:
        for page in ddb.get_paginator("scan").paginate(TableName=table):
            blobs += [json.dumps(item) for item in page["Items"]]
    sqs = app.client.sqs
    for url in sqs.list_queues().get("QueueUrls", []):
        for _ in range(20):
            messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0,
                                           MessageAttributeNames=["All"]).get("Messages", [])
            blobs += [json.dumps(m) for m in messages]
            if len(messages) < 10:
                break
    sfn = app.client.sfn
    for execution in sfn.list_executions(stateMachineArn=app.stack.outputs["StateMachineArn"])["executions"]:
        arn = execution["executionArn"]
        blobs.append(json.dumps(sfn.describe_execution(executionArn=arn), default=str))
        blobs.append(json.dumps(sfn.get_execution_history(executionArn=arn, maxResults=1000), default=str))
    return "\n".join(blobs)


def test_pasted_secrets_never_reach_logs_tables_queues_or_executions(app, captured_logs):
    ticket = load_event("ticket-stale-billing-hold.json")
    ticket["detail"]["text"] += "\n\n" + PASTE
    ticket["detail"]["subject"] = f"403 with key {SECRETS['gateway key']}"
    escalated = load_event("ticket-fraud-review.json")
    escalated["detail"]["text"] = PASTE
    bad = load_event("ticket-expired-card.json")
    bad["detail"]["text"] = PASTE
    bad["detail"]["priority"] = "urgent"  # not a field of the contract: kept on the intake DLQ
    staff = load_event("staff-manual.json")
    staff["report"]["note"] = f"customer read their key to me on the phone: {SECRETS['gateway key']}"
    body = load_event("discourse-post-created.json", unique=False)["body"]
    body["post"]["raw"] += "\n\n" + PASTE
    body["post"]["topic_id"] = 770001  # a topic of its own: the sample's is used by other tests
    forum = {"headers": load_event("discourse-post-created.json", unique=False)["headers"], "body": body}
    forum["headers"]["X-Discourse-Event-Signature"] = discourse_signature(canonical_body(body), SAMPLE_SECRET)

    results = [app.run(ticket), app.run(escalated), app.run(staff), app.run(forum)]
    with pytest.raises(BadEvent):
        app.submit(bad)
    app.decide(results[1].case_id, "reject")

    stored = _everything_stored(app)
    logs = "\n".join(captured_logs.lines)
    assert len(captured_logs.lines) > 20 and len(stored) > 10_000  # we did read real data back
    for kind, secret in SECRETS.items():
        body_of_secret = secret[12:]
        assert body_of_secret not in stored, f"{kind} found in a table, queue or execution"
        assert body_of_secret not in logs, f"{kind} found in a log line"
        assert body_of_secret not in "\n".join(r.model_dump_json() for r in results), f"{kind} in a result"
    # redaction happened, and the customer was told to rotate
    assert "[REDACTED]" in stored
    assert all("revoke it and create a new one" in (r.customer_reply or "") for r in results)
    assert app.client.store.get(results[2].case_id).report.secrets_redacted == 1


@pytest.mark.parametrize("decision", ["--resolve", "--reject"])
def test_a_key_in_a_staff_note_never_reaches_step_functions(app, monkeypatch, decision):
    """`unblock decide CASE --note ...`: the note (and the actor) are redacted before SendTask*, whose
    output or cause Step Functions keeps in the execution history."""
    from unblock_dev import cli
    from unblock_dev.commands import decide as decide_cmd

    sent: list[str] = []
    for call in ("send_task_success", "send_task_failure"):
        real = getattr(app.client.sfn, call)
        monkeypatch.setattr(app.client.sfn, call, lambda real=real, **kw: sent.append(json.dumps(kw)) or real(**kw))
    waiting = app.run(load_event("ticket-staff-billing-hold.json"))
    key = SECRETS["gateway key"]
    args = cli.build_parser().parse_args(["decide", waiting.case_id, decision, "--actor", f"staff:{key}",
                                          "--note", f"customer read me their key {key} on the phone"])
    assert decide_cmd.cmd_decide(args, io.StringIO(), client=app.client) == 0
    app.wait_for(waiting.case_id, lambda c: c.status == "closed")

    arn = app.client.execution_arn(waiting.case_id)
    history = json.dumps(app.client.sfn.get_execution_history(executionArn=arn, maxResults=1000), default=str)
    assert len(sent) == 1 and "their key vck_acme01Zq" in sent[0] and "[REDACTED] on the phone" in sent[0]
    assert key[12:] not in sent[0] and key[12:] not in history


def test_the_recheck_completing_a_staff_task_redacts_what_it_sends():
    from unblock.adapters.stepfunctions import StepFunctionsWorkflow

    sent: list[str] = []

    class Sfn:
        def send_task_success(self, taskToken: str, output: str) -> None:  # noqa: N803 - boto3's names
            sent.append(output)

    key = SECRETS["openai key"]
    StepFunctionsWorkflow(Sfn(), "arn").complete_staff_task("token", {"decision": "resolve", "note": key})
    assert key[12:] not in sent[0] and "[REDACTED]" in sent[0]

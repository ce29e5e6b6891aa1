"""Staff are told when a case waits for them: each escalation and each SLA re-queue goes to the
SNS topic and, when configured, to a Slack incoming webhook (here a local HTTP server), with a
link to the case in the console and no secret."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.support import load_event


class _Slack(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []
    status = 200

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append({"path": self.path, "body": json.loads(body)})
        self.send_response(type(self).status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def slack(app: Any) -> Iterator[type[_Slack]]:
    import boto3

    from unblock import composition

    _Slack.received, _Slack.status = [], 200
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Slack)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    name = f"unblock/slack-webhook-{server.server_address[1]}"
    boto3.client("secretsmanager").create_secret(
        Name=name, SecretString=f"http://127.0.0.1:{server.server_address[1]}/services/T000/B000/XXXX")
    os.environ["SLACK_WEBHOOK_SECRET_NAME"] = name
    os.environ["CONSOLE_URL"] = "https://console.example/"
    composition.staff_alerts.cache_clear()
    yield _Slack
    os.environ["SLACK_WEBHOOK_SECRET_NAME"] = ""
    os.environ.pop("CONSOLE_URL", None)
    composition.staff_alerts.cache_clear()
    server.shutdown()
    server.server_close()


def eventually(check: Any, timeout: float = 10.0) -> Any:
    import time

    deadline = time.monotonic() + timeout
    while (found := check()) is None:
        assert time.monotonic() < deadline, "not within the timeout"
        time.sleep(0.05)
    return found


def _topic_messages(app: Any) -> Iterator[dict[str, Any]]:
    """Subscribe a queue to the staff alerts topic; yields a reader of what was published since."""
    import boto3

    sqs, sns = boto3.client("sqs"), boto3.client("sns")
    url = sqs.create_queue(QueueName=f"alerts-{os.urandom(4).hex()}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=app.stack.outputs["StaffAlertsTopicArn"], Protocol="sqs", Endpoint=arn)

    def read() -> list[dict[str, Any]]:
        out = []
        while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
            out += [json.loads(m["Body"]) for m in batch]
            for m in batch:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        return out

    yield read  # type: ignore[misc]


def test_an_escalation_and_an_sla_requeue_alert_staff_on_sns_and_slack(app, slack):
    read = next(_topic_messages(app))
    result = app.run(load_event("ticket-high-risk-hold.json"))
    token = app.client.store.get(result.case_id).task_token

    # the case waits for staff a moment before the Escalate function has sent its alerts
    published = eventually(lambda: next((m for m in read() if result.case_id in m["Message"]), None))
    assert published["Subject"].startswith("[unblock] normal: case " + result.case_id)
    posted = eventually(lambda: next((m for m in slack.received if result.case_id in m["body"]["text"]), None))
    text = posted["body"]["text"]
    assert posted["path"] == "/services/T000/B000/XXXX"
    assert "restrictions.risk_hold" in text and "lift_risk_hold" in text
    link = "https://console.example/cases/" + result.case_id.replace(":", "%3A")
    assert link in text and link in published["Message"]
    for message in (text, published["Message"], published["Subject"]):
        assert token not in message and "traffic went up" not in message  # no secret, no report text

    app.clock.advance(timedelta(hours=5))
    assert app.recheck()["actions"][result.case_id] == "requeued"
    requeued = [m for m in slack.received if result.case_id in m["body"]["text"] and "re-queued" in m["body"]["text"]]
    assert requeued and "[unblock] high:" in requeued[0]["body"]["text"]  # the recheck sends before it returns
    assert any("re-queued" in m["Subject"] for m in read() if result.case_id in m["Message"])


def test_a_failing_slack_never_fails_the_escalation(app, slack):
    slack.status = 500
    result = app.run(load_event("ticket-fraud-review.json"))
    assert result.outcome == "escalated"
    assert app.client.store.get(result.case_id).status == "awaiting_staff"
    assert eventually(lambda: any(result.case_id in m["body"]["text"] for m in slack.received) or None)

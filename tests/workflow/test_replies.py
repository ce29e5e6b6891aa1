"""Replies go back where the ticket came from, through the outbox; a failed delivery is retried, never lost."""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pytest

from tests.support import load_event, zendesk_delivery


class FakeZendesk(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[dict] = []
        self.fail_next = 0


class _Handler(BaseHTTPRequestHandler):
    server: FakeZendesk

    def do_PUT(self) -> None:  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.server.fail_next:
            self.server.fail_next -= 1
            self.send_response(503)
            self.end_headers()
            return
        self.server.requests.append({"path": self.path, "auth": self.headers["Authorization"], "body": body})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"ticket": {}}')

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def zendesk(app, monkeypatch):
    import unblock.handlers.notify as notify
    from unblock import composition

    server = FakeZendesk()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    secrets = boto3.client("secretsmanager")
    before = secrets.get_secret_value(SecretId="unblock/zendesk-api-token")["SecretString"] if _secret_exists() \
        else None
    boto3.client("secretsmanager").put_secret_value(SecretId="unblock/zendesk-api-token", SecretString="zd-token") \
        if _secret_exists() else boto3.client("secretsmanager").create_secret(
            Name="unblock/zendesk-api-token", SecretString="zd-token")
    monkeypatch.setenv("ZENDESK_API_URL", f"http://127.0.0.1:{server.server_port}")
    monkeypatch.setenv("ZENDESK_API_EMAIL", "support@gateway.test")
    monkeypatch.setenv("ZENDESK_API_TOKEN_SECRET", "unblock/zendesk-api-token")
    notify._notifiers.cache_clear()
    composition.requester_directory.cache_clear()  # the help desk's user look-ups, built from the env
    _drain(app)
    yield server
    composition.requester_directory.cache_clear()
    # the stack is the session's: later tests' help-desk look-ups need the token it had
    if before is None:
        secrets.delete_secret(SecretId="unblock/zendesk-api-token", ForceDeleteWithoutRecovery=True)
    else:
        secrets.put_secret_value(SecretId="unblock/zendesk-api-token", SecretString=before)
    notify._notifiers.cache_clear()
    server.shutdown()
    server.server_close()


def _secret_exists() -> bool:
    try:
        boto3.client("secretsmanager").describe_secret(SecretId="unblock/zendesk-api-token")
    except Exception:  # noqa: BLE001 - moto's ResourceNotFound
        return False
    return True


def _drain(app) -> None:
    url = app.stack.outputs["OutboxQueueUrl"]
    while messages := app.client.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        for m in messages:
            app.client.sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


def test_a_zendesk_case_gets_a_public_reply_and_an_internal_note(app, zendesk):
    result = app.run(zendesk_delivery(load_event("ticket-stale-billing-hold.json")))
    ticket = result.case_id.split(":", 1)[1]

    assert app.deliver_replies() == {"delivered": 1, "failed": 0}

    note, public = zendesk.requests
    assert note["path"] == public["path"] == f"/api/v2/tickets/{ticket}.json"
    assert note["body"]["ticket"]["comment"]["public"] is False
    assert "billing.stale_hold" in note["body"]["ticket"]["comment"]["body"]
    assert public["body"]["ticket"]["comment"] == {"body": result.customer_reply, "public": True}
    # with the reply, the ticket's status for the outcome and the unblock tags; the note has neither
    assert (public["body"]["ticket"]["status"], public["body"]["ticket"]["additional_tags"]) == (
        "solved", ["unblock", "unblock_auto_fixed"])
    assert set(note["body"]["ticket"]) == {"comment"}
    user, token = base64.b64decode(note["auth"].split()[1]).decode().split(":", 1)
    assert (user, token) == ("support@gateway.test/token", "zd-token")


def test_a_failed_delivery_is_retried_and_the_reply_is_not_lost(app, zendesk):
    app.run(zendesk_delivery(load_event("ticket-expired-card.json")))
    zendesk.fail_next = 1  # the help desk is briefly down

    assert app.deliver_replies() == {"delivered": 0, "failed": 1}
    assert zendesk.requests == []
    assert app.deliver_replies() == {"delivered": 1, "failed": 0}  # the queue redelivers it
    assert [r["body"]["ticket"]["comment"]["public"] for r in zendesk.requests] == [False, True]


@pytest.mark.parametrize(("event", "team", "outcome", "status"), [
    ("ticket-fraud-review.json", "quickcash-bots", "escalated", "open"),
    ("ticket-expired-card.json", "paper-cranes", "customer_action", "pending")])
def test_the_ticket_status_follows_the_outcome_and_the_note_links_to_the_console(app, zendesk, monkeypatch,
                                                                                event, team, outcome, status):
    import unblock.handlers.notify as notify

    monkeypatch.setenv("CONSOLE_URL", "https://console.example/")
    notify._notifiers.cache_clear()
    ticket = load_event(event)
    # the Zendesk requester is another team's member (helpdesk-users.json): the text names the team
    ticket["detail"]["text"] += f" Team {team}."
    result = app.run(zendesk_delivery(ticket))
    assert result.outcome == outcome
    app.deliver_replies()
    note, public = zendesk.requests[-2:]
    assert public["body"]["ticket"]["status"] == status
    assert public["body"]["ticket"]["additional_tags"] == ["unblock", f"unblock_{result.outcome}"]
    link = "https://console.example/cases/" + result.case_id.replace(":", "%3A")
    assert link in note["body"]["ticket"]["comment"]["body"]


def test_a_handed_off_ticket_stays_open_for_staff_tagged_with_its_signals(app, zendesk):
    result = app.run(zendesk_delivery(load_event("ticket-gateway-server-error.json")))
    assert result.outcome == "handed_off"
    app.deliver_replies()
    note, public = zendesk.requests[-2:]
    assert public["body"]["ticket"]["status"] == "open"  # staff's queue on the help desk, not solved
    assert public["body"]["ticket"]["additional_tags"] == [
        "unblock", "unblock_handed_off", "unblock_signal_gateway_server_error"]
    assert "Handed off to staff (gateway.server_error)" in note["body"]["ticket"]["comment"]["body"]


def test_a_staff_case_has_no_help_desk_to_answer(app, zendesk):
    app.run(load_event("staff-manual.json"))

    assert app.deliver_replies() == {"delivered": 0, "failed": 0}

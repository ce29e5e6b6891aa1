"""Replies back to the help desk: the Zendesk and Discourse adapters against a real HTTP server on
127.0.0.1 (stdlib http.server in a thread, recording every request), the outbox handler's partial
batch response, and `reply_for` for each source.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from moto import mock_aws
from pydantic import ValidationError

from unblock.adapters.discourse import DiscourseNotifier
from unblock.adapters.helpdesk_shared import Misconfigured
from unblock.adapters.zendesk import ZendeskNotifier
from unblock.composition import notifiers_from_env
from unblock.domain.cases import Case
from unblock.domain.models import Report
from unblock.domain.replies import OutgoingReply, reply_for
from unblock.handlers import notify as notify_handler
from unblock.observability import logger
from unblock.ports import DeliveryFailed, DeliveryRejected, Notifier
from unblock_dev.local.stack import FakeContext

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
# Stands in for the customer's own words: it must reach the help desk and never the logs.
QUOTE = "my key vck_[REDACTED] on team acme-projects gets 403 since Tuesday"
PUBLIC = f"We found the cause and fixed it.\n\n> {QUOTE}"
NOTE = "unblock case zendesk:4711 · team team_x · outcome auto_fixed\n- billing.stale_hold (auto_fix): hold"


# --- a recording HTTP server ---------------------------------------------------------------
@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class Answer:
    status: int = 200
    body: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


class Recorder:
    """Records requests; answers the scripted Answers in order of arrival, then 200 {}."""

    def __init__(self) -> None:
        self.requests: list[Seen] = []
        self.script: list[Answer] = []
        self.lock = threading.Lock()
        self.release = threading.Event()  # set at teardown: ends any delayed answer at once
        self.url = ""

    def answer(self, *answers: Answer) -> None:
        self.script.extend(answers)

    def next(self, seen: Seen) -> Answer:
        with self.lock:
            self.requests.append(seen)
            return self.script.pop(0) if self.script else Answer()


def _handler_for(recorder: Recorder) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            body = json.loads(raw) if raw else None
            headers = {name.title(): value for name, value in self.headers.items()}  # case-insensitive, as HTTP
            answer = recorder.next(Seen(self.command, self.path, headers, body))
            if answer.delay:
                recorder.release.wait(answer.delay)
            data = json.dumps(answer.body).encode()
            try:
                self.send_response(answer.status)
                for name, value in {"Content-Type": "application/json", **answer.headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):  # the client timed out and left
                pass

        do_PUT = do_POST = do_GET = _serve

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
            pass

    return Handler


@pytest.fixture
def server() -> Iterator[Recorder]:
    recorder = Recorder()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(recorder))
    httpd.daemon_threads = True
    recorder.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield recorder
    recorder.release.set()
    httpd.shutdown()
    httpd.server_close()


def zendesk(server: Recorder, **kw: Any) -> ZendeskNotifier:
    return ZendeskNotifier(server.url, "agent@acme.test", "zd-token-123", **kw)


def discourse(server: Recorder, **kw: Any) -> DiscourseNotifier:
    return DiscourseNotifier(server.url, "dc-key-456", "system", **kw)


def outgoing(destination: str = "zendesk", ticket_id: str = "4711", **kw: Any) -> OutgoingReply:
    fields: dict[str, Any] = {"case_id": f"{destination}:{ticket_id}", "destination": destination,
                              "ticket_id": ticket_id, "public_body": PUBLIC,
                              "internal_note": NOTE if destination == "zendesk" else None,
                              "reply_id": f"{destination}:{ticket_id}:1"}
    return OutgoingReply.model_validate({**fields, **kw})


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


# --- Zendesk -------------------------------------------------------------------------------
def test_zendesk_posts_the_internal_note_then_the_public_reply(server: Recorder) -> None:
    zendesk(server).deliver(outgoing())

    assert [(r.method, r.path) for r in server.requests] == [("PUT", "/api/v2/tickets/4711.json")] * 2
    note, public = server.requests
    assert note.body == {"ticket": {"comment": {"body": NOTE, "public": False}}}
    assert public.body == {"ticket": {"comment": {"body": PUBLIC, "public": True}}}
    for request in server.requests:
        assert request.headers["Authorization"] == basic("agent@acme.test/token", "zd-token-123")
        assert request.headers["Content-Type"].startswith("application/json")


def test_zendesk_sends_only_the_parts_it_has(server: Recorder) -> None:
    zendesk(server).deliver(outgoing(internal_note=None))
    zendesk(server).deliver(outgoing(public_body=None, reply_id="zendesk:4711:2"))

    assert [r.body["ticket"]["comment"]["public"] for r in server.requests] == [True, False]


def test_zendesk_base_url_may_end_with_a_slash(server: Recorder) -> None:
    ZendeskNotifier(server.url + "/", "agent@acme.test", "t").deliver(outgoing(internal_note=None))
    assert server.requests[0].path == "/api/v2/tickets/4711.json"


# --- Discourse -----------------------------------------------------------------------------
def test_discourse_posts_the_public_reply_in_the_topic(server: Recorder) -> None:
    discourse(server).deliver(outgoing("discourse", "8812", internal_note=NOTE))

    [post] = server.requests  # no internal note on Discourse
    assert (post.method, post.path) == ("POST", "/posts.json")
    assert post.body == {"topic_id": 8812, "raw": PUBLIC}
    assert post.headers["Api-Key"] == "dc-key-456"
    assert post.headers["Api-Username"] == "system"
    assert "Authorization" not in post.headers


def test_discourse_with_only_a_note_posts_nothing(server: Recorder) -> None:
    discourse(server).deliver(outgoing("discourse", "8812", public_body=None, internal_note=NOTE))
    assert server.requests == []


def test_a_notifier_refuses_the_other_help_desks_reply(server: Recorder) -> None:
    with pytest.raises(DeliveryRejected):
        discourse(server).deliver(outgoing("zendesk"))
    with pytest.raises(DeliveryRejected):
        zendesk(server).deliver(outgoing("discourse", "8812"))
    assert server.requests == []


# --- failures ------------------------------------------------------------------------------
@pytest.mark.parametrize(("answer", "error"), [
    (Answer(500), DeliveryFailed),
    (Answer(503, {"error": "ServiceUnavailable"}), DeliveryFailed),
    (Answer(429, headers={"Retry-After": "30"}), DeliveryFailed),
    (Answer(401, {"error": "Couldn't authenticate you"}), DeliveryRejected),
    (Answer(404, {"error": "RecordNotFound", "description": "Not found"}), DeliveryRejected),
    (Answer(422, {"error": "RecordInvalid", "details": {"base": [{"description": PUBLIC}]}}), DeliveryRejected),
    (Answer(302, headers={"Location": "https://elsewhere.test/"}), DeliveryRejected),
])
def test_http_status_maps_to_failed_or_rejected(server: Recorder, answer: Answer, error: type[Exception]) -> None:
    server.answer(answer)
    with pytest.raises(error) as caught:
        zendesk(server).deliver(outgoing(internal_note=None))
    err = caught.value
    assert isinstance(err, DeliveryFailed | DeliveryRejected)
    assert err.status == answer.status and err.destination == "zendesk"
    assert QUOTE not in str(err)  # the help desk's error details may echo our text: never kept
    if answer.status == 429:
        assert isinstance(err, DeliveryFailed) and err.retry_after == 30.0
    if answer.status == 422:
        assert err.code == "RecordInvalid"


def test_discourse_errors_map_the_same_way(server: Recorder) -> None:
    server.answer(Answer(422, {"errors": ["Body is too similar"], "error_type": "invalid_parameters"}),
                  Answer(502))
    with pytest.raises(DeliveryRejected) as rejected:
        discourse(server).deliver(outgoing("discourse", "8812"))
    assert rejected.value.code == "invalid_parameters"
    with pytest.raises(DeliveryFailed):
        discourse(server).deliver(outgoing("discourse", "8812"))


def test_a_read_timeout_is_a_retryable_failure(server: Recorder) -> None:
    server.answer(Answer(200, delay=5.0))
    started = time.monotonic()
    with pytest.raises(DeliveryFailed) as caught:
        zendesk(server, read_timeout=0.2).deliver(outgoing(internal_note=None))
    assert time.monotonic() - started < 2.0
    assert "ReadTimeoutError" in str(caught.value)
    assert len(server.requests) == 1  # not retried inside the adapter


def test_default_timeouts_are_2s_connect_5s_read(server: Recorder) -> None:
    timeout = zendesk(server)._http.timeout
    assert (timeout.connect_timeout, timeout.read_timeout) == (2.0, 5.0)


def test_a_refused_connection_is_a_retryable_failure() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(DeliveryFailed):
        ZendeskNotifier(f"http://127.0.0.1:{port}", "a@b.test", "t").deliver(outgoing())


def test_an_empty_credential_is_rejected_before_any_request(server: Recorder) -> None:
    with pytest.raises(DeliveryRejected):
        ZendeskNotifier(server.url, "a@b.test", lambda: "").deliver(outgoing())
    assert server.requests == []


def test_a_redelivered_reply_does_not_repeat_the_delivered_note(server: Recorder) -> None:
    notifier = zendesk(server)
    server.answer(Answer(200), Answer(500))
    with pytest.raises(DeliveryFailed):
        notifier.deliver(outgoing())
    notifier.deliver(outgoing())
    publics = [r.body["ticket"]["comment"]["public"] for r in server.requests]
    assert publics == [False, True, True]  # the note once; the public reply failed, then went through


# --- the outbox handler (SQS event source, partial batch response) -------------------------
def sqs_record(body: str, receive_count: int = 1, message_id: str | None = None) -> dict[str, Any]:
    return {
        "messageId": message_id or str(uuid.uuid4()),
        "receiptHandle": "AQEB" + uuid.uuid4().hex,
        "body": body,
        "attributes": {"ApproximateReceiveCount": str(receive_count), "SentTimestamp": "1795687200000",
                       "SenderId": "AROAEXAMPLE:unblock-close-case",
                       "ApproximateFirstReceiveTimestamp": "1795687200123"},
        "messageAttributes": {},
        "md5OfBody": hashlib.md5(body.encode()).hexdigest(),  # noqa: S324 - what SQS sends
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:unblock-outbox",
        "awsRegion": "us-east-1",
    }


def sqs_event(*records: dict[str, Any]) -> dict[str, Any]:
    return {"Records": list(records)}


@pytest.fixture
def use(monkeypatch: pytest.MonkeyPatch) -> Any:
    def install(notifiers: dict[str, Notifier]) -> None:
        monkeypatch.setattr(notify_handler, "_notifiers", lambda: notifiers)

    return install


@pytest.fixture
def logs(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    stream = io.StringIO()
    monkeypatch.setattr(logger.registered_handler, "stream", stream)
    return stream


def invoke(event: dict[str, Any]) -> dict[str, Any]:
    return notify_handler.handler(event, FakeContext("unblock-notify"))


def test_a_failed_delivery_is_reported_alone_and_delivered_on_redelivery(
        server: Recorder, use: Any, logs: io.StringIO) -> None:
    use({"zendesk": zendesk(server)})
    record = sqs_record(outgoing().model_dump_json())
    server.answer(Answer(200), Answer(500))

    first = invoke(sqs_event(record))
    assert first == {"batchItemFailures": [{"itemIdentifier": record["messageId"]}]}

    again = invoke(sqs_event({**record, "attributes": {**record["attributes"], "ApproximateReceiveCount": "2"}}))
    assert again == {"batchItemFailures": []}
    assert [(r.body["ticket"]["comment"]["public"]) for r in server.requests] == [False, True, True]
    lines = [json.loads(line) for line in logs.getvalue().splitlines()]
    statuses = [(line.get("status"), line.get("http_status")) for line in lines if "status" in line]
    assert statuses == [("failed", 500), ("delivered", None)]
    assert all(line["case_id"] == "zendesk:4711" for line in lines if "status" in line)


def test_only_the_failing_record_of_a_batch_is_retried(server: Recorder, use: Any) -> None:
    use({"zendesk": zendesk(server), "discourse": discourse(server)})
    ok = sqs_record(outgoing("discourse", "8812").model_dump_json())
    bad = sqs_record(outgoing(internal_note=None).model_dump_json())
    also_ok = sqs_record(outgoing("discourse", "8813").model_dump_json())
    server.answer(Answer(200), Answer(503), Answer(200))

    assert invoke(sqs_event(ok, bad, also_ok)) == {"batchItemFailures": [{"itemIdentifier": bad["messageId"]}]}
    assert [r.path for r in server.requests] == ["/posts.json", "/api/v2/tickets/4711.json", "/posts.json"]


def test_a_rejected_delivery_is_a_failure_too(server: Recorder, use: Any, logs: io.StringIO) -> None:
    use({"zendesk": zendesk(server)})
    record = sqs_record(outgoing(internal_note=None).model_dump_json())
    server.answer(Answer(422, {"error": "RecordInvalid"}))

    assert invoke(sqs_event(record))["batchItemFailures"] == [{"itemIdentifier": record["messageId"]}]
    [line] = [json.loads(x) for x in logs.getvalue().splitlines() if '"rejected"' in x]
    assert line["level"] == "ERROR" and line["http_status"] == 422 and line["destination"] == "zendesk"


def test_a_help_desk_without_configuration_is_skipped(server: Recorder, use: Any, logs: io.StringIO) -> None:
    use({"zendesk": zendesk(server)})
    record = sqs_record(outgoing("discourse", "8812").model_dump_json())

    assert invoke(sqs_event(record)) == {"batchItemFailures": []}
    assert server.requests == []
    assert '"status":"skipped"' in logs.getvalue().replace(" ", "")


def test_an_invalid_message_fails_without_logging_its_body(use: Any, logs: io.StringIO) -> None:
    use({})
    bad = sqs_record(json.dumps({"case_id": "zendesk:4711", "destination": "zendesk", "ticket_id": "x",
                                 "public_body": PUBLIC, "reply_id": "r"}))
    not_json = sqs_record("not json " + QUOTE)

    response = invoke(sqs_event(bad, not_json))
    assert response == {"batchItemFailures": [{"itemIdentifier": bad["messageId"]},
                                              {"itemIdentifier": not_json["messageId"]}]}
    assert "ticket_id" in logs.getvalue()
    assert QUOTE not in logs.getvalue()


def test_no_reply_text_reaches_the_logs(server: Recorder, use: Any, logs: io.StringIO) -> None:
    use({"zendesk": zendesk(server), "discourse": discourse(server)})
    server.answer(Answer(200), Answer(500), Answer(429, {"error": QUOTE}), Answer(200))
    records = [sqs_record(outgoing().model_dump_json()),
               sqs_record(outgoing("discourse", "8812").model_dump_json()),
               sqs_record(outgoing("discourse", "8813").model_dump_json())]

    invoke(sqs_event(*records))
    text = logs.getvalue()
    assert "zendesk:4711" in text and "discourse:8812" in text
    assert QUOTE not in text and "billing.stale_hold" not in text


# --- configuration -------------------------------------------------------------------------
def test_no_urls_no_notifiers() -> None:
    assert notifiers_from_env({}) == {}


def test_url_without_the_rest_is_misconfigured() -> None:
    notifiers = notifiers_from_env({"ZENDESK_API_URL": "https://acme.zendesk.com"})
    assert set(notifiers) == {"zendesk"}
    assert isinstance(notifiers["zendesk"], Misconfigured)
    with pytest.raises(DeliveryRejected, match="ZENDESK_API_EMAIL"):
        notifiers["zendesk"].deliver(outgoing())


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for var, value in {"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing",
                       "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(var, value)
    with mock_aws():
        yield boto3.client("secretsmanager", region_name="us-east-1")


def test_tokens_come_from_secrets_manager(server: Recorder, secrets: Any) -> None:
    suffix = uuid.uuid4().hex[:8]  # Powertools caches secrets by name for the process
    secrets.create_secret(Name=f"zd-{suffix}", SecretString="zd-from-secret")
    secrets.create_secret(Name=f"dc-{suffix}", SecretString=json.dumps({"api_key": "dc-from-secret"}))
    notifiers = notifiers_from_env({
        "ZENDESK_API_URL": server.url, "ZENDESK_API_EMAIL": "agent@acme.test",
        "ZENDESK_API_TOKEN_SECRET": f"zd-{suffix}",
        "DISCOURSE_API_URL": server.url, "DISCOURSE_API_USERNAME": "unblock-bot",
        "DISCOURSE_API_KEY_SECRET": f"dc-{suffix}",
    })
    assert isinstance(notifiers["zendesk"], ZendeskNotifier)
    assert isinstance(notifiers["discourse"], DiscourseNotifier)

    notifiers["zendesk"].deliver(outgoing(internal_note=None))
    notifiers["discourse"].deliver(outgoing("discourse", "8812"))
    zd, dc = server.requests
    assert zd.headers["Authorization"] == basic("agent@acme.test/token", "zd-from-secret")
    assert (dc.headers["Api-Key"], dc.headers["Api-Username"]) == ("dc-from-secret", "unblock-bot")


def test_an_unreadable_secret_is_a_retryable_failure(server: Recorder, secrets: Any) -> None:
    notifiers = notifiers_from_env({"ZENDESK_API_URL": server.url, "ZENDESK_API_EMAIL": "a@b.test",
                                    "ZENDESK_API_TOKEN_SECRET": f"missing-{uuid.uuid4().hex}"})
    with pytest.raises(DeliveryFailed, match="cannot read secret"):
        notifiers["zendesk"].deliver(outgoing())
    assert server.requests == []


# --- the message and reply_for -------------------------------------------------------------
def make_case(source: str, case_id: str, ticket_id: str | None = None, *, reply: str | None = PUBLIC,
              note: str | None = NOTE) -> Case:
    report = Report(case_id=case_id, source=source, ticket_id=ticket_id)  # type: ignore[arg-type]
    return Case(case_id=case_id, report=report, created_at=NOW, updated_at=NOW, status="closed",
                outcome="auto_fixed", customer_reply=reply, internal_note=note)


def test_reply_for_a_zendesk_ticket() -> None:
    reply = reply_for(make_case("zendesk", "zendesk:4711", "4711"), "zendesk:4711:1")
    assert reply == OutgoingReply(case_id="zendesk:4711", destination="zendesk", ticket_id="4711",
                                  public_body=PUBLIC, internal_note=NOTE, reply_id="zendesk:4711:1",
                                  outcome="auto_fixed")


def test_a_webhook_case_answers_only_its_own_namespace() -> None:
    # a Zendesk ticket is zendesk:<id> whatever its channel; a case id from another namespace
    # (a normalized event's, an old "api:4711") never reaches a help-desk ticket
    assert reply_for(make_case("zendesk", "api:4711", "4711"), "api:4711:1") is None
    assert reply_for(make_case("zendesk", "ticket:4711", "4711"), "r1") is None


def test_reply_for_a_discourse_topic_has_no_internal_note() -> None:
    reply = reply_for(make_case("discourse", "discourse:8812", "8812"), "discourse:8812:1")
    assert reply is not None
    assert (reply.destination, reply.ticket_id, reply.public_body, reply.internal_note) == \
        ("discourse", "8812", PUBLIC, None)


@pytest.mark.parametrize(("case_id", "ticket_id"), [
    ("zendesk:4711", "4711"),  # issue 22 item 3: what a normalized event says never picks a help desk
    ("zendesk:4711", "zendesk:4711"),
    ("discourse:8812", "8812"),
    ("api:99", "99"),
    ("ticket:99", "99"),
])
def test_a_normalized_event_answers_no_help_desk_ticket(case_id: str, ticket_id: str) -> None:
    assert reply_for(make_case("eventbridge", case_id, ticket_id), "r1") is None


@pytest.mark.parametrize("source", ["staff", "api", "schedule"])
def test_no_help_desk_no_reply(source: str) -> None:
    assert reply_for(make_case(source, f"{source}:team_x:20261126T100000", None), "r1") is None
    assert reply_for(make_case(source, "zendesk:4711", "4711"), "r1") is None  # only help-desk sources


def test_nothing_to_say_no_reply() -> None:
    assert reply_for(make_case("zendesk", "zendesk:4711", "4711", reply=None, note=None), "r1") is None
    assert reply_for(make_case("discourse", "discourse:8812", "8812", reply=None), "r1") is None  # note only
    note_only = reply_for(make_case("zendesk", "zendesk:4711", "4711", reply=None), "r1")
    assert note_only is not None and note_only.public_body is None and note_only.internal_note == NOTE


def test_a_ticket_id_that_is_not_a_number_has_no_reply() -> None:
    assert reply_for(make_case("eventbridge", "zendesk:abc", "abc"), "r1") is None


def test_outgoing_reply_round_trips_and_validates() -> None:
    reply = outgoing()
    assert OutgoingReply.model_validate_json(reply.model_dump_json()) == reply
    with pytest.raises(ValidationError):
        outgoing(ticket_id="47 11")
    with pytest.raises(ValidationError):
        outgoing(public_body=None, internal_note=None)
    with pytest.raises(ValidationError):
        outgoing(destination="email")


@pytest.fixture
def cases_table(boto_session: Any) -> Iterator[str]:
    """The cases table as template.yaml defines it: where the idempotency records are kept."""
    from tests.support import ROOT
    from unblock_dev.local.template import load_template

    props = load_template(ROOT / "template.yaml")["Resources"]["CasesTable"]["Properties"]
    with mock_aws():
        name = f"unblock-unit-cases-{uuid.uuid4().hex[:12]}"
        table = boto_session.resource("dynamodb").create_table(
            TableName=name, BillingMode="PAY_PER_REQUEST",
            **{k: props[k] for k in ("KeySchema", "AttributeDefinitions", "GlobalSecondaryIndexes")})
        yield name
        table.delete()


def test_each_reply_part_is_delivered_once_across_containers(server: Recorder, cases_table: str,
                                                             boto_session: Any) -> None:
    from unblock.adapters.idempotency import PersistentOnce

    def container() -> ZendeskNotifier:  # a cold container: nothing remembered in memory
        once = PersistentOnce(cases_table, boto3_session=boto_session)
        once.register_lambda_context(FakeContext("unblock-notify"))
        return zendesk(server, once=once)

    server.answer(Answer(200), Answer(500))
    with pytest.raises(DeliveryFailed):
        container().deliver(outgoing())  # the note went through, the public reply did not
    container().deliver(outgoing())  # redelivered to another container: only the public reply
    container().deliver(outgoing())  # and once more: nothing

    publics = [r.body["ticket"]["comment"]["public"] for r in server.requests]
    assert publics == [False, True, True]
    container().deliver(outgoing(reply_id="zendesk:4711:2"))  # a new reply is a new message
    assert len(server.requests) == 5

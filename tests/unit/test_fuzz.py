"""Fuzzing every entry: no input makes a handler raise.

The webhook handler (Function URL events), the intake handler (EventBridge ticket events,
staff StartExecution inputs, replays) and the staff start built by `unblock start` get inputs
made by hypothesis: samples with fields replaced, any JSON (lone surrogates and control
characters included), bodies signed and not, base64 and not, deep nesting. Each must answer
with a named outcome; what is kept must be a message SQS can carry; what is started must be
an input Step Functions takes. The handlers run against fakes (no moto, no execution), so the
whole module takes a few seconds; hypothesis is derandomized, so CI sees the same inputs.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from unblock import composition
from unblock.adapters.dead_letters import kept_message
from unblock.domain.helpdesks.discourse import discourse_signature
from unblock.domain.helpdesks.zendesk import zendesk_signature
from unblock.domain.limits import MAX_EXECUTION_INPUT_BYTES, MAX_JSON_DEPTH
from unblock.handlers import intake, webhook
from unblock_dev.clock import FixedClock
from unblock_dev.commands import start as start_cmd
from unblock_dev.inputs import UsageError
from unblock_dev.local.app import webhook_request
from unblock_dev.local.stack import FakeContext

EVENTS = Path(__file__).resolve().parents[2] / "events"
SECRET = "unblock-sample-secret"
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:unblock-local-remediation"

FUZZ = settings(max_examples=100, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def sample(name: str) -> Any:
    return json.loads((EVENTS / name).read_text())


# --- fakes for the adapters the handlers reach through the composition root ----------------------
class AlreadyExists(Exception):
    pass


class FakeStepFunctions:
    class exceptions:  # noqa: N801 - botocore's shape
        ExecutionAlreadyExists = AlreadyExists

    def __init__(self) -> None:
        self.started: list[dict[str, Any]] = []

    def start_execution(self, stateMachineArn: str, name: str, input: str) -> dict[str, Any]:  # noqa: A002, N803
        # what Step Functions itself refuses: a name outside [A-Za-z0-9_-]{1,80}, an input past 256 KiB
        assert re.fullmatch(r"[A-Za-z0-9_-]{1,80}", name), name
        assert len(input.encode("utf-8")) <= MAX_EXECUTION_INPUT_BYTES
        self.started.append(json.loads(input))
        return {"executionArn": f"{ARN.replace(':stateMachine:', ':execution:')}:{name}"}


class FakeDeadLetters:
    def __init__(self) -> None:
        self.kept: list[dict[str, Any]] = []

    def keep(self, kind: str, payload: Any, reason: str, received_at: datetime) -> None:
        assert kind in ("ticket", "report", "zendesk", "discourse", "unknown")
        message = kept_message(kind, payload, reason, received_at)  # type: ignore[arg-type]
        assert message.isascii() and len(message) <= 256 * 1024  # what SQS carries
        assert "supersecretvalue" not in message  # every string redacted
        self.kept.append(json.loads(message))


class NobodyKnown:
    """A help desk's API that knows nobody and no ticket (the HelpDeskReader port)."""

    def email_for(self, handle: Any) -> None:
        return None

    def ticket(self, ticket_id: str) -> None:
        return None

    def account_user(self) -> None:
        return None


class Fakes:
    def __init__(self) -> None:
        self.sfn = FakeStepFunctions()
        self.dlq = FakeDeadLetters()

    def reset(self) -> None:
        self.sfn.started.clear()
        self.dlq.kept.clear()


@pytest.fixture(scope="module")
def fakes() -> Iterator[Fakes]:
    made = Fakes()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("STATE_MACHINE_ARN", ARN)
        mp.setattr(composition, "clock", lambda: FixedClock(NOW))
        mp.setattr(composition, "stepfunctions", lambda: made.sfn)
        mp.setattr(composition, "intake_dead_letters", lambda: made.dlq)
        mp.setattr(composition, "requester_directory", lambda desk: NobodyKnown())
        mp.setattr(webhook, "signing_secret", lambda env_name: SECRET)
        yield made


# --- strategies -----------------------------------------------------------------------------------
# any character, lone surrogates and controls included, with the troublesome ones made likely
CHARS = st.one_of(st.characters(exclude_categories=()), st.sampled_from("\ud800\udfff\x00\u2028{}[]\"\\"))
TEXT = st.text(CHARS, max_size=30)
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), TEXT)
JSON = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                     st.dictionaries(TEXT, inner, max_size=4)), max_leaves=12)


def deep(depth: int, leaf: Any = "403") -> Any:
    for _ in range(depth):
        leaf = {"a": leaf} if depth % 2 else [leaf]
    return leaf


DEEP = st.integers(MAX_JSON_DEPTH - 2, 300).map(deep)
PASTED = "vck_3f9aZZsupersecretvaluethatmustnotleak"
NASTY = st.sampled_from(["403 \ud800", "\udfff", "a\x00b", "\u2028", "[[[{{{", "\\", f"my key: {PASTED}", ""])


def one_of_weighted(*choices: tuple[int, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    return st.sampled_from([strategy for weight, strategy in choices for _ in range(weight)]).flatmap(lambda s: s)


@st.composite
def mutated(draw: st.DrawFn, base: Any) -> Any:
    """`base` with a few values anywhere in it replaced (or removed) by anything."""
    value = json.loads(json.dumps(base))
    for _ in range(draw(st.integers(0, 3))):
        node, path = value, []
        while isinstance(node, dict | list) and node and (not path or draw(st.booleans())):
            key = draw(st.sampled_from(sorted(node) if isinstance(node, dict) else list(range(len(node)))))
            path.append((node, key))
            node = node[key]
        if not path:
            continue
        parent, key = path[-1]
        if isinstance(parent, dict) and draw(st.booleans()):
            del parent[key]
        else:
            parent[key] = draw(one_of_weighted((3, JSON), (1, DEEP), (1, NASTY)))
    return value


def signed_headers(route: str, raw: bytes, said: str = "post_created") -> dict[str, str]:
    """The sample's headers, signed over `raw` as the help desk would (any route but discourse: Zendesk's)."""
    if route == "discourse":
        headers = sample("discourse-post-created.json")["headers"] | {"X-Discourse-Event": said}
        return headers | {"X-Discourse-Event-Signature": discourse_signature(raw, SECRET)}
    headers = sample("zendesk-ticket-created.json")["headers"]
    ts = headers["X-Zendesk-Webhook-Signature-Timestamp"]
    return headers | {"X-Zendesk-Webhook-Signature": zendesk_signature(raw, SECRET, ts)}


def signed(route: str, raw: bytes) -> dict[str, Any]:
    return webhook_request({"headers": signed_headers(route, raw), "body": raw, "path": f"/{route}"})


def _encode(payload: Any, ascii_only: bool) -> bytes:
    return json.dumps(payload, ensure_ascii=ascii_only).encode("utf-8", errors="surrogatepass")


@st.composite
def function_url_events(draw: st.DrawFn) -> dict[str, Any]:
    """A Function URL event for POST /zendesk or /discourse: usually signed, sometimes not at all."""
    route = draw(st.sampled_from(["zendesk", "discourse"] * 6 + ["jira"]))
    base = sample("discourse-post-created.json" if route == "discourse" else "zendesk-ticket-created.json")
    payload = draw(one_of_weighted((6, mutated(base["body"])), (1, JSON), (1, DEEP), (1, st.just({"ping": "OK"})),
                                   (1, st.builds(lambda v: {"topic": v}, JSON))))
    raw = draw(one_of_weighted((8, st.builds(_encode, st.just(payload), st.booleans())), (1, st.binary(max_size=40))))
    said = draw(st.sampled_from(["post_created", "post_edited", "ping", "topic_created"]))
    headers = signed_headers(route, raw, said)
    headers = draw(one_of_weighted((6, st.just(headers)), (2, mutated(headers)),
                                   (1, st.dictionaries(TEXT, TEXT, max_size=4))))
    event = webhook_request({"headers": headers, "body": raw, "path": f"/{route}"})  # the body in base64
    event["headers"] = {str(k).lower(): v for k, v in event["headers"].items() if isinstance(v, str)}
    how = draw(st.sampled_from(["text", "base64"] * 3 + ["junk"]))
    if how == "text":  # as a Function URL passes a JSON body: text, when it is UTF-8
        with contextlib.suppress(UnicodeDecodeError):
            event["body"], event["isBase64Encoded"] = raw.decode("utf-8"), False
    elif how == "junk":  # marked base64, and anything at all
        event["body"] = draw(TEXT)
    event["requestContext"]["http"]["method"] = draw(st.sampled_from(["POST"] * 15 + ["GET"]))
    return event


# --- the webhook handler ----------------------------------------------------------------------------
@FUZZ
@given(event=function_url_events())
@example(event=signed("zendesk", b"{}") | {"body": "eyJub3QiOiAiYmFzZTY0Ig", "isBase64Encoded": True})  # not base64
@example(event=signed("discourse", b'{"post": ' + b"[" * 5000 + b"]" * 5000 + b"}"))
@example(event=signed("discourse", b'{"post": {"id": 1, "topic_id": 2, "raw": "\\ud800"}}'))
@example(event=signed("discourse", b'{"topic": {"id": 1}}'))  # under a post_created header
def test_no_webhook_request_makes_the_handler_raise(fakes: Fakes, event: dict[str, Any]) -> None:
    fakes.reset()
    response = webhook.handler(event, FakeContext("unblock-webhook"))

    status = response["statusCode"]
    answer = json.loads(response["body"])
    assert status in (200, 202, 400, 401, 404, 405, 413), answer
    if status == 202:
        assert len(fakes.sfn.started) == 1 and answer["case_id"]
    elif status == 400:
        assert answer["error"]
        assert len(fakes.dlq.kept) == int(bool(answer.get("kept")))  # signed and unprocessable: kept, once
    else:
        assert fakes.dlq.kept == [] and fakes.sfn.started == []


# --- the intake handler: EventBridge ticket events, staff starts, replays -----------------------------
def _replay(kind: Any, payload: Any) -> dict[str, Any]:
    return {"replay": {"kind": kind, "payload": payload, "reason": "earlier", "received_at": NOW.isoformat()}}


KEPT_WEBHOOK = st.fixed_dictionaries({"headers": st.one_of(JSON, mutated(sample("discourse-post-created.json")
                                                                         ["headers"])),
                                      "body": st.one_of(JSON, TEXT, mutated(sample("zendesk-ticket-created.json")
                                                                            ["body"]))})
INTAKE_EVENTS = one_of_weighted(
    (4, mutated(sample("ticket-stale-billing-hold.json"))),
    (1, mutated(sample("ticket-no-team.json"))),
    (3, mutated(sample("staff-manual.json"))),
    (1, st.builds(lambda report: {"report": report}, JSON)),
    (3, st.builds(_replay, one_of_weighted((4, st.sampled_from(["ticket", "report", "zendesk", "discourse"])),
                                           (1, JSON)),
                  st.one_of(KEPT_WEBHOOK, mutated(sample("ticket-expired-card.json")), JSON))),
    (1, JSON),
    (1, DEEP),
)


@FUZZ
@given(event=INTAKE_EVENTS)
@example(event=sample("ticket-expired-card.json") | {"detail": {"ticket_id": "1", "channel": "web", "text": "\ud800"}})
@example(event=sample("ticket-expired-card.json") | {"resources": deep(900)})
@example(event=_replay("report", "not an object"))
@example(event={"replay": "not an object"})
@example(event=[1, 2])
def test_no_event_makes_the_intake_raise(fakes: Fakes, event: Any) -> None:
    fakes.reset()
    result = intake.handler(event, FakeContext("unblock-intake"))

    assert isinstance(result, dict)
    if "error" in result:
        assert result["kept"] is True and result["error"]
        replayed = isinstance(event, dict) and isinstance(event.get("replay"), dict)
        assert len(fakes.dlq.kept) == (0 if replayed else 1)  # a failed replay stays where it is kept
        assert fakes.sfn.started == []
    elif "ignored" in result:
        assert fakes.sfn.started == [] and fakes.dlq.kept == []
    else:
        assert result["case_id"] and len(fakes.sfn.started) == 1 and fakes.dlq.kept == []


# --- the staff start built by `unblock start` ---------------------------------------------------------
@FUZZ
@given(team=TEXT, key=st.one_of(st.none(), TEXT, st.builds("vck_{}".format, TEXT)), note=st.one_of(st.none(), TEXT),
       actor=TEXT)
def test_no_argument_makes_the_staff_start_raise_anything_but_a_usage_error(
        fakes: Fakes, team: str, key: str | None, note: str | None, actor: str) -> None:
    fakes.reset()
    try:
        event = start_cmd.staff_report(team, key, note, actor)
    except UsageError as err:
        assert str(err)
        return
    result = intake.handler(event, FakeContext("unblock-intake"))  # what `unblock start` hands the intake
    assert result.get("case_id") or (result.get("kept") and result.get("error"))


def test_a_base64_body_is_decoded_before_its_signature_is_checked(fakes: Fakes) -> None:
    """The fuzz's positive control: a signed delivery sent base64 (as a Function URL may) opens its case."""
    fakes.reset()
    body = sample("zendesk-ticket-created.json")
    raw = _encode(body["body"], ascii_only=False)
    headers = body["headers"] | {"X-Zendesk-Webhook-Signature": zendesk_signature(
        raw, SECRET, body["headers"]["X-Zendesk-Webhook-Signature-Timestamp"])}
    event = webhook_request({"headers": headers, "body": raw, "path": "/zendesk"})
    event |= {"body": base64.b64encode(raw).decode(), "isBase64Encoded": True}

    response = webhook.handler(event, FakeContext("unblock-webhook"))

    assert response["statusCode"] == 202 and len(fakes.sfn.started) == 1

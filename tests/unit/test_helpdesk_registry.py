"""A third help desk, added through the registry alone (docs/architecture.md "Help desks").

`helpline` is a small fake desk: its pure part (signature, mapping) is the `DESK` entry below,
its HTTP part (a notifier, a user look-up) is this module itself, named as the entry's `adapter`.
Nothing else in functions/ is told about it: the webhook route, intake and its replays, case
ids, replies and composition find it in the registry. A desk the registry does not list is an
error everywhere, never another desk's behaviour.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sys
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from unblock import composition
from unblock.domain import helpdesks
from unblock.domain.cases import Case
from unblock.domain.helpdesks import HelpDesk, UnknownHelpDesk
from unblock.domain.helpdesks.desk import FollowUp, Opening, Settings
from unblock.domain.models import Report
from unblock.domain.replies import OutgoingReply, reply_for
from unblock.domain.tickets.ticket_event import FOLLOW_UP, TicketDetail, TicketEvent
from unblock.domain.tickets.webhooks import WebhookRejected, canonical_body, event_id, header
from unblock.handlers import webhook
from unblock.workflow import intake
from unblock_dev.clock import FixedClock
from unblock_dev.local.app import webhook_request
from unblock_dev.local.stack import FakeContext

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
SECRET = "helpline-signing-secret"
ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:unblock-local-remediation"
SIGNATURE = "X-Helpline-Signature"


# --- the desk's pure part: what its module under unblock.domain.helpdesks would hold -------------
def verify(headers: Mapping[str, str], raw: bytes, secret: str, now: datetime) -> None:
    expected = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, header(headers, SIGNATURE) or ""):
        raise WebhookRejected(401, "signature does not match")


def _event(payload: Mapping[str, Any], detail_type: str = "Access Denied Reported") -> TicketEvent:
    ticket = payload["ticket"]
    return TicketEvent(id=event_id("helpline", ticket["id"], detail_type), source="helpline",
                       detail_type=detail_type, time=NOW,  # type: ignore[call-arg]
                       detail=TicketDetail(ticket_id=str(ticket["id"]), channel="web", text=ticket["text"]))


def read(headers: Mapping[str, str], payload: dict[str, Any], reader: Any) -> Opening | FollowUp:
    if payload.get("reply"):
        event = _event(payload, FOLLOW_UP)
        return FollowUp(event, event.id)
    return Opening(_event(payload), payload["ticket"].get("user"))


DESK = HelpDesk(
    name="helpline", adapter=__name__,
    settings=Settings(api_url="HELPLINE_API_URL", api_user="HELPLINE_API_USER", api_secret="HELPLINE_API_SECRET",
                      webhook_secret="HELPLINE_SECRET_NAME"),
    verify=verify, read=read, opening=lambda headers, payload: _event(payload),
    kept_headers=("x-helpline",), internal_notes=True,
)


# --- the desk's HTTP part: what its module under unblock.adapters would hold ---------------------
class Users:
    """The HelpDeskReader port: one known requester."""

    def email_for(self, handle: str | None) -> str | None:
        return "dev@acme.test" if handle == "u-1" else None

    def ticket(self, ticket_id: str) -> None:
        return None

    def account_user(self) -> str:
        return "unblock@helpline.test"


class Notifier:
    delivered: list[OutgoingReply] = []

    def __init__(self, account: Any) -> None:
        self.account = account

    def deliver(self, reply: OutgoingReply) -> None:
        self.delivered.append(reply)


def notifier(account: Any, *, once: Any = None, console_url: str | None = None) -> Notifier:
    return Notifier(account)


def reader(account: Any) -> Users:
    return Users()


# --- fixtures -----------------------------------------------------------------------------------
class Started:
    class exceptions:  # noqa: N801 - botocore's shape
        ExecutionAlreadyExists = KeyError

    def __init__(self) -> None:
        self.inputs: list[dict[str, Any]] = []

    def start_execution(self, stateMachineArn: str, name: str, input: str) -> dict[str, Any]:  # noqa: A002, N803
        self.inputs.append(json.loads(input))
        return {"executionArn": f"{ARN}:{name}"}


@pytest.fixture
def registered(monkeypatch: pytest.MonkeyPatch) -> Iterator[HelpDesk]:
    monkeypatch.setattr(helpdesks, "DESKS", dict(helpdesks.DESKS))  # the registry as it was, after the test
    helpdesks.register(DESK)
    for name, value in {"HELPLINE_API_URL": "https://helpline.example", "HELPLINE_API_USER": "unblock",
                        "HELPLINE_API_SECRET": "helpline/api-key"}.items():
        monkeypatch.setenv(name, value)
    composition.requester_directory.cache_clear()
    yield DESK
    composition.requester_directory.cache_clear()


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> Started:
    made = Started()
    monkeypatch.setenv("STATE_MACHINE_ARN", ARN)
    monkeypatch.setenv("HELPLINE_SECRET_NAME", "helpline/webhook")
    monkeypatch.setattr(composition, "clock", lambda: FixedClock(NOW))
    monkeypatch.setattr(composition, "stepfunctions", lambda: made)
    monkeypatch.setattr(webhook, "signing_secret",
                        lambda env_name: SECRET if env_name == "HELPLINE_SECRET_NAME" else "")
    return made


def post(path: str, payload: Any, secret: str = SECRET) -> dict[str, Any]:
    raw = canonical_body(payload)
    signature = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    event = webhook_request({"headers": {SIGNATURE: signature}, "body": raw.decode(), "path": path})
    return webhook.handler(event, FakeContext("WebhookFunction"))


TICKET = {"ticket": {"id": 5, "text": "every request answers 403 Forbidden", "user": "u-1"}}


# --- a third desk, end to end through the registry ----------------------------------------------
def test_a_third_desk_takes_its_webhook_deliveries_through_the_registry_alone(registered: HelpDesk,
                                                                           started: Started) -> None:
    answer = post("/helpline", TICKET)
    assert answer["statusCode"] == 202, answer
    assert json.loads(answer["body"])["case_id"] == "helpline:5"
    (report,) = [i.get("report", i) for i in started.inputs]
    assert (report["case_id"], report["source"], report["requester_email"]) == \
        ("helpline:5", "helpline", "dev@acme.test")  # the desk's own user look-up verified who wrote
    assert post("/helpline", TICKET, secret="wrong")["statusCode"] == 401  # its own signature check


def test_a_third_desks_kept_delivery_is_replayed_by_its_own_mapping(registered: HelpDesk) -> None:
    assert intake.kind_of({"replay": {"kind": "helpline", "payload": {}}}) == "helpline"
    report = intake.to_report("helpline", {"headers": {}, "body": TICKET}, NOW)
    assert (report.case_id, report.source) == ("helpline:5", "helpline")


def test_a_third_desks_case_is_answered_on_that_desk(registered: HelpDesk) -> None:
    report = Report(case_id="helpline:5", source="helpline", ticket_id="5")
    case = Case(case_id="helpline:5", report=report, created_at=NOW, updated_at=NOW, status="closed",
                outcome="auto_fixed", customer_reply="Fixed.", internal_note="Evidence.")
    reply = reply_for(case, "helpline:5:1")
    assert reply is not None
    assert (reply.destination, reply.ticket_id, reply.internal_note) == ("helpline", "5", "Evidence.")
    built = composition.notifiers_from_env(dict(__import__("os").environ))
    assert isinstance(built["helpline"], Notifier)
    assert built["helpline"].account.base_url == "https://helpline.example"
    assert isinstance(composition.requester_directory("helpline"), Users)
    assert sys.modules[DESK.adapter] is sys.modules[__name__]


# --- an unknown desk is an error, never another desk's behaviour --------------------------------
def test_an_unknown_desk_is_refused_wherever_it_is_named(started: Started) -> None:
    assert helpdesks.find("helpline") is None  # the fixture above left the registry as it was
    with pytest.raises(UnknownHelpDesk):
        helpdesks.desk("helpline")
    with pytest.raises(ValidationError, match="unknown source"):
        Report(case_id="helpline:5", source="helpline", ticket_id="5")
    with pytest.raises(ValidationError, match="no help desk named"):
        OutgoingReply(case_id="helpline:5", destination="helpline", ticket_id="5", public_body="x", reply_id="r")
    with pytest.raises(ValidationError, match="a help desk's name"):
        TicketEvent(source="helpline", detail=TicketDetail(ticket_id="5", channel="web"))
    with pytest.raises(UnknownHelpDesk):
        composition.requester_directory("helpline")
    assert intake.kind_of({"replay": {"kind": "helpline", "payload": {}}}) == "unknown"
    answer = post("/helpline", TICKET)
    assert (answer["statusCode"], json.loads(answer["body"])) == (404, {"error": "no help desk at /helpline"})
    assert started.inputs == []


def test_a_desk_name_is_registered_once() -> None:
    with pytest.raises(ValueError, match="registered already"):
        helpdesks.register(HelpDesk(name="zendesk", adapter=__name__, settings=DESK.settings, verify=verify,
                                    read=read, opening=DESK.opening))


@pytest.mark.parametrize("name", ["zendesk", "discourse"])
def test_a_desk_is_known_in_its_own_modules_and_the_registry_only(name: str) -> None:
    from pathlib import Path

    package = Path(__file__).resolve().parents[2] / "functions" / "unblock"
    naming = sorted(str(p.relative_to(package)) for p in package.rglob("*") if p.suffix in (".py", ".html")
                    and name in p.read_text(encoding="utf-8").lower())
    assert len(naming) <= 4, f"{name} is named in {naming}: ask the registry (unblock.domain.helpdesks) instead"

"""From the normalized ticket event to the redacted Report that enters the workflow."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from tests.support import load_event
from unblock.domain.models import Report
from unblock.domain.tickets.reports import redact_decision, redact_report, report_from_ticket
from unblock.domain.tickets.ticket_event import parse_ticket_event

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def _report(**detail):
    event = load_event("ticket-stale-billing-hold.json", unique=False)
    event["detail"].update(detail)
    return report_from_ticket(parse_ticket_event(event), NOW)


@pytest.mark.parametrize("channel", ["email", "web", "forum", "api"])
def test_a_normalized_event_no_help_desk_produced_has_a_namespace_of_its_own(channel):
    # issue 22 item 3: the channel never names the help desk; only the producing adapter does
    assert _report(channel=channel).case_id == "ticket:4711"
    assert _report(channel=channel, ticket_id="zendesk:99").case_id == "ticket:zendesk:99"  # no way in


@pytest.mark.parametrize("channel", ["email", "web", "api"])
def test_a_zendesk_ticket_is_zendesk_whatever_its_channel(channel):
    # issue 22 item 4: a ticket created through Zendesk's API (via web_service -> channel api) too
    event = load_event("ticket-stale-billing-hold.json", unique=False)
    event["detail"].update(channel=channel)
    assert report_from_ticket(parse_ticket_event(event), NOW, source="zendesk").case_id == "zendesk:4711"


def test_a_numeric_ticket_id_and_a_capitalised_slug_are_accepted():
    report = _report(ticket_id=4711, team_slug="Acme-Projects")
    assert report.case_id == "ticket:4711" and report.team_hint == "acme-projects"


def test_a_whole_key_in_the_key_prefix_field_is_cut_to_its_prefix_and_counted():
    secret = "vck_acme01Zq8XwPp3LmN7tRvB2yKc5HdJ"
    report = _report(key_prefix=secret)

    assert report.key_prefix == "vck_acme01Zq"
    assert report.secrets_redacted == 1 and report.must_rotate_key
    assert secret[12:] not in json.dumps(report.model_dump(mode="json"))


def test_text_is_redacted_and_facts_come_from_the_redacted_text():
    report = _report(text="Key vck_acme01Zq8XwPp3LmN7tRvB2yKc5HdJ fails on /v1/chat/completions with 403 "
                          "access_denied, model openai/gpt-4o")

    assert "Zq8XwPp3LmN7" not in report.text and report.secrets_redacted == 1
    assert report.facts["key_prefixes"] == ["vck_acme01Zq"]
    assert report.facts["endpoints"] == ["/v1/chat/completions"]
    assert "openai/gpt-4o" in report.facts["models"] and "access_denied" in report.facts["error_types"]


def test_a_ticket_at_the_size_limit_makes_an_execution_input_far_below_256_kib():
    from unblock.domain.tickets.reports import MAX_FACTS
    from unblock.domain.tickets.ticket_event import MAX_TEXT_BYTES

    # the red team's ticket: 250 KB dense with distinct key prefixes and request ids
    chunk = "key vck_{:08d} failed, x-request-id: req_{:032d}, team_{:024d} /v1/x{:d} openai/m{:d}\n"
    text, i = "", 0
    while len(text) < MAX_TEXT_BYTES - 200:
        text += chunk.format(i, i, i, i, i)
        i += 1
    report = _report(text=text[:MAX_TEXT_BYTES - 200], subject="403 " * 240)

    size = len(json.dumps({"report": report.model_dump(mode="json")}).encode())
    assert size < 64 * 1024  # far below Step Functions' 256 KiB
    assert all(len(v) <= MAX_FACTS for k, v in report.facts.items() if k != "truncated")
    kept = dict(t.split(": ", 1) for t in report.facts["truncated"])
    assert kept["key_prefixes"] in (f"{MAX_FACTS} of {i}", f"{MAX_FACTS} of {i - 1}")  # the count is kept
    assert report.facts["key_prefixes"][0] == "vck_00000000"


# --- every free field is redacted, not only the text (issue 14) -----------------------------------

AWS_KEY_ID = "AKIAFAKE3C9H9CURDQEY"  # tests/data/secret_corpus.json: a lower-cased one looks like no key
GATEWAY_KEY = "vck_acme01Zq8XwPp3LmN7tRvB2yKc5HdJ"


def _leaks(report, secret: str) -> bool:
    dumped = json.dumps(report.model_dump(mode="json")).lower()
    return secret[8:].lower() in dumped


@pytest.mark.parametrize("secret", [GATEWAY_KEY, AWS_KEY_ID, "ghp_FAKEKxUwiavvWFsqdiZVk2dOMPddCl1Y1GLo"])
def test_a_whole_key_sent_as_team_slug_is_no_team_hint(secret):
    report = _report(team_slug=secret)

    assert report.team_hint is None
    assert report.secrets_redacted == 1 and report.must_rotate_key
    assert not _leaks(report, secret)


@pytest.mark.parametrize(("field", "value"), [
    ("ticket_id", GATEWAY_KEY),
    ("requester_email", f"{GATEWAY_KEY}@acme.test"),
    ("requester_username", GATEWAY_KEY),
    ("key_prefix", GATEWAY_KEY),
    ("subject", f"my key {GATEWAY_KEY}"),
    ("text", f"my key {GATEWAY_KEY}"),
])
def test_every_free_field_of_a_ticket_event_is_redacted(field, value):
    report = _report(**{field: value})

    assert report.secrets_redacted == 1
    assert not _leaks(report, GATEWAY_KEY)


def test_a_ticket_id_that_is_a_key_keeps_the_marker_in_the_case_id():
    report = _report(ticket_id=GATEWAY_KEY)
    assert report.case_id == "ticket:vck_acme01Zq\u2026[REDACTED]" and report.ticket_id == report.case_id[7:]


@pytest.mark.parametrize("field", ["case_id", "ticket_id", "channel", "requested_by", "requester_email", "subject",
                                   "text", "team_id", "team_hint", "key_prefix", "note"])
def test_every_free_field_of_a_staff_start_is_redacted(field):
    value = f"key {AWS_KEY_ID} read out" if field in ("subject", "text", "note", "case_id") else AWS_KEY_ID
    report = redact_report(Report.model_validate({"case_id": "staff:acme", "source": "staff", field: value}))

    assert report.secrets_redacted == 1
    assert not _leaks(report, AWS_KEY_ID)


def test_staff_start_facts_are_redacted_too():
    report = redact_report(Report(case_id="staff:acme", source="staff", facts={"key_prefixes": [GATEWAY_KEY]}))
    assert report.facts == {"key_prefixes": ["vck_acme01Zq\u2026[REDACTED]"]} and report.secrets_redacted == 1


def test_a_staff_decision_is_redacted_before_step_functions_keeps_it():
    decision = {"decision": "resolve", "actor": "staff:dana", "fixes": ["lift_risk_hold"],
                "note": f"customer read me {GATEWAY_KEY} on the phone", "resolution": None}
    redacted = redact_decision(decision)

    assert GATEWAY_KEY[12:] not in json.dumps(redacted)
    assert redacted | {"note": None} == decision | {"note": None}
    assert redacted["note"].startswith("customer read me vck_acme01Zq\u2026[REDACTED]")

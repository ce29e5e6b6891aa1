"""From the normalized ticket event to the redacted Report that enters the workflow."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from tests.support import load_event
from unblock.domain.tickets.reports import report_from_ticket
from unblock.domain.tickets.ticket_event import parse_ticket_event

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def _report(**detail):
    event = load_event("ticket-stale-billing-hold.json", unique=False)
    event["detail"].update(detail)
    return report_from_ticket(parse_ticket_event(event), NOW)


def test_case_ids_name_the_help_desk_by_channel():
    assert _report(channel="email").case_id == "zendesk:4711"
    assert _report(channel="web").case_id == "zendesk:4711"
    assert _report(channel="forum").case_id == "discourse:4711"
    assert _report(channel="api").case_id == "api:4711"
    assert _report(ticket_id="zendesk:99").case_id == "zendesk:99"  # already qualified


def test_a_numeric_ticket_id_and_a_capitalised_slug_are_accepted():
    report = _report(ticket_id=4711, team_slug="Acme-Projects")
    assert report.case_id == "zendesk:4711" and report.team_hint == "acme-projects"


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

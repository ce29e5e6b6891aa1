"""Help-desk webhooks: signatures, payload mapping, and the normalized ticket event contract.

The samples in events/ are signed with the test secret "unblock-sample-secret" over
`canonical_body(body)`; the Zendesk one at the fixed timestamp 2026-11-26T10:00:00Z.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from unblock.domain.helpdesks.discourse import discourse_signature, is_ping, map_discourse, verify_discourse
from unblock.domain.helpdesks.zendesk import map_zendesk, verify_zendesk, zendesk_signature
from unblock.domain.tickets.facts import extract
from unblock.domain.tickets.redaction import ELLIPSIS, REDACTED
from unblock.domain.tickets.ticket_event import (
    MAX_TEXT_BYTES,
    InvalidTicketEvent,
    TicketEvent,
    clip_text,
    parse_ticket_event,
    redact_event,
)
from unblock.domain.tickets.webhooks import (
    MAX_BODY_BYTES,
    WebhookIgnored,
    WebhookPing,
    WebhookRejected,
    canonical_body,
    kept_body,
    kept_payload,
    parse_json,
)

EVENTS = Path(__file__).resolve().parents[2] / "events"
SECRET = "unblock-sample-secret"
SIGNED_AT = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
PASTED_KEY = "vck_lowr01sandboxlowrisklabstestsecret"


def sample(name: str) -> tuple[dict[str, str], dict[str, Any], bytes]:
    data = json.loads((EVENTS / name).read_text(encoding="utf-8"))
    return data["headers"], data["body"], canonical_body(data["body"])


def without(headers: Mapping[str, str], name: str) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.lower() != name.lower()}


def rejected(call: Any, *args: Any, **kwargs: Any) -> WebhookRejected:
    with pytest.raises(WebhookRejected) as info:
        call(*args, **kwargs)
    return info.value


# --- Zendesk signatures ---------------------------------------------------------------------


@pytest.fixture
def zendesk() -> tuple[dict[str, str], dict[str, Any], bytes]:
    return sample("zendesk-ticket-created.json")


@pytest.mark.parametrize("skew", [timedelta(0), timedelta(minutes=4, seconds=59), -timedelta(minutes=5)])
def test_zendesk_valid_signature(zendesk: Any, skew: timedelta) -> None:
    headers, _, raw = zendesk
    verify_zendesk(headers, raw, SECRET, SIGNED_AT + skew)


def test_zendesk_header_names_are_case_insensitive(zendesk: Any) -> None:
    headers, _, raw = zendesk
    verify_zendesk({k.lower(): v for k, v in headers.items()}, raw, SECRET, SIGNED_AT)


def test_zendesk_wrong_secret(zendesk: Any) -> None:
    headers, _, raw = zendesk
    err = rejected(verify_zendesk, headers, raw, "not-the-secret", SIGNED_AT)
    assert (err.status, err.reason) == (401, "signature does not match")


def test_zendesk_tampered_body(zendesk: Any) -> None:
    headers, body, _ = zendesk
    body = copy.deepcopy(body)
    body["detail"]["description"] += " Also please raise our limits."
    assert rejected(verify_zendesk, headers, canonical_body(body), SECRET, SIGNED_AT).status == 401
    # Same payload, other serialization: still not the bytes that were signed.
    pretty = json.dumps(zendesk[1], indent=2).encode()
    assert rejected(verify_zendesk, headers, pretty, SECRET, SIGNED_AT).status == 401


def test_zendesk_tampered_timestamp(zendesk: Any) -> None:
    headers, _, raw = zendesk
    moved = {**headers, "X-Zendesk-Webhook-Signature-Timestamp": "2026-11-26T10:01:00Z"}
    err = rejected(verify_zendesk, moved, raw, SECRET, SIGNED_AT)
    assert (err.status, err.reason) == (401, "signature does not match")


@pytest.mark.parametrize("skew", [timedelta(minutes=5, seconds=1), -timedelta(minutes=5, seconds=1),
                                  timedelta(days=1)])
def test_zendesk_stale_timestamp(zendesk: Any, skew: timedelta) -> None:
    headers, _, raw = zendesk
    err = rejected(verify_zendesk, headers, raw, SECRET, SIGNED_AT + skew)
    assert (err.status, err.reason) == (401, "signature timestamp is more than 5 minutes away")


@pytest.mark.parametrize("name", ["X-Zendesk-Webhook-Signature", "X-Zendesk-Webhook-Signature-Timestamp"])
def test_zendesk_missing_header(zendesk: Any, name: str) -> None:
    headers, _, raw = zendesk
    err = rejected(verify_zendesk, without(headers, name), raw, SECRET, SIGNED_AT)
    assert err.status == 401 and name in err.reason


@pytest.mark.parametrize("timestamp", ["yesterday", "", "1795687200"])
def test_zendesk_malformed_timestamp(zendesk: Any, timestamp: str) -> None:
    headers, _, raw = zendesk
    headers = {**headers, "X-Zendesk-Webhook-Signature-Timestamp": timestamp}
    headers["X-Zendesk-Webhook-Signature"] = zendesk_signature(raw, SECRET, timestamp)
    assert rejected(verify_zendesk, headers, raw, SECRET, SIGNED_AT).status == 401


def test_zendesk_unconfigured_secret_and_oversized_body(zendesk: Any) -> None:
    headers, _, raw = zendesk
    assert rejected(verify_zendesk, headers, raw, "", SIGNED_AT).status == 500
    big = b" " * (MAX_BODY_BYTES + 1)
    assert rejected(verify_zendesk, headers, big, SECRET, SIGNED_AT).status == 413


# --- Zendesk mapping ------------------------------------------------------------------------


def test_zendesk_sample_maps_to_the_normalized_event(zendesk: Any) -> None:
    headers, _, raw = zendesk
    verify_zendesk(headers, raw, SECRET, SIGNED_AT)
    event = map_zendesk(parse_json(raw))

    assert event.source == "zendesk"
    assert event.case_source == "zendesk"
    assert event.time == SIGNED_AT
    detail = event.detail
    assert (detail.ticket_id, detail.channel) == ("4731", "web")
    assert detail.subject == "403 Forbidden on every AI Gateway request (team_Q3xr89YFWHvqTRO0X0bmHkoU)"
    assert detail.text.startswith("Hello,\n\nsince about 09:40 UTC")
    assert (detail.requester_email, detail.team_id, detail.team_slug, detail.key_prefix) == (None,) * 4

    wire = event.to_dict()
    assert list(wire) == ["version", "id", "source", "detail-type", "time", "detail"]
    assert wire["detail-type"] == "Access Denied Reported"
    assert wire["time"] == "2026-11-26T10:00:00Z"
    assert parse_ticket_event(wire) == event

    redacted, secrets = redact_event(event)
    assert secrets == 0 and redacted == event
    facts = extract(detail.subject, detail.text)
    assert facts.team_ids == ["team_Q3xr89YFWHvqTRO0X0bmHkoU"]
    assert facts.key_prefixes == ["vck_acme01"]
    assert facts.status_codes == [403]
    assert facts.error_types == ["PermissionDeniedError", "access_denied"]
    assert facts.request_ids == ["fra1::iad1::p4k9z-1795686727000-3b9e0c7d1a2f"]


def test_zendesk_redelivery_is_the_same_event(zendesk: Any) -> None:
    _, body, _ = zendesk
    again = {**body, "id": "a-different-delivery-id", "time": "2026-11-26T10:03:00Z"}
    assert map_zendesk(again).id == map_zendesk(body).id
    other = copy.deepcopy(body)
    other["detail"]["id"] = "4712"
    assert map_zendesk(other).id != map_zendesk(body).id


@pytest.mark.parametrize(("via", "channel"), [("email", "email"), ("api", "api"), ("web_service", "api"),
                                              ("web", "web"), ("mobile", "web"), ("native_messaging", "web"),
                                              (None, "web")])
def test_zendesk_channel_from_via(zendesk: Any, via: str | None, channel: str) -> None:
    body = copy.deepcopy(zendesk[1])
    body["detail"]["via"] = {"channel": via}
    assert map_zendesk(body, requester_email="dev@acme.test").detail.channel == channel
    assert map_zendesk(body, requester_email="dev@acme.test").detail.requester_email == "dev@acme.test"


def test_zendesk_other_event_types_are_ignored(zendesk: Any) -> None:
    body = {**zendesk[1], "type": "zen:event-type:ticket.comment_added"}
    with pytest.raises(WebhookIgnored):
        map_zendesk(body)


def test_zendesk_payload_without_ticket_id_is_rejected(zendesk: Any) -> None:
    body = copy.deepcopy(zendesk[1])
    del body["detail"]["id"]
    assert rejected(map_zendesk, body).status == 400
    assert rejected(parse_json, b"not json").status == 400
    assert rejected(parse_json, b"[1, 2]").status == 400


@pytest.mark.parametrize("raw_id", [b"NaN", b"Infinity", b"-Infinity", b"true", b"4711.5", b"-3", b'"4711x"'])
def test_a_webhook_id_that_is_not_a_number_is_a_400(zendesk: Any, discourse: Any, raw_id: bytes) -> None:
    # issue 22 item 8: NaN, Infinity and true opened cases zendesk:nan / discourse:True
    def zendesk_body() -> bytes:
        body = json.dumps({**zendesk[1], "detail": {**zendesk[1]["detail"], "id": "ID"}}).encode()
        return body.replace(b'"ID"', raw_id)

    def discourse_body(field: str) -> bytes:
        post = {**discourse[1]["post"], field: "ID"}
        return json.dumps({"post": post}).encode().replace(b'"ID"', raw_id)

    for raw in (zendesk_body(), discourse_body("topic_id"), discourse_body("id")):
        with pytest.raises(WebhookRejected) as info:
            payload = parse_json(raw)
            (map_zendesk(payload) if "detail" in payload else map_discourse(discourse[0], payload))
        assert info.value.status == 400


def test_a_zendesk_ticket_id_sent_as_digits_is_the_same_ticket(zendesk: Any) -> None:
    body = copy.deepcopy(zendesk[1])
    number = map_zendesk(body).detail.ticket_id
    body["detail"]["id"] = str(number)
    assert map_zendesk(body).detail.ticket_id == number


def test_zendesk_huge_description_is_clipped_not_refused(zendesk: Any) -> None:
    body = copy.deepcopy(zendesk[1])
    body["detail"]["description"] = ("log line 403 Forbidden\n" * 20000) + f" {PASTED_KEY}"
    event = map_zendesk(body)
    assert len(event.detail.text.encode()) <= MAX_TEXT_BYTES
    assert event.detail.text.endswith("[… truncated]")


# --- Discourse signatures -------------------------------------------------------------------


@pytest.fixture
def discourse() -> tuple[dict[str, str], dict[str, Any], bytes]:
    return sample("discourse-post-created.json")


def test_discourse_valid_signature(discourse: Any) -> None:
    headers, _, raw = discourse
    verify_discourse(headers, raw, SECRET)
    verify_discourse({k.lower(): v for k, v in headers.items()}, raw, SECRET)
    upper = {**headers, "X-Discourse-Event-Signature": "sha256=" + headers["X-Discourse-Event-Signature"][7:].upper()}
    verify_discourse(upper, raw, SECRET)


def test_discourse_wrong_secret(discourse: Any) -> None:
    headers, _, raw = discourse
    err = rejected(verify_discourse, headers, raw, "not-the-secret")
    assert (err.status, err.reason) == (401, "signature does not match")


def test_discourse_tampered_body(discourse: Any) -> None:
    headers, body, _ = discourse
    body = copy.deepcopy(body)
    body["post"]["topic_id"] = 1
    assert rejected(verify_discourse, headers, canonical_body(body), SECRET).status == 401


def test_discourse_missing_or_malformed_header(discourse: Any) -> None:
    headers, _, raw = discourse
    err = rejected(verify_discourse, without(headers, "X-Discourse-Event-Signature"), raw, SECRET)
    assert err.status == 401 and "X-Discourse-Event-Signature" in err.reason
    bare_hex = {**headers, "X-Discourse-Event-Signature": headers["X-Discourse-Event-Signature"][7:]}
    assert rejected(verify_discourse, bare_hex, raw, SECRET).status == 401
    sha1 = {**headers, "X-Discourse-Event-Signature": "sha1=" + headers["X-Discourse-Event-Signature"][7:]}
    assert rejected(verify_discourse, sha1, raw, SECRET).status == 401


def test_discourse_has_no_timestamp_a_replay_is_the_same_case(discourse: Any) -> None:
    """Discourse signs no timestamp (there is nothing to be stale): a replayed or redelivered
    post verifies again and maps to the very same event, which intake opens only once."""
    headers, body, raw = discourse
    verify_discourse(headers, raw, SECRET)
    redelivery = {**headers, "X-Discourse-Event-Id": "1999"}
    verify_discourse(redelivery, raw, SECRET)
    assert map_discourse(redelivery, body) == map_discourse(headers, body)


def test_discourse_unconfigured_secret_and_oversized_body(discourse: Any) -> None:
    headers, _, raw = discourse
    assert rejected(verify_discourse, headers, raw, "").status == 500
    assert rejected(verify_discourse, headers, b"{" * (MAX_BODY_BYTES + 1), SECRET).status == 413


def test_discourse_ping_is_verified_then_answered(discourse: Any) -> None:
    raw = b'{"ping":"OK"}'
    headers = {"X-Discourse-Event-Type": "ping", "X-Discourse-Event": "ping",
               "X-Discourse-Event-Signature": discourse_signature(raw, SECRET)}
    verify_discourse(headers, raw, SECRET)
    assert is_ping(parse_json(raw))
    assert not is_ping(discourse[1])
    with pytest.raises(WebhookPing):
        map_discourse(headers, parse_json(raw))
    with pytest.raises(WebhookPing):  # the body says ping, whatever the header says
        map_discourse({**headers, "X-Discourse-Event": "post_created"}, parse_json(raw))


# --- Discourse mapping ----------------------------------------------------------------------


def test_discourse_sample_maps_to_the_normalized_event(discourse: Any) -> None:
    headers, _, raw = discourse
    verify_discourse(headers, raw, SECRET)
    event = map_discourse(headers, parse_json(raw))

    assert event.source == "discourse"
    assert event.case_source == "discourse"
    assert event.time == datetime(2026, 11, 26, 9, 58, 12, 345000, tzinfo=UTC)
    detail = event.detail
    assert (detail.ticket_id, detail.channel) == ("8812", "forum")
    assert detail.subject == "Every request returns 403 Forbidden since this morning"
    assert detail.requester_email is None
    assert PASTED_KEY in detail.text  # the mapping is faithful; redaction is the next step

    redacted, secrets = redact_event(event)
    assert secrets == 1
    assert PASTED_KEY not in json.dumps(redacted.to_dict(), ensure_ascii=False)
    assert f"Bearer vck_lowr01sa{ELLIPSIS}{REDACTED}" in redacted.detail.text
    facts = extract(redacted.detail.subject, redacted.detail.text)
    assert facts.team_slugs == ["lowrisk-labs"]
    assert facts.key_prefixes == ["vck_lowr01sa"]
    assert facts.endpoints == ["/v1/chat/completions"]
    assert facts.models == ["anthropic/claude-sonnet-4"]
    assert facts.status_codes == [403]
    assert facts.error_types == ["access_denied"]
    assert facts.request_ids == ["cdg1::iad1::w2m8r-1795686063000-5e6f7a8b9c0d"]


def test_discourse_cooked_html_when_raw_is_absent(discourse: Any) -> None:
    headers, body, _ = discourse
    body = copy.deepcopy(body)
    del body["post"]["raw"]
    text = map_discourse(headers, body).detail.text
    assert f'"Authorization: Bearer {PASTED_KEY}"' in text  # &quot; unescaped
    assert "<p>" not in text and "team \u2018lowrisk-labs\u2019" in text
    assert redact_event(map_discourse(headers, body))[1] == 1


@pytest.mark.parametrize("change", [
    {"post_number": 2, "reply_to_post_number": 1},
    {"post_type": 4},
    {"staff": True, "admin": True},
    {"topic_archetype": "private_message"},
    {"hidden": True},
    {"deleted_at": "2026-11-26T10:00:00.000Z"},
], ids=["reply", "whisper", "staff", "private-message", "hidden", "deleted"])
def test_discourse_posts_that_open_no_case(discourse: Any, change: dict[str, Any]) -> None:
    headers, body, _ = discourse
    body = {"post": {**body["post"], **change}}
    with pytest.raises(WebhookIgnored):
        map_discourse(headers, body)


TOPIC = {"topic": {"id": 8812, "title": "Every request returns 403 Forbidden", "archetype": "regular"}}
USER = {"user": {"id": 2231, "username": "lena_v"}}


@pytest.mark.parametrize(("body", "reason"), [
    (TOPIC, "a Discourse 'topic' delivery, not a post"),
    (USER, "a Discourse 'user' delivery, not a post"),
    ({"post": {"version": 2}}, "an edited post"),
    ({"post": {"deleted_at": "2026-11-26T10:00:00.000Z"}}, "a hidden or deleted post"),
    ({"ping": "OK"}, "ping"),
], ids=["topic", "user", "edited-post", "deleted-post", "ping"])
def test_a_post_created_header_on_a_body_that_is_not_a_new_post_opens_no_case(
        discourse: Any, body: dict[str, Any], reason: str) -> None:
    """X-Discourse-Event is not signed: a signed delivery relabelled `post_created` stays what its body is."""
    headers, sample, _ = discourse
    if "post" in body:
        body = {"post": {**sample["post"], **body["post"]}}
    with pytest.raises(WebhookIgnored) as ignored:
        map_discourse({**headers, "X-Discourse-Event": "post_created"}, body)
    assert ignored.value.reason.startswith(reason)


@pytest.mark.parametrize("name", ["post_edited", "post_destroyed", "topic_created", "user_created", "ping", None])
def test_a_new_opening_post_is_judged_by_its_body_whatever_the_header_says(discourse: Any, name: str | None) -> None:
    headers, body, _ = discourse
    relabelled = {**headers, "X-Discourse-Event": name} if name else without(headers, "X-Discourse-Event")
    assert map_discourse(relabelled, body) == map_discourse(headers, body)


def test_discourse_malformed_deliveries_are_rejected(discourse: Any) -> None:
    headers, _, _ = discourse
    assert rejected(map_discourse, headers, {"post": {"id": 1}}).status == 400
    assert rejected(map_discourse, headers, {"post": "a string"}).status == 400
    assert rejected(map_discourse, headers, {"nothing": True}).status == 400  # none of Discourse's shapes
    assert rejected(map_discourse, headers, {}).status == 400


# --- bodies past the limits ------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "reason"), [
    (b'{"post": ' + b"[" * 5000 + b"]" * 5000 + b"}", "body nests deeper than 32 levels"),
    (b'{"post": {"raw": "403 \\ud800"}}', "body is not valid Unicode: post.raw holds a lone surrogate (U+D800)"),
    # a surrogate as UTF-8 bytes (json.loads decodes bytes with surrogatepass)
    (b'{"post": {"raw": "403 \xed\xa0\x80"}}', "body is not valid Unicode: post.raw holds a lone surrogate (U+D800)"),
])
def test_a_signed_body_past_a_limit_is_a_named_400(raw: bytes, reason: str) -> None:
    err = rejected(parse_json, raw)
    assert (err.status, err.reason) == (400, reason)


def test_what_is_kept_of_a_body_and_how_a_replay_reads_it() -> None:
    deep = b'{"post": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    assert kept_body(deep) == deep.decode()  # as text: a parser never meets it
    assert kept_body(b"[1, 2]") == [1, 2]
    assert kept_body(b'{"raw": "\\ud800"}') == {"raw": "\ud800"}  # kept as it came
    assert kept_body(b"\xff{") == "\ufffd{"

    assert rejected(kept_payload, kept_body(deep)).reason == "body nests deeper than 32 levels"
    assert rejected(kept_payload, [1, 2]).reason == "body is not a JSON object"
    assert rejected(kept_payload, "{post: 1}").reason == "body is not valid JSON"
    assert "lone surrogate" in rejected(kept_payload, {"raw": "\ud800"}).reason
    assert kept_payload({"post": {}}) == {"post": {}}


# --- the normalized ticket event --------------------------------------------------------------

DESIGN_EXAMPLE: dict[str, Any] = {
    "version": "0", "id": "2d1b9c1e-4f0a-4d59-a6d3-9b1b0c7f6e21", "source": "unblock.tickets",
    "detail-type": "Access Denied Reported", "time": "2026-11-26T10:00:00Z",
    "detail": {"ticket_id": "4711", "channel": "email", "subject": "403 Forbidden",
               "text": "Every request fails with 403.", "requester_email": "dev@acme.test",
               "team_id": None, "team_slug": None, "key_prefix": None},
}


def test_design_example_round_trips() -> None:
    event = parse_ticket_event(DESIGN_EXAMPLE)
    assert event.case_source == "eventbridge"
    assert event.to_dict() == DESIGN_EXAMPLE
    assert parse_ticket_event(json.dumps(DESIGN_EXAMPLE)) == event
    assert parse_ticket_event(json.dumps(DESIGN_EXAMPLE).encode()) == event
    assert TicketEvent.model_validate(DESIGN_EXAMPLE) == event


def test_eventbridge_delivery_fields_are_accepted() -> None:
    delivered = {**DESIGN_EXAMPLE, "account": "123456789012", "region": "us-east-1", "resources": []}
    assert parse_ticket_event(delivered).to_dict() == delivered


def test_extra_fields_are_refused_with_a_clear_error() -> None:
    bad = copy.deepcopy(DESIGN_EXAMPLE)
    bad["detail"]["priority"] = "urgent"
    bad["colour"] = "red"
    with pytest.raises(InvalidTicketEvent) as info:
        parse_ticket_event(bad)
    message = str(info.value)
    assert "detail.priority: unknown field (allowed: channel, key_prefix, requester_email, requester_username, " \
           "subject, team_id, team_slug, text, ticket_id)" in message
    assert "colour: unknown field (allowed: " in message
    assert "urgent" not in message


@pytest.mark.parametrize(("field", "value", "problem"), [
    ("text", "x" * (MAX_TEXT_BYTES - 3) + "\u00e9\u00e9", "text is 262145 bytes; at most 262144"),
    ("channel", "fax", "detail.channel"),
    ("team_id", "team_tooshort", "detail.team_id"),
    ("key_prefix", "sk-" + PASTED_KEY, "detail.key_prefix"),  # a whole gateway key is cut down later
    ("requester_email", "not an email", "detail.requester_email"),
])
def test_detail_constraints(field: str, value: str, problem: str) -> None:
    bad = copy.deepcopy(DESIGN_EXAMPLE)
    bad["detail"][field] = value
    with pytest.raises(InvalidTicketEvent) as info:
        parse_ticket_event(bad)
    assert problem in str(info.value)
    assert PASTED_KEY not in str(info.value)


def test_validation_errors_never_echo_a_secret() -> None:
    bad = copy.deepcopy(DESIGN_EXAMPLE)
    bad["detail"]["text"] = f"Bearer {PASTED_KEY} " + "y" * MAX_TEXT_BYTES
    bad["detail"]["key_prefix"] = "sk-" + PASTED_KEY
    with pytest.raises(InvalidTicketEvent) as info:
        parse_ticket_event(bad)
    assert PASTED_KEY not in str(info.value) and PASTED_KEY not in repr(info.value.__context__)


@pytest.mark.parametrize(("field", "value"), [("detail-type", "Something Else"), ("time", "2026-11-26T10:00:00"),
                                              ("source", "aws.partner/zendesk.com"), ("version", "1")])
def test_envelope_constraints(field: str, value: str) -> None:
    with pytest.raises(InvalidTicketEvent) as info:
        parse_ticket_event({**DESIGN_EXAMPLE, field: value})
    assert field in str(info.value)


def test_clip_text_never_splits_a_secret() -> None:
    filler = "a" * (MAX_TEXT_BYTES - 30)
    clipped = clip_text(f"{filler} {PASTED_KEY} tail")
    assert len(clipped.encode()) <= MAX_TEXT_BYTES
    assert "vck_" not in clipped and clipped.endswith("[… truncated]")
    assert clip_text("short text") == "short text"


@pytest.mark.parametrize("path", sorted(EVENTS.glob("ticket-*.json")), ids=lambda p: p.name)
def test_normalized_sample_events_follow_the_contract(path: Path) -> None:
    event = parse_ticket_event(path.read_bytes())
    assert event.source == "unblock.tickets"

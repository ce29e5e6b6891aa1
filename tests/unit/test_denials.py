"""Denial signals, pure: what opens a proactive case (each threshold's edge) and how the sandbox
gateway's windows become signals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from unblock.domain.denials import InvalidDenialSignal, Thresholds, assess, parse_denial_event
from unblock_dev.clock import FixedClock
from unblock_dev.denial_signals import DenialAggregator

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
A, B, C, D = (f"team_{x * 24}" for x in "ABCD")


def detail(**changes: object) -> dict[str, object]:
    base: dict[str, object] = {"team_id": "team_Q3xr89YFWHvqTRO0X0bmHkoU", "window_start": T0.isoformat(),
                               "window_end": (T0 + timedelta(minutes=3)).isoformat(), "denied": 20, "total": 25,
                               "status": 403, "error_type": "access_denied"}
    return base | changes


def verdict(**changes: object) -> str:
    event = {"source": "unblock.gateway", "detail-type": "Requests Denied", "detail": detail(**changes)}
    return assess(parse_denial_event(event).detail, Thresholds())[0]


def test_each_minimum_is_inclusive_and_one_below_opens_nothing():
    assert verdict() == "case"  # 20 denied, 80%, 180 s: every minimum exactly
    assert verdict(denied=19, total=19) == "too_few"
    assert verdict(denied=20, total=26) == "partial"  # 76.9%
    assert verdict(window_end=(T0 + timedelta(seconds=179)).isoformat()) == "too_short"
    assert verdict(error_type="customer_verification_required") == "case"
    assert verdict(status=429, error_type="rate_limit_exceeded") == "not_denied_by_state"
    assert verdict(status=403, error_type="model_not_allowed") == "not_denied_by_state"


def test_thresholds_come_from_the_template_parameters():
    t = Thresholds.from_env({"PROACTIVE_MIN_DENIED": "5", "PROACTIVE_MIN_SHARE_PERCENT": "100",
                             "PROACTIVE_MIN_WINDOW_SECONDS": "60"})
    assert (t.min_denied, t.min_share, t.min_window) == (5, 1.0, timedelta(seconds=60))


@pytest.mark.parametrize("changes, problem", [
    ({"denied": 30, "total": 20}, "denied: more than total"),
    ({"window_end": (T0 - timedelta(seconds=1)).isoformat()}, "window_end: before window_start"),
    ({"team_id": "acme"}, "detail.team_id"),
    ({"extra": 1}, "detail.extra: unknown field"),
])
def test_a_bad_signal_names_its_problem(changes, problem):
    with pytest.raises(InvalidDenialSignal, match=problem):
        parse_denial_event({"source": "unblock.gateway", "detail-type": "Requests Denied", "detail": detail(**changes)})


def _event(**changes: object) -> dict[str, object]:
    return {"source": "unblock.gateway", "detail-type": "Requests Denied", "detail": detail(**changes)}


@pytest.mark.parametrize("field", ["denied", "total", "status"])
@pytest.mark.parametrize("value", ["57", 57.0, True])
def test_a_count_that_is_not_a_json_integer_is_refused_by_name(field, value):
    changes = {field: value if field != "status" or value is not True else True}
    with pytest.raises(InvalidDenialSignal, match=f"detail.{field}: Input should be a valid integer"):
        parse_denial_event(_event(**changes))


@pytest.mark.parametrize("changes, problem", [
    ({"window_start": "1969-12-31T23:55:00Z", "window_end": "1970-01-01T00:05:00Z"}, "before the epoch"),
    ({"window_start": "2036-11-26T09:00:00Z", "window_end": "2036-11-26T09:05:00Z"}, "window_end: in the future"),
])
def test_a_window_before_the_epoch_or_in_the_future_is_refused(changes, problem):
    # the red team: one signal dated 10 years ahead made the team's real signals "already counted"
    with pytest.raises(InvalidDenialSignal, match=problem):
        parse_denial_event(_event(**changes), now=T0 + timedelta(minutes=5))


def test_a_window_ending_a_little_ahead_of_the_clock_is_taken():
    assert parse_denial_event(_event(), now=T0 + timedelta(minutes=1)).detail.denied == 20


def test_secrets_in_every_free_text_field_of_a_signal_are_redacted():
    key = "vck_FakeA1b2C3d4E5f6G7h8I9j0K1"
    signal = parse_denial_event(_event(endpoints=[f"/v1/chat/completions?key={key}"], models=[f"openai/{key}"],
                                       sample_request_ids=[f"iad1::{key}", "xai-" + "Fake9a8b7c6d5e4f3a2b1c0dZyXw"]))
    stored = signal.to_dict()["detail"]
    assert "A1b2C3d4E5f6" not in str(stored) and "Fake9a8b7c6d5e4" not in str(stored)
    assert stored["endpoints"][0].startswith("/v1/chat/completions?key=vck_FakeA1b2")


def test_the_gateway_emits_one_signal_per_team_and_ended_window_with_its_refusals():
    clock = FixedClock(T0)
    bus: list[dict[str, object]] = []
    agg = DenialAggregator(bus.append, clock)
    for i in range(30):
        at = T0 + timedelta(seconds=10 * i)  # 09:00:00 .. 09:04:50
        agg.record(A, status=403, error_type="access_denied", key_prefix="vck_aaaa", at=at,
                   endpoint="/v1/chat/completions", model="openai/gpt-4o")
        agg.record(B, status=200 if i % 2 else 429, error_type=None if i % 2 else "rate_limit_exceeded", at=at)
        agg.record(C, status=200, at=at)  # served: no signal
    assert bus == []  # the window has not ended
    agg.record(C, status=200, at=T0 + timedelta(minutes=5))  # the next window's first request flushes it
    signals = {e["detail"]["team_id"]: e["detail"] for e in bus}  # type: ignore[index]
    assert set(signals) == {A, B}
    a = signals[A]
    assert (a["denied"], a["total"], a["status"], a["key_prefix"]) == (30, 30, 403, "vck_aaaa")
    assert (a["window_start"], a["window_end"]) == ("2026-11-26T09:00:00Z", "2026-11-26T09:04:50Z")
    b = signals[B]
    assert (b["denied"], b["total"], b["error_type"]) == (15, 30, "rate_limit_exceeded")
    for event in bus:  # every signal the gateway emits is one the SignalsFunction accepts
        parse_denial_event(event)
    one = DenialAggregator(bus.append, clock)
    one.record(D, status=403, error_type="access_denied", at=T0)
    [stray] = one.flush(everything=True)
    assert assess(parse_denial_event(stray).detail, Thresholds())[0] == "too_few"

"""Denial signals: the gateway's refused requests, before the team writes in (DESIGN.md "Proactive cases").

A signal is the normalized event `source: unblock.gateway`, `detail-type: Requests Denied`: one
team's refused requests over one window. Pure rules, no storage:
- `parse_denial_event` validates the event (InvalidDenialSignal names every problem, never a value):
  counts are non-negative JSON integers (not `"57"`, `57.0` or `true`), a window starts after the epoch,
  ends after it starts and not in the future; every free-text entry (endpoints, models, sample request
  ids) is redacted like a ticket's text before anything stores it;
- `assess` says whether a signal is a real, steady refusal (`Thresholds`, template parameters) or
  why it opens nothing: rate limits, other errors, partial refusals, a few stray 403s, a short burst;
- `proactive_case_id` and `report_from_signal` make the case's id (`gateway:<team id>:<window
  start>`) and its Report: no requester, so only the consistency repairs apply by themselves.

`unblock.workflow.proactive` applies them through the ports (one case per team while it is open).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from unblock.domain.models import Report
from unblock.domain.tickets.redaction import redact

EVENT_SOURCE: Final = "unblock.gateway"
DETAIL_TYPE: Final = "Requests Denied"
CASE_PREFIX: Final = "gateway"
# what a proactive case is about: a steady refusal by the team's state (DESIGN.md); a 402, a 401,
# a rate limit or a model refused for the tier say something else and open nothing
CASE_ERRORS: Final = frozenset({"access_denied", "customer_verification_required"})
MAX_LIST: Final = 20  # endpoints, models, sample request ids: a signal stays small
MAX_WINDOW: Final = timedelta(hours=24)
MAX_REQUESTS: Final = 10_000_000
# a window may end this far past the receiver's clock (clocks differ a little); later is refused: a
# window dated years ahead would make every real window of the team look "already counted"
MAX_CLOCK_SKEW: Final = timedelta(minutes=5)
EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)

_ISO_SECONDS = "%Y-%m-%dT%H:%M:%SZ"


class DenialDetail(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    team_id: str = Field(pattern=r"^team_[A-Za-z0-9]{24}$")
    key_prefix: str | None = Field(default=None, pattern=r"^vck_[A-Za-z0-9_-]{4,12}$")
    window_start: AwareDatetime
    window_end: AwareDatetime
    # strict: a count is a JSON integer, never "57", 57.0 or true
    denied: int = Field(ge=0, le=MAX_REQUESTS, strict=True)
    total: int = Field(ge=0, le=MAX_REQUESTS, strict=True)
    status: int = Field(ge=100, le=599, strict=True)
    error_type: str = Field(min_length=1, max_length=64, pattern=r"^[a-z_]+$")
    endpoints: list[str] = Field(default=[], max_length=MAX_LIST)
    models: list[str] = Field(default=[], max_length=MAX_LIST)
    sample_request_ids: list[str] = Field(default=[], max_length=MAX_LIST)

    @field_validator("endpoints", "models", "sample_request_ids")
    @classmethod
    def _redacted(cls, values: list[str]) -> list[str]:
        """Free text from the gateway: a key in a logged path or a request id is redacted here, before
        the case, the execution or a log holds it."""
        return [redact(v)[0][:200] if isinstance(v, str) else v for v in values]

    @model_validator(mode="after")
    def _consistent(self) -> DenialDetail:
        if self.denied > self.total:
            raise ValueError("denied: more than total")
        if self.window_start < EPOCH:
            raise ValueError("window_start: before the epoch (1970-01-01)")
        if self.window_end < self.window_start:  # equal: one request's window (too short for a case)
            raise ValueError("window_end: before window_start")
        if self.window_end - self.window_start > MAX_WINDOW:
            raise ValueError("window_end: a window is at most 24 hours")
        for name in ("endpoints", "models", "sample_request_ids"):
            if any(not isinstance(v, str) or not 0 < len(v) <= 200 for v in getattr(self, name)):
                raise ValueError(f"{name}: each entry is 1 to 200 characters")
        return self

    @property
    def seconds(self) -> float:
        return (self.window_end - self.window_start).total_seconds()

    @property
    def share(self) -> float:
        return self.denied / self.total if self.total else 0.0


class DenialEvent(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, hide_input_in_errors=True)

    version: Literal["0"] = "0"
    id: str = Field(default_factory=lambda: str(uuid.uuid4()), min_length=1, max_length=200)
    source: Literal["unblock.gateway"] = EVENT_SOURCE
    detail_type: Literal["Requests Denied"] = Field(default=DETAIL_TYPE, alias="detail-type")
    time: AwareDatetime | None = None
    detail: DenialDetail
    # added by EventBridge on delivery; accepted, never required
    account: str | None = None
    region: str | None = None
    resources: list[str] | None = None
    replay_name: str | None = Field(default=None, alias="replay-name")

    def to_dict(self) -> dict[str, Any]:
        data = self.model_dump(mode="json", by_alias=True, exclude_none=True)
        data["detail"] = self.detail.model_dump(mode="json")
        return data


class InvalidDenialSignal(ValueError):
    """A denial signal that does not follow the contract; the message lists every problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid denial signal: " + "; ".join(problems))


def parse_denial_event(data: Mapping[str, Any] | Any, now: datetime | None = None) -> DenialEvent:
    """The validated event; with `now` (the receiver's clock), a window that ends in the future is refused."""
    if not isinstance(data, Mapping):
        raise InvalidDenialSignal(["event: expected a JSON object"])
    try:
        event = DenialEvent.model_validate(dict(data))
    except ValidationError as exc:
        problems = []
        for e in exc.errors(include_input=False):
            where = ".".join(str(p) for p in e["loc"]) or "event"
            problems.append(f"{where}: unknown field" if e["type"] == "extra_forbidden"
                            else f"{where}: required" if e["type"] == "missing" else f"{where}: {e['msg']}")
        raise InvalidDenialSignal(problems) from None
    if now is not None and event.detail.window_end > now + MAX_CLOCK_SKEW:
        raise InvalidDenialSignal([f"detail.window_end: in the future ({iso(event.detail.window_end)}, received "
                                   f"at {iso(now)})"])
    return event


@dataclass(frozen=True)
class Thresholds:
    """When a team's refusals are a case (template parameters; the README justifies the defaults)."""

    min_denied: int = 20
    min_share: float = 0.8
    min_window: timedelta = timedelta(minutes=3)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Thresholds:
        d = cls()
        return cls(min_denied=int(env.get("PROACTIVE_MIN_DENIED", d.min_denied)),
                   min_share=int(env.get("PROACTIVE_MIN_SHARE_PERCENT", round(d.min_share * 100))) / 100,
                   min_window=timedelta(seconds=int(env.get("PROACTIVE_MIN_WINDOW_SECONDS",
                                                            int(d.min_window.total_seconds())))))


Verdict = Literal["case", "not_denied_by_state", "too_few", "partial", "too_short"]


def assess(signal: DenialDetail, thresholds: Thresholds) -> tuple[Verdict, str]:
    """Is this a steady refusal by the team's own state? The verdict and a line saying why."""
    if signal.status != 403 or signal.error_type not in CASE_ERRORS:
        return "not_denied_by_state", (f"{signal.status} {signal.error_type} is not a refusal by the team's state "
                                       "(only 403 access_denied or customer_verification_required open a case)")
    if signal.denied < thresholds.min_denied:
        return "too_few", f"{signal.denied} denied requests; a case needs at least {thresholds.min_denied}"
    if signal.share < thresholds.min_share:
        return "partial", (f"{signal.denied} of {signal.total} requests denied ({signal.share:.0%}); a case needs "
                           f"at least {thresholds.min_share:.0%} of the team's requests")
    if signal.seconds < thresholds.min_window.total_seconds():
        return "too_short", (f"a window of {signal.seconds:.0f} s; a case needs at least "
                             f"{thresholds.min_window.total_seconds():.0f} s of refusals")
    return "case", f"{signal.denied} of {signal.total} requests refused with {signal.status} {signal.error_type}"


def iso(at: datetime) -> str:
    return at.strftime(_ISO_SECONDS)


def proactive_case_id(signal: DenialDetail) -> str:
    return f"{CASE_PREFIX}:{signal.team_id}:{iso(signal.window_start)}"


def is_proactive(case_id: str) -> bool:
    return case_id.startswith(CASE_PREFIX + ":")


def report_from_signal(signal: DenialDetail, received_at: datetime) -> Report:
    """The proactive case's Report: the team and key from the gateway, no requester (nobody wrote)."""
    what = (f"The gateway refused {signal.denied} of {signal.total} requests of this team with {signal.status} "
            f"{signal.error_type} between {iso(signal.window_start)} and {iso(signal.window_end)}.")
    facts: dict[str, list[str]] = {"endpoints": list(signal.endpoints), "models": list(signal.models),
                                   "request_ids": list(signal.sample_request_ids),
                                   "error_types": [signal.error_type], "status_codes": [str(signal.status)]}
    return Report(case_id=proactive_case_id(signal), source="gateway", ticket_id=None, channel=None,
                  subject=f"Requests refused: {signal.denied} x {signal.status} {signal.error_type}", text=what,
                  team_id=signal.team_id, key_prefix=signal.key_prefix,
                  facts={k: v for k, v in facts.items() if v}, received_at=received_at)


class ProactiveRecord(BaseModel):
    """The team's proactive case (one item per team): which case, and the signals it took in."""

    model_config = ConfigDict(extra="ignore")

    team_id: str
    case_id: str
    opened_at: AwareDatetime
    signals: int = 1
    denied: int = 0
    last_window_end: AwareDatetime | None = None

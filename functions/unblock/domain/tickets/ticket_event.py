"""The normalized ticket event (DESIGN.md "Triggers"): what every help-desk adapter produces.

```json
{"version": "0", "id": "uuid", "source": "unblock.tickets", "detail-type": "Access Denied Reported",
 "time": "2026-11-26T10:00:00Z",
 "detail": {"ticket_id": "4711", "channel": "email|web|forum|api", "subject": "text",
            "text": "the customer's own words", "requester_email": "dev@acme.test",
            "team_id": null, "team_slug": null, "key_prefix": null}}
```

Decisions:
- `source` is `unblock.tickets` for an event put on the bus (or given to `unblock run`), and the
  help desk's name (unblock.domain.helpdesks) for an event its webhook made; `case_source` maps
  it onto the case's `CaseSource` (`unblock.tickets` -> `eventbridge`). A desk's ticket ids are
  its own (a ticket id, a topic id), so its cases are `<desk>:<ticket id>` (see
  unblock.domain.tickets.reports for how a case id is formed).
- The envelope also accepts the fields EventBridge itself adds when it delivers an event to a
  target (`account`, `region`, `resources`, `replay-name`); any other field, in the envelope or
  in `detail`, is refused.
- Validation errors never echo the input (`hide_input_in_errors`): an event may still hold an
  unredacted secret when it is validated.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Annotated, Any, Final, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_validator

from unblock.domain.limits import MAX_SUBJECT_CHARS, MAX_TEXT_BYTES
from unblock.domain.models import REQUESTER_USERNAME, CaseSource
from unblock.domain.tickets.redaction import redact_secrets

__all__ = [
    "DETAIL_TYPE",
    "FOLLOW_UP",
    "EVENT_SOURCE",
    "MAX_TEXT_BYTES",
    "InvalidTicketEvent",
    "TicketDetail",
    "TicketEvent",
    "Channel",
    "TicketSource",
    "clip_text",
    "parse_ticket_event",
    "redact_event",
    "with_requester_email",
]

EVENT_SOURCE: Final = "unblock.tickets"
DETAIL_TYPE: Final = "Access Denied Reported"
# the customer's next message on a case (DESIGN.md "Conversations"): the same detail fields,
# `ticket_id` naming the case
FOLLOW_UP: Final = "Customer Replied"
TRUNCATED = "\n[… truncated]"



def _ticket_source(value: str) -> str:
    from unblock.domain import helpdesks  # the registry's desks import this module: asked when first used

    if value != EVENT_SOURCE and helpdesks.find(value) is None:
        raise ValueError(f"source must be {EVENT_SOURCE!r} or a help desk's name")
    return value


# `unblock.tickets`, or the help desk whose webhook made the event
TicketSource = Annotated[str, AfterValidator(_ticket_source)]
# "private_message": a forum's private message to staff (read by the requester and staff only)
Channel = Literal["email", "web", "forum", "api", "private_message"]


class TicketDetail(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True, str_strip_whitespace=False)

    ticket_id: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:/-]+$")
    channel: Channel
    subject: str = Field(default="", max_length=MAX_SUBJECT_CHARS)
    text: str = ""
    requester_email: str | None = Field(default=None, max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    team_id: str | None = Field(default=None, pattern=r"^team_[A-Za-z0-9]{24}$")
    # As sent (any case): the report lowercases it once redaction has seen it as it was written (a
    # lower-cased AWS or Google key no longer looks like one).
    team_slug: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
    # A prefix (`vck_` + 4..12 characters); a whole key pasted here is cut to its prefix when the
    # report is built, and counted as a pasted secret.
    key_prefix: str | None = Field(default=None, pattern=r"^vck_[A-Za-z0-9_-]{4,200}$")
    # who wrote, as the help desk names them (a forum's username): where private details go
    requester_username: str | None = Field(default=None, pattern=rf"^{REQUESTER_USERNAME}$")

    @field_validator("ticket_id", mode="before")
    @classmethod
    def _ticket_number(cls, value: object) -> object:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("team_slug", mode="before")
    @classmethod
    def _slug_strip(cls, value: object) -> object:
        return value.strip() if isinstance(value, str) else value

    @field_validator("text")
    @classmethod
    def _text_size(cls, value: str) -> str:
        size = len(value.encode("utf-8"))
        if size > MAX_TEXT_BYTES:
            raise ValueError(f"text is {size} bytes; at most {MAX_TEXT_BYTES} (256 KB) are accepted")
        return value


class TicketEvent(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, hide_input_in_errors=True)

    version: Literal["0"] = "0"
    id: str = Field(default_factory=lambda: str(uuid.uuid4()), min_length=1, max_length=200)
    source: TicketSource = EVENT_SOURCE
    detail_type: Literal["Access Denied Reported", "Customer Replied"] = Field(default=DETAIL_TYPE, alias="detail-type")
    time: AwareDatetime | None = None  # EventBridge always sets it; a hand-written event may not
    detail: TicketDetail
    # Added by EventBridge on delivery; accepted, never required.
    account: str | None = None
    region: str | None = None
    resources: list[str] | None = None
    replay_name: str | None = Field(default=None, alias="replay-name")

    @property
    def is_follow_up(self) -> bool:
        return self.detail_type == FOLLOW_UP

    @property
    def case_source(self) -> CaseSource:
        return "eventbridge" if self.source == EVENT_SOURCE else self.source

    def to_dict(self) -> dict[str, Any]:
        """The event as JSON-ready data with its wire names (`detail-type`); EventBridge's
        delivery fields are left out when unset, the `detail` nulls are kept."""
        data = self.model_dump(mode="json", by_alias=True)
        for name in ("account", "region", "resources", "replay-name"):
            if data.get(name) is None:
                data.pop(name, None)
        if data["detail"].get("requester_username") is None:  # an addition to DESIGN.md's shape: only when set
            data["detail"].pop("requester_username", None)
        return data


class InvalidTicketEvent(ValueError):
    """A ticket event that does not follow the contract; the message lists every problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid ticket event: " + "; ".join(problems))


_ALLOWED = {
    (): sorted(f.alias or name for name, f in TicketEvent.model_fields.items()),
    ("detail",): sorted(TicketDetail.model_fields),
}


def _describe(error: Any) -> str:
    loc = tuple(str(part) for part in error["loc"])
    where = ".".join(loc) or "event"
    if error["type"] == "extra_forbidden":
        allowed = ", ".join(_ALLOWED.get(loc[:-1], []))
        return f"{where}: unknown field (allowed: {allowed})"
    if error["type"] == "missing":
        return f"{where}: required"
    return f"{where}: {error['msg']}"


def parse_ticket_event(data: Mapping[str, Any] | str | bytes) -> TicketEvent:
    """Validate a normalized ticket event (an object or its JSON text).

    Raises InvalidTicketEvent with one line per problem, never with the values themselves.
    """
    try:
        if isinstance(data, str | bytes):
            return TicketEvent.model_validate_json(data)
        if not isinstance(data, Mapping):
            raise InvalidTicketEvent(["event: expected a JSON object"])
        return TicketEvent.model_validate(dict(data))
    except ValidationError as exc:
        raise InvalidTicketEvent([_describe(e) for e in exc.errors(include_input=False)]) from None


def clip_text(text: str, max_bytes: int = MAX_TEXT_BYTES) -> str:
    """Cut `text` to at most `max_bytes` UTF-8 bytes, at whitespace, with a visible mark.

    Cutting at whitespace never splits a secret (secrets hold none), so whatever is cut off
    cannot leave half a key behind for redaction to miss.
    """
    if len(text.encode("utf-8")) <= max_bytes:
        return text
    budget = max_bytes - len(TRUNCATED.encode("utf-8"))
    head = text.encode("utf-8")[:budget].decode("utf-8", errors="ignore")
    cut = max(head.rfind(" "), head.rfind("\n"), head.rfind("\t"))
    return (head[:cut] if cut > 0 else "") + TRUNCATED


def with_requester_email(event: TicketEvent, email: str | None) -> TicketEvent:
    """The event with the requester's email the help desk vouched for (unchanged when there is
    none, or it is not an email address the event accepts)."""
    if not email:
        return event
    try:
        detail = TicketDetail.model_validate({**event.detail.model_dump(), "requester_email": email})
    except ValidationError:
        return event
    return event.model_copy(update={"detail": detail})


def redact_event(event: TicketEvent) -> tuple[TicketEvent, int]:
    """The event with secrets redacted from its subject and text, and how many were found."""
    subject = redact_secrets(event.detail.subject)
    text = redact_secrets(event.detail.text)
    detail = event.detail.model_copy(
        update={"subject": subject.text[:MAX_SUBJECT_CHARS], "text": clip_text(text.text)})
    return event.model_copy(update={"detail": detail}), subject.count + text.count

"""What the gateway's surfaces share: the model list, the error envelope, the decision on a request
(`Admitted` or a `Refusal`), and the exchange a route answers through (`Exchange`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from unblock.domain.platform_model import Key, Team

MODELS = ("openai/gpt-4o", "openai/gpt-4o-mini", "anthropic/claude-sonnet-4", "google/gemini-2.5-flash")
DEFAULT_MODEL = MODELS[0]
EMBEDDING_MODELS = ("openai/text-embedding-3-small",)
MAX_BODY = 1 << 20  # 1 MiB


def error_body(error_type: str, message: str, **extra: Any) -> dict[str, Any]:
    """The gateway's own error envelope (DESIGN.md: {"error": {"message": "Forbidden.", "type": "access_denied"}}),
    the same on /v1 and /v3/ai, /v4/ai (the AI SDK gateway provider maps `error.type` to its error class)."""
    return {"error": {"message": message, "type": error_type, **extra}}


@dataclass(frozen=True)
class Refusal:
    """One customer request the gateway refused: what it answered, to whom, for what. No secret:
    `key_prefix` is the stored prefix of a known key, None for an unknown or missing one."""

    at: datetime
    status: int
    error_type: str
    message: str
    surface: str  # "openai" (/v1) or "ai-sdk" (/v3/ai or /v4/ai)
    endpoint: str  # e.g. "/v1/chat/completions", "/v3/ai/language-model"
    model: str | None
    team_id: str | None
    key_prefix: str | None
    request_id: str = ""  # the answer's X-Vercel-Id (and x-request-id), as the customer can quote it

    def body(self) -> dict[str, Any]:
        return error_body(self.error_type, self.message)


@dataclass(frozen=True)
class Admitted:
    """One customer request the gateway serves (status 200), with the team and key it serves."""

    team: Team
    key: Key
    at: datetime | None = None
    surface: str = ""
    endpoint: str = ""
    model: str | None = None
    request_id: str = ""
    status: int = 200


class Exchange(Protocol):
    """One request as a route sees it (the server's handler): its headers and body, the gateway's
    decision on it, and the ways to answer."""

    headers: Any
    path: str  # as requested (a query string included)

    def json_body(self) -> Any:
        """The body as JSON; None once a 400 is answered."""
        ...

    def admit(self, *, surface: str, model: str | None, subject_to_rules: bool = True) -> Admitted | None:
        """The gateway's decision (GatewayServer.admit); None once the refusal is answered."""
        ...

    def send_json(self, status: int, body: dict[str, Any] | list[Any]) -> None: ...
    def send_events(self, events: Iterable[tuple[str | None, Any]]) -> None: ...
    def send_error_body(self, status: int, error_type: str, message: str, **extra: Any) -> None: ...

"""Signals: what the customer saw, read from the ticket's (redacted) text (DESIGN.md "Signals").

`read_signals(subject, text)` finds the catalogue's signals (`signal_catalogue.SIGNALS`) in text
in any formatting customers paste: JSON error bodies with straight or curly quotes, escaped or
not, pretty or on one line; SDK exception reprs and stack traces; `curl -i` headers; status
lines; URLs; code. It redacts first (idempotent), so a snippet never holds a secret. Each signal
keeps the snippet that shows it. `from_request_log` reads the same codes from the gateway's own
record of a request, the stronger evidence.

Pure stdlib `re`: no I/O, no AWS.
"""

from __future__ import annotations

import re
from functools import cache

from unblock.domain.models import Signal
from unblock.domain.tickets.facts import extract
from unblock.domain.tickets.redaction import redact_secrets
from unblock.domain.tickets.signal_catalogue import BY_CODE, GATEWAY_CONTEXT, SIGNALS, SignalSpec

__all__ = ["codes", "from_request_log", "normalize", "read_signals"]

SNIPPET_CHARS = 160
_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2033": '"', "\u00ab": '"', "\u00bb": '"',
                         "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u2032": "'"})


def normalize(text: str) -> str:
    """One line, straight quotes, JSON string escaping undone (`{\\"error\\": ...}` inside a
    responseBody reads as the body), so one pattern reads every formatting."""
    out = text.translate(_QUOTES)
    out = re.sub(r"\\+([\"'])", r"\1", out)
    out = re.sub(r"\\[nrt]", " ", out)
    return re.sub(r"\s+", " ", out).strip()


@cache
def _compiled(spec: SignalSpec) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p) for p in spec.patterns)


_GATEWAY_CONTEXT = re.compile(GATEWAY_CONTEXT, re.IGNORECASE)


def _snippet(body: str, start: int, end: int) -> str:
    """The match with some of what surrounds it, cut at word boundaries, at most SNIPPET_CHARS."""
    room = max(0, SNIPPET_CHARS - (end - start)) // 2
    lo, hi = max(0, start - room), min(len(body), end + room)
    if lo > 0:
        space = body.find(" ", lo, start)
        lo = space + 1 if space != -1 else lo
    if hi < len(body):
        space = body.rfind(" ", end, hi)
        hi = space if space != -1 else hi
    text = body[lo:hi].strip()[:SNIPPET_CHARS]
    return ("\u2026" if lo > 0 else "") + text + ("\u2026" if hi < len(body) else "")


def _status_at(body: str, status: int) -> re.Match[str] | None:
    return re.search(rf"(?<![\d.$€£]){status}(?![\d])", body)


def read_signals(subject: str, text: str) -> list[Signal]:
    """The signals a ticket shows, in catalogue order, each with its first snippet."""
    body = normalize(redact_secrets(f"{subject}\n{text}").text)
    if not body:
        return []
    statuses = set(extract(subject, text).status_codes)
    gateway = _GATEWAY_CONTEXT.search(body) is not None
    found: dict[str, Signal] = {}
    for spec in SIGNALS:
        if spec.gateway_context is not None and spec.gateway_context != gateway:
            continue
        hit = next((m for p in _compiled(spec) if (m := p.search(body))), None)
        if hit is None:
            hit = next((m for s in spec.statuses if s in statuses and (m := _status_at(body, s))), None)
        if hit is not None:
            found[spec.code] = Signal(code=spec.code, snippet=_snippet(body, hit.start(), hit.end()))
    suppressed = {c for code in found for c in BY_CODE[code].suppresses}
    return [s for s in found.values() if s.code not in suppressed]


# The gateway's error types as its request log records them, and the signal each one is.
_LOGGED: dict[str, str] = {
    "access_denied": "gateway.access_denied",
    "forbidden": "gateway.access_denied",
    "customer_verification_required": "gateway.verification_required",
    "insufficient_funds": "gateway.insufficient_funds",
    "authentication_error": "gateway.unauthenticated",
    "rate_limit_exceeded": "gateway.rate_limited",
    "no_providers_available": "gateway.no_providers",
    "model_restricted": "gateway.model_restricted",
    "model_not_found": "gateway.model_not_found",
}


def from_request_log(status: int, error_type: str | None, message: str | None = None) -> str | None:
    """The signal the gateway's own record of a request shows (None for a success or an unknown error).
    A free-tier model refusal is logged as `no_providers_available` with the free-tier message."""
    if status == 200 and not error_type:
        return None
    if message and re.search(r"(?i)free[- ]tier users do not have access", message):
        return "gateway.model_restricted"
    return _LOGGED.get(error_type or "")


def codes(signals: list[Signal]) -> list[str]:
    return list(dict.fromkeys(s.code for s in signals))

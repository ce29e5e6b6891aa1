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
from unblock.domain.tickets.signal_catalogue import BY_CODE, FAILING, GATEWAY_CONTEXT, SIGNALS, SignalSpec

__all__ = ["codes", "describes_failure", "from_request_log", "normalize", "only_asks", "read_signals"]

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


@cache
def _status_pattern(status: int) -> re.Pattern[str]:
    return re.compile(rf"(?<![\d.$€£]){status}(?![\d])")


# A clause that quotes an error only to compare ("an invalid key gives 401 as expected", "the
# playground works") did not report it: what the customer says fails is the failure (DESIGN.md
# "Signals"). Clauses end at a sentence's end and at the turn of a contrast.
_CLAUSE_END = re.compile(r"(?<=[.!?;])\s+(?=[A-Z(\"'`])|"
                         r"(?i:,?\s+\b(?:but|whereas|while|however|though|although)\b|,\s+yet\b)")
_COMPARISON = re.compile(
    r"(?i)\bas expected\b|\bexpected(?:ly)? (?:a |an )?(?:401|403|402|404|429|error)\b|"
    r"\b(?:works?|worked|working|fine|succeeds?|succeeded|ok)\b[^.!?,]{0,30}?\b(?:in|from|on|via) the (?:ai gateway )?"
    r"playground\b|\bplayground (?:works|is fine|answers|succeeds)\b|"
    r"\bwith (?:an? )?(?:invalid|bogus|fake|wrong|random|dummy|made[- ]up|garbage|revoked|deleted) "
    r"(?:api )?(?:key|token)\b|"
    r"\b(?:an? )?(?:invalid|bogus|fake|wrong|random|dummy|made[- ]up|garbage) (?:api )?(?:key|token) "
    r"(?:gives|returns|gets|yields|correctly)\b|\bfor comparison\b|\b(?:which|that) is (?:correct|expected|fine)\b"
)


def _comparisons(body: str) -> list[tuple[int, int]]:
    """Spans of the clauses that quote an error only as a comparison."""
    spans, start = [], 0
    for end in [m.start() for m in _CLAUSE_END.finditer(body)] + [len(body)]:
        if _COMPARISON.search(body, start, end):
            spans.append((start, end))
        start = end
    return spans


def _first(patterns: tuple[re.Pattern[str], ...], body: str, skip: list[tuple[int, int]]) -> re.Match[str] | None:
    """The first match of any pattern outside a comparison."""
    for p in patterns:
        for m in p.finditer(body):
            if not any(lo <= m.start() < hi for lo, hi in skip):
                return m
    return None


def read_signals(subject: str, text: str) -> list[Signal]:
    """The signals a ticket shows, in catalogue order, each with its first snippet."""
    body = normalize(redact_secrets(f"{subject}\n{text}").text)
    if not body:
        return []
    statuses = set(extract(subject, text).status_codes)
    gateway = _GATEWAY_CONTEXT.search(body) is not None
    compared = _comparisons(body)
    found: dict[str, Signal] = {}
    for spec in SIGNALS:
        if spec.gateway_context is not None and spec.gateway_context != gateway:
            continue
        if spec.unless and any(re.search(u, body) for u in spec.unless):
            continue
        hit = _first(_compiled(spec), body, compared)
        if hit is None:
            hit = _first(tuple(_status_pattern(s) for s in spec.statuses if s in statuses), body, compared)
        if hit is not None:
            found[spec.code] = Signal(code=spec.code, snippet=_snippet(body, hit.start(), hit.end()))
    suppressed = {c for code in found for c in BY_CODE[code].suppresses}
    if any(BY_CODE[c].explains and not BY_CODE[c].hands_off for c in found if c not in suppressed):
        suppressed |= {c for c in found if not BY_CODE[c].beside_refusal}
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
    "invalid_request_error": "client.invalid_request",
    "not_found": "gateway.not_found",
    "failed_dependency": "gateway.failed_dependency",
    "gemini_explicit_cache_fallback_unsupported": "gateway.failed_dependency",
    "internal_server_error": "gateway.server_error",
    "timeout_error": "gateway.server_error",
}


def from_request_log(status: int, error_type: str | None, message: str | None = None) -> str | None:
    """The signal the gateway's own record of a request shows (None for a success or an unknown error).
    A free-tier model refusal is logged as `no_providers_available` with the free-tier message."""
    if status == 200 and not error_type:
        return None
    if message and re.search(r"(?i)free[- ]tier users do not have access", message):
        return "gateway.model_restricted"
    return _LOGGED.get(error_type or "")


_FAILING = re.compile(FAILING[0])


def describes_failure(subject: str, text: str) -> bool:
    """The ticket says something fails (a status, an error, "not working"): a ticket with no signal
    that says nothing fails is a question in the customer's own words (DESIGN.md "Scope")."""
    return _FAILING.search(normalize(f"{subject}\n{text}")) is not None


_ASKS = re.compile(r"\?|(?i:\b(?:how|what|which|where|why|is there|are there|can (?:i|we|you)|could you|do you|"
                   r"does|wondering)\b)")


# Slowness, or a stream that stops without an error: the gateway's to trace, nothing a team's state explains.
SLOW = re.compile(r"(?i)\b(?:slow(?:er|ness)?|latency|time to first token|ttft|takes? (?:\d+|ages|forever))\b|"
                  r"\bstreams? (?:just |randomly |sometimes )?(?:stops?|ends?|cuts? off|hangs?|stalls?)\b")


def only_asks(subject: str, text: str) -> bool:
    """A question in the customer's own words, or a report of slowness: it says nothing fails (an empty
    ticket or a bare "help" asks nothing: the team is asked for as before)."""
    body = f"{subject}\n{text}"
    return not describes_failure(subject, text) and (_ASKS.search(body) is not None or SLOW.search(body) is not None)


def codes(signals: list[Signal]) -> list[str]:
    return list(dict.fromkeys(s.code for s in signals))

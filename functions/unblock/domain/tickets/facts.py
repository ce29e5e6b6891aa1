"""Facts: what a ticket gives (DESIGN.md "Triggers"), read from text that is redacted first.

`extract(subject, text)` reads team ids, team slugs, key prefixes, endpoints, models, status
codes, error types, request ids and generation ids. It redacts its input first (redaction is idempotent), so no
fact can ever hold a secret; the prefix kept in a redaction marker is a key prefix like any other.

Pure stdlib `re`: no I/O, no AWS.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict

from unblock.domain.tickets.redaction import PREFIX_MAX, redact_secrets

__all__ = ["Facts", "extract"]


class Facts(BaseModel):
    """What a ticket says, in order of first mention, without duplicates. Never a secret."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    team_ids: list[str] = []
    team_slugs: list[str] = []
    key_prefixes: list[str] = []
    endpoints: list[str] = []
    models: list[str] = []
    status_codes: list[int] = []
    error_types: list[str] = []
    request_ids: list[str] = []
    generation_ids: list[str] = []

    def as_report_facts(self) -> dict[str, list[str]]:
        """The non-empty lists as strings: the shape of `Report.facts`."""
        return {name: [str(v) for v in values] for name, values in self if values}


_TEAM_ID = re.compile(r"(?<![A-Za-z0-9_])team_[A-Za-z0-9]{24}(?![A-Za-z0-9_])")
_KEY_PREFIX = re.compile(rf"(?<![A-Za-z0-9])vck_[A-Za-z0-9]{{4,{PREFIX_MAX}}}(?![A-Za-z0-9])")

_SLUG = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,46}[A-Za-z0-9])?"
_END = r"(?![A-Za-z0-9_-])"
_OPEN = "[\"'\u201c\u201d\u2018\u2019\u201e\u201a\u00ab\u2039`]"
_CLOSE = "[\"'\u201c\u201d\u2018\u2019\u00bb\u203a`]"
_TEAM = r"(?:teams?|equipo|[e\u00e9]quipe)(?:['\u2019]s)?"
_LABEL = r"(?:[\s-]*(?:slug|name|handle|id|url|nombre))"
# Unquoted, only a slug-like label: a team *name* is a display name ("Acme Projects").
_SLUG_LABEL = r"(?:[\s-]*(?:slug|handle|id|url))"
_VERB_NAMING = r"(?:is\s+called|is\s+named|called|named|hei(?:\u00df|ss)t|se\s+llama|s'appelle)"
_VERB_BE = r"(?:is|ist|es|est|=)"
_OWNER = r"(?:the|our|my|unser(?:em|es)?|mein(?:em|es)?|el|mi|nuestro|notre|mon)"

# (pattern, strict): strict patterns only accept an unquoted slug that holds a hyphen or a digit
# ("my team is blocked" names no team; "my team is acme-projects" does).
_SLUG_PATTERNS: list[tuple[re.Pattern[str], bool]] = [
    (re.compile(rf"(?i)\b{_TEAM}{_LABEL}?\s*(?:[:=]|\s{_VERB_BE}\s|\s{_VERB_NAMING}\s)?\s*{_OPEN}{{1,2}}\s*"
                rf"(?P<q>{_SLUG})\s*{_CLOSE}{{1,2}}"), False),
    (re.compile(rf"(?i)\b{_TEAM}{_SLUG_LABEL}\s*(?:[:=]|is|ist|es)\s*(?P<s>{_SLUG}){_END}"), False),
    (re.compile(rf"(?i)\b{_TEAM}\s*[:=]\s*(?P<s>{_SLUG}){_END}"), False),
    (re.compile(rf"(?i)\b{_TEAM}(?:\s+slug)?\s+{_VERB_NAMING}\s*{_OPEN}?(?P<s>{_SLUG}){_END}"), False),
    (re.compile(rf"(?i)\b{_TEAM}(?:\s+slug)?\s+{_VERB_BE}\s+(?P<s>{_SLUG}){_END}"), True),
    (re.compile(rf"(?i)\b{_TEAM}\s+(?:(?:on|in|at|for)\s+)?(?P<s>{_SLUG}){_END}"), True),
    (re.compile(rf"(?i)\b{_OWNER}\s+{_OPEN}(?P<q>{_SLUG}){_CLOSE}\s+team\b"), False),
    (re.compile(rf"(?i)\b{_OWNER}\s+(?P<s>{_SLUG})\s+team\b"), True),
    (re.compile(rf"(?i)(?:https?://(?:www\.)?|(?<![\w./-])(?:www\.)?)vercel\.com/(?:teams/)?(?P<s>{_SLUG})"
                rf"(?=[/?#\s)\]>\"'`.,]|$)"), False),
]
_SLUG_STOPWORDS = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "de", "del", "der", "des", "die", "das",
    "el", "en", "es", "est", "for", "from", "has", "have", "i", "id", "in", "is", "ist", "it", "la",
    "le", "les", "los", "mi", "my", "name", "named", "of", "on", "or", "our", "plan", "pro", "hobby",
    "enterprise", "slug", "team", "teams", "the", "this", "to", "und", "was", "we", "with", "y",
    "your", "account", "accounts", "member", "members", "owner", "settings", "admin", "billing",
    "dashboard", "support", "vercel", "ai", "gateway", "api", "key", "keys", "blocked", "forbidden",
    "broken", "down", "suspended", "restricted", "disabled", "paused", "active", "new",
})
# First path segments of vercel.com that are not teams.
_VERCEL_RESERVED = frozenset({
    "docs", "dashboard", "account", "login", "signup", "new", "teams", "api", "blog", "guides",
    "pricing", "changelog", "templates", "integrations", "help", "support", "legal", "contact", "home",
    "solutions", "enterprise", "customers", "ai-gateway", "ai", "marketplace", "security", "careers",
    "about", "events", "oss", "abuse", "kb", "knowledge",
})

_ENDPOINT = re.compile(r"/v[1-9]/(?:[a-z0-9_-]+/)*[a-z0-9_-]+")
_PROVIDERS = (
    "openai|anthropic|google|vertex|xai|mistral|meta|deepseek|cohere|perplexity|groq|amazon|bedrock|azure|"
    "alibaba|moonshotai|zai|fireworks|togetherai|cerebras|inception|morph|vercel|voyage|minimax|bfl|"
    "meituan|baseten|deepinfra|novita|nebius|qwen|stealth"
)
_MODEL = re.compile(
    rf"(?i)(?<![\w./@-])(?:{_PROVIDERS})/[A-Za-z0-9][A-Za-z0-9._:-]*[A-Za-z0-9](?![\w/-])"
)
_NOT_A_MODEL = re.compile(r"(?i)-(?:python|node|go|java|ruby|sdk|cookbook|js|ts)$")

_CODE = r"(?P<code>[45]\d\d)(?:s\b|\b)"
_NOT_A_STATUS = (
    r"(?!\s*(?:requests?|calls?|tokens?|ms|milliseconds?|seconds?|secs?|minutes?|users?|times?|%|usd|eur|"
    r"dollars?|credits?|members?|k\b|mb|kb|px|chars?|characters?|lines?|bytes?|items?|rows?|\$|€|[.,]\d))"
)
_REASON = (
    r"(?:forbidden|unauthori[sz]ed|payment\s+required|too\s+many\s+requests|internal\s+server\s+error|"
    r"bad\s+gateway|service\s+unavailable|gateway\s+time-?out|not\s+found|bad\s+request|client\s+error|"
    r"server\s+error|conflict|unprocessable)"
)
_STATUS_PATTERNS = [
    re.compile(rf"(?i)\b{_CODE}[\s:-]*\(?\s*{_REASON}"),
    re.compile(
        r"(?i)(?:\bstatus(?:[\s_]*code)?|\berror[\s_]*code|\bhttp(?:/\d(?:\.\d)?)?|\bcode|fehlercode|\bc\u00f3digo"
        r"(?:\s+de\s+(?:error|estado))?|\berreur|\berror|\bfehler|\bresponse|\bresponded|\breturn(?:s|ed|ing)?|"
        r"\bgot|\bget(?:s|ting)?|\bgiv(?:es|ing)|\bgave|\bhit(?:ting)?|\bsee(?:ing)?|\bsaw|\bis|\bare|\bwas|"
        r"\bwere|\breceiv(?:e|ed|ing)|\bthrow(?:s|ing)?|\bwith|\bmit|\bcon|\bavec|\bun|\bein(?:en)?|"
        r"\ban?)[\\\"':=\s]+(?:(?:an?|un|ein(?:en)?)\s+)?"
        rf"{_CODE}{_NOT_A_STATUS}"
    ),
    re.compile(rf"(?i)\b{_CODE}\s+(?:errors?|responses?|status|fehler|erreur|antwort|respuesta)\b"),
]

_KNOWN_ERROR_TYPES = (
    "access_denied|authentication_error|insufficient_funds|customer_verification_required|"
    "rate_limit_exceeded|rate_limit_error|invalid_api_key|invalid_request_error|permission_denied|"
    "permission_error|model_not_found|not_found_error|internal_server_error|api_error|overloaded_error|"
    "insufficient_quota|billing_hard_limit_reached|account_deactivated|no_providers_available"
)
_EXCEPTIONS = (
    "PermissionDeniedError|AuthenticationError|RateLimitError|APIStatusError|BadRequestError|NotFoundError|"
    "InternalServerError|APIConnectionError|APITimeoutError|UnprocessableEntityError|ConflictError|"
    "Gateway[A-Za-z]*Error|AI_APICallError|APICallError|HTTPError"
)
_ERROR_TYPE_PATTERNS = [
    re.compile(rf"(?<![A-Za-z0-9_])(?:{_KNOWN_ERROR_TYPES})(?![A-Za-z0-9_])"),
    re.compile(
        r"(?i)\b(?:type|code|error_type|errorType|error_code|errorCode)[\\\"']*\s*[:=]\s*[\\]?[\"']"
        r"(?P<t>[a-z][a-z0-9]*(?:_[a-z0-9]+)+)[\\]?[\"']"
    ),
    re.compile(rf"(?<![A-Za-z0-9_])(?:{_EXCEPTIONS})(?![A-Za-z0-9_])"),
    re.compile(r"\b(?:openai|anthropic|litellm)\.(?:[A-Za-z_]{1,40}\.){0,6}(?P<t>[A-Z][A-Za-z]{1,60}Error)\b"),
]

_VERCEL_ID = re.compile(
    r"(?<![A-Za-z0-9])[a-z]{3}\d(?:::[a-z]{3}\d){0,4}::[a-z0-9]{3,12}-\d{10,13}-[a-z0-9]{6,16}(?![A-Za-z0-9])"
)
_GENERATION_ID = re.compile(r"(?<![A-Za-z0-9_])gen_[A-Za-z0-9]{10,40}(?![A-Za-z0-9_])")
_REQ_ID = re.compile(r"(?<![A-Za-z0-9_])req_[A-Za-z0-9]{8,}(?![A-Za-z0-9_])")
_LABELLED_REQUEST_ID = re.compile(
    r"(?i)\b(?:x-request-id|request[-_ ]id|requestid)[\"']?\s*[:=]\s*[\"']?"
    r"(?P<t>[A-Za-z0-9][A-Za-z0-9._:-]{7,})"
)


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _slugs(text: str) -> list[str]:
    # Markdown emphasis (`**Team:** acme-projects`) only gets between the words.
    text = re.sub(r"\*{1,3}", "", text)
    hits: list[tuple[int, str]] = []
    for pattern, strict in _SLUG_PATTERNS:
        for m in pattern.finditer(text):
            quoted = m.groupdict().get("q")
            slug = (quoted or m["s"]).lower()
            if slug in _SLUG_STOPWORDS:
                continue
            if len(slug) < 2 or not any(c.isalpha() for c in slug):
                continue
            if strict and not quoted and not any(c == "-" or c.isdigit() for c in slug):
                continue
            if "vercel.com/" in m[0].lower() and slug in _VERCEL_RESERVED:
                continue
            hits.append((m.start(), slug))
    return _unique(slug for _, slug in sorted(hits))


def _status_codes(text: str) -> list[int]:
    hits = [(m.start("code"), int(m["code"])) for p in _STATUS_PATTERNS for m in p.finditer(text)]
    return list(dict.fromkeys(code for _, code in sorted(hits)))


def _ordered(text: str, patterns: Iterable[re.Pattern[str]], group: str = "t") -> list[str]:
    hits: list[tuple[int, str]] = []
    for p in patterns:
        for m in p.finditer(text):
            value = m[group] if group in p.groupindex else m[0]
            hits.append((m.start(), value))
    return _unique(v for _, v in sorted(hits))


def extract(subject: str, text: str) -> Facts:
    """The facts a ticket gives, from its subject and text (redacted first, whatever is passed)."""
    # One space for any run of whitespace: the patterns read words, not layout, and no run of
    # blanks can make them backtrack.
    body = re.sub(r"\s+", " ", redact_secrets(f"{subject}\n{text}").text)
    models = [m.lower() for m in _ordered(body, [_MODEL]) if not _NOT_A_MODEL.search(m)]
    return Facts(
        team_ids=_unique(_TEAM_ID.findall(body)),
        team_slugs=_slugs(body),
        key_prefixes=_unique(_KEY_PREFIX.findall(body)),
        endpoints=_unique(_ENDPOINT.findall(body)),
        models=_unique(models),
        status_codes=_status_codes(body),
        error_types=_ordered(body, _ERROR_TYPE_PATTERNS),
        request_ids=_ordered(body, [_VERCEL_ID, _REQ_ID, _LABELLED_REQUEST_ID]),
        generation_ids=_unique(_GENERATION_ID.findall(body)),
    )

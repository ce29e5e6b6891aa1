"""Free-text intake: redact pasted secrets, then pull the facts a ticket gives (DESIGN.md "Triggers").

Two steps, in this order, and nothing else in unblock ever sees the raw text:

1. `redact(text)` replaces every full secret (AI gateway keys `vck_...`, access tokens
   `vca_...`/`vcp_...`, provider keys `sk-...`, `Bearer`/`Basic` credentials, credential
   values in assignments, JSON, headers and URL query strings, passwords in URLs, and the
   formats of `secret_patterns.RULES`: AWS, Stripe, GitHub, Slack, Google keys, JWTs, passwords,
   private-key blocks) with a marker that keeps only a short prefix: `vck_lowr01sa…[REDACTED]`.
   Invisible characters go first; secrets split by HTML tags or entities are found in the text
   as a reader sees it (`secret_patterns.markup_view`). It returns how many it replaced: a count
   above zero means the case must tell the customer to rotate the key.
2. `extract(subject, text)` reads team ids, team slugs, key prefixes, endpoints, models,
   status codes, error types and request ids. It redacts its input first (redaction is
   idempotent), so no fact can ever hold a secret; the prefix kept in a redaction marker is
   a key prefix like any other.

Pure stdlib `re`: no I/O, no AWS.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from unblock.domain.limits import MAX_JSON_DEPTH
from unblock.domain.tickets import secret_patterns

__all__ = [
    "ELLIPSIS",
    "KEY_PREFIX_KEEP",
    "REDACTED",
    "Facts",
    "Redaction",
    "SecretFound",
    "extract",
    "redact",
    "redact_secrets",
]

ELLIPSIS = "\u2026"
REDACTED = "[REDACTED]"
# Characters of a gateway key's body kept in its marker (and so in the key prefix a redacted
# key yields). Platform prefixes are shorter (`vck_3f9a`, `vck_lowr01`): match them to this
# one as "the platform prefix is a prefix of it", not by equality.
KEY_PREFIX_KEEP = 8
_GENERIC_KEEP = 4
# A gateway key prefix is `vck_` + 4..12 characters; anything longer is a full key.
_PREFIX_MAX = 12


@dataclass(frozen=True)
class SecretFound:
    """One redacted secret: its kind, the prefix kept, and a SHA-256 fingerprint of the full value.

    The fingerprint lets a handler match a pasted key against the platform's stored key hashes
    without ever holding the key; it is not reversible for a random secret.
    """

    kind: str
    prefix: str
    sha256: str


@dataclass(frozen=True)
class Redaction:
    text: str
    secrets: list[SecretFound] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.secrets)


# --- secrets ------------------------------------------------------------------------------

# Known formats, redacted wherever they appear (no context needed).
_GATEWAY = re.compile(r"(?P<kind>vck|vca|vcp)_(?P<body>[A-Za-z0-9_-]{13,}+)")
_PROVIDER = re.compile(
    r"(?<![A-Za-z0-9])sk-(?P<type>(?:proj|svcacct|admin|ant-api\d\d|ant)-)?(?P<body>[A-Za-z0-9_-]{20,}+)"
)
# Credentials named by their context.
_TOKEN = r"[A-Za-z0-9._~+/=-]{12,}+"
_AUTH_SCHEME = re.compile(rf"(?i)\b(?P<scheme>bearer|basic)(?P<sep>\s+|%20|\+)(?P<value>{_TOKEN})")
_ASSIGNMENT = re.compile(
    r"(?i)(?P<name>(?<![\w-])[\w-]{0,40}?(?:api[_-]?key|apikey|key|secret|token|password|passwd)\b)"
    r"(?P<sep>[\s\"'\\]*[:=][\s\"'\\]*)"
    rf"(?P<value>{_TOKEN})"
)
_QUERY = re.compile(
    r"(?i)(?P<name>[?&;](?:api[_-]?key|apikey|key|token|access[_-]?token|auth|secret|password)=)"
    r"(?P<value>[^&#\s\"'<>`)\]]{8,}+)"
)
# A password in a URL (`https://user:pass@host`): always a credential, whatever it looks like.
_URL_PASSWORD = re.compile(r"(?i)\b[a-z][a-z0-9+.-]{0,20}://[^\s/:@]{1,200}:(?P<value>[^\s/@]{1,500})@")
_PLACEHOLDER = re.compile(r"(?i)^(?:your|my|the|some)[_-]|x{4,}|\*{3,}|\.{3}|<|example|changeme|placeholder")


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def _alnum_head(text: str, n: int) -> str:
    head = []
    for ch in text[:n]:
        if not ch.isascii() or not ch.isalnum():
            break
        head.append(ch)
    return "".join(head)


def _known(value: str) -> SecretFound | Literal[False] | None:
    """Classify a value of a known format: a SecretFound if it is a full secret, False if it is
    only a prefix of one (`vck_3f9a`, `sk-proj-abcd`), None if the format is not known."""
    m = _GATEWAY.fullmatch(value)
    if m:
        return _gateway_secret(m)
    m = _PROVIDER.fullmatch(value)
    if m:
        return _provider_secret(m)
    if re.match(r"(?:vck|vca|vcp)_|sk-", value):
        return False
    return None


def _gateway_secret(m: re.Match[str]) -> SecretFound:
    kind = m["kind"]
    keep = KEY_PREFIX_KEEP if kind == "vck" else _GENERIC_KEEP
    label = {"vck": "ai_gateway_key", "vca": "access_token", "vcp": "access_token"}[kind]
    return SecretFound(label, f"{kind}_{_alnum_head(m['body'], keep)}", _sha256(m[0]))


def _provider_secret(m: re.Match[str]) -> SecretFound:
    return SecretFound("provider_key", f"sk-{m['type'] or ''}{_alnum_head(m['body'], _GENERIC_KEEP)}",
                       _sha256(m[0]))


def _generic_secret(value: str, kind: str) -> SecretFound | None:
    """A credential found by its context (Bearer, api_key=..., ?token=...): is it a real one?"""
    known = _known(value)
    if known is not None:
        return known or None
    if ELLIPSIS in value or len(value) < 12 or _PLACEHOLDER.search(value):
        return None
    has_alpha = any(c.isalpha() for c in value)
    has_digit = any(c.isdigit() for c in value)
    mixed_case = any(c.isupper() for c in value) and any(c.islower() for c in value)
    # After `Bearer`, any long token is one (an opaque lower-case token has neither digit nor case).
    long_bearer = kind == "bearer_credential" and len(value) >= 24
    if not has_alpha or not (has_digit or (mixed_case and len(value) >= 20) or long_bearer):
        return None
    keep = _alnum_head(value, _GENERIC_KEEP) if len(value) >= 24 else ""
    return SecretFound(kind, keep, _sha256(value))


def _url_password(value: str) -> SecretFound | None:
    known = _known(value)
    if known is not None:
        return known or None
    if ELLIPSIS in value or value.lower() in {"password", "pass", "pwd"} or value[0] in "$%{<" \
            or _PLACEHOLDER.search(value):
        return None
    return SecretFound("url_password", "", _sha256(value))


def _marker(secret: SecretFound) -> str:
    return f"{secret.prefix}{ELLIPSIS}{REDACTED}"


_Judge = Callable[[re.Match[str]], SecretFound | None]


class _Views:
    """The reader's view of the latest text redaction made (built again only when it changed)."""

    def __init__(self) -> None:
        self._text: str | None = None
        self._view: secret_patterns.View | None = None

    def of(self, text: str) -> secret_patterns.View | None:
        if text is not self._text:
            self._text, self._view = text, secret_patterns.markup_view(text)
        return self._view


def _sub(pattern: re.Pattern[str], text: str, found: list[SecretFound], judge: _Judge,
         group: str | int | Callable[[re.Match[str]], str] = "value", views: _Views | None = None) -> str:
    """Replace the `group` of each match `judge` takes for a secret. With `views`, match in the
    text as a reader sees it (tags out, entities decoded) and replace the span it came from."""
    view = views.of(text) if views else None
    if views and view is None:
        return text
    pieces: list[str] = []
    last = 0
    for m in pattern.finditer(view.text if view else text):
        secret = judge(m)
        if secret is None:
            continue
        found.append(secret)
        start, end = m.span(group(m) if callable(group) else group)
        if view:
            start, end = view.original(start, end)
        pieces += [text[last:start], _marker(secret)]
        last = end
    return "".join(pieces) + text[last:] if pieces else text


def _rule_judge(rule: secret_patterns.Rule) -> _Judge:
    def judge(m: re.Match[str]) -> SecretFound | None:
        if not rule.accept(m):
            return None
        return SecretFound(rule.kind, rule.keep(m), _sha256(m[rule.group(m)]))

    return judge


_Pass = tuple[re.Pattern[str], _Judge, str | int | Callable[[re.Match[str]], str]]


def _rule(name: str) -> _Pass:
    rule = secret_patterns.RULES[name]
    return rule.pattern, _rule_judge(rule), rule.group


# Formats that are secrets wherever they appear, then credentials known by their context. Each
# group runs on the text as it is, then as a reader sees it (when it holds markup), before the
# next group: a context pattern never cuts through a tag-split key.
_KNOWN: list[_Pass] = [
    _rule("private_key"),
    (_GATEWAY, _gateway_secret, 0),
    (_PROVIDER, _provider_secret, 0),
    *(_rule(name) for name in ("stripe_key", "github_token", "slack_token", "slack_webhook", "google_api_key",
                               "aws_access_key_id", "jwt", "aws_secret_access_key")),
]
_CONTEXT: list[_Pass] = [
    (_AUTH_SCHEME, lambda m: _generic_secret(m["value"], f"{m['scheme'].lower()}_credential"), "value"),
    _rule("password_prose"),
    _rule("password_field"),
    (_ASSIGNMENT, lambda m: _generic_secret(m["value"], "credential"), "value"),
    (_QUERY, lambda m: _generic_secret(m["value"], "credential"), "value"),
    (_URL_PASSWORD, lambda m: _url_password(m["value"]), "value"),
]


def redact_secrets(text: str) -> Redaction:
    """Redact every full secret in `text`; the result says what was found (never the secret).

    Invisible characters are dropped first. Then every pattern runs on the text as it is, and
    again on the text as a reader sees it, when it holds HTML tags or entities: that finds a
    secret split by tags and replaces it, with the markup inside it, in the text as it is.
    Idempotent: a marker is never taken for a secret, so redacting twice finds nothing new.
    """
    found: list[SecretFound] = []
    out = secret_patterns.normalize(text)
    views = _Views()
    for passes in (_KNOWN, _CONTEXT):
        for in_view in (False, True):
            for pattern, judge, group in passes:
                out = _sub(pattern, out, found, judge, group, views if in_view else None)
    return Redaction(out, found)


def redact(text: str) -> tuple[str, int]:
    """Replace full secrets with `<short prefix>…[REDACTED]`; return the text and how many."""
    result = redact_secrets(text)
    return result.text, result.count


# --- facts --------------------------------------------------------------------------------


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

    def as_report_facts(self) -> dict[str, list[str]]:
        """The non-empty lists as strings: the shape of `Report.facts`."""
        return {name: [str(v) for v in values] for name, values in self if values}


_TEAM_ID = re.compile(r"(?<![A-Za-z0-9_])team_[A-Za-z0-9]{24}(?![A-Za-z0-9_])")
_KEY_PREFIX = re.compile(rf"(?<![A-Za-z0-9])vck_[A-Za-z0-9]{{4,{_PREFIX_MAX}}}(?![A-Za-z0-9])")

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
    )


DEEPER = f"[… nested deeper than {MAX_JSON_DEPTH} levels: not kept]"


def redact_json(value: Any, depth: int = 0) -> tuple[Any, int]:
    """Every string in a JSON value redacted; returns the value and how many secrets were removed.
    What nests deeper than MAX_JSON_DEPTH (an event refused for its depth) is replaced by a mark.
    Kept events (the intake's dead letters) and staff decisions (Step Functions' history) both use it."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list | dict) and depth >= MAX_JSON_DEPTH:
        return DEEPER, 0
    if isinstance(value, list):
        pairs = [redact_json(v, depth + 1) for v in value]
        return [v for v, _ in pairs], sum(n for _, n in pairs)
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        total = 0
        for k, v in value.items():
            out[k], n = redact_json(v, depth + 1)
            total += n
        return out, total
    return value, 0

"""Redaction: every full secret pasted into a ticket is replaced before anything else sees the text.

`redact(text)` replaces every full secret (AI gateway keys `vck_...`, access tokens
`vca_...`/`vcp_...`, provider keys `sk-...`, `Bearer`/`Basic` credentials, credential
values in assignments, JSON, headers and URL query strings, passwords in URLs, and the
formats of `secret_patterns.RULES`: AWS, Stripe, GitHub, Slack, Google keys, JWTs, passwords,
private-key blocks) with a marker that keeps only a short prefix: `vck_lowr01sa…[REDACTED]`.
Invisible characters go first; secrets split by HTML tags or entities are found in the text
as a reader sees it (`secret_patterns.markup_view`). It returns how many it replaced: a count
above zero means the case must tell the customer to rotate the key. `redact_json` does the
same for every string of a JSON value (kept events, staff decisions).

Pure stdlib `re`: no I/O, no AWS.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from unblock.domain.limits import MAX_JSON_DEPTH
from unblock.domain.tickets import secret_patterns

__all__ = [
    "DEEPER",
    "ELLIPSIS",
    "KEY_PREFIX_KEEP",
    "PREFIX_MAX",
    "REDACTED",
    "Redaction",
    "SecretFound",
    "redact",
    "redact_json",
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
PREFIX_MAX = 12


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
# The same keys written otherwise (issue 22 item 9): upper-case (`VCK_...`), with a fullwidth
# underscore (U+FF3F) or url-encoded (`vck%5F...`). A code constant (`VCK_PREFIX_LENGTH`) is no key:
# these count only when the body looks random (a digit and a letter).
_GATEWAY_VARIANT = re.compile(
    r"(?<![A-Za-z0-9])(?P<kind>(?i:vck|vca|vcp))(?P<sep>_|\uff3f|%5[fF])(?P<body>[A-Za-z0-9_-]{13,}+)")
# A short provider key (`sk-` and 10..19 characters: older and third-party OpenAI-style keys).
_PROVIDER_SHORT = re.compile(r"(?<![A-Za-z0-9_-])sk-(?P<body>[A-Za-z0-9]{10,19})(?![A-Za-z0-9_-])")
# base64 of a key: `vck_`/`vca_`/`vcp_` encode to `dmNrX`/`dmNhX`/`dmNwX`, `sk-` to `c2st`.
_BASE64_KEY = re.compile(r"(?<![A-Za-z0-9+/_-])(?P<value>(?:dmN[rhw]X|c2st)[A-Za-z0-9+/_-]{16,2000}={0,2})")
# A key split by a line break (a wrapped terminal line, a quoted e-mail) or spaced out in groups,
# and a key spelled out one character at a time (`v c k _ 3 f 9 a ...`).
_SPLIT_KEY = re.compile(
    r"(?<![A-Za-z0-9])(?P<kind>vck|vca|vcp)_(?P<first>[A-Za-z0-9_-]{2,200})"
    r"(?P<rest>(?:(?:[ \t]{1,4}|[ \t]{0,4}(?:\r?\n|\\n)[ \t>]{0,4})[A-Za-z0-9_-]{2,200}){1,16})")
_SPACED_KEY = re.compile(r"(?<![A-Za-z0-9_-])(?:[A-Za-z0-9_-][ \t]){16,400}[A-Za-z0-9_-](?![A-Za-z0-9_-])")
_CHUNK = re.compile(r"[A-Za-z0-9_-]+")
_STARTS_SECRET = re.compile(r"(?i)(?:vck|vca|vcp)_|sk-|sk_|rk_|gh[pousr]_|github_pat_|xox|xapp-|AKIA|ASIA|AIza|eyJ"
                            r"|xai-|pplx-|gsk_|hf_|npm_|glpat-|ya29\.|do[opr]_v1_|SG\.")
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
# A reference to a key in code (`process.env.AI_GATEWAY_API_KEY`, `Resource.Key.value`, `import.meta.env.X`):
# a dotted path of identifiers names where a key is, it holds none (DESIGN.md "Signals").
_CODE_REFERENCE = re.compile(r"[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+")
# Named like a credential, but not one (issue 34 items 6, 8): a bot challenge's token (Vercel's
# `x-vercel-challenge-token`), request, trace and idempotency ids. Rotating them means nothing.
_NOT_A_CREDENTIAL = re.compile(r"(?i)challenge|request[_-]?id|trace|correlation|idempotency")
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


def _random(body: str) -> bool:
    """A key's body, not a word or a constant's name: a digit and a letter, or a capital inside."""
    has_digit, has_alpha = any(c.isdigit() for c in body), any(c.isalpha() for c in body)
    return has_alpha and (has_digit or any(c.isupper() for c in body[1:]))


def _variant_secret(m: re.Match[str]) -> SecretFound | None:
    if m["kind"].islower() and m["sep"] == "_":
        return None  # the usual spelling: _GATEWAY's
    body = m["body"]
    if sum(c.isdigit() for c in body) < 2 or not any(c.isalpha() for c in body):
        return None
    if m["kind"].isupper() and "_" in body:  # SCREAMING_SNAKE: a constant's name (`VCK_KEY_LENGTH_V2`)
        return None
    kind = m["kind"].lower()
    return SecretFound("ai_gateway_key" if kind == "vck" else "access_token",
                       f"{kind}_{_alnum_head(m['body'], KEY_PREFIX_KEEP if kind == 'vck' else _GENERIC_KEEP)}",
                       _sha256(f"{kind}_{m['body']}"))


def _short_provider_secret(m: re.Match[str]) -> SecretFound | None:
    body = m["body"]
    if not (any(c.isdigit() for c in body) and any(c.isalpha() for c in body)):
        return None
    return SecretFound("provider_key", f"sk-{_alnum_head(body, _GENERIC_KEEP)}", _sha256(m[0]))


def _base64_secret(m: re.Match[str]) -> SecretFound | None:
    import base64
    import binascii

    value = m["value"].rstrip("=")
    raw = value + "=" * (-len(value) % 4)
    try:
        decoded = (base64.urlsafe_b64decode(raw) if ("-" in raw or "_" in raw) else base64.b64decode(raw))
        text = decoded.decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    if not (_GATEWAY.search(text) or _PROVIDER.search(text)):
        return None
    return SecretFound("encoded_key", "", _sha256(m["value"]))


def _split_keys(text: str, found: list[SecretFound]) -> str:
    """Keys broken by whitespace, joined back and redacted as one, before any pattern sees a piece of
    one: each piece after the first counts while it looks random (`ab12`, `Zq8XwP`), so the words
    after a key prefix (`vck_3f9a12ab is my key`) are never taken into it."""
    pieces: list[str] = []
    last = 0
    for m in _SPLIT_KEY.finditer(text):
        body, end = m["first"], m.end("first")
        chunks = list(_CHUNK.finditer(m["rest"]))
        # spaced out in groups (`vck_Fake K2iy Elwm rYEE ...`): three or more pieces of one length
        size = len(chunks[0][0])
        grouped = size <= 8 and len(chunks) >= 3 and all(len(c[0]) == size for c in chunks[:3])
        for chunk in chunks:
            at = m.start("rest") + chunk.end()
            if not (_random(chunk[0]) or (grouped and len(chunk[0]) == size)):
                break
            # a piece is a whole word, and not the start of another secret (`vck_...`, `sk-...`, a key
            # split by markup: `vck_Fa<span>...`): those are found by their own patterns
            if _STARTS_SECRET.match(chunk[0]) or (at < len(text) and not (text[at].isspace() or text[at] in ".,;:!?)")):
                break
            body += chunk[0]
            end = at
        if end == m.end("first") or len(body) < 20:
            continue
        secret = _gateway_secret(_GATEWAY.fullmatch(f"{m['kind']}_{body}"))  # type: ignore[arg-type]
        found.append(secret)
        pieces += [text[last:m.start()], _marker(secret)]
        last = end
    text = "".join(pieces) + text[last:] if pieces else text
    pieces, last = [], 0
    for m in _SPACED_KEY.finditer(text):
        joined = re.sub(r"[ \t]", "", m[0])
        g, p = _GATEWAY.fullmatch(joined), _PROVIDER.fullmatch(joined)
        if g is None and p is None:
            continue
        secret = _gateway_secret(g) if g else _provider_secret(p)  # type: ignore[arg-type]
        found.append(secret)
        pieces += [text[last:m.start()], _marker(secret)]
        last = m.end()
    return "".join(pieces) + text[last:] if pieces else text


def _generic_secret(value: str, kind: str) -> SecretFound | None:
    """A credential found by its context (Bearer, api_key=..., ?token=...): is it a real one?"""
    known = _known(value)
    if known is not None:
        return known or None
    if ELLIPSIS in value or len(value) < 12 or _PLACEHOLDER.search(value) or _CODE_REFERENCE.fullmatch(value):
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


class _DecodedViews(_Views):
    """The text as a pattern reads it: the reader's view (when there is markup) with percent-encoding,
    JSON escapes, NFKC-equal letters and markdown emphasis undone (`secret_patterns.decoded_view`)."""

    def __init__(self, markup: _Views) -> None:
        super().__init__()
        self._markup = markup

    def of(self, text: str) -> secret_patterns.View | None:
        if text is not self._text:
            self._text, self._view = text, secret_patterns.decoded_view(text, self._markup.of(text))
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
    (_GATEWAY_VARIANT, _variant_secret, 0),
    (_PROVIDER, _provider_secret, 0),
    (_PROVIDER_SHORT, _short_provider_secret, 0),
    (_BASE64_KEY, _base64_secret, "value"),
    *(_rule(name) for name in ("stripe_key", "github_token", "slack_token", "slack_webhook", "google_api_key",
                               "aws_access_key_id", "jwt", "token_family", "aws_secret_access_key")),
]
_CONTEXT: list[_Pass] = [
    (_AUTH_SCHEME, lambda m: _generic_secret(m["value"], f"{m['scheme'].lower()}_credential"), "value"),
    _rule("password_prose"),
    _rule("credential_pair"),
    _rule("password_field"),
    (_ASSIGNMENT, lambda m: None if _NOT_A_CREDENTIAL.search(m["name"]) else _generic_secret(m["value"], "credential"),
     "value"),
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
    out = _split_keys(secret_patterns.normalize(text), found)
    markup = _Views()
    decoded = _DecodedViews(markup)
    for passes in (_KNOWN, _CONTEXT):
        for views in (None, markup, decoded):
            for pattern, judge, group in passes:
                out = _sub(pattern, out, found, judge, group, views)
    return Redaction(out, found)


def redact(text: str) -> tuple[str, int]:
    """Replace full secrets with `<short prefix>…[REDACTED]`; return the text and how many."""
    result = redact_secrets(text)
    return result.text, result.count



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

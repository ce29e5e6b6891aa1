"""Secret formats and the text views redaction matches them in (used by `extract.redact_secrets`).

Three things, pure stdlib:

* `normalize(text)`: drops invisible characters (Unicode category Cf: soft hyphen, zero-width
  space/joiners, word joiner, invisible separators, bidi controls, BOM, tag characters; and the
  few invisible ones outside Cf: combining grapheme joiner, Hangul fillers, variation selectors),
  raw or as HTML entities (`&shy;`, `&#8203;`). Pasted into a key they hide it from any pattern
  and mean nothing in a ticket, so the redacted text goes without them.
* `markup_view(text)`: the text as a reader sees it, tags out and entities decoded, with each
  character's place in the original. `vck_3f9a<span>12ab</span>...` or `<code>vck_</code>...`
  (a forum post's `cooked` HTML, an HTML e-mail) is one key in the view; a match there is
  replaced in the original, markup inside it included, and the markup elsewhere is kept.
* `RULES`: the formats that are secrets wherever they appear (AWS, Stripe, GitHub, Slack, Google,
  JWT, private-key blocks) and the password forms, each with the kind it reports and the short
  prefix its marker may keep.

The formats follow Yelp's detect-secrets 1.5.0 plugins (AWSKeyDetector, StripeDetector,
GitHubTokenDetector, SlackDetector, JwtTokenDetector, PrivateKeyDetector, KeywordDetector),
widened where providers have since changed their formats (Stripe keys longer than 24, GitHub
`github_pat_`, Slack `xoxe.`); Google `AIza` keys are not in detect-secrets (the shape is the
one gitleaks' `gcp-api-key` rule uses). detect-secrets itself is not a dependency: importing any
of its plugins imports `requests` (plugins/base.py, for `verify`) and it requires PyYAML, which
the Lambda package does not carry.

Every pattern here is linear on hostile input: bounded repetitions, no nested quantifiers.
"""

from __future__ import annotations

import html
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["RULES", "Rule", "View", "decoded_view", "markup_view", "normalize"]

# --- invisible characters -----------------------------------------------------------------------

# Unicode 15.1 category Cf (tests/unit/test_secret_corpus.py checks it against unicodedata), then
# invisible characters of other categories: U+034F combining grapheme joiner, Hangul fillers,
# Mongolian free variation selectors, variation selectors.
_CF = (
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
)
_OTHER_INVISIBLE = "\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180d\u180f\u3164\ufe00-\ufe0f\uffa0\U000e0100-\U000e01ef"
_INVISIBLE = re.compile(f"[{_CF}{_OTHER_INVISIBLE}]+")
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")


def _drop_invisible_entity(m: re.Match[str]) -> str:
    decoded = html.unescape(m[0])
    return "" if decoded != m[0] and not _INVISIBLE.sub("", decoded) else m[0]


def normalize(text: str) -> str:
    """`text` without invisible characters, raw or as HTML entities (idempotent)."""
    text = _INVISIBLE.sub("", text)
    if "&" in text:
        text = _ENTITY.sub(_drop_invisible_entity, text)
    return text


# --- the text as a reader sees it ---------------------------------------------------------------

# Inline elements join the text around them (a key split by `<span>` is one key); the others, and
# `<br>`, separate it. Only HTML's own element names count as tags: `List<String>` or
# `<your-key>` are text.
_INLINE = (
    "a|abbr|b|bdi|bdo|big|cite|code|data|del|dfn|em|font|i|ins|kbd|mark|nobr|q|s|samp|small|span|strike|"
    "strong|sub|sup|time|tt|u|var|wbr"
)
_BLOCK = (
    "address|article|aside|blockquote|br|caption|dd|details|div|dl|dt|figcaption|figure|footer|h[1-6]|"
    "header|hr|img|li|main|nav|ol|p|pre|section|summary|table|tbody|td|tfoot|th|thead|tr|ul"
)
_MARKUP = re.compile(
    rf"(?i)<!--|<(?P<close>/?)(?:(?P<inline>{_INLINE})|(?P<block>{_BLOCK}))(?=[\s/>])[^<>]{{0,2000}}>"
    r"|&(?:#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});"
)


@dataclass(frozen=True)
class View:
    """Text with tags removed and entities decoded; `starts[i]`/`ends[i]` is the original span of
    character i (a decoded entity is one character for the whole entity)."""

    text: str
    starts: list[int]
    ends: list[int]

    def original(self, start: int, end: int) -> tuple[int, int]:
        """The span of the original text that `text[start:end]` came from (markup inside included)."""
        if end <= start:
            at = self.starts[start] if start < len(self.starts) else (self.ends[-1] if self.ends else 0)
            return at, at
        return self.starts[start], self.ends[end - 1]


def markup_view(text: str) -> View | None:
    """The text as a reader sees it, or None when it holds no tag, comment or entity."""
    if "<" not in text and "&" not in text:
        return None
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    pos = 0

    def copy(upto: int) -> None:
        chars.append(text[pos:upto])
        starts.extend(range(pos, upto))
        ends.extend(range(pos + 1, upto + 1))

    changed = False
    comments_close = True  # False once a comment has no end: no later one has either
    while True:
        m = _MARKUP.search(text, pos)
        if m is None:
            break
        copy(m.start())
        end = m.end()
        if m[0] == "<!--":
            close = text.find("-->", end) if comments_close else -1
            if close < 0:  # an unclosed comment is text
                comments_close = False
                copy(end)
                pos = end
                continue
            end = close + 3
        elif m[0].startswith("&"):
            decoded = html.unescape(m[0])
            chars.append(decoded)
            starts.extend([m.start()] * len(decoded))
            ends.extend([end] * len(decoded))
        elif m["block"]:
            chars.append("\n")
            starts.append(m.start())
            ends.append(end)
        changed = True
        pos = end
    if not changed:
        return None
    copy(len(text))
    return View("".join(chars), starts, ends)


# --- the text as a pattern should read it -----------------------------------------------------------

# A secret written otherwise is still the secret (issue 35 item 3): percent-encoded (`vck%5F...`, or
# twice: `vck%255F...`), JSON-escaped (`vck\\u005f...`), in fullwidth or other NFKC-equal letters, or
# cut by markdown emphasis (`vck_3f9a**12ab**...`). These are undone on a copy used for matching only.
_PERCENT_RUN = re.compile(r"(?:%[0-9A-Fa-f]{2})+")
_JSON_ESCAPE = re.compile(r"\\u(?P<hex>[0-9A-Fa-f]{4})|\\(?P<char>[/\\\"])")
_EMPHASIS = re.compile(r"(?<=[A-Za-z0-9_-])[*`~]{1,4}(?=[A-Za-z0-9_-])")
_MAX_DECODE_PASSES = 3  # `%25` decodes to `%`: bounded, a deeper nesting is not undone
_ELLIPSIS_CHAR = "\u2026"  # a marker's: NFKC would make it three dots

class _Copy:
    """The copy being decoded: its text, and for each of its characters the original span."""

    def __init__(self, text: str, starts: list[int], ends: list[int]) -> None:
        self.text, self.starts, self.ends = text, starts, ends

    def rewrite(self, pattern: re.Pattern[str], decode: Callable[[re.Match[str]], str | None]) -> bool:
        """Replace each match of `pattern` by `decode(match)` (None: keep it), every new character spanning
        the whole of what it replaced; True when anything changed."""
        pieces: list[str] = []
        starts: list[int] = []
        ends: list[int] = []
        last = 0
        for m in pattern.finditer(self.text):
            new = decode(m)
            if new is None or new == m[0]:
                continue
            pieces.append(self.text[last:m.start()])
            starts.extend(self.starts[last:m.start()])
            ends.extend(self.ends[last:m.start()])
            pieces.append(new)
            starts.extend([self.starts[m.start()]] * len(new))
            ends.extend([self.ends[m.end() - 1]] * len(new))
            last = m.end()
        if not pieces:
            return False
        pieces.append(self.text[last:])
        starts.extend(self.starts[last:])
        ends.extend(self.ends[last:])
        self.text, self.starts, self.ends = "".join(pieces), starts, ends
        return True


def _percent(m: re.Match[str]) -> str | None:
    try:
        decoded = bytes.fromhex(m[0].replace("%", "")).decode("utf-8")
    except UnicodeDecodeError:
        return None
    return decoded if decoded.isprintable() else None


def _json_escape(m: re.Match[str]) -> str | None:
    if m["char"]:
        return m["char"]
    ch = chr(int(m["hex"], 16))
    return ch if ch.isprintable() and not 0xD800 <= ord(ch) <= 0xDFFF else None


def _nfkc(m: re.Match[str]) -> str | None:
    ch = m[0]
    return None if ch == _ELLIPSIS_CHAR else unicodedata.normalize("NFKC", ch)


_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def decoded_view(text: str, base: View | None = None) -> View | None:
    """`text` (or `base`, a view of it) with percent-encoding (repeatedly, bounded) and JSON escapes
    undone, NFKC applied and markdown emphasis inside a word dropped, each character mapped back to its
    span of `text`; None when none of that changes anything."""
    source = base.text if base else text
    nfkc = not unicodedata.is_normalized("NFKC", source)
    if "%" not in source and "\\" not in source and not nfkc and not _EMPHASIS.search(source):
        return None
    copy = (_Copy(base.text, base.starts, base.ends) if base
            else _Copy(text, list(range(len(text))), list(range(1, len(text) + 1))))
    changed = False
    for _ in range(_MAX_DECODE_PASSES):
        step = copy.rewrite(_JSON_ESCAPE, _json_escape)
        step = copy.rewrite(_PERCENT_RUN, _percent) or step
        if not step:
            break
        changed = True
    if nfkc or not unicodedata.is_normalized("NFKC", copy.text):
        changed = copy.rewrite(_NON_ASCII, _nfkc) or changed
    changed = copy.rewrite(_EMPHASIS, lambda m: "") or changed
    if not changed:
        return None
    return View(copy.text, copy.starts, copy.ends)


# --- formats --------------------------------------------------------------------------------------

_ELLIPSIS, _REDACTED = "\u2026", "[REDACTED]"  # extract.ELLIPSIS, extract.REDACTED: a marker is no secret


@dataclass(frozen=True)
class Rule:
    """A secret format: `group(match)` names the group that is the secret (`value` unless said),
    `keep(match)` the prefix its marker may show, `accept(match)` whether a match is a secret."""

    kind: str
    pattern: re.Pattern[str]
    keep: Callable[[re.Match[str]], str]
    accept: Callable[[re.Match[str]], bool] = lambda m: True
    group: Callable[[re.Match[str]], str] = lambda m: "value"


def _keep(n: int) -> Callable[[re.Match[str]], str]:
    return lambda m: m["value"][:n]


def _nothing(m: re.Match[str]) -> str:
    return ""


def _entropy(value: str) -> float:
    counts = Counter(value)
    return -sum(c / len(value) * math.log2(c / len(value)) for c in counts.values())


# PrivateKeyDetector: a whole PEM/OpenSSH/PGP block, or (pasted without its END line) the header
# and the base64 and header lines after it. Lines may be split by real or escaped (`\n`) newlines.
_PK_LINE = r"(?:\s|\\[rn]){1,8}(?:[A-Za-z0-9+/=]{16,}|[A-Za-z-]{1,40}: [^\n\\]{1,200})"
_PRIVATE_KEY = re.compile(
    r"(?P<value>-----BEGIN[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----"
    r"(?:(?:[^-]|-(?!----)){0,20000}-----END[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----"
    rf"|(?:{_PK_LINE}){{1,400}}))"
)


def _pem_label(m: re.Match[str]) -> str:
    return m["value"][: m["value"].index("-----", 5) + 5]


# AWSKeyDetector: access key ids; secret access keys are 40 base64 characters. Alone, those are
# only taken when they look random (a 40-character path or word run does not).
_AWS_KEY_ID = re.compile(r"(?<![A-Za-z0-9])(?P<value>(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16})(?![A-Za-z0-9])")
_AWS_SECRET = re.compile(r"(?<![A-Za-z0-9/+=])(?P<value>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])")


def _random_base64(m: re.Match[str]) -> bool:
    v = m["value"]
    return (any(c.isupper() for c in v) and any(c.islower() for c in v) and any(c.isdigit() for c in v)
            and v.count("/") <= 4 and _entropy(v) >= 4.2)


# StripeDetector (live and test, secret and restricted; publishable `pk_` keys are public).
_STRIPE = re.compile(r"(?<![A-Za-z0-9_])(?P<value>(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,247})(?![A-Za-z0-9])")
# GitHubTokenDetector, and fine-grained personal access tokens.
_GITHUB = re.compile(
    r"(?<![A-Za-z0-9_])(?P<value>gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9_]{22,251})(?![A-Za-z0-9_])"
)
# SlackDetector: tokens (`xoxb-`, `xoxp-`, ..., `xoxe.xoxp-`) and incoming-webhook URLs.
_SLACK = re.compile(r"(?<![A-Za-z0-9])(?P<value>xox[a-z](?:\.xox[a-z])?-[A-Za-z0-9][A-Za-z0-9-]{8,250})")
_SLACK_WEBHOOK = re.compile(
    r"(?P<value>https://hooks\.slack\.com/(?:services|workflows|triggers)/T[A-Za-z0-9_]{1,40}/[A-Za-z0-9_/]{8,200})"
)
# Google API keys.
_GOOGLE = re.compile(r"(?<![A-Za-z0-9_-])(?P<value>AIza[0-9A-Za-z_-]{35})(?![0-9A-Za-z_-])")
# JwtTokenDetector: header and payload are base64url JSON objects (`eyJ` is `{"`).
_JWT = re.compile(
    r"(?<![A-Za-z0-9_-])(?P<value>eyJ[A-Za-z0-9_-]{8,4000}\.ey[A-Za-z0-9_-]{8,8000}\.[A-Za-z0-9_-]{0,2000})"
)

# The model providers the gateway routes to (DESIGN.md "Triggers": bring-your-own-key tickets) and the
# common token families, each by its documented prefix (gitleaks' rules for the same providers): xAI
# `xai-`, Perplexity `pplx-`, Groq `gsk_`, Replicate `r8_`, Fireworks `fw_`, Together `tgp_v1_`,
# Cerebras `csk-`, Hugging Face `hf_` (also bare, without `HF_TOKEN=`), Amazon Bedrock API keys
# `ABSK`, GitLab `glpat-`/`gldt-`/`glrt-`, SendGrid `SG.<id>.<secret>`, Google OAuth access tokens
# `ya29.`, DigitalOcean `dop_v1_`/`doo_v1_`/`dor_v1_`, Slack app-level `xapp-`, npm `npm_`, PyPI
# `pypi-AgEI`, Stripe webhook secrets `whsec_`, Shopify `shpat_`, Notion `ntn_`, Sentry `sntrys_`,
# LangSmith `lsv2_`, Linear `lin_api_`, Postman `PMAK-`, Databricks `dapi`, Doppler `dp.st.`. Providers
# whose keys have no prefix (Mistral, Cohere, Azure OpenAI's 32 hex) are caught by their context
# (`api-key: ...`, `MISTRAL_API_KEY=...`: redaction's assignment rules). A body must look random
# (a digit, or an upper-case letter inside): `hf_hub_download` or `npm_config_cache` are names.
_TOKEN_FAMILIES = re.compile(
    r"(?<![A-Za-z0-9_.-])(?P<value>(?P<prefix>xai-|pplx-|gsk_|r8_|fw_|tgp_v1_|csk-|hf_|npm_|glpat-|gldt-|glrt-"
    r"|ya29\.|do[opr]_v1_|xapp-|pypi-|whsec_|shp(?:at|ss|ca|pa)_|ntn_|sntrys_|lsv2_(?:pt|sk)_|lin_api_|PMAK-"
    r"|dp\.(?:st|pt|ct|sa|scim)\.)(?P<body>[A-Za-z0-9_-]{20,600}))(?![A-Za-z0-9_-])"
    r"|(?<![A-Za-z0-9_.-])(?P<bare>SG\.[A-Za-z0-9_-]{16,32}\.[A-Za-z0-9_-]{30,64}|ABSK[A-Za-z0-9+/]{40,300}={0,2}"
    r"|dapi[a-f0-9]{32}(?:-\d)?)(?![A-Za-z0-9_-])"
)


def _family_secret(m: re.Match[str]) -> bool:
    if m["bare"]:
        return True
    body = m["body"]
    return len(body) >= 20 and any(c.isalpha() for c in body) and (
        any(c.isdigit() for c in body) or any(c.isupper() for c in body[1:]))


def _family_keep(m: re.Match[str]) -> str:
    if m["bare"]:
        return m["bare"][:3] if m["bare"].startswith("SG.") else m["bare"][:4]
    return m["prefix"]


# "creds: admin / hunter2", "login: root:S3cret!", "username/password: dev / Fak3pw": a user and the
# password after it. After `creds`/`credentials` any plausible value is one; after `login` only one
# that looks like a password (`login page / dashboard` is prose).
_CREDENTIAL_PAIR = re.compile(
    r"(?i)(?<![\w-])(?P<word>creds?|credentials?|logins?|user(?:name)?\s*/\s*pass(?:word)?|u/p)"
    r"(?:\s*[:=]\s*|\s+(?:are|is)\s+|\s+)(?P<user>[^\s/:|,;\"'`<>]{1,100})\s*(?:/|:|\|)\s*"
    r"(?P<value>[^\s\"'`<>]{1,200}?)(?=[.,;)\]]*(?:[\s\"'`<]|$))"
)


def _pair_password(m: re.Match[str]) -> bool:
    value = m["value"]
    if not _plausible(value) or _path(value) or m["user"].lower() in ("http", "https"):
        return False
    return m["word"].lower().startswith("cred") or _looks_like_a_password(value)


# KeywordDetector, for passwords. A field or assignment (`"password": "..."`, `DB_PASSWORD=...`,
# `smtp_pass: '...'`, `'password' => '...'`) holds a password whatever it looks like, unless it
# is a bare word after a colon (`Password: reset`); prose ("my password is ...", "mein Passwort
# ist ...") only when the word after it looks like a password.
_PW_NAME = (r"(?:[\w-]{0,30}?(?:password|passwd|passphrase|passwort|kennwort)|[\w-]{1,30}?[_-](?:pwd|pass|pw)"
            r"|(?P<short>pwd|pw))")  # `pwd=`, `{"pwd": ...}`; a bare `PWD=/home/dev` is a directory
_QUOTED = r"\\?\"(?P<dq>[^\"\\\n]{1,200})\\?\"|\\?'(?P<sq>[^'\\\n]{1,200})\\?'"
_PASSWORD_FIELD = re.compile(
    rf"(?i)(?<![\w-])\\?[\"']?{_PW_NAME}\\?[\"']?[ \t]*(?P<sep>=>|:=|[:=])[ \t]*"
    rf"(?:{_QUOTED}|(?P<bare>[^\s\"'`,;&<>{{}}()\[\]\\]{{1,200}}))"
)
_PW_WORDS = r"pass(?:word|wd|phrase)|passwort|kennwort|contrase(?:\u00f1|n)a|clave|mot\s+de\s+passe|senha|wachtwoord"
_PW_VERB = r"\s+(?:is\s+now|would\s+be|will\s+be|is|was|ist|war|es|era|est|\u00e9tait)\b\s*:?\s*"
_PASSWORD_PROSE = re.compile(
    # `pw`, `pwd` and `pass` only before a colon or a verb, or `pw Tr0ub4dor&3` (a word that looks like
    # a password, never a path): `PWD=/home/dev` is a directory.
    rf"(?i)(?<![\w-])(?:(?:{_PW_WORDS})(?:\s+(?:for|of|on|f\u00fcr|para|pour)(?:\s+[^\s:=]{{1,30}}){{1,3}}?)?"
    rf"(?:\s*[:=]\s*|{_PW_VERB})|(?:pw|pwd|pass)(?:\s*:\s*|{_PW_VERB})|(?:pw|pwd)[ \t]+)"
    r"(?:[\"'\u201c\u201e\u2018`](?P<quoted>[^\"'\u201c\u201d\u2018\u2019`\n]{1,200})[\"'\u201d\u201c\u2019`]"
    r"|(?P<bare>[^\s\"'`<>]{1,200}?)(?=[.,;:)\]]*(?:[\s\"'`<]|$)))"
)
_NOT_A_PASSWORD = frozenset({
    "null", "none", "nil", "true", "false", "undefined", "string", "str", "required", "optional", "password",
    "passwd", "secret", "empty", "blank", "redacted", "hidden", "masked", "changeme", "env", "n/a", "na",
})
_NOT_A_VALUE = re.compile(r"(?i)(?:your|my|the|some)[_-]|example|placeholder|process\.env|os\.environ|getenv")


def _password_group(m: re.Match[str]) -> str:
    return next(g for g in ("dq", "sq", "quoted", "bare") if m.groupdict().get(g))


def _plausible(value: str) -> bool:
    return not (len(value) < 4 or _ELLIPSIS in value or _REDACTED in value or value.lower() in _NOT_A_PASSWORD
                or value[0] in "$%{<*" or set(value) <= set("*xX.-_") or _NOT_A_VALUE.match(value))


def _looks_like_a_password(value: str) -> bool:
    """A word a password rule would accept ("hunter2", "Fak3$ecret"), not "correct", "Correct",
    "case-sensitive" or "reset"."""
    return (any(c.isdigit() for c in value) or any(c.isupper() for c in value[1:])
            or any(not c.isalnum() and c not in "-'" for c in value))


def _path(value: str) -> bool:
    return value[0] in "/~." or "/" in value


def _field_password(m: re.Match[str]) -> bool:
    value = m[_password_group(m)]
    if not _plausible(value) or (m["short"] and _path(value)):
        return False
    return not (m["bare"] and m["sep"] == ":") or _looks_like_a_password(value)


def _prose_password(m: re.Match[str]) -> bool:
    value = m[_password_group(m)]
    return (_plausible(value) and not _path(value) and (len(value) >= 6 or bool(m["quoted"]))
            and _looks_like_a_password(value))


def _github_prefix(m: re.Match[str]) -> str:
    return "github_pat_" if m["value"].startswith("github_pat_") else m["value"][:4]


RULES: dict[str, Rule] = {
    "private_key": Rule("private_key", _PRIVATE_KEY, _pem_label),
    "aws_access_key_id": Rule("aws_access_key_id", _AWS_KEY_ID, _keep(4)),
    "stripe_key": Rule("stripe_key", _STRIPE, _keep(8)),
    "github_token": Rule("github_token", _GITHUB, _github_prefix),
    "slack_token": Rule("slack_token", _SLACK, lambda m: m["value"][:m["value"].index("-") + 1]),
    "slack_webhook": Rule("slack_webhook", _SLACK_WEBHOOK, lambda m: m["value"][:m["value"].index("/T") + 1]),
    "google_api_key": Rule("google_api_key", _GOOGLE, _keep(4)),
    "jwt": Rule("jwt", _JWT, _keep(3)),
    "token_family": Rule("provider_token", _TOKEN_FAMILIES, _family_keep, _family_secret,
                         lambda m: "value" if m["value"] else "bare"),
    "aws_secret_access_key": Rule("aws_secret_access_key", _AWS_SECRET, _nothing, _random_base64),
    "password_field": Rule("password", _PASSWORD_FIELD, _nothing, _field_password, _password_group),
    "password_prose": Rule("password", _PASSWORD_PROSE, _nothing, _prose_password, _password_group),
    "credential_pair": Rule("password", _CREDENTIAL_PAIR, _nothing, _pair_password),
}

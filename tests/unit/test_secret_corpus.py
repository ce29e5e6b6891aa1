"""Every pasted secret in the corpus is redacted, in every context a ticket puts it in.

The corpus (tests/data/secret_corpus.json, written by tests/data/make_secret_corpus.py) holds
FAKE values shaped like real credentials: AI gateway keys (also split by invisible characters or
HTML tags), AWS, Stripe, GitHub, Slack, Google, OpenAI and Anthropic keys, bearer tokens, JWTs,
passwords and private-key blocks. For each, in each context: at least one redaction; neither the
secret nor the secret without its invisible characters appears afterwards, nor any 12 characters
of it past the short prefix a marker keeps; the facts hold none of it; redacting again is a no-op.
"""

from __future__ import annotations

import json
import re
import sys
import time
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from unblock.domain.tickets import secret_patterns
from unblock.domain.tickets.facts import extract
from unblock.domain.tickets.redaction import ELLIPSIS, REDACTED, redact, redact_secrets

CORPUS: list[dict[str, Any]] = json.loads(
    (Path(__file__).parents[1] / "data" / "secret_corpus.json").read_text(encoding="utf-8"))["samples"]

CONTEXTS = {
    "sentence": "Hi! I put this in our config: {t} - and every call still gets 403 Forbidden. Thanks",
    "json": '{{"user": "dev", "password": "{t}", "team": "acme-projects"}}',
    "html": "<p>Our key:</p><p>{t}</p><p>Still 403.</p>",
    "bearer": 'curl -H "Authorization: Bearer {t}" https://ai-gateway.vercel.sh/v1/models',
}
WINDOW = 12


def visible(text: str) -> str:
    return "".join(c for c in text if unicodedata.category(c) != "Cf" and c != "\u034f")


def assert_no_trace(secret: str, text: str) -> None:
    out, count = redact(text)
    assert count >= 1, f"nothing redacted in {text!r}"
    plain = visible(secret)
    assert secret not in out and plain not in out, out
    # The marker may keep a short prefix (`vck_Fake1234…`, `sk-proj-FAKE…`); nothing past it.
    kept = [s.prefix for s in redact_secrets(text).secrets if s.prefix and plain.startswith(s.prefix)]
    body = plain[max(map(len, kept), default=0):]
    pieces = re.split(r"-----(?:BEGIN|END)[A-Z ]+-----", body)  # a private key's armor lines are no secret
    leaked = [w for p in pieces for i in range(len(p) - WINDOW + 1) if (w := p[i:i + WINDOW]) in out]
    assert not leaked, f"{leaked[:3]} left in {out!r}"
    assert redact(out) == (out, 0), "redaction is idempotent"
    facts = extract("403", text).model_dump_json()
    assert plain not in facts and secret not in facts


def test_corpus_is_large_and_varied() -> None:
    kinds = Counter(s["kind"] for s in CORPUS)
    assert len(CORPUS) >= 100
    assert len({s["secret"] for s in CORPUS}) == len(CORPUS)
    assert {"gateway_key", "gateway_key_invisible", "gateway_key_html", "aws_access_key_id", "aws_secret_access_key",
            "stripe_key", "github_token", "slack_token", "google_api_key", "openai_key", "anthropic_key",
            "bearer_token", "jwt", "password_prose", "password_field", "private_key"} <= set(kinds)


@pytest.mark.parametrize("sample", CORPUS, ids=[f"{i:03d}-{s['kind']}" for i, s in enumerate(CORPUS)])
def test_no_trace_of_a_pasted_secret(sample: dict[str, Any]) -> None:
    for form in CONTEXTS.values():
        assert_no_trace(sample["secret"], form.format(t=sample["text"]))


@pytest.mark.parametrize("sample", [s for s in CORPUS if s["kind"] == "gateway_key_html"][:3])
def test_tag_split_key_is_found_and_the_markup_around_it_kept(sample: dict[str, Any]) -> None:
    text = f"<p>My key is {sample['text']} and it fails.</p>"
    result = redact_secrets(text)
    assert [s.kind for s in result.secrets] in (["ai_gateway_key"], ["access_token"])
    assert result.text.startswith("<p>My key is ") and result.text.endswith(" and it fails.</p>")
    assert f"{ELLIPSIS}{REDACTED}" in result.text


# --- what must survive ------------------------------------------------------------------------

ORDINARY = [
    "team_Q3xr89YFWHvqTRO0X0bmHkoU gets 403 on vck_3f9a and vck_lowr01 (prefixes, not keys)",
    "The key starting with vck_3f9a\u2026 fails; so does <code>vck_ab12cd</code>.",
    "X-Vercel-Id: fra1::iad1::abcde-1732612345678-0123456789ab, req_8f3kq2mz91xv",
    "request-id: 7f0c2a9e-3b1d-4c5e-8f6a-0b1c2d3e4f5a",
    "model openai/gpt-4o via https://ai-gateway.vercel.sh/v1/chat/completions from dev@acme.test",
    "commit 3f9a7c1e2b4d6f8a0c2e4b6d8f0a1c3e5b7d9f1a broke it; see https://github.com/vercel/ai/issues/1234",
    "arn:aws:iam::123456789012:role/unblock-intake in us-east-1 (AKIA keys are not used)",
    "My password is not working and the password reset e-mail never came.",
    "The password is case-sensitive, right? My password was Correct before.",
    "PWD=/home/dev/project and cd $(pwd)",
    '{"password": null, "token": "", "api_key": "YOUR_API_KEY"}',
    "<p>Every request returns <strong>403 Forbidden</strong> since <em>Monday</em>.</p>",
    "<pre><code class=\"lang-ts\">const x: Promise&lt;void&gt; = fetch(url)</code></pre>",
    "Use List<String> and Map<String, Integer>; a < b > c.",
    "The AWS docs say the secret key is 40 characters long; ours is in Secrets Manager.",
    "Bearer token authentication fails with 401 Unauthorized",
    "https://vercel.com/acme-projects/~/ai-gateway/api-keys shows the key as active",
    "ssh-rsa public keys and -----BEGIN PUBLIC KEY----- blocks are fine to share",
    "Mein Passwort ist korrekt, aber ich bekomme 403.",
]


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_ticket_content_survives(text: str) -> None:
    assert redact(text) == (text, 0)


def test_facts_survive_in_html() -> None:
    facts = extract("403", "<p>Team <code>team_Q3xr89YFWHvqTRO0X0bmHkoU</code>, key <code>vck_3f9a</code>, "
                           "model <code>openai/gpt-4o</code>: <strong>403 Forbidden</strong></p>")
    assert facts.team_ids == ["team_Q3xr89YFWHvqTRO0X0bmHkoU"]
    assert facts.key_prefixes == ["vck_3f9a"]
    assert facts.models == ["openai/gpt-4o"]
    assert facts.status_codes == [403]


def test_every_format_character_is_dropped() -> None:
    """The invisible set covers Unicode category Cf as this Python knows it (and a few more)."""
    missing = [hex(cp) for cp in range(sys.maxunicode + 1)
               if unicodedata.category(chr(cp)) == "Cf" and secret_patterns.normalize(chr(cp))]
    assert not missing
    for ch in "\u034f\u115f\u1160\u3164\uffa0\ufe0f":
        assert secret_patterns.normalize(f"a{ch}b") == "ab"
    assert secret_patterns.normalize("a&shy;b&#8203;c&#x2063;d&amp;e") == "abcd&amp;e"


_MAX = 64 * 1024


@pytest.mark.parametrize("text", [
    "<span>" * (_MAX // 6), "<b " * (_MAX // 3), "&shy;&amp;" * (_MAX // 10), "<!--" * (_MAX // 4),
    "-----BEGIN RSA PRIVATE KEY-----\n" * (_MAX // 32), "password is " * (_MAX // 12), '"password": "' * (_MAX // 13),
    "a_" * (_MAX // 2) + "password", "eyJabcdefghij." * (_MAX // 14), ("Ab1" * 14 + " ") * (_MAX // 43),
    "<p>Hello <code>vck_3f9a</code> world &amp; more</p>\n" * (_MAX // 50),
], ids=["tags", "open-tags", "entities", "open-comments", "pem-headers", "password-prose", "password-fields",
        "password-name", "jwt-heads", "base64-40", "html"])
def test_hostile_markup_takes_linear_time(text: str) -> None:
    started = time.monotonic()
    extract("", redact(text)[0])
    assert time.monotonic() - started < 5

"""Redaction and fact extraction on realistic ticket texts (DESIGN.md "Triggers", issue 4).

Each case lists every fact it expects: a fact list not named must come out empty, so a case
catches false positives as well as misses. `secrets` is the redaction count and `leaks` the
secret values that must appear nowhere afterwards (redacted text, facts).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from unblock.domain.platform_model import hash_secret
from unblock.domain.tickets.facts import Facts, extract
from unblock.domain.tickets.redaction import ELLIPSIS, REDACTED, redact, redact_secrets

GATEWAY_KEY = "vck_lowr01sandboxlowrisklabstestsecret"
OTHER_KEY = "vck_3f9aQ7mZx2LpR8sT4vW6yB1nC5dE9gH0jK"
OPENAI_KEY = "sk-proj-Xy7Qw3Er9Ty1Ui5Op2As8Df4Gh6Jk0LzXcVbNm1234abcd"
ACCESS_TOKEN = "vca_9TkLm2Np4Qr6St8Uv0Wx1Yz3Ab5Cd7Ef"
JWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV"
TEAM_A = "team_Q3xr89YFWHvqTRO0X0bmHkoU"
TEAM_B = "team_R1skH0ldL1ftab1e00000000"
TRACEBACK = (
    "```\n"
    "Traceback (most recent call last):\n"
    '  File "/app/main.py", line 12, in <module>\n'
    "    resp = client.chat.completions.create(model=\"openai/gpt-4o\", messages=msgs)\n"
    '  File "/usr/lib/python3.12/site-packages/openai/_base_client.py", line 1047, in request\n'
    "    raise self._make_status_error_from_response(err.response) from None\n"
    "openai.PermissionDeniedError: Error code: 403 - "
    "{'error': {'message': 'Forbidden.', 'type': 'access_denied'}}\n"
    "```"
)


@dataclass
class Ticket:
    subject: str
    text: str
    facts: dict[str, list[Any]] = field(default_factory=dict)
    secrets: int = 0
    leaks: tuple[str, ...] = ()


CASES: dict[str, Ticket] = {
    "email-traceback-team-id": Ticket(
        "Every request returns 403 Forbidden",
        f"Hi, since yesterday every call to /v1/chat/completions fails:\n\n{TRACEBACK}\n\n"
        f"Our team is {TEAM_A}. We paid the invoice last week. Please help!",
        {"team_ids": [TEAM_A], "endpoints": ["/v1/chat/completions"], "models": ["openai/gpt-4o"],
         "status_codes": [403], "error_types": ["PermissionDeniedError", "access_denied"]},
    ),
    "curl-bearer-full-gateway-key": Ticket(
        "curl gets 403",
        "Repro:\n```bash\ncurl -sS https://ai-gateway.vercel.sh/v1/chat/completions \\\n"
        f'  -H "Authorization: Bearer {GATEWAY_KEY}" \\\n'
        '  -H "Content-Type: application/json" \\\n'
        "  -d '{\"model\": \"anthropic/claude-3.5-sonnet\", "
        "\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}'\n"
        "```\n"
        "HTTP/2 403",
        {"key_prefixes": ["vck_lowr01sa"], "endpoints": ["/v1/chat/completions"],
         "models": ["anthropic/claude-3.5-sonnet"], "status_codes": [403]},
        secrets=1, leaks=(GATEWAY_KEY, GATEWAY_KEY[12:]),
    ),
    "curly-single-quotes-slug": Ticket(
        "Forbidden",
        "Our team \u2018acme-projects\u2019 gets a 403 on every model since this morning.",
        {"team_slugs": ["acme-projects"], "status_codes": [403]},
    ),
    "curly-double-quotes-slug": Ticket(
        "Help: AI Gateway 403",
        "We\u2019re on the Pro plan, team \u201cacme-projects\u201d, and every request fails with "
        "\u201c403 Forbidden\u201d.",
        {"team_slugs": ["acme-projects"], "status_codes": [403]},
    ),
    "my-team-is": Ticket(
        "blocked",
        "my team is acme-projects and all calls are 403 forbidden now",
        {"team_slugs": ["acme-projects"], "status_codes": [403]},
    ),
    "team-slug-label-markdown": Ticket(
        "Access denied",
        "**Team slug:** acme-projects\n**Key:** `vck_3f9a`\n**Error:** `access_denied`",
        {"team_slugs": ["acme-projects"], "key_prefixes": ["vck_3f9a"], "error_types": ["access_denied"]},
    ),
    "dashboard-link": Ticket(
        "Key shows active but 403",
        "See https://vercel.com/acme-projects/~/ai-gateway/api-keys \u2014 the key is there. I followed "
        "https://vercel.com/docs/ai-gateway exactly. Still 403 Forbidden.",
        {"team_slugs": ["acme-projects"], "status_codes": [403]},
    ),
    "german-forum-post": Ticket(
        "AI Gateway: 403 seit heute Morgen",
        "Hallo zusammen,\n\nseit heute Morgen bekommen wir bei jeder Anfrage den Fehlercode 403. "
        "Unser Team hei\u00dft \u201elowrisk-labs\u201c, Modell `openai/gpt-4o-mini`.\n\n"
        "```json\n{\"error\": {\"message\": \"Forbidden.\", \"type\": \"access_denied\"}}\n```\n\n"
        "Die Karte ist g\u00fcltig. Danke f\u00fcr eure Hilfe!",
        {"team_slugs": ["lowrisk-labs"], "models": ["openai/gpt-4o-mini"], "status_codes": [403],
         "error_types": ["access_denied"]},
    ),
    "spanish-forum-post": Ticket(
        "Error 403 en todas las peticiones",
        "Hola, mi equipo es lowrisk-labs y desde ayer todas las llamadas a /v1/chat/completions devuelven "
        "c\u00f3digo de error 403:\n\n"
        "    {\"error\": {\"message\": \"Forbidden.\", \"type\": \"access_denied\"}}\n\n"
        "Usamos el modelo anthropic/claude-sonnet-4. \u00bfAlguna idea?",
        {"team_slugs": ["lowrisk-labs"], "endpoints": ["/v1/chat/completions"],
         "models": ["anthropic/claude-sonnet-4"], "status_codes": [403], "error_types": ["access_denied"]},
    ),
    "french-guillemets": Ticket(
        "Erreur 403",
        "Bonjour, notre \u00e9quipe \u00ab\u00a0lowrisk-labs\u00a0\u00bb re\u00e7oit une erreur 403 Forbidden.",
        {"team_slugs": ["lowrisk-labs"], "status_codes": [403]},
    ),
    "no-team-at-all": Ticket(
        "403 Forbidden",
        "Every request I make returns 403 Forbidden. Our team is blocked and the team account page "
        "shows nothing. What is going on?",
        {"status_codes": [403]},
    ),
    "two-team-ids": Ticket(
        f"Moved from {TEAM_B}",
        f"We moved our project from {TEAM_B} to {TEAM_A} yesterday; the new team gets 403, the old one "
        "still works.",
        {"team_ids": [TEAM_B, TEAM_A], "status_codes": [403]},
    ),
    "key-prefix-not-secret-and-bare-vck": Ticket(
        "Key vck_3f9a forbidden",
        "The key starting with vck_3f9a\u2026 fails, and so does vck_ab12cd. (Yes, all our keys start "
        "with vck_ of course.) Status 403.",
        {"key_prefixes": ["vck_3f9a", "vck_ab12cd"], "status_codes": [403]},
    ),
    "pasted-json-insufficient-funds": Ticket(
        "402 after top-up",
        '{\n  "status": 402,\n  "error": {\n    "message": "Insufficient funds. Please add credits.",\n'
        '    "type": "insufficient_funds"\n  }\n}\nTeam: acme-projects',
        {"team_slugs": ["acme-projects"], "status_codes": [402], "error_types": ["insufficient_funds"]},
    ),
    "authentication-error-401": Ticket(
        "401 Unauthorized with new key",
        "openai.AuthenticationError: Error code: 401 - {'error': {'message': 'Invalid API key.', "
        "'type': 'authentication_error'}} \u2014 key prefix vck_old123, team_Q3xr89YFWHvqTRO0X0bmHkoU",
        {"team_ids": [TEAM_A], "key_prefixes": ["vck_old123"], "status_codes": [401],
         "error_types": ["AuthenticationError", "authentication_error"]},
    ),
    "rate-limit-429": Ticket(
        "429 Too Many Requests",
        "We send 500 requests per minute and get 429 Too Many Requests with type rate_limit_exceeded. "
        "req_8f3kq2mz91xv",
        {"status_codes": [429], "error_types": ["rate_limit_exceeded"], "request_ids": ["req_8f3kq2mz91xv"]},
    ),
    "python-sdk-openai-key": Ticket(
        "PermissionDeniedError",
        "```python\nfrom openai import OpenAI\n\nclient = OpenAI(\n"
        f'    api_key="{OPENAI_KEY}",\n'
        '    base_url="https://ai-gateway.vercel.sh/v1",\n)\n'
        'client.chat.completions.create(model="openai/gpt-4o", messages=[])\n```\n'
        "raises openai.PermissionDeniedError (403).",
        {"models": ["openai/gpt-4o"], "error_types": ["PermissionDeniedError"]},
        secrets=1, leaks=(OPENAI_KEY, OPENAI_KEY[12:]),
    ),
    "vercel-access-token-in-curl": Ticket(
        "Cannot list keys",
        f'curl -H "Authorization: Bearer {ACCESS_TOKEN}" https://api.vercel.com/v9/projects '
        "returns 403 Forbidden for team_Q3xr89YFWHvqTRO0X0bmHkoU",
        {"team_ids": [TEAM_A], "endpoints": ["/v9/projects"], "status_codes": [403]},
        secrets=1, leaks=(ACCESS_TOKEN, ACCESS_TOKEN[8:]),
    ),
    "query-string-credentials": Ticket(
        "403 through proxy",
        "Our proxy calls https://proxy.internal/v1/models?api_key=a8F3kd92LmQ0zX7pW4tR&region=fra1 and "
        f"https://ai-gateway.vercel.sh/v1/models?key={OTHER_KEY} \u2014 both 403 Forbidden.",
        {"key_prefixes": ["vck_3f9aQ7mZ"], "endpoints": ["/v1/models"], "status_codes": [403]},
        secrets=2, leaks=("a8F3kd92LmQ0zX7pW4tR", OTHER_KEY, OTHER_KEY[12:]),
    ),
    "raw-http-response-with-ids": Ticket(
        "Raw response",
        "HTTP/1.1 403 Forbidden\ncontent-type: application/json\n"
        "x-vercel-id: fra1::iad1::abcde-1732612345678-0123456789ab\n\n"
        '{"error":{"message":"Forbidden.","type":"access_denied"}}',
        {"status_codes": [403], "error_types": ["access_denied"],
         "request_ids": ["fra1::iad1::abcde-1732612345678-0123456789ab"]},
    ),
    "env-file-two-secrets": Ticket(
        "config",
        f"My .env:\n```\nAI_GATEWAY_API_KEY={GATEWAY_KEY}\nOPENAI_API_KEY=\"{OPENAI_KEY}\"\n"
        "TEAM=acme-projects\n```\nand I get a 403 error.",
        {"team_slugs": ["acme-projects"], "key_prefixes": ["vck_lowr01sa"], "status_codes": [403]},
        secrets=2, leaks=(GATEWAY_KEY, OPENAI_KEY),
    ),
    "placeholders-are-not-secrets": Ticket(
        "docs example fails",
        "I copied the docs:\n```\ncurl -H \"Authorization: Bearer $AI_GATEWAY_API_KEY\" ...\n"
        "curl -H 'Authorization: Bearer YOUR_API_KEY' ...\napi_key=os.environ[\"AI_GATEWAY_API_KEY\"]\n```\n"
        "Both give 401 Unauthorized.",
        {"status_codes": [401]},
    ),
    "status-false-positives": Ticket(
        "Usage question",
        "We made 500 requests yesterday and spent $403. The timestamp was 1732612345678 and we waited "
        "429 seconds. The team has 404 members.",
        {},
    ),
    "ai-sdk-typescript-error": Ticket(
        "GatewayAuthenticationError in Next.js",
        "```ts\nimport { generateText } from 'ai';\nconst { text } = await generateText({ model: "
        "'xai/grok-3', prompt: 'hi' });\n```\nthrows GatewayAuthenticationError: statusCode: 401, "
        "type: 'authentication_error'. X-Vercel-Id: iad1::q8w2e-1732612345999-abcdef012345",
        {"models": ["xai/grok-3"], "status_codes": [401],
         "error_types": ["GatewayAuthenticationError", "authentication_error"],
         "request_ids": ["iad1::q8w2e-1732612345999-abcdef012345"]},
    ),
    "escaped-json-and-jwt": Ticket(
        "log line",
        f'{{\\"headers\\": {{\\"authorization\\": \\"Bearer {JWT}\\"}}, \\"status\\": 403}}',
        {"status_codes": [403]},
        secrets=1, leaks=(JWT, JWT[8:]),
    ),
    "slug-before-team-and-github-link": Ticket(
        "403",
        "The \u201cacme-projects\u201d team gets 403s. I checked github.com/openai/openai-python issues and "
        "openai/openai-python is up to date.",
        {"team_slugs": ["acme-projects"], "status_codes": [403]},
    ),
    "basic-auth-and-request-id": Ticket(
        "Proxy in front of gateway",
        "Our nginx adds `Authorization: Basic dXNlcjpzM2NyZXQtcGFzc3dvcmQxMjM=`; request-id: "
        "7f0c2a9e-3b1d-4c5e-8f6a-0b1c2d3e4f5a, 500 Internal Server Error from upstream.",
        {"status_codes": [500], "request_ids": ["7f0c2a9e-3b1d-4c5e-8f6a-0b1c2d3e4f5a"]},
        secrets=1, leaks=("dXNlcjpzM2NyZXQtcGFzc3dvcmQxMjM=",),
    ),
    "customer-verification-required": Ticket(
        "Free tier gives 403?",
        "Just signed up on the hobby plan, my first request gets 403 customer_verification_required. "
        "Team \u201chobby-hacker\u201d.",
        {"team_slugs": ["hobby-hacker"], "status_codes": [403], "error_types": ["customer_verification_required"]},
    ),
    "zero-width-split-key": Ticket(
        "key",
        "my key: vck_lowr01sand\u200bboxlowrisklabstestsecret (copied from the dashboard)",
        {"key_prefixes": ["vck_lowr01sa"]},
        secrets=1, leaks=(GATEWAY_KEY, "boxlowrisklabstestsecret"),
    ),
    "anthropic-messages-endpoint": Ticket(
        "Claude via gateway",
        "POST /v1/messages with model anthropic/claude-3.5-sonnet -> anthropic.PermissionDeniedError: "
        "Error code: 403 (status 403). team id: team_R1skH0ldL1ftab1e00000000",
        {"team_ids": [TEAM_B], "endpoints": ["/v1/messages"], "models": ["anthropic/claude-3.5-sonnet"],
         "status_codes": [403], "error_types": ["PermissionDeniedError"]},
    ),
    "display-name-is-not-a-slug": Ticket(
        "Team blocked",
        "My team name is Acme Projects and the team is \"blocked\" since Monday (HTTP 403).",
        {"status_codes": [403]},
    ),
    "possessive-slug-label-inline-code": Ticket(
        "403 on embeddings",
        "Our team\u2019s slug is `acme-projects`; POST /v1/embeddings with openai/text-embedding-3-small "
        "returns `{\"error\":{\"type\":\"access_denied\"}}` (status code 403).",
        {"team_slugs": ["acme-projects"], "endpoints": ["/v1/embeddings"], "models": ["openai/text-embedding-3-small"],
         "status_codes": [403], "error_types": ["access_denied"]},
    ),
    "other-provider-credentials": Ticket(
        "Fallback providers also fail",
        "```\nANTHROPIC_API_KEY=sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-abcdEFGH\n"
        "GROQ_KEY=gsk_8a7b6c5d4e3f2g1h0i9j8k7l6m\n"
        "HTTPS_PROXY=https://admin:Sup3rS3cret!@proxy.acme.test:3128\n```\n"
        "anthropic/claude-3-haiku and groq/llama-3.1-8b both return 403 Forbidden.",
        {"models": ["anthropic/claude-3-haiku", "groq/llama-3.1-8b"], "status_codes": [403]},
        secrets=3, leaks=("AbCdEfGhIjKlMnOpQrStUvWxYz0123456789", "8a7b6c5d4e3f2g1h0i9j8k7l6m", "Sup3rS3cret!"),
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_extraction(case: Ticket) -> None:
    text, count = redact(case.text)
    subject, subject_count = redact(case.subject)
    facts = extract(subject, text)

    expected = {name: case.facts.get(name, []) for name in Facts.model_fields}
    assert facts.model_dump() == expected
    assert count + subject_count == case.secrets
    dumped = json.dumps(facts.model_dump(), ensure_ascii=False) + text + subject
    for leak in case.leaks:
        assert leak not in dumped


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_redaction_is_idempotent_and_extract_redacts_its_input(case: Ticket) -> None:
    once, _ = redact(case.text)
    twice, count = redact(once)
    assert (twice, count) == (once, 0)
    # extract() on the raw text gives the same facts as on the redacted text.
    assert extract(case.subject, case.text) == extract(redact(case.subject)[0], once)


def test_marker_keeps_a_short_prefix_only() -> None:
    text, count = redact(f"key {GATEWAY_KEY} and {OPENAI_KEY} and {ACCESS_TOKEN}")
    assert count == 3
    assert text == (f"key vck_lowr01sa{ELLIPSIS}{REDACTED} and sk-proj-Xy7Q{ELLIPSIS}{REDACTED} "
                    f"and vca_9TkL{ELLIPSIS}{REDACTED}")


def test_secret_fingerprint_matches_the_platform_key_hash() -> None:
    result = redact_secrets(f'-H "Authorization: Bearer {GATEWAY_KEY}"')
    [secret] = result.secrets
    assert secret.kind == "ai_gateway_key"
    assert secret.prefix == "vck_lowr01sa"
    assert secret.sha256 == hash_secret(GATEWAY_KEY)
    assert GATEWAY_KEY not in repr(result)


def test_report_facts_shape() -> None:
    facts = extract("403", f"team {TEAM_A} got 403 Forbidden")
    assert facts.as_report_facts() == {"team_ids": [TEAM_A], "status_codes": ["403"]}


def test_team_id_must_be_exactly_24_characters() -> None:
    facts = extract("", f"{TEAM_A}X team_short123 x{TEAM_A} ({TEAM_A})")
    assert facts.team_ids == [TEAM_A]


_CONTEXTS = st.sampled_from([
    "{k}", "Bearer {k}", '"api_key": "{k}"', "AI_GATEWAY_API_KEY={k}", "?key={k}&x=1", "`{k}`",
    "<code>{k}</code>", "key:{k}.", "(\u201c{k}\u201d)", "Authorization%3A%20Bearer%20{k}", "my_{k}_here",
])


@settings(max_examples=300, deadline=None)
@given(body=st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-",
                    min_size=13, max_size=64),
       kind=st.sampled_from(["vck_", "vca_", "vcp_"]), context=_CONTEXTS,
       before=st.text(max_size=20), after=st.text(max_size=20))
def test_no_gateway_secret_survives(body: str, kind: str, context: str, before: str, after: str) -> None:
    key = kind + body
    text = before + " " + context.format(k=key) + " " + after
    out, count = redact(text)
    assert key not in out
    assert count >= 1
    assert key not in extract("", text).model_dump_json()


_MAX = 64 * 1024  # enough for a quadratic pattern to take minutes


@pytest.mark.parametrize("text", [
    "abc-def_" * (_MAX // 8),
    "team" + " " * _MAX,
    "a." * (_MAX // 2),
    "openai." * (_MAX // 7),
    "fra1::" * (_MAX // 6),
    "my team is " + "a-" * (_MAX // 2),
    "api_key" + " " * _MAX,
], ids=["hyphenated-run", "team-then-blanks", "dots", "dotted-modules", "region-chain", "slug-run", "name-then-blanks"])
def test_hostile_text_takes_linear_time(text: str) -> None:
    """A forum post is written by anyone: no 256 KB input may make a pattern backtrack for minutes."""
    started = time.monotonic()
    extract("", redact(text)[0])
    assert time.monotonic() - started < 5

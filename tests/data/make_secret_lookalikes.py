"""Writes tests/data/secret_lookalikes.json: round three of pasted secrets (issue 22 item 9), labelled
both ways, for tests/unit/test_secret_lookalikes.py and the precision and recall in docs/reliability.md.

    python tests/data/make_secret_lookalikes.py

EVERY VALUE IS FAKE (fixed random seed, FAKE/Fake in each body). A sample is `{"label", "kind",
"text", "secret"}`: label `secret` (the `secret` value must vanish from the redacted text) or
`not_secret` (a look-alike: code references to keys, ids, hashes, paths; nothing may be redacted).
"""

from __future__ import annotations

import base64
import json
import random
import string
from pathlib import Path
from typing import Any

OUT = Path(__file__).with_name("secret_lookalikes.json")
ALNUM = string.ascii_letters + string.digits
rng = random.Random(20261202)


def key(prefix: str = "vck", n: int = 28) -> str:
    return f"{prefix}_Fake" + "".join(rng.choice(ALNUM) for _ in range(n - 6)) + "42"


samples: list[dict[str, Any]] = []


ROUND = 3


def secret(kind: str, value: str, text: str | None = None) -> None:
    samples.append({"round": ROUND, "label": "secret", "kind": kind, "text": value if text is None else text,
                    "secret": value})


def not_secret(kind: str, text: str) -> None:
    samples.append({"round": ROUND, "label": "not_secret", "kind": kind, "text": text, "secret": None})


def body(n: int, alphabet: str = ALNUM, tag: str = "Fake") -> str:
    return tag + "".join(rng.choice(alphabet) for _ in range(n - len(tag) - 2)) + "42"


# --- secrets -------------------------------------------------------------------------------------
secret("password_pw", "Tr0ub4dor&3", "my pw Tr0ub4dor&3 for the dashboard")
secret("password_pw", "Fake#Pass99", "pw: Fake#Pass99")
secret("password_pwd", "FakeHunter2!", "pwd=FakeHunter2!")
secret("password_pwd", "s3cr3tFakePass", '{"user": "dana", "pwd": "s3cr3tFakePass"}')
secret("password_pwd", "Fake0pw0rd", "DB_PWD: Fake0pw0rd")
k = key()
secret("key_split_newline", k, f"the key is {k[:14]}\n{k[14:]}\nthanks")
k = key()
secret("key_split_newline", k, f"> {k[:18]}\n> {k[18:]}")
k = key(n=32)
secret("key_spaced_groups", k, "key: " + " ".join([k[:8]] + [k[i:i + 4] for i in range(8, len(k), 4)]))
k = key()
secret("key_spaced_chars", k, "spelled out: " + " ".join(k) + " (as support asked)")
k = key()
secret("key_url_encoded", k.replace("_", "%5F", 1), f"https://gw.example.invalid/v1?key={k.replace('_', '%5F', 1)}&x=1")
k = key()
secret("key_url_encoded", k.replace("_", "%5f", 1), f"curl -d 'k={k.replace('_', '%5f', 1)}'")
k = key().upper()
secret("key_upper_case", k, f"AI_GATEWAY_API_KEY={k}")
k = key("VCA", 24)
secret("key_upper_case", k)
k = key()
secret("key_fullwidth_underscore", k.replace("_", "\uff3f", 1), f"key {k.replace('_', chr(0xff3f), 1)} fails")
for prefix in ("vck", "vcp"):
    b = base64.b64encode(key(prefix).encode()).decode()
    secret("key_base64", b, f"Authorization header value (decoded from our vault): {b}")
b = base64.urlsafe_b64encode(f"sk-proj-Fake{''.join(rng.choice(ALNUM) for _ in range(30))}".encode()).decode()
secret("key_base64", b)
for n in (12, 16, 19):
    secret("provider_key_short", "sk-Fake" + "".join(rng.choice(ALNUM) for _ in range(n - 6)) + "9")

# --- look-alikes that are not secrets -----------------------------------------------------------
for text in [
    "apiKey: process.env.AI_GATEWAY_API_KEY", "const key = process.env.VCK_API_KEY ?? ''",
    'api_key=os.environ["AI_GATEWAY_API_KEY"]', "token: ${{ secrets.AI_GATEWAY_API_KEY }}",
    "Resource.AiGatewayKey.value", "VCK_KEY_LENGTH_V2 = 32", "export AI_GATEWAY_API_KEY=$VCK_TOKEN",
    "const VCK_PREFIX_LENGTH = 12", "if key.startswith('vck_'):",
]:
    not_secret("code_reference", text)
for text in [
    "my key prefix is vck_3f9a12ab and it fails", "the key vck_3f9a12ab\nThanks, Dana",
    "team_Q3xr89YFWHvqTRO0X0bmHkoU", "x-vercel-id: iad1::sfo1::7xk2p-1764151200000-3f9a0c1d2e4b",
    "generation gen_01K8ZZFAKE0000000000000000", "request 0f8fad5b-d9cb-469f-a165-70867728950e",
    "invoice in_1Q2w3E4r5T6y7U8i", "pip install scikit-learn (sk-learn) broke nothing",
]:
    not_secret("id", text)
for text in [
    "commit 3f9a12ab45cd67ef89a0b1c2d3e4f5a6b7c8d9e0",
    "sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "etag W/\"5d41402abc4b2a76b9719d911017c592\"",
]:
    not_secret("hash", text)
for text in ["PWD=/home/dev/app", "pwd /srv/app && ls", "pw reset link did not arrive", "pwd: ~/projects/gw",
             "the password reset worked", "VCK_ is the prefix of every key"]:
    not_secret("prose_or_path", text)

# --- round four (issue 35 item 3, issue 34 items 6 and 8) -------------------------------------------
ROUND = 4
HEX = "0123456789abcdef"
# every provider the gateway routes to that has a key prefix, and the common token families
for kind, value in [
    ("xai_key", f"xai-{body(80)}"), ("perplexity_key", f"pplx-{body(48)}"), ("groq_key", f"gsk_{body(52)}"),
    ("replicate_key", f"r8_{body(37)}"), ("fireworks_key", f"fw_{body(24)}"), ("together_key", f"tgp_v1_{body(43)}"),
    ("cerebras_key", f"csk-{body(48, string.ascii_lowercase + string.digits, 'fake')}"),
    ("bedrock_key", "ABSK" + base64.b64encode(f"BedrockAPIKey-Fake-{body(30)}".encode()).decode()),
    ("gitlab_token", f"glpat-{body(20)}"), ("sendgrid_key", f"SG.{body(22)}.{body(43)}"),
    ("google_oauth_token", f"ya29.a0{body(120)}"), ("digitalocean_token", f"dop_v1_{body(64, HEX, 'fa4e')}"),
    ("slack_app_token", f"xapp-1-A0FAKE{body(8, string.ascii_uppercase + string.digits, 'FAKE')}-1234567890123-"
                        f"{body(64, HEX, 'fa4e')}"),
    ("npm_token", f"npm_{body(36)}"), ("pypi_token", f"pypi-AgEIcHlwaS5vcmc{body(60)}"),
    ("openrouter_key", f"sk-or-v1-{body(64, HEX, 'fa4e')}"), ("deepseek_key", f"sk-{body(32, HEX, 'fa4e')}"),
]:
    secret(kind, value)
hf = f"hf_{body(34, string.ascii_letters, 'Fake')}"
secret("hugging_face_bare", hf, f"I used {hf} for the BYOK model and it 403s")
npm = f"npm_{body(36)}"
secret("npm_bare", npm, f"//registry.npmjs.org/:_authToken {npm}")
# the same key written otherwise: NFKC-equal (fullwidth), percent-encoded twice, JSON-escaped, markdown
k = key()
full = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in k)
secret("key_fullwidth", full, f"my key {full} is refused")
k = key()
twice = k.replace("_", "%255F", 1)
secret("key_percent_twice", twice, f"https://gw.example.invalid/v1?k={twice}")
k = key()
escaped = k.replace("_", "\\u005f", 1)
secret("key_json_escaped", escaped, f'{{"apiKey": "{escaped}", "model": "openai/gpt-4o"}}')
k = key()
secret("key_markdown_split", k, f"key: **{k[:12]}**{k[12:20]}**{k[20:]}**")
k = key("vck", 32)
secret("key_markdown_split", k, f"`{k[:10]}`*{k[10:]}*")
# "creds"/"login"-style pairs
for text, value in [("creds: admin / Fak3Passw0rd", "Fak3Passw0rd"), ("Creds are root:FakeRoot#99", "FakeRoot#99"),
                    ("login: dana@acme.test / Fake-Login-77", "Fake-Login-77"),
                    ("username/password: dev / FakeDev2026!", "FakeDev2026!"),
                    ("credentials admin|fakepass9", "fakepass9")]:
    secret("credential_pair", value, text)

# look-alikes: ids, challenge tokens, request ids, ids in URLs, key mentions in code (issue 34 items 6, 8)
for text in [
    "x-vercel-challenge-token: 2.1764151200.60.ZmFrZUNoYWxsZW5nZTQy.Fake9a8b7c6d5e4f3a2b1c0d",
    "X-Vercel-Challenge-Token: FakeChallenge0123456789abcdef",
    "x-vercel-id: iad1::sfo1::7xk2p-1764151200000-3f9a0c1d2e4b", "x-request-id: req_01JFAKE7K8ZQ4N5M6P7R8S9T0V",
    "request id req_8f3kFAKE29dk3lL0 failed", "x-amzn-requestid: 0f8fad5b-d9cb-469f-a165-70867728950e",
    "cf-ray: 8e6f1a2b3c4d5e6f-IAD", "generation id gen_01JFAKE0A1B2C3D4E5F6G7H8J9",
]:
    not_secret("request_or_challenge_id", text)
for text in [
    "https://vercel.com/acme-inc/gateway-app/5FakeDeploy9kLmN0pQrStUv", "https://vercel.com/acme/~/ai-gateway/api-keys",
    "see https://github.com/vercel/ai/issues/6123#issuecomment-2847193021",
    "https://acme-gw-git-main-acme.vercel.app/api/chat?id=chat_Fake8k2LmQ", "login page / dashboard both 403",
    "https://community.vercel.com/t/ai-gateway-403/12345/7",
]:
    not_secret("id_in_url_or_prose", text)
for text in [
    "apiKey: process.env.XAI_API_KEY", "const k = process.env.HF_TOKEN!", "token=process.env.NPM_TOKEN",
    "from huggingface_hub import hf_hub_download", "npm_config_cache=/tmp/npm",
    "GROQ_API_KEY=${{ secrets.GROQ_API_KEY }}",
    "the 2*3*4 case", "login: https://vercel.com/login",
]:
    not_secret("code_reference", text)


def main() -> None:
    OUT.write_text(json.dumps({"note": "EVERY VALUE IS FAKE: generated by tests/data/make_secret_lookalikes.py",
                               "samples": samples}, indent=1, ensure_ascii=True) + "\n", encoding="utf-8")
    print(f"{len(samples)} samples -> {OUT}")


if __name__ == "__main__":
    main()

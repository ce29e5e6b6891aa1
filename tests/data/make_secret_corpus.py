"""Writes tests/data/secret_corpus.json: pasted-secret samples for tests/unit/test_secret_corpus.py.

    python tests/data/make_secret_corpus.py

EVERY VALUE IS FAKE. Each is built here from a fixed random seed and carries FAKE/Fake/fake in its
body where the format leaves room for it; none was ever issued by any provider. They have the
shape (prefix, length, alphabet) of the real thing, because that is what redaction must catch.

A sample is `{"kind", "text", "secret"}`: `text` is what a customer pastes (the secret itself, or
the secret with the words around it that make it one: `Bearer ...`, `my password is ...`, a key
split by invisible characters or HTML tags); `secret` is the value that must vanish.
"""

from __future__ import annotations

import base64
import json
import random
import string
from pathlib import Path
from typing import Any

OUT = Path(__file__).with_name("secret_corpus.json")
ALNUM = string.ascii_letters + string.digits
URLSAFE = ALNUM + "_-"
B64 = ALNUM + "+/"
UPPER_DIGITS = string.ascii_uppercase + string.digits

rng = random.Random(20261126)


def rand(alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def fake(alphabet: str, n: int, tag: str = "FAKE") -> str:
    """n characters of `alphabet`, starting with the FAKE tag (when it fits the alphabet)."""
    if all(c in alphabet for c in tag):
        return tag + rand(alphabet, n - len(tag))
    return rand(alphabet, n)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


samples: list[dict[str, Any]] = []


def add(kind: str, secret: str, text: str | None = None) -> None:
    samples.append({"kind": kind, "text": secret if text is None else text, "secret": secret})


# --- AI gateway keys and Vercel access tokens (`_GATEWAY` in extract.py) -----------------------
gateway = [f"{p}_{fake(ALNUM, n, 'Fake')}" for p, n in
           [("vck", 24), ("vck", 32), ("vck", 40), ("vck", 13), ("vca", 24), ("vca", 30), ("vcp", 24), ("vcp", 36)]]
for key in gateway:
    add("gateway_key", key)

# The same, with an invisible character (or several) inside: soft hyphen, invisible separator,
# zero-width space and friends. `secret` keeps them: the test also checks the key without them.
INVISIBLES = ["\u00ad", "\u2063", "\u200b", "\u200c", "\u200d", "\u2060", "\u2061", "\u2062", "\u2064",
              "\ufeff", "\u180e", "\u034f", "\u202a", "\u2066", "\U000e0020"]
for i, ch in enumerate(INVISIBLES):
    key = f"vck_{fake(ALNUM, 28, 'Fake')}"
    cut = 4 + 4 + i % 6  # after the prefix, inside the part a marker would keep or just past it
    split = key[:cut] + ch + key[cut:]
    add("gateway_key_invisible", split)
# Several at once, and one between every character.
key = f"vck_{fake(ALNUM, 30, 'Fake')}"
add("gateway_key_invisible", key[:6] + "\u00ad" + key[6:14] + "\u2063" + key[14:22] + "\u200b" + key[22:])
key = f"vca_{fake(ALNUM, 20, 'Fake')}"
add("gateway_key_invisible", "\u200b".join(key))

# Split by HTML tags, as in a Discourse post's `cooked` HTML or an HTML e-mail. `secret` is the
# key as a reader sees it (tags gone, entities decoded).
HTML_SPLITS = [
    "{a}<span>{b}</span>{c}",
    "<code>{a}</code>{b}{c}",
    "{a}<b>{b}</b>{c}",
    "{a}<wbr>{b}{c}",
    "{a}<!-- x -->{b}{c}",
    "{a}&shy;{b}{c}",
    "{a}&#173;{b}{c}",
    "{a}&#x200B;{b}{c}",
    "{a}&ZeroWidthSpace;{b}&InvisibleComma;{c}",
    "{a}<em>{b}</em><strong>{c}</strong>",
    '<span class="hljs-string">{a}</span><span class="hljs-number">{b}</span>{c}',
    '{a}<a href="https://example.invalid/x" rel="nofollow">{b}</a>{c}',
    "<kbd>{a}</kbd><kbd>{b}</kbd><kbd>{c}</kbd>",
    "{a}<span\nclass='k'>{b}</span >{c}",
]
for i, form in enumerate(HTML_SPLITS):
    prefix = ("vck", "vca", "vcp")[i % 3]
    key = f"{prefix}_{fake(ALNUM, 26 + i % 9, 'Fake')}"
    a, b, c = key[:4 + i % 5], key[4 + i % 5:12 + i % 3], key[12 + i % 3:]
    add("gateway_key_html", key, form.format(a=a, b=b, c=c))
key = f"vck_{fake(ALNUM, 28, 'Fake')}"
add("gateway_key_html", key, key.replace("_", "&#95;", 1))  # an encoded underscore

# --- AWS (detect-secrets AWSKeyDetector) ------------------------------------------------------
for prefix in ("AKIA", "AKIA", "AKIA", "ASIA", "ASIA", "ABIA", "ACCA"):
    add("aws_access_key_id", prefix + fake(UPPER_DIGITS, 16))
for i in range(6):
    add("aws_secret_access_key", fake(B64, 40, ("FAKE", "Fake", "fake")[i % 3]))
secret = fake(B64, 40, "Fake")
add("aws_secret_access_key", secret, f"aws_secret_access_key = {secret}")
secret = fake(B64, 40, "fake")
add("aws_secret_access_key", secret, f'"SecretAccessKey": "{secret}"')

# --- Stripe (detect-secrets StripeDetector; today's keys are longer than its 24) ---------------
for prefix, n in [("sk_live_", 24), ("sk_live_", 99), ("sk_live_", 40), ("rk_live_", 24), ("rk_live_", 99),
                  ("rk_live_", 48), ("sk_test_", 99)]:
    add("stripe_key", prefix + fake(ALNUM, n, "FAKE"))

# --- GitHub (detect-secrets GitHubTokenDetector; fine-grained `github_pat_` added) -------------
for prefix in ("ghp_", "ghp_", "ghp_", "gho_", "ghu_", "ghs_", "ghr_"):
    add("github_token", prefix + fake(ALNUM, 36, "FAKE"))
for _ in range(3):
    add("github_token", f"github_pat_{fake(ALNUM, 22, 'FAKE')}_{fake(ALNUM, 59, 'Fake')}")

# --- Slack (detect-secrets SlackDetector) -----------------------------------------------------
add("slack_token", f"xoxb-{rand(string.digits, 12)}-{rand(string.digits, 13)}-{fake(ALNUM, 24)}")
add("slack_token", f"xoxb-{rand(string.digits, 11)}-{rand(string.digits, 13)}-{fake(ALNUM, 24, 'Fake')}")
add("slack_token", f"xoxp-{rand(string.digits, 12)}-{rand(string.digits, 12)}-{rand(string.digits, 13)}-"
                   f"{fake(string.hexdigits.lower(), 32, 'fa4e')}")
add("slack_token", f"xoxa-2-{rand(string.digits, 12)}-{rand(string.digits, 13)}-{fake(ALNUM, 32)}")
add("slack_token", f"xoxs-{rand(string.digits, 12)}-{rand(string.digits, 12)}-{fake(ALNUM, 40)}")
add("slack_token", f"xoxr-{rand(string.digits, 12)}-{fake(ALNUM, 40)}")
add("slack_token", f"xoxe.xoxp-1-{fake(ALNUM, 60, 'Fake')}")
add("slack_webhook", f"https://hooks.slack.com/services/T{rand(UPPER_DIGITS, 8)}/B{rand(UPPER_DIGITS, 10)}/"
                     f"{fake(ALNUM, 24, 'Fake')}")

# --- Google API keys (not in detect-secrets; gitleaks `gcp-api-key`) ---------------------------
for _ in range(5):
    add("google_api_key", "AIzaSy" + fake(URLSAFE, 33))

# --- OpenAI and Anthropic (detect-secrets OpenAIDetector for the legacy `...T3BlbkFJ...` form) --
for _ in range(2):
    add("openai_key", f"sk-{fake(ALNUM, 20, 'FAKE')}T3BlbkFJ{rand(ALNUM, 20)}")
for n in (48, 120, 156):
    add("openai_key", f"sk-proj-{fake(URLSAFE, n, 'FAKE')}")
add("openai_key", f"sk-svcacct-{fake(URLSAFE, 120, 'FAKE')}")
add("openai_key", f"sk-admin-{fake(URLSAFE, 100, 'FAKE')}")
for _ in range(3):
    add("anthropic_key", f"sk-ant-api03-{fake(URLSAFE, 93, 'FAKE')}AA")
add("anthropic_key", f"sk-ant-admin01-{fake(URLSAFE, 93, 'FAKE')}AA")

# --- Bearer tokens and JWTs (detect-secrets JwtTokenDetector) ---------------------------------
for token in (fake(ALNUM, 32, "FAKE"), fake(URLSAFE + ".~", 48, "fake"), "ya29.a0" + fake(URLSAFE, 120, "Fake"),
              "glpat-" + fake(URLSAFE, 20, "FAKE"), rand(string.ascii_lowercase, 40),
              fake(string.hexdigits.lower(), 64, "fa4e")):
    add("bearer_token", token, f"Authorization: Bearer {token}")


def jwt(claims: dict[str, Any], sig_len: int = 43) -> str:
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = b64url(json.dumps(claims, separators=(",", ":")).encode())
    return f"{header}.{payload}.{fake(URLSAFE, sig_len, 'FAKE')}"


add("jwt", jwt({"sub": "fake-user-1", "iat": 1732612345, "note": "FAKE TEST TOKEN"}))
add("jwt", jwt({"sub": "fake-user-2", "team": "team_FAKE", "exp": 1893456000}))
add("jwt", jwt({"iss": "https://fake.invalid", "aud": "unblock-test", "sub": "FAKE"}, 86))
add("jwt", jwt({"sub": "fake-user-3", "scope": "read write"}, 342))
add("jwt", jwt({"sub": "fake-user-4"}))

# --- passwords in prose and in fields (detect-secrets KeywordDetector) ------------------------
for text, secret in [
    ("my password is {s}", "Hunter2-FAKE"),
    ("My password is {s}", "fake-P4ssw0rd!"),
    ("the password was {s} until yesterday", "Fake#Pass_2026"),
    ("mein Passwort ist {s}", "FakeGeheim123"),
    ("mi contrase\u00f1a es {s}", "FakeClave2026"),
    ("mon mot de passe est {s}", "FakeMotDePasse9"),
    ('the password is "{s}"', "fake pass 8 words"),
    ("pw: {s}", "fakePw-31"),
    ("Password = {s}", "Fak3$ecret"),
]:
    add("password_prose", secret, text.format(s=secret))
for text, secret in [
    ('"password": "{s}"', "hunter2fake"),
    ('{{"username": "dev", "password": "{s}"}}', "Fake Pass!"),
    ('{{\\"password\\": \\"{s}\\"}}', "fak3-pw"),
    ("DB_PASSWORD={s}", "FakeDbPw99"),
    ("smtp_pass: '{s}'", "fakeSmtp!7"),
    ("'password' => '{s}',", "FAKEphp-pw"),
    ("newPassword: {s}", "F4ke.pw"),
]:
    add("password_field", secret, text.format(s=secret))

# --- private keys (detect-secrets PrivateKeyDetector) -----------------------------------------


def pem(label: str, lines: int, sep: str = "\n", header: str = "") -> str:
    body = [fake(B64, 64, "FAKEKEY" if i == 0 else "FAKE") for i in range(lines)]
    body.append(rand(B64, 20) + "==")
    return sep.join([f"-----BEGIN {label}-----", *([header] if header else []), *body, f"-----END {label}-----"])


add("private_key", pem("RSA PRIVATE KEY", 6))
add("private_key", pem("PRIVATE KEY", 5))
add("private_key", pem("EC PRIVATE KEY", 3))
add("private_key", pem("OPENSSH PRIVATE KEY", 7))
add("private_key", pem("DSA PRIVATE KEY", 4))
add("private_key", pem("ENCRYPTED PRIVATE KEY", 5))
add("private_key", pem("PGP PRIVATE KEY BLOCK", 5, header="Version: FakePG 2.4\n"))
add("private_key", pem("RSA PRIVATE KEY", 4, sep="\\n"))  # as a JSON string or a .env value
add("private_key", pem("RSA PRIVATE KEY", 4, sep="\r\n"))
truncated = pem("RSA PRIVATE KEY", 5).rsplit("\n", 2)[0]  # pasted without its last line and END
add("private_key", truncated)


def main() -> None:
    secrets = [s["secret"] for s in samples]
    assert len(set(secrets)) == len(secrets), "samples must be distinct"
    doc = {
        "note": "EVERY VALUE IS FAKE: generated by tests/data/make_secret_corpus.py from a fixed seed, "
                "shaped like real credentials so that redaction is tested on realistic input.",
        "samples": samples,
    }
    OUT.write_text(json.dumps(doc, indent=1, ensure_ascii=True) + "\n", encoding="utf-8")
    print(f"{len(samples)} samples -> {OUT}")


if __name__ == "__main__":
    main()

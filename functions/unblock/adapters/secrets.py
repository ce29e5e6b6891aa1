"""Credentials kept in Secrets Manager: the secret string is the credential itself, or a JSON
object holding it under a well-known key (`token`, `api_token`, `api_key`)."""

from __future__ import annotations

import json

CREDENTIAL_KEYS = ("token", "api_token", "api_key")


def credential_from_secret(value: object) -> str:
    """The credential in a secret's value; "" when there is none."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    if isinstance(value, str):
        text = value.strip()
        if not text.startswith("{"):
            return text
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            return text
    if isinstance(value, dict):
        found = next((value[k] for k in CREDENTIAL_KEYS if value.get(k)), None)
        return found if isinstance(found, str) else ""
    return ""

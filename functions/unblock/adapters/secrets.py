"""Credentials kept in Secrets Manager: the secret string is the credential itself, or a JSON
object holding it under a well-known key (`token`, `api_token`, `api_key`)."""

from __future__ import annotations

import json
from collections.abc import Callable

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


SECRET_MAX_AGE = 300  # seconds a secret stays cached in the container: a rotation lands within 5 min


def read_secret(name: str, *, max_age: int = SECRET_MAX_AGE, force: bool = False) -> str:
    """The secret's string from Secrets Manager through Powertools Parameters (cached for
    `max_age` seconds per container; `force` reads it again, after a 401 say). Every
    function reads its secrets here. Raises whatever Secrets Manager raised."""
    from aws_lambda_powertools.utilities import parameters

    value = parameters.get_secret(name, max_age=max_age, force_fetch=force)
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else str(value)


def read_credential(name: str, *, max_age: int = SECRET_MAX_AGE, force: bool = False) -> str:
    """The credential a secret holds (see `credential_from_secret`)."""
    return credential_from_secret(read_secret(name, max_age=max_age, force=force))


def secret_reader(secret_name: str, destination: str, max_age: int = SECRET_MAX_AGE) -> Callable[[], str]:
    """How to read a help desk's (or Slack's) credential at each request: through Powertools
    Parameters (cached for `max_age` seconds, so a rotated secret is picked up without a
    redeploy); an unreadable secret is a DeliveryFailed (try again later)."""
    from unblock.ports import DeliveryFailed

    def read() -> str:
        try:
            return read_credential(secret_name, max_age=max_age)
        except Exception as err:  # noqa: BLE001 - Secrets Manager down or denied: try again later
            raise DeliveryFailed(f"cannot read secret {secret_name!r}: {type(err).__name__}",
                                 destination=destination) from err

    return read

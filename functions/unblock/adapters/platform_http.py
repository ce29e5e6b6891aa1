"""The production platform adapter: the gateway operator's admin API over HTTP (docs/platform-api.yaml).

urllib3 (shipped with botocore in every Lambda runtime) with short timeouts and a few fast
retries with backoff on 5xx, timeouts and dropped connections; the state machine retries
`PlatformUnavailable` again on top. Fixes are POSTs made safe to retry by their
`Idempotency-Key`. Errors map onto the port: 404 `team_not_found` -> TeamNotFound (None for
the find_* lookups), 409 on a fix -> FixConflict, 5xx and timeouts after the retries ->
PlatformUnavailable; anything else the document does not allow is a PlatformApiError (not
retried: the check reports `<check>.unavailable` and the case goes to a person).

Configuration (`from_env`): PLATFORM_API_URL, and the bearer token from PLATFORM_API_TOKEN
(local runs, tests) or from the Secrets Manager secret named by PLATFORM_API_TOKEN_SECRET,
read through Powertools Parameters and cached for five minutes.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol, TypeVar
from urllib.parse import quote, urlencode

import urllib3
from pydantic import BaseModel, TypeAdapter, ValidationError
from urllib3.util.retry import Retry

from unblock.adapters.secrets import SECRET_MAX_AGE, credential_from_secret, read_secret
from unblock.domain.models import ProbeResult
from unblock.domain.platform_model import (
    AutoLift,
    Billing,
    Entitlements,
    HeldTeam,
    Hold,
    HoldKind,
    Key,
    RequestRecord,
    Restriction,
    Source,
    Team,
    email_key,
)
from unblock.ports import FixConflict, PlatformUnavailable, TeamNotFound

USER_AGENT = "unblock-platform-adapter/1"
_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
M = TypeVar("M", bound=BaseModel)


class PlatformApiError(Exception):
    """The admin API answered something the contract does not allow (bad token, wrong URL, bad body).

    Not retried: retrying cannot mend configuration. The check reports `<check>.unavailable`.
    """

    def __init__(self, message: str, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class PlatformConfigError(PlatformApiError):
    """The adapter's configuration (environment) is incomplete."""


class TokenSource(Protocol):
    def __call__(self, force: bool = False) -> str: ...


class StaticToken:
    refreshable = False

    def __init__(self, token: str) -> None:
        if not token:
            raise PlatformConfigError("the platform API token is empty")
        self._token = token

    def __call__(self, force: bool = False) -> str:
        return self._token


class SecretToken:
    """The token kept in AWS Secrets Manager, read through Powertools Parameters (cached).

    The secret's string is the token itself, or a JSON object with a "token" field.
    `force=True` (after a 401) reads it again: the secret may have been rotated.
    """

    refreshable = True

    def __init__(self, secret_name: str, max_age: int = SECRET_MAX_AGE) -> None:
        self.secret_name = secret_name
        self.max_age = max_age

    def __call__(self, force: bool = False) -> str:
        try:
            value = read_secret(self.secret_name, max_age=self.max_age, force=force)
        except Exception as err:  # noqa: BLE001 - Secrets Manager down or denied: the platform cannot be reached
            raise PlatformUnavailable(f"cannot read the platform API token secret: {type(err).__name__}") from err
        return _token_from_secret(value)


def _token_from_secret(value: object) -> str:
    token = credential_from_secret(value)
    if not token:
        raise PlatformConfigError('the platform API token secret holds neither a token nor {"token": ...}')
    return token


class _Backoff(Retry):
    """urllib3's Retry, but the first retry waits too: backoff_factor * 2**(n-1), plus jitter."""

    def get_backoff_time(self) -> float:
        n = len(self.history)
        if n == 0:
            return 0.0
        value = self.backoff_factor * (2 ** (n - 1)) + random.random() * self.backoff_jitter
        return float(max(0.0, min(self.backoff_max, value)))


def idempotency_header(key: str) -> str:
    """The Idempotency-Key as sent: the key itself if it is short visible ASCII, else its stable hash."""
    if _IDEMPOTENCY_KEY.match(key):
        return key
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def _seg(value: str) -> str:
    return quote(value, safe="")


_KEYS: TypeAdapter[tuple[Key, ...]] = TypeAdapter(tuple[Key, ...])
_RESTRICTIONS: TypeAdapter[tuple[Restriction, ...]] = TypeAdapter(tuple[Restriction, ...])
_AUTO_LIFTS: TypeAdapter[tuple[AutoLift, ...]] = TypeAdapter(tuple[AutoLift, ...])
_HELD_TEAMS: TypeAdapter[tuple[HeldTeam, ...]] = TypeAdapter(tuple[HeldTeam, ...])


class HttpPlatform:
    """The platform port over the operator's admin API (docs/platform-api.yaml)."""

    def __init__(
        self,
        base_url: str,
        token: str | TokenSource,
        *,
        connect_timeout: float = 2.0,
        read_timeout: float = 5.0,
        retries: int = 2,
        backoff_factor: float = 0.2,
        backoff_max: float = 1.0,
        pool: urllib3.PoolManager | None = None,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise PlatformConfigError(f"the platform API URL must be http(s)://...: {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self._token: TokenSource = StaticToken(token) if isinstance(token, str) else token
        self.timeout = urllib3.Timeout(connect=connect_timeout, read=read_timeout)
        self.retries = retries
        self._retry = _Backoff(
            total=retries, connect=retries, read=retries, status=retries, other=0, redirect=0,
            allowed_methods=None,  # POSTs too: every fix carries an Idempotency-Key
            status_forcelist=frozenset(range(500, 600)),
            backoff_factor=backoff_factor, backoff_max=backoff_max, backoff_jitter=backoff_factor / 2,
            respect_retry_after_header=False,  # stay fast; the state machine backs off further
            raise_on_status=False, raise_on_redirect=False,
        )
        self._pool = pool or urllib3.PoolManager(num_pools=2, maxsize=4)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> HttpPlatform:
        env = os.environ if environ is None else environ
        url = env.get("PLATFORM_API_URL", "").strip()
        if not url:
            raise PlatformConfigError("PLATFORM_ADAPTER=http needs PLATFORM_API_URL")
        token: str | TokenSource
        if env.get("PLATFORM_API_TOKEN"):
            token = env["PLATFORM_API_TOKEN"]
        elif env.get("PLATFORM_API_TOKEN_SECRET"):
            token = SecretToken(env["PLATFORM_API_TOKEN_SECRET"])
        else:
            raise PlatformConfigError("PLATFORM_ADAPTER=http needs PLATFORM_API_TOKEN_SECRET (or PLATFORM_API_TOKEN)")

        def number(name: str, default: float) -> float:
            raw = env.get(name)
            try:
                return float(raw) if raw else default
            except ValueError as err:
                raise PlatformConfigError(f"{name} must be a number, not {raw!r}") from err

        return cls(url, token, connect_timeout=number("PLATFORM_API_CONNECT_TIMEOUT", 2.0),
                   read_timeout=number("PLATFORM_API_READ_TIMEOUT", 5.0),
                   retries=int(number("PLATFORM_API_RETRIES", 2)))

    # --- transport -----------------------------------------------------------------------
    def _call(self, method: str, path: str, *, body: dict[str, Any] | None = None,
              headers: dict[str, str] | None = None) -> tuple[int, Any]:
        """One API call with retries; returns (status, decoded JSON body) for any status < 500."""
        payload = json.dumps(body).encode() if body is not None else None
        for attempt in range(2):  # the second only after a 401 with a token that can be read again
            hdrs = {"Authorization": f"Bearer {self._token(force=attempt > 0)}", "Accept": "application/json",
                    "User-Agent": USER_AGENT, **(headers or {})}
            if payload is not None:
                hdrs["Content-Type"] = "application/json"
            try:
                resp = self._pool.request(method, self.base_url + path, body=payload, headers=hdrs,
                                          timeout=self.timeout, retries=self._retry, redirect=False)
            except urllib3.exceptions.MaxRetryError as err:
                raise PlatformUnavailable(f"{method} {path}: no answer after {self.retries + 1} attempts "
                                          f"({type(err.reason).__name__})") from err
            except urllib3.exceptions.HTTPError as err:  # timeouts, dropped connections
                raise PlatformUnavailable(f"{method} {path}: {type(err).__name__}") from err
            if resp.status == 401 and attempt == 0 and getattr(self._token, "refreshable", False):
                continue
            break
        if resp.status >= 500:
            raise PlatformUnavailable(f"{method} {path}: answered {resp.status} after {self.retries + 1} attempts")
        try:
            data = json.loads(resp.data) if resp.data else None
        except ValueError as err:
            raise PlatformApiError(f"{method} {path}: answered {resp.status} with a body that is not JSON",
                                   resp.status) from err
        return resp.status, data

    @staticmethod
    def _error_code(data: Any) -> str | None:
        if isinstance(data, dict) and isinstance(data.get("error"), dict):
            code = data["error"].get("code")
            return str(code) if code is not None else None
        return None

    @staticmethod
    def _error_message(data: Any) -> str:
        if isinstance(data, dict) and isinstance(data.get("error"), dict):
            return str(data["error"].get("message", ""))
        return ""

    def _fail(self, method: str, path: str, status: int, data: Any) -> PlatformApiError:
        code = self._error_code(data)
        return PlatformApiError(f"{method} {path}: answered {status} {code or ''} {self._error_message(data)}".strip(),
                                status, code)

    def _get(self, path: str, *, missing: str = "team_not_found") -> Any | None:
        """GET; None for a 404 with the `missing` code, any other non-200 raises."""
        status, data = self._call("GET", path)
        if status == 200:
            return data
        if status == 404 and self._error_code(data) == missing:
            return None
        raise self._fail("GET", path, status, data)

    def _team_part(self, team_id: str, part: str) -> Any:
        path = f"/v1/teams/{_seg(team_id)}" + (f"/{part}" if part else "")
        data = self._get(path)
        if data is None:
            raise TeamNotFound(team_id)
        return data

    @staticmethod
    def _parse(model: type[M], data: Any, what: str) -> M:
        try:
            return model.model_validate(data, extra="ignore")
        except ValidationError as err:
            raise PlatformApiError(f"{what}: the answer breaks the contract: {err.errors()[0]['msg']}") from err

    @staticmethod
    def _parse_list(adapter: TypeAdapter[Any], data: Any, field: str, what: str) -> Any:
        try:
            return adapter.validate_python(data[field], extra="ignore")
        except (ValidationError, KeyError, TypeError) as err:
            raise PlatformApiError(f"{what}: the answer breaks the contract ({field})") from err

    # --- reads ---------------------------------------------------------------------------
    def find_team(
        self, *, team_id: str | None = None, slug: str | None = None, owner_email: str | None = None,
        member_email: str | None = None,
    ) -> Team | None:
        if team_id:
            path = f"/v1/teams/{_seg(team_id)}"
        elif slug:
            path = f"/v1/lookup/team-by-slug/{_seg(slug.lower())}"
        elif owner_email:
            path = f"/v1/lookup/team-by-owner-email/{_seg(email_key(owner_email))}"
        elif member_email:
            path = f"/v1/lookup/team-by-member-email/{_seg(email_key(member_email))}"
        else:
            return None
        data = self._get(path)
        return None if data is None else self._parse(Team, data, path)

    def get_team(self, team_id: str) -> Team:
        return self._parse(Team, self._team_part(team_id, ""), "team")

    def get_billing(self, team_id: str) -> Billing:
        return self._parse(Billing, self._team_part(team_id, "billing"), "billing")

    def get_keys(self, team_id: str) -> tuple[Key, ...]:
        keys: tuple[Key, ...] = self._parse_list(_KEYS, self._team_part(team_id, "keys"), "keys", "keys")
        return keys

    def get_restrictions(self, team_id: str) -> tuple[Restriction, ...]:
        data = self._team_part(team_id, "restrictions")
        restrictions: tuple[Restriction, ...] = self._parse_list(_RESTRICTIONS, data, "restrictions", "restrictions")
        return restrictions

    def get_entitlements(self, team_id: str) -> Entitlements:
        return self._parse(Entitlements, self._team_part(team_id, "entitlements"), "entitlements")

    def get_auto_lifts(self, team_id: str) -> tuple[AutoLift, ...]:
        data = self._team_part(team_id, "auto-lifts")
        lifts: tuple[AutoLift, ...] = self._parse_list(_AUTO_LIFTS, data, "auto_lifts", "auto-lifts")
        return lifts

    def find_key_owner(self, prefix: str) -> str | None:
        path = f"/v1/lookup/key-owner/{_seg(prefix)}"
        data = self._get(path, missing="key_not_found")
        if data is None:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("team_id"), str):
            raise PlatformApiError(f"{path}: the answer breaks the contract (team_id)")
        return str(data["team_id"])

    def find_request(self, request_id: str) -> RequestRecord | None:
        """`GET /v1/requests/{id}`: the request log's record by request or generation id (404
        `request_not_found`; any 404, so an admin API without the log still identifies by slug or email)."""
        path = f"/v1/requests/{_seg(request_id)}"
        status, data = self._call("GET", path)
        if status == 200:
            return self._parse(RequestRecord, data, "request")
        if status == 404:  # not in the log, or an API that keeps no log (optional): identify otherwise
            return None
        raise self._fail("GET", path, status, data)

    def probe(self, team_id: str, key_prefix: str | None = None, *, endpoint: str | None = None,
              model: str | None = None) -> ProbeResult:
        path = f"/v1/teams/{_seg(team_id)}/probe"
        body: dict[str, Any] = {"key_prefix": key_prefix}
        # only what the ticket or the request log named: an API that predates them sees the old body
        body |= {k: v for k, v in (("endpoint", endpoint), ("model", model)) if v}
        status, data = self._call("POST", path, body=body)
        if status == 200:
            return self._parse(ProbeResult, data, "probe")
        if status == 404 and self._error_code(data) == "team_not_found":
            raise TeamNotFound(team_id)
        raise self._fail("POST", path, status, data)

    def list_held_teams(self, hold: HoldKind, reason: str, *, source: Source = "automated",
                        limit: int = 100) -> tuple[HeldTeam, ...] | None:
        """`GET /v1/holds` (optional in the document): None when the API does not offer it (any 404)."""
        query = urlencode({"kind": hold, "reason": reason[:200], "source": source, "limit": max(1, min(limit, 500))})
        path = f"/v1/holds?{query}"
        status, data = self._call("GET", path)
        if status == 200:
            teams: tuple[HeldTeam, ...] = self._parse_list(_HELD_TEAMS, data, "teams", "held teams")
            return teams
        if status == 404:
            return None
        raise self._fail("GET", "/v1/holds", status, data)

    # --- fixes ---------------------------------------------------------------------------
    def _fix(self, team_id: str, name: str, idempotency_key: str, body: dict[str, Any] | None = None,
             kind: str = "fixes") -> None:
        path = f"/v1/teams/{_seg(team_id)}/{kind}/{name}"
        status, data = self._call("POST", path, body=body,
                                  headers={"Idempotency-Key": idempotency_header(idempotency_key)})
        if 200 <= status < 300:
            return
        if status == 409:
            raise FixConflict(self._error_message(data) or f"{name}: precondition no longer holds")
        if status == 404 and self._error_code(data) == "team_not_found":
            raise TeamNotFound(team_id)
        raise self._fail("POST", path, status, data)

    def clear_billing_hold(self, team_id: str, *, idempotency_key: str) -> None:
        self._fix(team_id, "clear-billing-hold", idempotency_key)

    def resync_key(self, team_id: str, key_id: str, *, idempotency_key: str) -> None:
        self._fix(team_id, "resync-key", idempotency_key, {"key_id": key_id})

    def resync_entitlements(self, team_id: str, *, idempotency_key: str) -> None:
        self._fix(team_id, "resync-entitlements", idempotency_key)

    def lift_risk_hold(self, team_id: str, *, at: datetime, idempotency_key: str) -> None:
        self._fix(team_id, "lift-risk-hold", idempotency_key, {"at": at.isoformat().replace("+00:00", "Z")})

    # --- reverts (staff undo a fix) ------------------------------------------------------------
    def restore_billing_hold(self, team_id: str, hold: Hold, *, idempotency_key: str) -> None:
        self._fix(team_id, "billing-hold", idempotency_key, {"hold": hold.model_dump(mode="json")}, kind="reverts")

    def restore_risk_hold(self, team_id: str, restriction: Restriction, *, idempotency_key: str) -> None:
        self._fix(team_id, "risk-hold", idempotency_key, {"restriction": restriction.model_dump(mode="json")},
                  kind="reverts")

"""The HTTP probe adapter: any Platform, with `probe()` answered by the gateway over HTTP.

The verify step then asks the gateway itself ("what would you answer this team now?")
instead of computing the answer in-process, so a deployed stack probes a real gateway
the same way the embedded stack probes the sandbox gateway (unblock.gateway).

    POST {GATEWAY_URL}/unblock/probe   {"team_id": "...", "key_prefix": "vck_..."|null}
    Authorization: Bearer {GATEWAY_PROBE_TOKEN}      (when set)
    -> 200 {"status": 403, "error_type": "access_denied", "message": "Forbidden."}

Environment: GATEWAY_URL (the gateway's root, e.g. http://127.0.0.1:8787; a trailing /v1
is dropped), GATEWAY_PROBE_TOKEN (optional operator token), GATEWAY_PROBE_TIMEOUT
(seconds, default 5). Errors: connection failure, timeout, 5xx or an unreadable answer
-> PlatformUnavailable (Step Functions retries it by that name); 404 -> TeamNotFound;
any other refusal (a wrong token, a bad request) -> ProbeRefused, which is not retried.
No retries here: the state machine's Retry does that.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from typing import Any

import urllib3
from pydantic import ValidationError

from unblock.models import ProbeResult
from unblock.platform.port import Platform, PlatformUnavailable, TeamNotFound
from unblock.seed import AutoLift, Billing, Entitlements, Key, Restriction, Team

PROBE_PATH = "/unblock/probe"


class ProbeRefused(Exception):
    """The gateway refused the probe request itself (e.g. a wrong operator token): a configuration error."""


class HttpProbePlatform:
    """Delegates every read and fix to `inner`; `probe` goes to the gateway over HTTP."""

    def __init__(self, inner: Platform, gateway_url: str, *, token: str | None = None, timeout: float = 5.0,
                 pool: urllib3.PoolManager | None = None) -> None:
        self.inner = inner
        self.url = gateway_url.rstrip("/").removesuffix("/v1") + PROBE_PATH
        self._token = token
        self._timeout = urllib3.Timeout(connect=min(timeout, 2.0), read=timeout)
        self._http = pool or urllib3.PoolManager(retries=False, timeout=self._timeout)

    @classmethod
    def from_env(cls, inner: Platform) -> HttpProbePlatform:
        return cls(inner, os.environ["GATEWAY_URL"], token=os.environ.get("GATEWAY_PROBE_TOKEN") or None,
                   timeout=float(os.environ.get("GATEWAY_PROBE_TIMEOUT", "5")))

    # --- the probe, over HTTP --------------------------------------------------------------
    def probe(self, team_id: str, key_prefix: str | None = None) -> ProbeResult:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        body = json.dumps({"team_id": team_id, "key_prefix": key_prefix}).encode()
        try:
            resp = self._http.request("POST", self.url, body=body, headers=headers, timeout=self._timeout,
                                      retries=False, redirect=False)
        except urllib3.exceptions.HTTPError as err:  # connection refused, timeouts, protocol errors
            raise PlatformUnavailable(f"gateway probe {self.url}: {type(err).__name__}: {err}") from err
        if resp.status >= 500:
            raise PlatformUnavailable(f"gateway probe {self.url}: HTTP {resp.status}")
        if resp.status == 404:
            raise TeamNotFound(team_id)
        if resp.status != 200:
            raise ProbeRefused(f"gateway probe {self.url}: HTTP {resp.status}: {_error_message(resp.data)}")
        try:
            return ProbeResult.model_validate_json(resp.data)
        except ValidationError as err:
            raise PlatformUnavailable(f"gateway probe {self.url}: unreadable answer") from err

    # --- everything else: the wrapped platform -----------------------------------------------
    def find_team(
        self, *, team_id: str | None = None, slug: str | None = None, owner_email: str | None = None
    ) -> Team | None:
        return self.inner.find_team(team_id=team_id, slug=slug, owner_email=owner_email)

    def get_billing(self, team_id: str) -> Billing:
        return self.inner.get_billing(team_id)

    def get_keys(self, team_id: str) -> tuple[Key, ...]:
        return self.inner.get_keys(team_id)

    def get_restrictions(self, team_id: str) -> tuple[Restriction, ...]:
        return self.inner.get_restrictions(team_id)

    def get_entitlements(self, team_id: str) -> Entitlements:
        return self.inner.get_entitlements(team_id)

    def get_auto_lifts(self, team_id: str) -> tuple[AutoLift, ...]:
        return self.inner.get_auto_lifts(team_id)

    def get_team(self, team_id: str) -> Team:
        return self.inner.get_team(team_id)

    def find_key_owner(self, prefix: str) -> str | None:
        return self.inner.find_key_owner(prefix)

    def clear_billing_hold(self, team_id: str, *, idempotency_key: str) -> None:
        self.inner.clear_billing_hold(team_id, idempotency_key=idempotency_key)

    def resync_key(self, team_id: str, key_id: str, *, idempotency_key: str) -> None:
        self.inner.resync_key(team_id, key_id, idempotency_key=idempotency_key)

    def resync_entitlements(self, team_id: str, *, idempotency_key: str) -> None:
        self.inner.resync_entitlements(team_id, idempotency_key=idempotency_key)

    def lift_risk_hold(self, team_id: str, *, at: datetime, idempotency_key: str) -> None:
        self.inner.lift_risk_hold(team_id, at=at, idempotency_key=idempotency_key)

    def __getattr__(self, name: str) -> Any:
        """The wrapped platform's extras (the sandbox's load, authenticate, replace_team)."""
        if name == "inner":  # not yet set (copy, pickle): no recursion
            raise AttributeError(name)
        return getattr(self.inner, name)


def _error_message(data: bytes) -> str:
    try:
        parsed = json.loads(data)
        return str(parsed["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return data[:200].decode("utf-8", "replace")


def wrap_with_http_probe(platform: Platform) -> Platform:
    """`platform` with its probe going to GATEWAY_URL over HTTP when that is set; else unchanged."""
    if not os.environ.get("GATEWAY_URL"):
        return platform
    return HttpProbePlatform.from_env(platform)

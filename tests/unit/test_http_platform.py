"""The HTTP platform adapter against the served sandbox (moto table + SandboxPlatform + api server).

Every read, every fix, 404, 409, a 503 that recovers and one that does not, timeouts, and
the token from Secrets Manager. Timeouts are short here (read 0.3 s) so the suite stays fast.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
import urllib3

from unblock.adapters.platform_http import (
    HttpPlatform,
    PlatformApiError,
    PlatformConfigError,
    idempotency_header,
)
from unblock.adapters.platform_sandbox import SandboxPlatform
from unblock.domain.platform_model import Team, hash_secret
from unblock.ports import FixConflict, PlatformUnavailable, TeamNotFound
from unblock_dev.api_server import make_api_server, register
from unit_support import (
    ENTITLEMENT_OFF,
    KEY_PREFIX,
    KEY_SECRET,
    LOW_RISK_HOLD,
    NOW,
    OTHER_KEY_PREFIX,
    OTHER_TEAM_ID,
    STALE_HOLD,
    TEAM_ID,
    UNSYNCED_KEY,
    ago,
    make_key,
    make_team,
    run_case,
)

TOKEN = "unit-test-token"
UNKNOWN = "team_N0SuchTeam0000000000000"
READ_TIMEOUT = 0.3


class Faulty:
    """Serves the sandbox, but can fail first: `fail(method, *errors)` queues what the next calls do.

    An error is raised instead of the call; "slow" waits past the client's read timeout (then
    answers 503 to nobody); "after" applies the call and then loses the answer with a 503.
    """

    def __init__(self, inner: SandboxPlatform) -> None:
        self.inner = inner
        self.calls: dict[str, int] = {}
        self.faults: dict[str, list[str]] = {}
        self.released = threading.Event()
        self._lock = threading.Lock()

    def fail(self, method: str, *faults: str) -> None:
        self.faults[method] = list(faults)

    def __getattr__(self, name: str) -> Any:
        target = getattr(self.inner, name)
        if not callable(target):
            return target

        def call(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                self.calls[name] = self.calls.get(name, 0) + 1
                pending = self.faults.get(name)
                fault = pending.pop(0) if pending else None
            if fault == "503":
                raise PlatformUnavailable("injected")
            if fault == "slow":
                self.released.wait(READ_TIMEOUT * 3)
                raise PlatformUnavailable("too late")
            result = target(*args, **kwargs)
            if fault == "after":
                raise PlatformUnavailable("applied, but the answer was lost")
            return result

        return call


@pytest.fixture
def faulty(platform: SandboxPlatform) -> Faulty:
    return Faulty(platform)


@pytest.fixture
def server(faulty: Faulty) -> Iterator[Any]:
    srv = make_api_server(faulty, "127.0.0.1", 0, TOKEN).start()  # type: ignore[arg-type]
    yield srv
    faulty.released.set()
    srv.close()


@pytest.fixture
def api(server: Any) -> HttpPlatform:
    return HttpPlatform(server.url, TOKEN, connect_timeout=0.5, read_timeout=READ_TIMEOUT, retries=2,
                        backoff_factor=0.01)


def public(team: Team) -> Team:
    """A team as the API shows it: no key secret hash."""
    return team.model_copy(update={"keys": tuple(k.model_copy(update={"secret_sha256": None}) for k in team.keys)})


RICH = make_team(
    billing={"hold": {"active": True, "source": "staff", "reason": "chargeback", "since": ago(days=2)},
             "invoices": [{"id": "in_9", "status": "open", "due_at": ago(days=3), "amount_cents": 4200}]},
    keys=[make_key(), make_key(key_id="key_2", prefix="vck_good02", status="revoked", expires_at=ago(days=1),
                               budget={"limit_cents": 1000, "used_cents": 1000})],
    restrictions=[{"flag": "risk_hold", "source": "automated", "risk_score": 0.3, "reason": "velocity",
                   "created_at": ago(days=1)}, {"flag": "abuse", "source": "staff"}],
    auto_lifts=[{"flag": "risk_hold", "at": ago(days=60)}],
    entitlements={"ai_gateway": False},
)


# --- reads ---------------------------------------------------------------------------------
def test_every_read_answers_what_the_sandbox_holds(api: HttpPlatform, platform: SandboxPlatform, seed: Any) -> None:
    team_id = seed(RICH)
    team = platform.get_team(team_id)

    assert api.get_team(team_id) == public(team)
    assert api.find_team(team_id=team_id) == public(team)
    assert api.find_team(slug="Healthy-Team") == public(team)
    assert api.find_team(owner_email="DEV@healthy.test") == public(team)
    assert api.get_billing(team_id) == team.billing
    assert api.get_keys(team_id) == public(team).keys
    assert api.get_restrictions(team_id) == team.restrictions
    assert api.get_entitlements(team_id) == team.entitlements
    assert api.get_auto_lifts(team_id) == team.auto_lifts
    assert api.find_key_owner(KEY_PREFIX) == team_id
    assert api.find_key_owner(OTHER_KEY_PREFIX) == OTHER_TEAM_ID
    assert api.probe(team_id) == platform.probe(team_id)
    assert api.probe(team_id, KEY_PREFIX) == platform.probe(team_id, KEY_PREFIX)
    assert api.probe(OTHER_TEAM_ID, "vck_nosuch").model_dump() == {
        "status": 401, "error_type": "authentication_error", "message": "Invalid API key."}
    assert api.probe(OTHER_TEAM_ID).status == 200


def test_the_request_log_and_the_probe_on_a_model_answer_as_the_sandbox(
        api: HttpPlatform, platform: SandboxPlatform) -> None:
    from unblock.domain.platform_model import Seed

    record = {"request_id": "iad1::sfo1::7xk2p-1764151200000-3f9a0c1d2e4b", "generation_id": "gen_01K8HTTPTEST00000",
              "team_id": TEAM_ID, "key_prefix": KEY_PREFIX, "at": "2026-11-26T09:40:00Z",
              "endpoint": "/v1/chat/completions", "model": "openai/gpt-5", "status": 403,
              "error_type": "no_providers_available", "message": "Free tier users do not have access to this model."}
    policy = {"free_tier_restricted": ["openai/gpt-5"]}
    platform.load(Seed.model_validate({"teams": [make_team(billing={"credits": {"tier": "free"}})],
                                       "requests": [record], "model_policy": policy}))
    assert api.find_request(record["request_id"]) == platform.find_request(record["request_id"])
    assert api.find_request("gen_01K8HTTPTEST00000") is not None
    assert api.find_request("gen_nosuch0000000") is None
    assert api.find_request("not a/valid id") is None
    refused = api.probe(TEAM_ID, KEY_PREFIX, endpoint="/v1/chat/completions", model="openai/gpt-5")
    assert refused == platform.probe(TEAM_ID, KEY_PREFIX, model="openai/gpt-5")
    assert (refused.status, refused.error_type) == (403, "no_providers_available")
    assert api.probe(TEAM_ID, KEY_PREFIX, model="openai/gpt-4o-mini").status == 200


def test_no_key_secret_nor_its_hash_is_ever_served(server: Any, seed: Any) -> None:
    team_id = seed()
    http = urllib3.PoolManager()
    for path in (f"/v1/teams/{team_id}", f"/v1/teams/{team_id}/keys", "/v1/lookup/team-by-slug/healthy-team"):
        body = http.request("GET", server.url + path, headers={"Authorization": f"Bearer {TOKEN}"}).data.decode()
        assert KEY_PREFIX in body
        assert KEY_SECRET not in body and hash_secret(KEY_SECRET) not in body and "secret" not in body


def test_unknown_fields_in_an_answer_are_ignored(api: HttpPlatform, seed: Any, monkeypatch: Any) -> None:
    """A tolerant reader: the operator's API may say more than the document asks for."""
    team_id = seed()
    import unblock_dev.api_server as api_server

    original = api_server._team_json
    monkeypatch.setattr(api_server, "_team_json", lambda t: {**original(t), "region": "eu", "tags": ["x"]})
    assert api.get_team(team_id).team_id == team_id


# --- 404 -----------------------------------------------------------------------------------
@pytest.mark.parametrize("read", ["get_team", "get_billing", "get_keys", "get_restrictions",
                                  "get_entitlements", "get_auto_lifts", "probe"])
def test_an_unknown_team_is_team_not_found(api: HttpPlatform, faulty: Faulty, seed: Any, read: str) -> None:
    seed()
    with pytest.raises(TeamNotFound):
        getattr(api, read)(UNKNOWN)
    assert sum(faulty.calls.values()) == 1  # a 404 is an answer: never retried


def test_a_member_email_finds_the_team_it_is_listed_on(api: HttpPlatform, platform: SandboxPlatform,
                                                        seed: Any) -> None:
    team_id = seed(make_team(members=[{"email": "ops@healthy.test", "role": "member"}]))
    assert api.find_team(member_email="Ops@Healthy.test") == public(platform.get_team(team_id))


def test_lookups_that_find_nothing_answer_none(api: HttpPlatform, seed: Any) -> None:
    seed()
    assert api.find_team(team_id=UNKNOWN) is None
    assert api.find_team(slug="nobody-here") is None
    assert api.find_team(owner_email="nobody@nowhere.test") is None
    assert api.find_team(member_email="nobody@nowhere.test") is None
    assert api.find_team(team_id="team_not/even valid?") is None
    assert api.find_team() is None
    assert api.find_key_owner("vck_nosuch") is None


def test_a_404_that_is_not_an_unknown_team_is_a_broken_contract_not_a_missing_team(server: Any, seed: Any) -> None:
    """A wrong base URL must not turn every ticket into needs_info."""
    team_id = seed()
    wrong = HttpPlatform(server.url + "/api", TOKEN, read_timeout=READ_TIMEOUT, retries=0)
    with pytest.raises(PlatformApiError) as err:
        wrong.find_team(team_id=team_id)
    assert err.value.status == 404 and err.value.code == "not_found"


# --- the teams a hold is on (incidents) -----------------------------------------------------
def test_the_teams_a_hold_is_on_are_listed_oldest_first(api: HttpPlatform, platform: SandboxPlatform,
                                                        seed: Any) -> None:
    def held(n: int, reason: str, since: str, source: str = "automated") -> dict[str, Any]:
        return make_team(team_id=f"team_He1d{n:020d}", slug=f"held-{n}", owner_email=f"o{n}@held.test",
                         keys=[make_key(prefix=f"vck_held{n:02d}")],
                         restrictions=[{"flag": "risk_hold", "source": source, "risk_score": 0.8, "reason": reason,
                                        "created_at": since}])

    seed(held(1, "New account  VELOCITY", ago(hours=2)), held(2, "new account velocity", ago(hours=3)),
         held(3, "another rule", ago(hours=4)), held(4, "new account velocity", ago(hours=5), source="staff"),
         make_team(team_id="team_He1d00000000000000000005", slug="held-5", owner_email="o5@held.test",
                   keys=[make_key(prefix="vck_held05")],
                   billing={"hold": {"active": True, "source": "automated", "reason": "new account velocity",
                                     "since": ago(hours=1)}}))

    teams = api.list_held_teams("risk_hold", "new account velocity")
    assert teams == platform.list_held_teams("risk_hold", "new account velocity")
    assert [t.slug for t in teams] == ["held-2", "held-1"]  # oldest hold first; case and spacing folded
    assert [t.slug for t in api.list_held_teams("risk_hold", "new account velocity", source="staff")] == ["held-4"]
    assert [t.slug for t in api.list_held_teams("billing_hold", "new account velocity")] == ["held-5"]
    assert [t.slug for t in api.list_held_teams("risk_hold", "new account velocity", limit=1)] == ["held-2"]
    assert api.list_held_teams("abuse", "new account velocity") == ()


def test_a_platform_that_cannot_list_held_teams_answers_none(server: Any, seed: Any, monkeypatch: Any) -> None:
    seed()
    api = HttpPlatform(server.url, TOKEN, read_timeout=READ_TIMEOUT, retries=0)
    monkeypatch.setattr(server.platform, "list_held_teams", lambda *a, **k: None, raising=False)
    assert api.list_held_teams("risk_hold", "velocity") is None  # 404 not_implemented
    absent = HttpPlatform(server.url + "/v0", TOKEN, read_timeout=READ_TIMEOUT, retries=0)
    assert absent.list_held_teams("risk_hold", "velocity") is None  # no such route: 404


# --- fixes ---------------------------------------------------------------------------------
FIXES: list[tuple[dict[str, Any], str, Callable[[HttpPlatform, str], None], Callable[[Team], bool]]] = [
    (STALE_HOLD, "clear_billing_hold",
     lambda api, t: api.clear_billing_hold(t, idempotency_key="case-1:hold"),
     lambda team: not team.billing.hold.active),
    (UNSYNCED_KEY, "resync_key",
     lambda api, t: api.resync_key(t, "key_1", idempotency_key="case-1:key"),
     lambda team: team.keys[0].edge_synced),
    (ENTITLEMENT_OFF, "resync_entitlements",
     lambda api, t: api.resync_entitlements(t, idempotency_key="case-1:ent"),
     lambda team: team.entitlements.ai_gateway),
    (LOW_RISK_HOLD, "lift_risk_hold",
     lambda api, t: api.lift_risk_hold(t, at=NOW, idempotency_key="case-1:lift"),
     lambda team: not team.restrictions and team.auto_lifts[-1].at == NOW),
]


@pytest.mark.parametrize(("problem", "name", "fix", "mended"), FIXES, ids=[f[1] for f in FIXES])
def test_every_fix_is_applied_once_per_idempotency_key(
    api: HttpPlatform, platform: SandboxPlatform, faulty: Faulty, seed: Any,
    problem: dict[str, Any], name: str, fix: Callable[[HttpPlatform, str], None], mended: Callable[[Team], bool],
) -> None:
    team_id = seed(make_team(**problem))

    fix(api, team_id)
    assert mended(platform.get_team(team_id))
    before = platform.get_team(team_id)
    fix(api, team_id)  # the same Idempotency-Key again: answered as before, nothing changes
    assert platform.get_team(team_id) == before
    assert faulty.calls[name] == 2


@pytest.mark.parametrize(("problem", "name", "fix", "mended"), FIXES, ids=[f[1] for f in FIXES])
def test_a_fix_whose_precondition_is_gone_is_a_conflict(
    api: HttpPlatform, faulty: Faulty, seed: Any,
    problem: dict[str, Any], name: str, fix: Callable[[HttpPlatform, str], None], mended: Callable[[Team], bool],
) -> None:
    team_id = seed(make_team())  # healthy: nothing for the fix to do (someone already mended it)
    with pytest.raises(FixConflict):
        fix(api, team_id)
    assert faulty.calls[name] == 1  # a 409 is an answer: never retried


def test_a_fix_on_an_unknown_team_is_team_not_found(api: HttpPlatform, seed: Any) -> None:
    seed()
    with pytest.raises(TeamNotFound):
        api.clear_billing_hold(UNKNOWN, idempotency_key="k")


def test_a_fix_whose_answer_was_lost_is_retried_safely(api: HttpPlatform, platform: SandboxPlatform,
                                                     faulty: Faulty, seed: Any) -> None:
    """Applied, then a 503: the retry carries the same Idempotency-Key, so it is no conflict and no second lift."""
    team_id = seed(make_team(**LOW_RISK_HOLD))
    faulty.fail("lift_risk_hold", "after")

    api.lift_risk_hold(team_id, at=NOW, idempotency_key="case-9:lift")

    assert faulty.calls["lift_risk_hold"] == 2
    assert len(platform.get_team(team_id).auto_lifts) == 1


def test_the_idempotency_key_is_sent_as_is_or_as_a_stable_hash() -> None:
    plain = "zendesk:4711:team_Q3xr89YFWHvqTRO0X0bmHkoU:clear_billing_hold"
    assert idempotency_header(plain) == plain
    odd = "discourse:Grüße aus Köln:" + "x" * 300
    assert idempotency_header(odd) == idempotency_header(odd)
    assert idempotency_header(odd).startswith("sha256:") and len(idempotency_header(odd)) == 71


# --- unavailable ---------------------------------------------------------------------------
def test_a_503_that_recovers_is_retried(api: HttpPlatform, faulty: Faulty, seed: Any) -> None:
    team_id = seed(make_team(**STALE_HOLD))
    faulty.fail("get_billing", "503", "503")
    faulty.fail("clear_billing_hold", "503")

    assert api.get_billing(team_id).hold.active is True
    api.clear_billing_hold(team_id, idempotency_key="case-2:hold")

    assert faulty.calls == {"get_billing": 3, "clear_billing_hold": 2}


def test_a_503_that_does_not_recover_is_platform_unavailable(api: HttpPlatform, faulty: Faulty, seed: Any) -> None:
    team_id = seed()
    faulty.fail("get_keys", *["503"] * 5)
    with pytest.raises(PlatformUnavailable, match="503"):
        api.get_keys(team_id)
    assert faulty.calls["get_keys"] == 3  # one call and two retries, then the state machine takes over


def test_a_timeout_that_recovers_is_retried(api: HttpPlatform, faulty: Faulty, seed: Any) -> None:
    team_id = seed()
    faulty.fail("probe", "slow")
    assert api.probe(team_id, KEY_PREFIX).status == 200
    assert faulty.calls["probe"] == 2


def test_a_timeout_that_does_not_recover_is_platform_unavailable(api: HttpPlatform, faulty: Faulty,
                                                                seed: Any) -> None:
    team_id = seed()
    faulty.fail("get_entitlements", "slow", "slow", "slow")
    with pytest.raises(PlatformUnavailable, match="ReadTimeoutError"):
        api.get_entitlements(team_id)
    assert faulty.calls["get_entitlements"] == 3


def test_nobody_listening_is_platform_unavailable() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, never listening: connections are refused
        dead = HttpPlatform(f"http://127.0.0.1:{port}", TOKEN, connect_timeout=0.2, retries=1, backoff_factor=0)
        with pytest.raises(PlatformUnavailable):
            dead.get_team(TEAM_ID)


def test_a_wrong_token_is_refused_and_not_retried(server: Any, faulty: Faulty, seed: Any) -> None:
    team_id = seed()
    with pytest.raises(PlatformApiError) as err:
        HttpPlatform(server.url, "wrong", read_timeout=READ_TIMEOUT).get_team(team_id)
    assert err.value.status == 401 and err.value.code == "unauthorized"
    assert faulty.calls == {}


# --- the domain through HTTP -----------------------------------------------------------------
@pytest.mark.parametrize("problem", [STALE_HOLD, UNSYNCED_KEY, ENTITLEMENT_OFF, LOW_RISK_HOLD],
                         ids=["stale_hold", "unsynced_key", "entitlement_off", "low_risk_hold"])
def test_checks_fixes_and_verification_run_the_same_over_http(
    api: HttpPlatform, platform: SandboxPlatform, ledger: Any, clock: Any, seed: Any, problem: dict[str, Any],
) -> None:
    from memory_ledger import MemoryLedger

    team_id = seed(make_team(**problem))
    over_http = run_case(api, ledger, clock, team_id, key_prefix=KEY_PREFIX)  # type: ignore[arg-type]
    assert over_http.outcome == "auto_fixed"
    assert [r.status for r in over_http.records] == ["applied"]

    seed(make_team(**problem))
    in_process = run_case(platform, MemoryLedger(), clock, team_id, key_prefix=KEY_PREFIX, case_id="case-2")
    assert over_http.findings == in_process.findings
    assert over_http.plan == in_process.plan


# --- configuration -------------------------------------------------------------------------
def test_from_env_reads_the_url_and_a_plain_token(server: Any, seed: Any) -> None:
    team_id = seed()
    api = HttpPlatform.from_env({"PLATFORM_API_URL": server.url + "/", "PLATFORM_API_TOKEN": TOKEN,
                                 "PLATFORM_API_READ_TIMEOUT": "0.5", "PLATFORM_API_RETRIES": "1"})
    assert api.get_team(team_id).team_id == team_id
    assert api.retries == 1 and api.timeout.read_timeout == 0.5 and api.timeout.connect_timeout == 2.0


@pytest.mark.parametrize(("env", "message"), [
    ({}, "PLATFORM_API_URL"),
    ({"PLATFORM_API_URL": "http://127.0.0.1:1"}, "PLATFORM_API_TOKEN_SECRET"),
    ({"PLATFORM_API_URL": "127.0.0.1:1", "PLATFORM_API_TOKEN": "t"}, "http"),
    ({"PLATFORM_API_URL": "http://127.0.0.1:1", "PLATFORM_API_TOKEN": "t", "PLATFORM_API_RETRIES": "x"},
     "PLATFORM_API_RETRIES"),
])
def test_from_env_names_what_is_missing(env: dict[str, str], message: str) -> None:
    with pytest.raises(PlatformConfigError, match=message):
        HttpPlatform.from_env(env)


@pytest.fixture
def secrets(dynamodb_table: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Secrets Manager (moto, inside the unit tests' mock) and a clean Powertools cache."""
    import boto3
    from aws_lambda_powertools.utilities import parameters

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    parameters.clear_caches()
    yield boto3.client("secretsmanager", region_name="us-east-1")
    parameters.clear_caches()


def _secret_name() -> str:
    # a name of its own: moto keeps secrets across tests when a session-wide mock is running
    return f"unblock/platform-api-token-{uuid.uuid4().hex[:8]}"


@pytest.mark.parametrize("stored", [TOKEN, json.dumps({"token": TOKEN})], ids=["plain", "json"])
def test_the_token_comes_from_secrets_manager_and_is_cached(
    secrets: Any, server: Any, seed: Any, stored: str
) -> None:
    team_id = seed()
    name = _secret_name()
    secrets.create_secret(Name=name, SecretString=stored)
    api = HttpPlatform.from_env({"PLATFORM_API_URL": server.url, "PLATFORM_API_TOKEN_SECRET": name})
    assert api.get_team(team_id).team_id == team_id
    secrets.put_secret_value(SecretId=name, SecretString="changed")
    assert api.get_billing(team_id)  # still the cached token (max_age 300 s)


def test_a_rotated_token_is_read_again_after_a_401(secrets: Any, server: Any, seed: Any) -> None:
    team_id = seed()
    name = _secret_name()
    secrets.create_secret(Name=name, SecretString=TOKEN)
    api = HttpPlatform.from_env({"PLATFORM_API_URL": server.url, "PLATFORM_API_TOKEN_SECRET": name})
    assert api.get_team(team_id)
    secrets.put_secret_value(SecretId=name, SecretString="rotated-token")
    server.token = "rotated-token"  # the operator rotated the token on both sides
    assert api.get_team(team_id).team_id == team_id


def test_a_missing_secret_is_platform_unavailable(secrets: Any, server: Any) -> None:
    api = HttpPlatform.from_env({"PLATFORM_API_URL": server.url, "PLATFORM_API_TOKEN_SECRET": "nope"})
    with pytest.raises(PlatformUnavailable, match="secret"):
        api.get_team(TEAM_ID)


# --- CLI -------------------------------------------------------------------------------------
def test_platform_serve_is_a_cli_command() -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="unblock")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["platform", "serve", "--platform", "seed.json", "--port", "0"])
    assert (args.platform, args.port, args.func.__name__) == ("seed.json", 0, "cmd_serve")
    assert parser.parse_args(["platform", "serve"]).port == 8788


def test_timestamps_cross_the_wire_unchanged(api: HttpPlatform, seed: Any) -> None:
    team_id = seed(make_team(billing={"hold": {"since": ago(minutes=90)}}))
    assert api.get_billing(team_id).hold.since == NOW - timedelta(minutes=90)


def test_an_api_without_the_request_log_identifies_nothing_by_it(server: Any, seed: Any, monkeypatch: Any) -> None:
    """GET /v1/requests is optional: an operator's API that predates it answers 404, not an error."""
    import unblock_dev.api_server as api_server

    seed()
    monkeypatch.setattr(api_server, "ROUTES", [r for r in api_server.ROUTES if "requests" not in r[0].pattern])
    api = HttpPlatform(server.url, TOKEN, read_timeout=READ_TIMEOUT, retries=0)
    assert api.find_request("iad1::sfo1::7xk2p-1764151200000-3f9a0c1d2e4b") is None

"""The sandbox platform: the seed's teams kept in a DynamoDB table.

One table, partition key `pk`: `team#<id>` holds the team document (the seed model as JSON)
with a version for optimistic writes; `slug#`, `email#` and `key#` items point at a team;
`fix#<idempotency key>` marks a fix already applied, so a retried fix is a no-op.
The table resource is handed in: moto in tests and the local stack, the real table on AWS.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from unblock.domain import gateway_rules as rules
from unblock.domain.fixes import FIXES, FixTarget
from unblock.domain.models import FixName, ProbeResult
from unblock.domain.platform_model import (
    AutoLift,
    Billing,
    Entitlements,
    HeldTeam,
    Hold,
    HoldKind,
    Key,
    ModelPolicy,
    RequestRecord,
    Restriction,
    Seed,
    Source,
    Team,
    email_key,
)
from unblock.ports import Clock, PlatformUnavailable, TeamNotFound

_TRANSIENT = {"ProvisionedThroughputExceededException", "ThrottlingException", "InternalServerError",
              "RequestLimitExceeded", "ServiceUnavailable"}


class SandboxPlatform:
    def __init__(self, table: Any, clock: Clock) -> None:
        self._table = table
        self._clock = clock

    # --- seeding -------------------------------------------------------------------------
    def load(self, seed: Seed) -> None:
        member_of: dict[str, set[str]] = {}
        for team in seed.teams:
            for member in team.members:
                member_of.setdefault(member.email, set()).add(team.team_id)
        with self._table.batch_writer(overwrite_by_pkeys=["pk"]) as batch:
            for email, team_ids in member_of.items():
                only = next(iter(team_ids)) if len(team_ids) == 1 else ""
                batch.put_item(Item={"pk": f"member#{email}", "team_id": only})
            for team in seed.teams:
                batch.put_item(Item=self._team_item(team, version=1))
                if team.slug:
                    batch.put_item(Item={"pk": f"slug#{team.slug}", "team_id": team.team_id})
                if team.owner_email:
                    batch.put_item(Item={"pk": f"email#{team.owner_email}", "team_id": team.team_id})
                for key in team.keys:
                    batch.put_item(Item={"pk": f"key#{key.prefix}", "team_id": team.team_id})
            # the gateway's request log, found by request id or generation id, and its model policy
            for record in seed.requests:
                doc = record.model_dump_json()
                batch.put_item(Item={"pk": f"request#{record.request_id}", "doc": doc})
                if record.generation_id:
                    batch.put_item(Item={"pk": f"request#{record.generation_id}", "doc": doc})
            batch.put_item(Item={"pk": "policy#models", "doc": seed.model_policy.model_dump_json()})

    @staticmethod
    def _team_item(team: Team, version: int) -> dict[str, Any]:
        return {"pk": f"team#{team.team_id}", "doc": team.model_dump_json(), "version": version}

    # --- reads ---------------------------------------------------------------------------
    def _get(self, pk: str) -> dict[str, Any] | None:
        try:
            item: dict[str, Any] | None = self._table.get_item(Key={"pk": pk}, ConsistentRead=True).get("Item")
        except ClientError as err:  # throttling and 5xx are the platform being unavailable
            if err.response["Error"]["Code"] in _TRANSIENT:
                raise PlatformUnavailable(str(err)) from err
            raise
        return item

    def _load(self, team_id: str) -> tuple[Team, int]:
        item = self._get(f"team#{team_id}")
        if item is None:
            raise TeamNotFound(team_id)
        return Team.model_validate_json(item["doc"]), int(item["version"])

    def get_team(self, team_id: str) -> Team:
        return self._load(team_id)[0]

    def find_team(
        self, *, team_id: str | None = None, slug: str | None = None, owner_email: str | None = None,
        member_email: str | None = None,
    ) -> Team | None:
        if team_id:
            item = self._get(f"team#{team_id}")
            return Team.model_validate_json(item["doc"]) if item else None
        pointer = None
        if slug:
            pointer = self._get(f"slug#{slug.lower()}")
        elif owner_email:
            pointer = self._get(f"email#{email_key(owner_email)}")
        elif member_email:
            pointer = self._get(f"member#{email_key(member_email)}")
            if pointer and not pointer.get("team_id"):
                return None  # listed on several teams: the address does not say which
        return self.get_team(pointer["team_id"]) if pointer else None

    def find_key_owner(self, prefix: str) -> str | None:
        pointer = self._get(f"key#{prefix}")
        if pointer:
            return str(pointer["team_id"])
        # a longer or shorter quote of the prefix (rules.find_key): the sandbox may scan its pointers
        scan = self._table.scan(FilterExpression="begins_with(pk, :k)", ExpressionAttributeValues={":k": "key#"})
        for item in scan.get("Items", []):
            stored = str(item["pk"]).removeprefix("key#")
            if prefix.startswith(stored) or stored.startswith(prefix):
                return str(item["team_id"])
        return None

    def get_billing(self, team_id: str) -> Billing:
        return self.get_team(team_id).billing

    def get_keys(self, team_id: str) -> tuple[Key, ...]:
        return self.get_team(team_id).keys

    def get_restrictions(self, team_id: str) -> tuple[Restriction, ...]:
        return self.get_team(team_id).restrictions

    def get_entitlements(self, team_id: str) -> Entitlements:
        return self.get_team(team_id).entitlements

    def get_auto_lifts(self, team_id: str) -> tuple[AutoLift, ...]:
        return self.get_team(team_id).auto_lifts

    def probe(self, team_id: str, key_prefix: str | None = None, *, endpoint: str | None = None,
              model: str | None = None) -> ProbeResult:
        team = self.get_team(team_id)
        key = rules.find_key(team.keys, key_prefix) if key_prefix else None
        return rules.answer(team, key, self._clock.now(), key_named=key_prefix is not None, model=model,
                            policy=self.model_policy())

    def model_policy(self) -> ModelPolicy:
        item = self._get("policy#models")
        return ModelPolicy.model_validate_json(item["doc"]) if item else ModelPolicy()

    def find_request(self, request_id: str) -> RequestRecord | None:
        item = self._get(f"request#{request_id}")
        return RequestRecord.model_validate_json(item["doc"]) if item else None

    def _teams(self) -> list[Team]:
        scan_kwargs: dict[str, Any] = {"FilterExpression": "begins_with(pk, :t)",
                                       "ExpressionAttributeValues": {":t": "team#"}}
        teams: list[Team] = []
        while True:
            page = self._table.scan(**scan_kwargs)
            teams += [Team.model_validate_json(item["doc"]) for item in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                return teams
            scan_kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def list_held_teams(self, hold: HoldKind, reason: str, *, source: Source = "automated",
                        limit: int = 100) -> tuple[HeldTeam, ...] | None:
        """The sandbox scans its teams (an operator's API would query its billing and trust systems)."""
        from unblock.domain.incidents import normalize_reason

        wanted = normalize_reason(reason)
        found: list[HeldTeam] = []
        for team in self._teams():
            if hold == "billing_hold":
                h = team.billing.hold
                held = h.active and h.source == source and normalize_reason(h.reason) == wanted
                since = h.since
            else:
                flag = next((r for r in team.restrictions if r.flag == hold and r.source == source
                             and normalize_reason(r.reason) == wanted), None)
                held, since = flag is not None, flag.created_at if flag else None
            if held:
                found.append(HeldTeam(team_id=team.team_id, slug=team.slug, since=since))
        found.sort(key=lambda t: (t.since is None, t.since or self._clock.now(), t.team_id))
        return tuple(found[:limit])

    def authenticate(self, secret_sha256: str) -> tuple[Team, Key] | None:
        """The team and key a bearer secret belongs to (the sandbox gateway's auth)."""
        scan_kwargs: dict[str, Any] = {"FilterExpression": "begins_with(pk, :t)",
                                       "ExpressionAttributeValues": {":t": "team#"}}
        while True:
            page = self._table.scan(**scan_kwargs)
            for item in page.get("Items", []):
                team = Team.model_validate_json(item["doc"])
                for key in team.keys:
                    if key.secret_sha256 == secret_sha256:
                        return team, key
            if "LastEvaluatedKey" not in page:
                return None
            scan_kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    # --- fixes ---------------------------------------------------------------------------
    def _mutate(self, team_id: str, idempotency_key: str, change: Callable[[Team], Team]) -> None:
        """Apply `change` once per idempotency key, with an optimistic version check."""
        if self._get(f"fix#{idempotency_key}") is not None:
            return
        team, version = self._load(team_id)
        updated = change(team)
        try:
            self._table.put_item(
                Item=self._team_item(updated, version + 1),
                ConditionExpression="version = :v",
                ExpressionAttributeValues={":v": version},
            )
        except ClientError as err:
            if err.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise PlatformUnavailable(f"team {team_id} changed during the fix; retry") from err
            raise
        self._table.put_item(Item={"pk": f"fix#{idempotency_key}", "team_id": team_id})

    # each fix's change of the team is the catalogue's own (domain/fixes.py FIXES), applied once per key
    def _fix(self, fix: FixName, target: FixTarget, idempotency_key: str) -> None:
        self._mutate(target.team_id, idempotency_key, lambda team: FIXES[fix].change(team, target))

    def clear_billing_hold(self, team_id: str, *, idempotency_key: str) -> None:
        self._fix("clear_billing_hold", FixTarget(team_id), idempotency_key)

    def resync_key(self, team_id: str, key_id: str, *, idempotency_key: str) -> None:
        self._fix("resync_key", FixTarget(team_id, key_id=key_id), idempotency_key)

    def resync_entitlements(self, team_id: str, *, idempotency_key: str) -> None:
        self._fix("resync_entitlements", FixTarget(team_id), idempotency_key)

    def lift_risk_hold(self, team_id: str, *, at: datetime, idempotency_key: str) -> None:
        self._fix("lift_risk_hold", FixTarget(team_id, at=at), idempotency_key)

    # --- reverts: the row's own change (FIXES[fix].revert.change), once per key ------------------
    def restore_billing_hold(self, team_id: str, hold: Hold, *, idempotency_key: str) -> None:
        revert = FIXES["clear_billing_hold"].revert
        assert revert is not None
        before = {"hold": hold.model_dump(mode="json")}
        self._mutate(team_id, idempotency_key, lambda team: revert.change(team, before))

    def restore_risk_hold(self, team_id: str, restriction: Restriction, *, idempotency_key: str) -> None:
        revert = FIXES["lift_risk_hold"].revert
        assert revert is not None
        before = {"risk_hold": restriction.model_dump(mode="json")}
        self._mutate(team_id, idempotency_key, lambda team: revert.change(team, before))

    # --- staff and customer actions on the sandbox (tests, demo) ----------------------------
    def replace_team(self, team: Team) -> None:
        _, version = self._load(team.team_id)
        self._table.put_item(Item=self._team_item(team, version + 1))

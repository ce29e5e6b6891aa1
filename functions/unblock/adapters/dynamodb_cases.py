"""DynamoDB adapter for cases and the fix ledger (one table, keys `pk`/`sk`).

- `case#<id>` / `case`            the case document (JSON) with its status and version
- `case#<id>` / `fix#<name>`      the audit record of one fix (idempotency per case and fix)
- `case#<id>` / `attempt#<name>`  the case began the fix (a retry after a half-done fix knows it)
- `lifts#<YYYY-MM-DDTHH>` / `<at>#<case>`   one row per automatic risk-hold lift (audit, lifts_since)
- `liftcap#<YYYY-MM-DDTHH>` / `count`   the hourly cap's counter: `n` lifts claimed by the cases in
  `claims`; a claim is one conditional update (`n < cap`), so concurrent executions never pass it

Cases not closed carry `pending = "PENDING"` and `next_check_at` (an open case too: if its
execution dies, the re-check finds it); the sparse `pending-by-next-check`
index holds only them, so the scheduled re-check queries due cases and never scans.

The console's pages query indexes too (each reads what it shows; docs/console.md), every one
carrying the case document:
- `by-status`          `status` / `updated_key`: the queue (awaiting_staff, deciding), recently closed
- `closed-by-outcome`  `closed_outcome` / `updated_key`: closed cases of one outcome (closed ones only)
- `by-team`, `by-ticket`, `by-slug`   `team_key`, `ticket_key`, `slug_key` / `created_key`: search
  (lower-cased whole values, domain.case_search)
`updated_key` and `created_key` are fixed-width UTC times, so they sort as they compare.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from unblock.domain import case_search
from unblock.domain.cases import Case
from unblock.domain.models import CaseStatus, FixName, FixRecord
from unblock.ports import CaseConflict

PENDING_INDEX = "pending-by-next-check"
STATUS_INDEX = "by-status"
CLOSED_INDEX = "closed-by-outcome"
SEARCH_INDEXES = {"team": ("by-team", "team_key"), "ticket": ("by-ticket", "ticket_key"),
                  "slug": ("by-slug", "slug_key")}
MAX_SEARCH = 200  # cases per search key


def _iso(dt: datetime) -> str:
    return dt.isoformat().replace("+00:00", "Z")


def _sortable(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class DynamoCaseStore:
    def __init__(self, table: Any) -> None:
        self._table = table
        self.last_query_items = 0  # items the last due() query returned (tests, benchmarks)

    # --- cases ---------------------------------------------------------------------------
    def _item(self, case: Case) -> dict[str, Any]:
        item: dict[str, Any] = {
            "pk": f"case#{case.case_id}", "sk": "case", "doc": case.model_dump_json(),
            "status": case.status, "version": case.version, "updated_at": _iso(case.updated_at),
        }
        if case.team_id:
            item["team_id"] = case.team_id
        item["updated_key"], item["created_key"] = _sortable(case.updated_at), _sortable(case.created_at)
        if case.status == "closed":
            item["closed_outcome"] = case.outcome or "none"
        for kind, value in case_search.keys(case).items():
            item[SEARCH_INDEXES[kind][1]] = value
        if case.status != "closed" and case.next_check_at:
            item["pending"] = "PENDING"
            item["next_check_at"] = _iso(case.next_check_at)
        return item

    def get(self, case_id: str) -> Case | None:
        item = self._table.get_item(Key={"pk": f"case#{case_id}", "sk": "case"}, ConsistentRead=True).get("Item")
        return Case.model_validate_json(item["doc"]) if item else None

    def create(self, case: Case) -> bool:
        from boto3.dynamodb.conditions import Attr  # boto3 on first use: handlers import light (cold start)
        from botocore.exceptions import ClientError

        try:
            self._table.put_item(Item=self._item(case), ConditionExpression=Attr("pk").not_exists())
        except ClientError as err:
            if err.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def save(self, case: Case) -> Case:
        from boto3.dynamodb.conditions import Attr
        from botocore.exceptions import ClientError

        new = case.model_copy(update={"version": case.version + 1})
        try:
            self._table.put_item(Item=self._item(new), ConditionExpression=Attr("version").eq(case.version))
        except ClientError as err:
            if err.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise CaseConflict(case.case_id) from err
            raise
        return new

    def due(self, now: datetime, limit: int = 100) -> list[Case]:
        from boto3.dynamodb.conditions import Key

        resp = self._table.query(
            IndexName=PENDING_INDEX,
            KeyConditionExpression=Key("pending").eq("PENDING") & Key("next_check_at").lte(_iso(now)),
            Limit=limit,
            ReturnConsumedCapacity="TOTAL",
        )
        items = resp.get("Items", [])
        self.last_query_items = len(items)
        # the index carries the case document: no read per case (a stale copy only loses a conditional write)
        return [Case.model_validate_json(i["doc"]) for i in items]

    # --- the console's reads: each an index query that returns what the page shows ---------
    def _query(self, index: str, key: Any, *, newest_first: bool = True, limit: int | None = None) -> list[Case]:
        kwargs: dict[str, Any] = {"IndexName": index, "KeyConditionExpression": key,
                                  "ScanIndexForward": not newest_first}
        cases: list[Case] = []
        while True:
            if limit is not None:
                kwargs["Limit"] = limit - len(cases)
            page = self._table.query(**kwargs)
            cases.extend(Case.model_validate_json(i["doc"]) for i in page.get("Items", []))
            if "LastEvaluatedKey" not in page or (limit is not None and len(cases) >= limit):
                return cases
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def waiting_for_staff(self) -> list[Case]:
        from boto3.dynamodb.conditions import Key

        return [c for status in case_search.WAITING_FOR_STAFF
                for c in self._query(STATUS_INDEX, Key("status").eq(status), newest_first=False)]

    def recently_closed(self, outcome: str | None = None, limit: int = 50) -> list[Case]:
        from boto3.dynamodb.conditions import Key

        if outcome:
            return self._query(CLOSED_INDEX, Key("closed_outcome").eq(outcome), limit=limit)
        return self._query(STATUS_INDEX, Key("status").eq("closed"), limit=limit)

    def search(self, query: str) -> list[Case]:
        from boto3.dynamodb.conditions import Key

        q = case_search.term(query)
        if q is None:
            return []
        found: dict[str, Case] = {}
        for typed in dict.fromkeys((query.strip(), q)):  # a case id as typed, and lower-cased
            if (case := self.get(typed)) is not None:
                found[case.case_id] = case
        for index, attr in SEARCH_INDEXES.values():
            for case in self._query(index, Key(attr).eq(q), limit=MAX_SEARCH):
                found.setdefault(case.case_id, case)
        return sorted(found.values(), key=lambda c: c.created_at, reverse=True)

    def get_many(self, case_ids: list[str]) -> dict[str, Case]:
        """The cases of these ids that exist (one read each)."""
        return {c.case_id: c for c in map(self.get, dict.fromkeys(case_ids)) if c is not None}

    def reindex(self) -> int:
        """Give cases written before the console's indexes their keys (once, after that deploy); how many.
        Each is rewritten as it is, on the condition that nobody wrote it meanwhile (no new version)."""
        from boto3.dynamodb.conditions import Attr
        from botocore.exceptions import ClientError

        done, kwargs = 0, {"FilterExpression": Attr("sk").eq("case") & Attr("updated_key").not_exists()}
        while True:
            page = self._table.scan(**kwargs)
            for item in page.get("Items", []):
                case = Case.model_validate_json(item["doc"])
                try:
                    self._table.put_item(Item=self._item(case), ConditionExpression=Attr("version").eq(case.version))
                    done += 1
                except ClientError as err:
                    if err.response["Error"]["Code"] != "ConditionalCheckFailedException":
                        raise
            if "LastEvaluatedKey" not in page:
                return done
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def list(self, status: CaseStatus | None = None, limit: int = 100) -> list[Case]:
        from boto3.dynamodb.conditions import Attr

        # staff tooling and the console's metrics only: a filtered scan
        kwargs: dict[str, Any] = {"FilterExpression": Attr("sk").eq("case")}
        if status:
            kwargs["FilterExpression"] = Attr("sk").eq("case") & Attr("status").eq(status)
        cases: list[Case] = []
        while True:
            page = self._table.scan(**kwargs)
            cases.extend(Case.model_validate_json(i["doc"]) for i in page.get("Items", []))
            if "LastEvaluatedKey" not in page or len(cases) >= limit:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return sorted(cases, key=lambda c: c.created_at)[:limit]

    # --- fix ledger ----------------------------------------------------------------------
    def find(self, case_id: str, fix: FixName) -> FixRecord | None:
        item = self._table.get_item(Key={"pk": f"case#{case_id}", "sk": f"fix#{fix}"}, ConsistentRead=True).get("Item")
        return FixRecord.model_validate_json(item["doc"]) if item else None

    def record(self, rec: FixRecord) -> None:
        self._table.put_item(Item={"pk": f"case#{rec.case_id}", "sk": f"fix#{rec.fix}", "doc": rec.model_dump_json()})
        if rec.status == "applied" and rec.actor == "unblock":  # counted for the hourly guardrails
            self._count(f"fixes#{rec.at:%Y-%m-%dT%H}", f"{_iso(rec.at)}#{rec.case_id}#{rec.fix}")
            if rec.fix == "lift_risk_hold":
                self._count(f"lifts#{rec.at:%Y-%m-%dT%H}", f"{_iso(rec.at)}#{rec.case_id}")

    def _count(self, pk: str, sk: str) -> None:
        # an hour's counting items expire two days later (the table's TTL attribute)
        self._table.put_item(Item={"pk": pk, "sk": sk, "expiration": int(datetime.now(UTC).timestamp()) + 2 * 86400})

    def _since(self, kind: str, since: datetime) -> int:
        """The items of `kind` counted since `since` (its hour's and the next hour's items)."""
        from boto3.dynamodb.conditions import Key

        count = 0
        for hour in (since, since + timedelta(hours=1)):
            resp = self._table.query(
                KeyConditionExpression=Key("pk").eq(f"{kind}#{hour:%Y-%m-%dT%H}") & Key("sk").gte(_iso(since)),
                Select="COUNT",
            )
            count += int(resp["Count"])
        return count

    def lifts_since(self, since: datetime) -> int:
        return self._since("lifts", since)

    def fixes_since(self, since: datetime) -> int:
        return self._since("fixes", since)

    def record_revert(self, case_id: str, fix: FixName, at: datetime) -> None:
        self._count(f"reverts#{at:%Y-%m-%dT%H}", f"{_iso(at)}#{case_id}#{fix}")

    def reverts_since(self, since: datetime) -> int:
        return self._since("reverts", since)

    def claim_lift(self, case_id: str, at: datetime, cap: int) -> bool:
        from botocore.exceptions import ClientError

        if cap <= 0:
            return False
        key = {"pk": f"liftcap#{at:%Y-%m-%dT%H}", "sk": "count"}
        try:
            self._table.update_item(
                Key=key, UpdateExpression="ADD n :one, claims :case",
                ConditionExpression="(attribute_not_exists(n) OR n < :cap) AND NOT contains(claims, :id)",
                ExpressionAttributeValues={":one": 1, ":case": {case_id}, ":cap": cap, ":id": case_id},
            )
        except ClientError as err:
            if err.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            item = self._table.get_item(Key=key, ConsistentRead=True).get("Item") or {}
            return case_id in item.get("claims", set())  # a retry of a case that holds a claim
        return True

    def release_lift(self, case_id: str, at: datetime) -> None:
        from botocore.exceptions import ClientError

        try:
            self._table.update_item(
                Key={"pk": f"liftcap#{at:%Y-%m-%dT%H}", "sk": "count"},
                UpdateExpression="ADD n :minus DELETE claims :case", ConditionExpression="contains(claims, :id)",
                ExpressionAttributeValues={":minus": -1, ":case": {case_id}, ":id": case_id},
            )
        except ClientError as err:
            if err.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise

    def begin_fix(self, case_id: str, fix: FixName) -> bool:
        from boto3.dynamodb.conditions import Attr
        from botocore.exceptions import ClientError

        try:
            self._table.put_item(Item={"pk": f"case#{case_id}", "sk": f"attempt#{fix}"},
                                 ConditionExpression=Attr("pk").not_exists())
        except ClientError as err:
            if err.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return True
            raise
        return False

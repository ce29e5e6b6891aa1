"""DynamoDB adapter for the causes' records, in the cases table (keys `pk`/`sk`; docs/causes.md).

Beside the incidents' items of a cause (`cause#<code>#<digest>`, dynamodb_incidents.py):
- `cause#<code>#<digest>` / `cause`   the cause (`doc`), first seen (`opened_at`), last seen
  (`last_joined_at`) and when its owner was told (`alerted_at`, claimed once); `kind` = `cause`
  places it in the `incidents-by-opening` index, apart from the incidents (`kind` = `incident`)
- `cause#<code>#<digest>` / `case#<case>`   a case seen with the cause (team, when): kept for good,
  without the sightings' TTL; the case itself keeps what staff decided and what was reverted
- `cause#<code>#<digest>` / `notice`   what the rule's owner was told (the evidence)
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from unblock.adapters.dynamodb_incidents import INCIDENTS_INDEX, _conditional_failed, _iso, query_docs
from unblock.domain.causes import CauseHead, CauseSeen, Evidence
from unblock.domain.incidents import Cause


def _pk(cause_key: str) -> str:
    return f"cause#{cause_key}"


class DynamoCauseStore:
    def __init__(self, table: Any) -> None:
        self._table = table

    def seen(self, cause: Cause, seen: CauseSeen) -> bool:
        """Keep the case in the cause's history (once: a later run of the case adds nothing)."""
        from botocore.exceptions import ClientError

        try:
            self._table.put_item(
                Item={"pk": _pk(cause.key), "sk": f"case#{seen.case_id}", "doc": seen.model_dump_json()},
                ConditionExpression="attribute_not_exists(pk)")
        except ClientError as err:
            if not _conditional_failed(err):
                raise
            return False
        try:  # the head: created by the first case, its last-seen time moved forward, never back
            self._table.update_item(
                Key={"pk": _pk(cause.key), "sk": "cause"},
                UpdateExpression="SET last_joined_at = :at, doc = if_not_exists(doc, :doc), "
                                 "opened_at = if_not_exists(opened_at, :at), kind = :kind",
                ConditionExpression="attribute_not_exists(last_joined_at) OR last_joined_at < :at",
                ExpressionAttributeValues={":at": _iso(seen.at), ":doc": cause.model_dump_json(), ":kind": "cause"})
        except ClientError as err:
            if not _conditional_failed(err):
                raise
        return True

    @staticmethod
    def _head(item: dict[str, Any]) -> CauseHead:
        return CauseHead(cause=Cause.model_validate_json(item["doc"]), first_seen=item.get("opened_at"),
                         last_seen=item["last_joined_at"], owner_told_at=item.get("alerted_at"))

    def heads(self, limit: int = 200) -> list[CauseHead]:
        """Every cause, newest wave first (the index reads first-seen order; sorted by last seen here)."""
        from boto3.dynamodb.conditions import Key

        out: list[CauseHead] = []
        kwargs: dict[str, Any] = {"IndexName": INCIDENTS_INDEX, "KeyConditionExpression": Key("kind").eq("cause"),
                                  "ScanIndexForward": False}
        while len(out) < limit:
            page = self._table.query(**kwargs)
            out += [self._head(i) for i in page.get("Items", []) if i.get("last_joined_at")]
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return sorted(out, key=lambda h: h.last_seen, reverse=True)[:limit]

    def head(self, cause_key: str) -> CauseHead | None:
        item = self._table.get_item(Key={"pk": _pk(cause_key), "sk": "cause"}, ConsistentRead=True).get("Item")
        return self._head(item) if item and item.get("last_joined_at") else None

    def cases(self, cause_key: str) -> list[CauseSeen]:
        return sorted(query_docs(self._table, _pk(cause_key), "case#", CauseSeen), key=lambda s: (s.at, s.case_id))

    def claim_owner_notice(self, cause_key: str, at: datetime, evidence: Evidence) -> bool:
        """Mark the cause's rule likely misfiring and claim the one notice to its owner: True for the
        one caller that claimed it."""
        from botocore.exceptions import ClientError

        try:
            self._table.update_item(
                Key={"pk": _pk(cause_key), "sk": "cause"}, UpdateExpression="SET alerted_at = :at",
                ConditionExpression="attribute_exists(pk) AND attribute_not_exists(alerted_at)",
                ExpressionAttributeValues={":at": _iso(at)})
        except ClientError as err:
            if _conditional_failed(err):
                return False
            raise
        self._table.put_item(Item={"pk": _pk(cause_key), "sk": "notice", "doc": evidence.model_dump_json()})
        return True

    def notice(self, cause_key: str) -> Evidence | None:
        item = self._table.get_item(Key={"pk": _pk(cause_key), "sk": "notice"}, ConsistentRead=True).get("Item")
        return Evidence.model_validate_json(item["doc"]) if item else None

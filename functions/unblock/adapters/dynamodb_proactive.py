"""DynamoDB adapter for each team's proactive case (the cases table, keys `pk`/`sk`).

- `proactive#<team id>` / `team`   the team's proactive case: `case_id`, when it opened, and the
  signals it took in (`signals`, `denied`: counters, `last_window_end`)

One item per team, never one per signal: a flood of signals for 10,000 teams writes 10,000
items, and a team's later signals update its item (one conditional update each).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from unblock.domain.denials import ProactiveRecord


def _iso(dt: datetime) -> str:
    return dt.isoformat().replace("+00:00", "Z")


class DynamoProactiveCases:
    def __init__(self, table: Any) -> None:
        self._table = table

    @staticmethod
    def _key(team_id: str) -> dict[str, str]:
        return {"pk": f"proactive#{team_id}", "sk": "team"}

    def get(self, team_id: str) -> ProactiveRecord | None:
        item = self._table.get_item(Key=self._key(team_id), ConsistentRead=True).get("Item")
        if not item:
            return None
        return ProactiveRecord(team_id=team_id, case_id=item["case_id"], opened_at=item["opened_at"],
                               signals=int(item.get("signals", 1)), denied=int(item.get("denied", 0)),
                               last_window_end=item.get("last_window_end"))

    def claim(self, record: ProactiveRecord, replacing: str | None) -> bool:
        from boto3.dynamodb.conditions import Attr  # boto3 on first use (cold start)
        from botocore.exceptions import ClientError

        item: dict[str, Any] = {**self._key(record.team_id), "case_id": record.case_id,
                                "opened_at": _iso(record.opened_at), "signals": record.signals,
                                "denied": record.denied}
        if record.last_window_end is not None:
            item["last_window_end"] = _iso(record.last_window_end)
        condition = Attr("pk").not_exists() if replacing is None else Attr("case_id").eq(replacing)
        try:
            self._table.put_item(Item=item, ConditionExpression=condition)
        except ClientError as err:
            if err.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def join(self, team_id: str, case_id: str, denied: int, window_end: datetime) -> bool:
        from botocore.exceptions import ClientError

        try:
            self._table.update_item(
                Key=self._key(team_id), ConditionExpression="case_id = :id",
                UpdateExpression="ADD signals :one, denied :denied SET last_window_end = :end",
                ExpressionAttributeValues={":id": case_id, ":one": 1, ":denied": denied, ":end": _iso(window_end)})
        except ClientError as err:
            if err.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def release(self, team_id: str, case_id: str) -> None:
        from boto3.dynamodb.conditions import Attr
        from botocore.exceptions import ClientError

        try:
            self._table.delete_item(Key=self._key(team_id), ConditionExpression=Attr("case_id").eq(case_id))
        except ClientError as err:
            if err.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise

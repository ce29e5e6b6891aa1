"""DynamoDB adapter for standing policies, in the cases table (keys `pk`/`sk`; docs/causes.md):

- `policy#<id>` / `policy`   the policy (`doc`, `version`: each change is one conditional write over
  the version read); `kind` = `policy` and `opened_at` (created) place it in the
  `incidents-by-opening` index, apart from incidents and causes
- `policy#<id>` / `case#<case>`   its decision on one case (the audit: shadow or live, approve or not,
  why); put once, on the condition that none exists: a policy decides a case once, however often
  the case's Escalate runs
- `policy#<id>` / `day#<yyyy-mm-dd>`   the teams it approved that day: one conditional ADD below
  the policy's cap, so concurrent cases never exceed it

The cases table has the Retain deletion policy: the audit outlives the stack.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from unblock.adapters.dynamodb_incidents import INCIDENTS_INDEX, _conditional_failed, _iso, query_docs
from unblock.domain.policies import Policy, PolicyDecision
from unblock.ports import PolicyConflict


def _pk(policy_id: str) -> str:
    return f"policy#{policy_id}"


class DynamoPolicyStore:
    def __init__(self, table: Any) -> None:
        self._table = table

    def create(self, policy: Policy) -> None:
        self._table.put_item(
            Item={"pk": _pk(policy.policy_id), "sk": "policy", "kind": "policy", "opened_at": _iso(policy.created_at),
                  "version": policy.version, "doc": policy.model_dump_json()},
            ConditionExpression="attribute_not_exists(pk)")

    def get(self, policy_id: str) -> Policy | None:
        item = self._table.get_item(Key={"pk": _pk(policy_id), "sk": "policy"}, ConsistentRead=True).get("Item")
        return self._policy(item) if item else None

    @staticmethod
    def _policy(item: dict[str, Any]) -> Policy:
        return Policy.model_validate_json(item["doc"]).model_copy(update={"version": int(item.get("version", 0))})

    def save(self, policy: Policy) -> Policy:
        """Write the changed policy over the version read; PolicyConflict if anyone wrote since."""
        from botocore.exceptions import ClientError

        saved = policy.model_copy(update={"version": policy.version + 1})
        try:
            self._table.put_item(
                Item={"pk": _pk(policy.policy_id), "sk": "policy", "kind": "policy",
                      "opened_at": _iso(policy.created_at), "version": saved.version, "doc": saved.model_dump_json()},
                ConditionExpression="version = :v", ExpressionAttributeValues={":v": policy.version})
        except ClientError as err:
            if _conditional_failed(err):
                raise PolicyConflict(policy.policy_id) from None
            raise
        return saved

    def record(self, decision: PolicyDecision) -> bool:
        """The policy's decision on the case, once: False when it decided the case before."""
        from botocore.exceptions import ClientError

        try:
            self._table.put_item(
                Item={"pk": _pk(decision.policy_id), "sk": f"case#{decision.case_id}",
                      "doc": decision.model_dump_json()},
                ConditionExpression="attribute_not_exists(pk)")
        except ClientError as err:
            if _conditional_failed(err):
                return False
            raise
        return True

    def update_decision(self, decision: PolicyDecision) -> None:
        self._table.put_item(Item={"pk": _pk(decision.policy_id), "sk": f"case#{decision.case_id}",
                                   "doc": decision.model_dump_json()})

    def decisions(self, policy_id: str) -> list[PolicyDecision]:
        decisions = query_docs(self._table, _pk(policy_id), "case#", PolicyDecision)
        return sorted(decisions, key=lambda d: (d.at, d.case_id))

    def claim_day(self, policy_id: str, at: datetime, cap: int) -> bool:
        """One of the day's `cap` approvals (UTC day), or False when they are taken."""
        from botocore.exceptions import ClientError

        try:
            self._table.update_item(
                Key={"pk": _pk(policy_id), "sk": f"day#{at:%Y-%m-%d}"}, UpdateExpression="ADD approved :one",
                ConditionExpression="attribute_not_exists(approved) OR approved < :cap",
                ExpressionAttributeValues={":one": 1, ":cap": cap})
        except ClientError as err:
            if _conditional_failed(err):
                return False
            raise
        return True

    def release_day(self, policy_id: str, at: datetime) -> None:
        self._table.update_item(Key={"pk": _pk(policy_id), "sk": f"day#{at:%Y-%m-%d}"},
                                UpdateExpression="ADD approved :minus", ExpressionAttributeValues={":minus": -1})

    # last: the name hides the builtin in the class body below it
    def list(self, limit: int = 200) -> list[Policy]:
        """The policies, newest first (the index holds the doc; a fresh read of one is `get`)."""
        from boto3.dynamodb.conditions import Key

        items = self._table.query(IndexName=INCIDENTS_INDEX, KeyConditionExpression=Key("kind").eq("policy"),
                                  ScanIndexForward=False, Limit=limit).get("Items", [])
        return [Policy.model_validate_json(i["doc"]) for i in items]

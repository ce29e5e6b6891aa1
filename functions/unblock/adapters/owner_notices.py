"""The rule owners' channel: one SNS topic (RULE_OWNER_TOPIC_ARN), the rule and its owner in each
message (a message attribute `owner` lets each owner subscribe with a filter policy). Never customers."""

from __future__ import annotations

import json
from typing import Any

from unblock.domain.causes import Evidence


class SnsOwnerNotices:
    def __init__(self, client: Any, topic_arn: str) -> None:
        self._client, self._topic = client, topic_arn

    def publish(self, evidence: Evidence) -> None:
        body = {"kind": "rule_likely_misfiring", "rule": {"code": evidence.cause.code, "reason": evidence.cause.reason},
                **evidence.model_dump(mode="json", exclude={"cause"})}
        self._client.publish(
            TopicArn=self._topic, Subject=f"[unblock] rule likely misfiring: {evidence.cause.code}"[:100],
            Message=json.dumps(body),
            MessageAttributes={"owner": {"DataType": "String", "StringValue": evidence.owner},
                               "code": {"DataType": "String", "StringValue": evidence.cause.code}})

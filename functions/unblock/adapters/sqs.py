"""SQS adapters: the human queue (escalations for staff) and the outbox (replies to deliver)."""

from __future__ import annotations

import json
from typing import Any

from unblock.domain.replies import OutgoingReply
from unblock.ports import OutboxUnavailable


class SqsHumanQueue:
    """The human queue: escalated cases with their evidence, for staff."""

    def __init__(self, client: Any, url: str) -> None:
        self._client, self._url = client, url

    def send(self, message: dict[str, Any], *, priority: str) -> None:
        self._client.send_message(
            QueueUrl=self._url, MessageBody=json.dumps(message),
            MessageAttributes={"priority": {"DataType": "String", "StringValue": priority},
                               "case_id": {"DataType": "String", "StringValue": str(message["case_id"])}},
        )


class SqsOutbox:
    """Replies on their way back to the help desk: the NotifyFunction delivers them, SQS retries."""

    def __init__(self, client: Any, url: str) -> None:
        self._client, self._url = client, url

    def send(self, reply: OutgoingReply) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self._client.send_message(QueueUrl=self._url, MessageBody=reply.model_dump_json())
        except (BotoCoreError, ClientError) as err:  # the task retries on OutboxUnavailable
            raise OutboxUnavailable(f"outbox: {type(err).__name__}") from err

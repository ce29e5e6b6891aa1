"""SQS adapters: the human queue (escalations for staff) and the outbox (replies to deliver)."""

from __future__ import annotations

import json
from collections.abc import Collection
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

    def remove(self, case_id: str, max_batches: int = 50) -> int:
        """Delete every message of the case (its escalation and any SLA re-queues of it).

        SQS finds messages only by receiving them: one pass receives batches with a short
        visibility timeout (so each batch brings new messages), deletes the case's own, and
        then makes the others visible again at once.
        """
        return self.remove_cases({case_id}, max_batches)

    def remove_cases(self, case_ids: Collection[str], max_batches: int = 50) -> int:
        """`remove` for many cases in one pass over the queue (an incident's bulk decision)."""
        wanted = set(case_ids)
        if not wanted:
            return 0
        deleted, others = 0, []
        for _ in range(max_batches):
            messages = self._client.receive_message(
                QueueUrl=self._url, MaxNumberOfMessages=10, VisibilityTimeout=30,
                MessageAttributeNames=["case_id"]).get("Messages", [])
            if not messages:
                break
            for m in messages:
                attr = (m.get("MessageAttributes") or {}).get("case_id", {}).get("StringValue")
                if (attr or _body_case_id(m.get("Body", ""))) in wanted:
                    self._client.delete_message(QueueUrl=self._url, ReceiptHandle=m["ReceiptHandle"])
                    deleted += 1
                else:
                    others.append(m["ReceiptHandle"])
        for i in range(0, len(others), 10):
            self._client.change_message_visibility_batch(QueueUrl=self._url, Entries=[
                {"Id": str(n), "ReceiptHandle": h, "VisibilityTimeout": 0} for n, h in enumerate(others[i:i + 10])])
        return deleted


def _body_case_id(body: str) -> str | None:
    try:
        value = json.loads(body).get("case_id")
    except (ValueError, AttributeError):
        return None
    return str(value) if value is not None else None


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

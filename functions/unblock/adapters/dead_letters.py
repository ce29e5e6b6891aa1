"""Events that cannot be processed are never dropped: they are kept, redacted, with the reason.

The intake dead-letter queue holds `{"kind", "reason", "received_at", "payload"}`, where the
payload is the event with every string redacted (a pasted key never reaches the queue).
`unblock replay` re-drives each kept event through the intake once the cause is fixed;
webhook payloads were verified when they arrived, so a replay maps them without a signature.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from unblock.domain.tickets.redaction import redact
from unblock.domain.tickets.redaction import redact_json as redact_payload
from unblock.ports import IntakeKind as Kind

MAX_KEPT_BYTES = 200 * 1024  # SQS takes 256 KB; keep room for the envelope


def kept_message(kind: Kind, payload: Any, reason: str, received_at: datetime) -> str:
    """The message kept: ASCII JSON, so a string that is not valid Unicode (a lone surrogate, the
    reason it was refused) is kept escaped, as it came, and every character is one SQS carries."""
    redacted, _ = redact_payload(payload)
    reason, _ = redact(reason[:1000])
    body = json.dumps({"kind": kind, "reason": reason, "received_at": received_at.isoformat(),
                       "payload": redacted})
    if len(body) > MAX_KEPT_BYTES:  # an oversized event: keep what fits, say so
        text = json.dumps(redacted)[: MAX_KEPT_BYTES // 2]
        body = json.dumps({"kind": kind, "reason": reason, "received_at": received_at.isoformat(),
                           "payload": None, "payload_truncated": text})
    return body


class IntakeDeadLetters:
    def __init__(self, sqs: Any, url: str) -> None:
        self._sqs, self._url = sqs, url

    def keep(self, kind: Kind, payload: Any, reason: str, received_at: datetime) -> None:
        self._sqs.send_message(QueueUrl=self._url, MessageBody=kept_message(kind, payload, reason, received_at),
                               MessageAttributes={"kind": {"DataType": "String", "StringValue": kind}})

    def in_flight(self) -> int:
        """Kept events received and not yet visible again (another replay holds them, or one that died
        before it deleted them: back within the visibility timeout)."""
        return in_flight(self._sqs, self._url)

    def replay(self, redrive: Callable[[dict[str, Any]], Any], max_messages: int = 100) -> list[ReplayOutcome]:
        """Re-drive kept events; each one that goes through is deleted, the others stay kept (once: the
        intake does not keep a failed replay again) and their outcome gives the reason now."""
        outcomes: list[ReplayOutcome] = []
        while len(outcomes) < max_messages:
            resp = self._sqs.receive_message(QueueUrl=self._url, MaxNumberOfMessages=10, VisibilityTimeout=30)
            messages = resp.get("Messages", [])
            if not messages:
                break
            for msg in messages:
                kept = json.loads(msg["Body"])
                try:
                    result = redrive({"replay": kept})
                except Exception as err:  # noqa: BLE001 - reported, and the message stays kept
                    outcomes.append(ReplayOutcome(kept["kind"], False, f"{type(err).__name__}: {err}"))
                    continue
                if isinstance(result, dict) and result.get("error"):
                    outcomes.append(ReplayOutcome(kept["kind"], False, str(result["error"])))
                    continue
                self._sqs.delete_message(QueueUrl=self._url, ReceiptHandle=msg["ReceiptHandle"])
                detail = result.get("case_id") or f"opens no case: {result.get('ignored')}"
                outcomes.append(ReplayOutcome(kept["kind"], True, str(detail)))
        return outcomes


def in_flight(sqs: Any, url: str) -> int:
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"])
    return int(attrs.get("Attributes", {}).get("ApproximateNumberOfMessagesNotVisible", 0))


def original_event(kept: Any) -> Any:
    """The event a failed-events message holds: Lambda's on-failure record keeps it as
    `requestPayload`; EventBridge's dead-letter queue keeps the event itself."""
    if isinstance(kept, dict) and isinstance(kept.get("requestContext"), dict) and "requestPayload" in kept:
        return kept["requestPayload"]
    return kept


class FailedIntakeEvents:
    """Events the intake could not take (DESIGN.md standards: nothing lost at intake): EventBridge
    could not deliver them, or the function failed on them after Lambda's retries (a timeout, out of
    memory, a crash). They are kept as they came (raw: the queue is encrypted and keeps them 4 days),
    so a replay sends each to the intake again, which redacts it like any event."""

    def __init__(self, sqs: Any, url: str) -> None:
        self._sqs, self._url = sqs, url

    def in_flight(self) -> int:
        return in_flight(self._sqs, self._url)

    def replay(self, redrive: Callable[[dict[str, Any]], Any], max_messages: int = 100) -> list[ReplayOutcome]:
        """Each event the intake now takes is deleted (one the intake refuses is then kept, redacted,
        on its dead-letter queue, and deleted here: one copy); one it still fails on stays here."""
        outcomes: list[ReplayOutcome] = []
        while len(outcomes) < max_messages:
            messages = self._sqs.receive_message(QueueUrl=self._url, MaxNumberOfMessages=10,
                                                 VisibilityTimeout=30).get("Messages", [])
            if not messages:
                break
            for msg in messages:
                try:
                    event = original_event(json.loads(msg["Body"]))
                except ValueError:
                    outcomes.append(ReplayOutcome("failed", False, "not a JSON event"))
                    continue
                kind = "ticket" if isinstance(event, dict) and "detail-type" in event else "event"
                try:
                    result = redrive(event)
                except Exception as err:  # noqa: BLE001 - reported, and the event stays kept
                    outcomes.append(ReplayOutcome(kind, False, f"{type(err).__name__}: {redact(str(err))[0]}"))
                    continue
                self._sqs.delete_message(QueueUrl=self._url, ReceiptHandle=msg["ReceiptHandle"])
                if isinstance(result, dict) and result.get("error"):
                    outcomes.append(ReplayOutcome(kind, False, "kept, redacted, on the intake dead-letter queue: "
                                                               + str(result["error"])))
                    continue
                detail = result.get("case_id") if isinstance(result, dict) else None
                outcomes.append(ReplayOutcome(kind, True, str(detail or result)))
        return outcomes


@dataclass
class ReplayOutcome:
    kind: str
    ok: bool
    detail: str

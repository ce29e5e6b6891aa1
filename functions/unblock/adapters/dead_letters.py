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


@dataclass
class ReplayOutcome:
    kind: str
    ok: bool
    detail: str

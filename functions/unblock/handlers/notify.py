"""Notify: deliver the replies on the outbox queue to the help desks (SQS event source).

Each record's body is one `unblock.domain.replies.OutgoingReply` as JSON. Records are processed one by
one with a partial batch response (the event source mapping needs
`FunctionResponseTypes: [ReportBatchItemFailures]`): a record that fails is reported in
`batchItemFailures` and SQS redelivers it alone after the visibility timeout, until the
queue's redrive policy moves it to the dead-letter queue. A record counts as failed when:
- its body is not an OutgoingReply (it would never deliver: DLQ after maxReceiveCount);
- delivery failed for now (`DeliveryFailed`: timeout, 429, 5xx);
- the help desk refused it (`DeliveryRejected`: 4xx, misconfiguration): logged as an error,
  retried like any failure and then kept in the DLQ, where it can be redriven once mended.
A record for a help desk this stack does not configure (no URL) is acknowledged with a
warning: the reply stays on the case for staff. Even when every record fails, the handler
answers with the failures rather than raising, so each record keeps its own receive count.

Logs carry the case id, destination, reply id and status, never a reply's text.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from unblock import composition
from unblock.domain.replies import OutgoingReply
from unblock.observability import logger, metrics
from unblock.ports import DeliveryFailed, DeliveryRejected, Notifier

processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


class InvalidOutboxMessage(ValueError):
    """The record's body is not an OutgoingReply. The message names the fields, never their values."""


@cache
def _notifiers() -> dict[str, Notifier]:
    """The help-desk notifiers, built once per container (tests monkeypatch this); each reply
    part is delivered once across containers (Powertools idempotency in the cases table)."""
    return composition.notifiers()


def _parse(record: SQSRecord) -> OutgoingReply:
    try:
        return OutgoingReply.model_validate_json(record.body or "")
    except ValidationError as err:
        # Never the input values: the body holds the reply text.
        fields = sorted({".".join(str(p) for p in e["loc"]) or "body" for e in err.errors()})
        raise InvalidOutboxMessage(f"outbox message is not an OutgoingReply (fields: {', '.join(fields)})") from None


def _metric(name: str) -> None:
    metrics.add_metric(name=name, unit="Count", value=1)


def deliver_record(record: SQSRecord) -> None:
    base = {"message_id": record.message_id}
    try:
        reply = _parse(record)
    except InvalidOutboxMessage as err:
        logger.error("outbox message invalid", extra={**base, "status": "invalid", "error": str(err)})
        _metric("RepliesInvalid")
        raise
    keys = {**base, "case_id": reply.case_id, "destination": reply.destination, "reply_id": reply.reply_id,
            "receive_count": record.attributes.approximate_receive_count}
    notifier = _notifiers().get(reply.destination)
    if notifier is None:
        logger.warning("help desk not configured: reply kept on the case only", extra={**keys, "status": "skipped"})
        _metric("RepliesSkipped")
        return
    try:
        notifier.deliver(reply)
    except DeliveryFailed as err:
        logger.warning("reply not delivered, will retry", extra={
            **keys, "status": "failed", "http_status": err.status, "error": str(err), "retry_after": err.retry_after})
        _metric("RepliesFailed")
        raise
    except DeliveryRejected as err:
        logger.error("reply rejected by the help desk, goes to the DLQ after its retries", extra={
            **keys, "status": "rejected", "http_status": err.status, "error": str(err)})
        _metric("RepliesRejected")
        raise
    except Exception as err:
        logger.error("reply delivery crashed", extra={**keys, "status": "error", "error": type(err).__name__})
        _metric("RepliesFailed")
        raise
    logger.info("reply delivered", extra={**keys, "status": "delivered"})
    _metric("RepliesDelivered")


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if (once := composition.reply_parts_once()) is not None:
        once.register_lambda_context(context)
    response = process_partial_response(event=event, record_handler=deliver_record, processor=processor,
                                        context=context)
    failures = len(response.get("batchItemFailures", []))
    logger.info("outbox batch done", extra={"records": len(event.get("Records", [])), "failed": failures})
    return {"batchItemFailures": list(response.get("batchItemFailures", []))}

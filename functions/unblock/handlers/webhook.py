"""Webhook: Zendesk and Discourse deliveries over a Lambda Function URL.

Each delivery is verified (HMAC, constant-time compare, Zendesk's 5-minute window) before
anything is stored; then mapped to the normalized ticket event, redacted, and started like
any ticket (the execution name is the case id, so a retried delivery makes one case).
Signing secrets come from Secrets Manager through Powertools Parameters, cached.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import LambdaFunctionUrlResolver, Response, content_types
from aws_lambda_powertools.utilities.typing import LambdaContext

from unblock import composition
from unblock.domain.tickets import webhooks
from unblock.domain.tickets.reports import report_from_ticket
from unblock.domain.tickets.ticket_event import TicketEvent, with_requester_email
from unblock.observability import logger, metrics
from unblock.workflow import intake

if TYPE_CHECKING:
    from unblock.ports import IntakeKind, RequesterDirectory

app = LambdaFunctionUrlResolver()


def signing_secret(env_name: str) -> str:
    name = os.environ.get(env_name)
    if not name:
        raise webhooks.WebhookRejected(500, f"{env_name} is not configured")
    return composition.webhook_secret(name)


def _json(status: int, body: dict[str, Any]) -> Response[Any]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=json.dumps(body))


def _raw_body() -> bytes:
    """The body's exact bytes, as they were signed (not decoded: invalid UTF-8 must reach the 400).

    A body marked base64 that is not base64 cannot be checked against its signature: it is
    refused (400) like any unverified delivery, and not kept."""
    import base64

    event = app.current_event
    body = event.body or ""
    if not event.is_base64_encoded:
        return body.encode("utf-8", errors="surrogatepass")  # a lone surrogate: bytes no signer sent
    try:
        return base64.b64decode(body, validate=True)
    except ValueError:  # binascii.Error, or a non-ASCII character
        raise webhooks.WebhookRejected(400, "body is marked base64-encoded but is not valid base64") from None


def _accept(ticket: TicketEvent, source: str) -> Response[Any]:
    report = report_from_ticket(ticket, composition.clock().now(), source=source)
    logger.append_keys(case_id=report.case_id)
    started = intake.start(composition.workflow(), report)
    logger.info("webhook accepted", extra={"source": source, "started": started.started})
    metrics.add_metric(name="WebhooksAccepted", unit="Count", value=1)
    return _json(202, {"case_id": report.case_id, "execution_arn": started.execution_arn,
                       "duplicate": not started.started})


def _keep_if_unprocessable(kind: IntakeKind, headers: dict[str, str], raw: bytes, build: Any) -> Response[Any]:
    """A verified delivery that cannot be mapped is kept (redacted) on the intake DLQ: 400, nothing lost."""
    try:
        return _accept(build(), kind)
    except webhooks.WebhookRejected as err:
        if err.status >= 500:
            raise
        intake.keep_delivery(composition.intake_dead_letters(), kind, headers, raw, err.reason,
                             composition.clock().now())
        metrics.add_metric(name="EventsDeadLettered", unit="Count", value=1)
        logger.warning("webhook kept on the intake dead-letter queue", extra={"reason": err.reason})
        return _json(err.status, {"error": err.reason, "kept": True})


def _with_requester(ticket: TicketEvent, find: Callable[[RequesterDirectory], str | None]) -> TicketEvent:
    """The mapped ticket with the requester's email from the help desk's user API. Looked up only
    for a delivery that opens a case; any failure leaves it unknown (the requester is then not
    verified) and never drops the ticket."""
    try:
        email = find(composition.requester_directory())
    except Exception:  # noqa: BLE001 - a lookup must never cost the ticket
        logger.warning("requester lookup failed")
        return ticket
    return with_requester_email(ticket, email)


@app.post("/zendesk")
def zendesk() -> Response[Any]:
    headers = app.current_event.headers
    raw = _raw_body()
    webhooks.verify_zendesk(headers, raw, signing_secret("ZENDESK_SECRET_NAME"), composition.clock().now())

    def build() -> TicketEvent:
        payload = webhooks.parse_json(raw)
        requester = webhooks.zendesk_requester_id(payload)
        return _with_requester(webhooks.map_zendesk(payload), lambda d: d.zendesk_email(requester))

    return _keep_if_unprocessable("zendesk", headers, raw, build)


@app.post("/discourse")
def discourse() -> Response[Any]:
    headers = app.current_event.headers
    raw = _raw_body()
    webhooks.verify_discourse(headers, raw, signing_secret("DISCOURSE_SECRET_NAME"))

    def build() -> TicketEvent:
        payload = webhooks.parse_json(raw)
        poster = webhooks.discourse_username(payload)
        return _with_requester(webhooks.map_discourse(headers, payload), lambda d: d.discourse_email(poster))

    return _keep_if_unprocessable("discourse", headers, raw, build)


@app.exception_handler(webhooks.WebhookRejected)
def rejected(err: webhooks.WebhookRejected) -> Response[Any]:
    logger.warning("webhook rejected", extra={"status": err.status, "reason": err.reason})
    metrics.add_metric(name="WebhooksRejected", unit="Count", value=1)
    return _json(err.status, {"error": err.reason})


@app.exception_handler(webhooks.WebhookIgnored)
def ignored(err: webhooks.WebhookIgnored) -> Response[Any]:
    # what the delivery is comes from its signed body; the unsigned header is logged beside it
    said = webhooks.discourse_event_name(app.current_event.headers)
    logger.info("webhook ignored", extra={"reason": err.reason, "x_discourse_event": said})
    return _json(200, {"ignored": err.reason})


@app.exception_handler(webhooks.WebhookPing)
def ping(err: webhooks.WebhookPing) -> Response[Any]:
    return _json(200, {"pong": True})


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)

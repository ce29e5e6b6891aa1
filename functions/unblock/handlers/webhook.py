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
from unblock.domain.models import Report
from unblock.domain.tickets import webhooks
from unblock.domain.tickets.reports import report_from_ticket
from unblock.domain.tickets.ticket_event import DETAIL_TYPE, TicketEvent, with_requester_email
from unblock.observability import logger, metrics
from unblock.workflow import intake
from unblock.workflow.conversations import link_topic_case

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
    return _accept_report(report_from_ticket(ticket, composition.clock().now(), source=source), source)


def _accept_report(report: Report, source: str) -> Response[Any]:
    logger.append_keys(case_id=report.case_id)
    started = intake.start(composition.workflow(), report)
    logger.info("webhook accepted", extra={"source": source, "started": started.started})
    metrics.add_metric(name="WebhooksAccepted", unit="Count", value=1)
    return _json(202, {"case_id": report.case_id, "execution_arn": started.execution_arn,
                       "duplicate": not started.started})


def _keep_if_unprocessable(kind: IntakeKind, headers: dict[str, str], raw: bytes,
                           handle: Callable[[], Response[Any]]) -> Response[Any]:
    """A verified delivery that cannot be mapped is kept (redacted) on the intake DLQ: 400, nothing lost."""
    try:
        return handle()
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


def _follow_up(report: Report, message_id: str, *, private: bool = False,
               find: Callable[[RequesterDirectory], str | None] | None = None) -> Response[Any]:
    """A follow-up reaches its case; one after the 14 days opens a new case whose requester's email
    is looked up (`find`) as on a new ticket."""
    looked_up = None if find is None else (lambda: find(composition.requester_directory()))
    taken = intake.take_follow_up(composition.cases(), composition.workflow(), composition.clock(), report,
                                  message_id, private=private, open_if_new=False, requester_email=looked_up)
    logger.info("follow-up taken in", extra={"action": taken["follow_up"], "case_id": taken["case_id"]})
    metrics.add_metric(name="FollowUps", unit="Count", value=1)
    if taken["follow_up"] == "no_case":
        raise webhooks.WebhookIgnored("a follow-up on a ticket or topic that has no case")
    return _json(202, {"case_id": taken["case_id"], "execution_arn": taken["execution_arn"],
                       "follow_up": taken["follow_up"]})


def _fetched_zendesk(payload: dict[str, Any], ticket_id: str) -> dict[str, Any]:
    """A ticket.created delivery without text, completed from Zendesk's API (400, kept, if it cannot be)."""
    found = composition.requester_directory().zendesk_ticket(ticket_id)
    if found is None:
        raise webhooks.WebhookRejected(400, "Zendesk delivery has no text and the ticket could not be read")
    fields = webhooks.zendesk_ticket_text(*found)
    detail = {**payload["detail"], **{k: v for k, v in fields.items() if v}}
    return {**payload, "detail": detail}


def _zendesk_comment(payload: dict[str, Any]) -> Response[Any]:
    try:
        event = webhooks.map_zendesk_comment(payload)
    except webhooks.NeedsFetch as need:
        found = composition.requester_directory().zendesk_ticket(need.ticket_id)
        body = next((str(c.get("plain_body") or c.get("body") or "") for c in (found[1] if found else [])
                     if str(c.get("id")) == need.comment_id), None)
        if body is None:
            raise webhooks.WebhookRejected(400, "Zendesk comment has no body and could not be read") from None
        event = webhooks.map_zendesk_comment(payload, fetched_body=body)
    requester = webhooks.zendesk_requester_id(payload)
    return _follow_up(report_from_ticket(event, composition.clock().now(), source="zendesk"), event.id,
                      find=lambda d: d.zendesk_email(requester))


@app.post("/zendesk")
def zendesk() -> Response[Any]:
    headers = app.current_event.headers
    raw = _raw_body()
    webhooks.verify_zendesk(headers, raw, signing_secret("ZENDESK_SECRET_NAME"), composition.clock().now())

    def handle() -> Response[Any]:
        payload = webhooks.parse_json(raw)
        if payload.get("type") == webhooks.ZENDESK_COMMENT_ADDED:
            return _zendesk_comment(payload)
        try:
            ticket = webhooks.map_zendesk(payload)
        except webhooks.NeedsFetch as need:
            payload = _fetched_zendesk(payload, need.ticket_id)
            ticket = webhooks.map_zendesk(payload)
        requester = webhooks.zendesk_requester_id(payload)
        return _accept(_with_requester(ticket, lambda d: d.zendesk_email(requester)), "zendesk")

    return _keep_if_unprocessable("zendesk", headers, raw, handle)


def _discourse_follow_up(headers: dict[str, str], payload: dict[str, Any]) -> Response[Any]:
    """A reply in a topic, or in unblock's private message (workflow.intake.forum_case says whose)."""
    found = webhooks.map_discourse_follow_up(headers, payload)
    now = composition.clock().now()
    store = composition.cases()
    case = intake.forum_case(store, found, now, os.environ.get("DISCOURSE_API_USERNAME", "").strip())
    if case.action == "follow_up":
        return _follow_up(case.report, found.event.id, private=found.private,
                          find=lambda d: d.discourse_email(found.username))
    if case.action == "private_message":
        return _private_message(found, case.case_id)
    # "same here": a report of its own, by its own requester (their email looked up as for a topic)
    opening = found.event.model_copy(update={"detail_type": DETAIL_TYPE})
    opening = _with_requester(opening, lambda d: d.discourse_email(found.username))
    new = report_from_ticket(opening, now, source="discourse").model_copy(update={"case_id": case.case_id})
    link_topic_case(store, case.topic_case_id, case.case_id, now)
    return _accept_report(new, "discourse")


def _private_message(found: webhooks.DiscourseFollowUp, case_id: str) -> Response[Any]:
    """A customer's own private message: a case of its own when staff are among its recipients
    (read from Discourse: the webhook's post carries none), answered in the message itself."""
    try:
        recipients = composition.requester_directory().discourse_message_recipients(found.topic_id)
    except Exception:  # noqa: BLE001 - unknown recipients: not to staff
        recipients = None
    staff_groups = tuple(g.strip() for g in os.environ.get("DISCOURSE_STAFF_GROUPS", "").split(",") if g.strip())
    if not intake.to_staff(recipients, os.environ.get("DISCOURSE_API_USERNAME", "").strip(),
                           staff_groups or intake.STAFF_GROUPS):
        raise webhooks.WebhookIgnored("a private message not addressed to staff")
    opening = found.event.model_copy(update={"detail_type": DETAIL_TYPE})
    opening = _with_requester(opening, lambda d: d.discourse_email(found.username))
    report = report_from_ticket(opening, composition.clock().now(), source="discourse")
    return _accept_report(report.model_copy(update={"case_id": case_id}), "discourse")


@app.post("/discourse")
def discourse() -> Response[Any]:
    headers = app.current_event.headers
    raw = _raw_body()
    webhooks.verify_discourse(headers, raw, signing_secret("DISCOURSE_SECRET_NAME"))

    def handle() -> Response[Any]:
        payload = webhooks.parse_json(raw)
        poster = webhooks.discourse_username(payload)
        try:
            ticket = webhooks.map_discourse(headers, payload)
        except webhooks.NotAnOpeningPost:
            return _discourse_follow_up(headers, payload)
        return _accept(_with_requester(ticket, lambda d: d.discourse_email(poster)), "discourse")

    return _keep_if_unprocessable("discourse", headers, raw, handle)


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

"""Webhook: the help desks' deliveries over a Lambda Function URL, `POST /<desk>` for each desk
the registry lists (unblock.domain.helpdesks).

Each delivery is verified by its desk (HMAC, constant-time compare, a time window where the desk
signs one) before anything is stored; then read by its desk (an opening, a follow-up), redacted,
and started like any ticket (the execution name is the case id, so a retried delivery makes one
case). Signing secrets come from Secrets Manager through Powertools Parameters, cached.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import LambdaFunctionUrlResolver, Response, content_types
from aws_lambda_powertools.utilities.typing import LambdaContext

from unblock import composition
from unblock.domain import helpdesks
from unblock.domain.helpdesks import HelpDesk
from unblock.domain.helpdesks.desk import Delivery
from unblock.domain.models import Report
from unblock.domain.tickets import webhooks
from unblock.observability import logger, metrics
from unblock.workflow import deliveries, intake
from unblock.workflow.deliveries import FollowsUp

if TYPE_CHECKING:
    from unblock.ports import IntakeKind

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


def _email_for(desk: HelpDesk) -> Callable[[str | None], str | None]:
    """The requester's email from the help desk's user API. Looked up only for a delivery that
    opens a case; any failure leaves it unknown (the requester is then not verified) and never
    drops the ticket."""
    def find(handle: str | None) -> str | None:
        try:
            return composition.requester_directory(desk.name).email_for(handle)
        except Exception:  # noqa: BLE001 - a lookup must never cost the ticket
            logger.warning("requester lookup failed")
            return None

    return find


def _follow_up(desk: HelpDesk, taken: FollowsUp) -> Response[Any]:
    """A follow-up reaches its case; one after the 14 days opens a new case whose requester's email
    is looked up on the desk (`taken.handle`) as on a new ticket."""
    def looked_up() -> str | None:
        return composition.requester_directory(desk.name).email_for(taken.handle) if taken.handle else None

    followed = intake.take_follow_up(composition.cases(), composition.workflow(), composition.clock(),
                                     taken.report, taken.message_id, private=taken.private, open_if_new=False,
                                     requester_email=looked_up)
    logger.info("follow-up taken in", extra={"action": followed["follow_up"], "case_id": followed["case_id"]})
    metrics.add_metric(name="FollowUps", unit="Count", value=1)
    if followed["follow_up"] == "no_case":
        raise webhooks.WebhookIgnored("a follow-up on a ticket or topic that has no case")
    return _json(202, {"case_id": followed["case_id"], "execution_arn": followed["execution_arn"],
                       "follow_up": followed["follow_up"]})


def _take(desk: HelpDesk, delivery: Delivery) -> Response[Any]:
    configured = os.environ.get(f"{desk.name.upper()}_STAFF_GROUPS", "")  # a forum's staff groups
    taken = deliveries.route(desk, delivery, composition.cases, composition.clock().now(), _email_for(desk),
                             os.environ.get(desk.settings.api_user, "").strip(),
                             recipients=lambda topic: composition.requester_directory(desk.name).message_recipients(
                                 topic),
                             staff_groups=tuple(g.strip() for g in configured.split(",") if g.strip())
                             or desk.staff_groups)
    return _follow_up(desk, taken) if isinstance(taken, FollowsUp) else _accept_report(taken.report, desk.name)


@app.post("/<name>")
def deliver(name: str) -> Response[Any]:
    """POST /<desk>: a delivery from the help desk the registry lists under that name (404 for any other)."""
    desk = helpdesks.find(name)
    if desk is None:
        raise webhooks.WebhookRejected(404, f"no help desk at /{name[:40]}")
    headers = app.current_event.headers
    raw = _raw_body()
    desk.verify(headers, raw, signing_secret(desk.settings.webhook_secret), composition.clock().now())

    def handle() -> Response[Any]:
        payload = webhooks.parse_json(raw)
        return _take(desk, desk.read(headers, payload, composition.requester_directory(desk.name)))

    return _keep_if_unprocessable(desk.name, headers, raw, handle)


@app.exception_handler(webhooks.WebhookRejected)
def rejected(err: webhooks.WebhookRejected) -> Response[Any]:
    logger.warning("webhook rejected", extra={"status": err.status, "reason": err.reason})
    metrics.add_metric(name="WebhooksRejected", unit="Count", value=1)
    return _json(err.status, {"error": err.reason})


@app.exception_handler(webhooks.WebhookIgnored)
def ignored(err: webhooks.WebhookIgnored) -> Response[Any]:
    # what the delivery is comes from its signed body; the unsigned header naming it is logged beside it
    logger.info("webhook ignored", extra={"reason": err.reason, "event_header": _event_header()})
    return _json(200, {"ignored": err.reason})


@app.exception_handler(webhooks.WebhookPing)
def ping(err: webhooks.WebhookPing) -> Response[Any]:
    return _json(200, {"pong": True})


def _event_header() -> str | None:
    """What the desk's unsigned event header says (for logs only, never to decide)."""
    desk = helpdesks.find(app.current_event.path.strip("/"))
    value = webhooks.header(app.current_event.headers, desk.event_header) if desk and desk.event_header else None
    return value.strip().lower() if value else None


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)

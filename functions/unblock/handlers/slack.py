"""SlackActionsFunction: Slack's interactivity requests (the buttons on a staff alert), behind a
Function URL.

A request is verified (signing secret from Secrets Manager, v0 signature, timestamp within 5
minutes) and parsed; the function then invokes itself asynchronously with the click and answers
200 at once (Slack wants an answer within 3 seconds). The asynchronous invocation takes the
decision (workflow/slack_actions.py) and updates the message through its response_url; Lambda
retries it if it fails unexpectedly.
"""

from __future__ import annotations

import base64
import dataclasses
import time
from typing import Any
from urllib.parse import parse_qs

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from unblock import composition
from unblock.domain import slack
from unblock.observability import logger, metrics


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if "slack_action" in event:  # the asynchronous half
        action = slack.SlackAction(**event["slack_action"])
        logger.append_keys(case_id=action.case_id)
        from unblock.workflow.slack_actions import carry_out

        what = carry_out(action, allowed=composition.slack_allowed_users(), store=composition.cases(),
                         workflow=composition.workflow(), queue=composition.human_queue(), clock=composition.clock(),
                         post=composition.slack_responder(), stack_mode=composition.mode)
        logger.info("slack decision", extra={"decision": action.decision, "actor": action.actor, "result": what})
        metrics.add_dimension(name="result", value=what)
        metrics.add_metric(name="SlackDecisions", unit=MetricUnit.Count, value=1)
        return {"result": what}
    body = event.get("body") or ""
    raw = base64.b64decode(body) if event.get("isBase64Encoded") else body.encode()
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    try:
        slack.verify(composition.slack_signing_secret(), headers.get("x-slack-request-timestamp"), raw,
                     headers.get("x-slack-signature"), time.time())
        if len(raw) > slack.MAX_BODY:
            raise slack.SlackRequestRefused("the request body is too large")
        try:
            form = parse_qs(raw.decode("utf-8"), strict_parsing=True)
        except (ValueError, UnicodeDecodeError) as err:
            raise slack.SlackRequestRefused("the body is not a form") from err
        click = slack.parse_action(form)
    except slack.SlackRequestMalformed as err:
        logger.warning("slack request malformed", extra={"reason": str(err)})
        return {"statusCode": 400, "headers": {"Content-Type": "text/plain"}, "body": str(err)}
    except slack.SlackRequestRefused as err:
        logger.warning("slack request refused", extra={"reason": str(err)})
        return {"statusCode": 401, "headers": {"Content-Type": "text/plain"}, "body": "refused"}
    if click is None:  # a link button: Slack opened the link; the 200 keeps its warning away
        logger.info("slack link button clicked: nothing to decide")
        return {"statusCode": 200, "headers": {"Content-Type": "text/plain"}, "body": ""}
    composition.invoke_async(context.function_name, {"slack_action": dataclasses.asdict(click)})
    return {"statusCode": 200, "headers": {"Content-Type": "text/plain"}, "body": ""}

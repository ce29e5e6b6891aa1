"""What the console's routes share: the security headers every answer carries, the answers
themselves, the staff SLA, and who the staff member is."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
    "Strict-Transport-Security": "max-age=31536000",
}
STATIC = {"console.js": "text/javascript; charset=utf-8", "console.css": "text/css; charset=utf-8"}
SHELL_PATHS = ("/", "/login", "/search", "/closed", "/metrics", "/incidents", "/mode")
PROTECTED = ("/pages/", "/api/")  # template.yaml puts these behind the JWT authorizer
MAX_CASES = 2000
MAX_INCIDENTS = 100
MAX_QUERY = 200


def response(status: int, body: str, content_type: str = "text/html; charset=utf-8") -> Response[str]:
    return Response(status_code=status, content_type=content_type, body=body, headers=dict(SECURITY_HEADERS))


def json_answer(status: int, payload: dict[str, Any]) -> Response[str]:
    return response(status, json.dumps(payload), "application/json")


def sla() -> timedelta:
    return timedelta(hours=float(os.environ.get("STAFF_SLA_HOURS", "4")))


def verified_claims(event: APIGatewayProxyEventV2) -> dict[str, Any]:
    """The claims the JWT authorizer verified."""
    ctx = event.raw_event.get("requestContext") or {}
    found: dict[str, Any] = ((ctx.get("authorizer") or {}).get("jwt") or {}).get("claims") or {}
    return found


def actor(event: APIGatewayProxyEventV2) -> str | None:
    """The staff member, from the claims the JWT authorizer verified: their email when the identity
    provider says it is verified (`email_verified`; API Gateway passes claims as strings), else the
    subject: an unverified email is only what someone typed into their profile."""
    claims = verified_claims(event)
    verified = claims.get("email_verified")
    email_ok = verified is True or str(verified).lower() == "true"
    who = (claims.get("email") if email_ok else None) or claims.get("sub")
    return str(who) if who else None


def page(status: int, html: str) -> Response[str]:
    return Response(status_code=status, content_type="text/html; charset=utf-8", body=html)


def form(event: APIGatewayProxyEventV2) -> tuple[str, str]:
    """A console request's body and its content type, as the request models' `parse` takes them."""
    return event.decoded_body or "", (event.headers or {}).get("content-type", "")

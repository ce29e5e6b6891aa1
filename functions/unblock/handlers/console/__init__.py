"""ConsoleFunction: the staff console behind API Gateway (HTTP API, JWT authorizer).

Routes (template.yaml wires the same ones):
- public, no token: the page shell (`GET /`, `/cases/...`, `/search`, ...) and its static files;
  the shell holds no data, only the script that fetches pages with the staff member's token;
- behind the JWT authorizer: `GET /pages/...` (the content of a page),
  `POST /api/cases/{case_id}/decision` (approve, resolve or reject with a note) and
  `POST /api/cases/{case_id}/revert` (undo a fix unblock applied), `POST /api/cases/{case_id}/shadow`
  (agree or disagree with a shadow case) and
  `POST /api/incidents/{incident_id}/decision` (one decision for every waiting member of an
  incident, optionally including teams held by the same rule that have not written in), and
  `POST /api/causes/{cause_key}/policies`, `POST /api/policies/{policy_id}/status` (standing
  policies from a cause's page, causes.py; docs/causes.md), and `POST /api/mode` (an admin switches the
  stack's run-time mode).

Bearer tokens only (no cookies, so no CSRF); every response carries a strict
Content-Security-Policy. The actor of a decision is the token's email (or subject).

Thin: this module is the resolver (Powertools' `Router`s included): one middleware refuses a
protected request without an identity and puts the security headers on every answer, and the errors
are mapped in one place below. The routes are in `pages.py` (the shell, static files, each page
reading what it shows and rendering it with console.views), `decisions.py` (each parses its body
with console.requests and calls one decision flow) and `mode.py` (the Mode page and the admins'
switch); `http.py` holds what they share.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from unblock.console.requests import BadBody
from unblock.domain.staff_errors import AlreadyDecided, NotFound, StaffError, StaleDecision
from unblock.handlers.console import causes, decisions, mode, pages
from unblock.handlers.console.http import CSP, PROTECTED, SECURITY_HEADERS, actor, json_answer
from unblock.observability import logger, metrics

__all__ = ["CSP", "SECURITY_HEADERS", "app", "handler"]

app = APIGatewayHttpResolver()


# --- every request: identity and security headers -----------------------------------------------
def staff_only(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response[Any]:
    """The authorizer sees to this already; still, never read data for a request without an identity."""
    if app.current_event.path.startswith(PROTECTED) and actor(app.current_event) is None:
        return json_answer(401, {"message": "Unauthorized"})
    return next_middleware(app)


def security_headers(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response[Any]:
    # a route's own header wins (static files are cached); the exception handlers and not_found answer
    # outside the middleware, through json_answer, which sets the same headers
    response = next_middleware(app)
    response.headers = {**SECURITY_HEADERS, **response.headers}
    return response


app.use(middlewares=[security_headers, staff_only])

app.include_router(pages.router)
app.include_router(decisions.router)
app.include_router(causes.router)  # docs/causes.md
app.include_router(mode.router)


# --- errors: one place ----------------------------------------------------------------------------
@app.exception_handler(BadBody)
def bad_body(err: BadBody) -> Response[str]:
    return json_answer(400, {"error": str(err)})


@app.exception_handler(ValidationError)
def invalid_body(err: ValidationError) -> Response[str]:
    fields = sorted({str(e["loc"][0]) for e in err.errors() if e["loc"]})
    if "decision" in fields:
        return json_answer(400, {"error": "decision must be approve, resolve or reject"})
    return json_answer(400, {"error": f"invalid field{'s' if len(fields) != 1 else ''}: {', '.join(fields)}"})


@app.exception_handler(NotFound)
def no_such(err: NotFound) -> Response[str]:
    return json_answer(404, {"error": str(err)})


@app.exception_handler([AlreadyDecided, StaleDecision])
def stale(err: StaffError) -> Response[str]:
    logger.info("stale decision refused", extra={"path": app.current_event.path})
    return json_answer(409, {"error": str(err)})


@app.exception_handler(StaffError)
def refused(err: StaffError) -> Response[str]:
    return json_answer(422, {"error": str(err)})


@app.not_found
def not_found(_: Exception) -> Response[str]:
    return json_answer(404, {"error": "not found"})


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)

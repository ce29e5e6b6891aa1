"""ConsoleFunction: the staff console behind API Gateway (HTTP API, JWT authorizer).

Routes (template.yaml wires the same ones):
- public, no token: the page shell (`GET /`, `/cases/...`, `/search`, ...) and its static files;
  the shell holds no data, only the script that fetches pages with the staff member's token;
- behind the JWT authorizer: `GET /pages/...` (the content of a page),
  `POST /api/cases/{case_id}/decision` (approve, resolve or reject with a note) and
  `POST /api/cases/{case_id}/revert` (undo a fix unblock applied), `POST /api/cases/{case_id}/shadow`
  (agree or disagree with a shadow case) and
  `POST /api/incidents/{incident_id}/decision` (one decision for every waiting member of an
  incident, optionally including teams held by the same rule that have not written in).

Bearer tokens only (no cookies, so no CSRF); every response carries a strict
Content-Security-Policy. The actor of a decision is the token's email (or subject).

Thin: one middleware refuses a protected request without an identity and puts the security headers
on every answer; each route reads what its page shows and renders it (console.views), or parses its
body (console.requests) and calls one decision flow; the errors are mapped in one place below.
"""

from __future__ import annotations

import json
import os
from datetime import timedelta
from typing import Any
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from unblock import composition
from unblock.console import stats, views
from unblock.console.requests import (
    BadBody,
    CaseDecisionRequest,
    IncidentDecisionRequest,
    ModeSwitchRequest,
    RevertRequest,
    ShadowVerdictRequest,
    in_group,
)
from unblock.domain.staff_errors import AlreadyDecided, NotFound, StaffError, StaleDecision
from unblock.observability import logger, metrics

# The decision and incident flows are imported by the routes that use them, not at a cold start:
# staff open the queue first, and the flows bring redaction and the fix guardrails with them
# (BENCHMARKS.md). Their errors live in domain.staff_errors, light, so they are mapped here.

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

app = APIGatewayHttpResolver()


def _response(status: int, body: str, content_type: str = "text/html; charset=utf-8") -> Response[str]:
    return Response(status_code=status, content_type=content_type, body=body, headers=dict(SECURITY_HEADERS))


def _json(status: int, payload: dict[str, Any]) -> Response[str]:
    return _response(status, json.dumps(payload), "application/json")


def _sla() -> timedelta:
    return timedelta(hours=float(os.environ.get("STAFF_SLA_HOURS", "4")))


def _claims() -> dict[str, Any]:
    ctx = app.current_event.raw_event.get("requestContext") or {}
    claims: dict[str, Any] = ((ctx.get("authorizer") or {}).get("jwt") or {}).get("claims") or {}
    return claims


def actor() -> str | None:
    """The staff member, from the claims the JWT authorizer verified: their email when the identity
    provider says it is verified (`email_verified`; API Gateway passes claims as strings), else the
    subject: an unverified email is only what someone typed into their profile."""
    claims = _claims()
    verified = claims.get("email_verified")
    email_ok = verified is True or str(verified).lower() == "true"
    who = (claims.get("email") if email_ok else None) or claims.get("sub")
    return str(who) if who else None


# --- every request: identity and security headers -----------------------------------------------
def staff_only(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response[Any]:
    """The authorizer sees to this already; still, never read data for a request without an identity."""
    if app.current_event.path.startswith(PROTECTED) and actor() is None:
        return _json(401, {"message": "Unauthorized"})
    return next_middleware(app)


def security_headers(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response[Any]:
    # a route's own header wins (static files are cached); the exception handlers and not_found answer
    # outside the middleware, through _json, which sets the same headers
    response = next_middleware(app)
    response.headers = {**SECURITY_HEADERS, **response.headers}
    return response


app.use(middlewares=[security_headers, staff_only])


def _page(status: int, html: str) -> Response[str]:
    return Response(status_code=status, content_type="text/html; charset=utf-8", body=html)


# --- the shell (no data, no token needed) ---------------------------------------------------------
def _shell() -> Response[str]:
    return _page(200, views.shell(os.environ.get("CONSOLE_LOGIN_URL", "")))


for _path in SHELL_PATHS:
    app.get(_path)(_shell)


@app.get("/cases/<case_id>")
def shell_case(case_id: str) -> Response[str]:
    return _shell()


@app.get("/incidents/<incident_id>")
def shell_incident(incident_id: str) -> Response[str]:
    return _shell()


@app.get("/static/<name>")
def static(name: str) -> Response[str]:
    if name not in STATIC:
        return _response(404, "not found", "text/plain")
    from importlib import resources

    text = resources.files("unblock.console").joinpath("static", name).read_text(encoding="utf-8")
    return Response(status_code=200, content_type=STATIC[name], body=text,
                    headers={"Cache-Control": "public, max-age=300"})


# --- pages (behind the authorizer); each reads only what it shows (docs/console.md) ------------------
@app.get("/pages/queue")
def queue() -> Response[str]:
    return _page(200, views.queue_page(composition.cases().waiting_for_staff(), composition.clock().now(), _sla()))


@app.get("/pages/cases/<case_id>")
def case(case_id: str) -> Response[str]:
    case_id = unquote(case_id)
    found = composition.cases().get(case_id)
    if found is None:
        return _page(404, views.not_found_page(f"No case {case_id}."))
    path = composition.workflow().path(found)
    incident_id = composition.incidents().incident_of(case_id)
    return _page(200, views.case_page(found, composition.clock().now(), _sla(), path, incident_id))


@app.get("/pages/search")
def search() -> Response[str]:
    q = (app.current_event.get_query_string_value("q") or "").strip()[:MAX_QUERY]
    found = composition.cases().search(q) if q else []
    return _page(200, views.search_page(q, found, composition.clock().now()))


@app.get("/pages/closed")
def closed() -> Response[str]:
    outcome = app.current_event.get_query_string_value("outcome") or None
    if outcome not in (None, *stats.OUTCOMES):
        outcome = None
    found = composition.cases().recently_closed(outcome, limit=stats.CLOSED_SHOWN)
    return _page(200, views.closed_page(found, outcome, composition.clock().now()))


@app.get("/pages/metrics")
def metrics_view() -> Response[str]:
    # aggregates over every case: the one page that reads the table (up to MAX_CASES)
    m = stats.metrics(composition.cases().list(None, limit=MAX_CASES), composition.clock().now(), _sla())
    return _page(200, views.metrics_page(m, _sla()))


@app.get("/pages/incidents")
def incidents() -> Response[str]:
    store, cases = composition.incidents(), composition.cases()
    rows = []
    for i in store.list(MAX_INCIDENTS):
        members = store.members(i.incident_id)
        found = cases.get_many([m.case_id for m in members])
        rows.append((i, [(m, found.get(m.case_id)) for m in members]))
    return _page(200, views.incidents_page(rows, composition.clock().now()))


@app.get("/pages/incidents/<incident_id>")
def incident(incident_id: str) -> Response[str]:
    from unblock.workflow import incidents as incident_flow

    incident_id = unquote(incident_id)
    view = incident_flow.incident_view(composition.incidents(), composition.cases(), composition.platform(),
                                       incident_id)
    if view is None:
        return _page(404, views.not_found_page(f"No incident {incident_id}."))
    return _page(200, views.incident_page(view.incident, view.members, view.held_elsewhere,
                                          composition.clock().now(), _sla()))


# --- decisions ------------------------------------------------------------------------------------
def _body() -> tuple[str, str]:
    return app.current_event.decoded_body or "", (app.current_event.headers or {}).get("content-type", "")


@app.post("/api/cases/<case_id>/decision")
def decide(case_id: str) -> Response[str]:
    from unblock.workflow import staff_decisions

    who, case_id = str(actor()), unquote(case_id)
    body = CaseDecisionRequest.parse(*_body())
    claimed = staff_decisions.decide(
        composition.cases(), composition.workflow(), composition.human_queue(), composition.clock(), case_id,
        body.decision, who, body.note, stack_mode=composition.mode(), expected_version=body.version)
    logger.info("staff decision", extra={"case_id": case_id, "decision": body.decision, "actor": who})
    metrics.add_dimension(name="decision", value=body.decision)
    metrics.add_metric(name="StaffDecisions", unit="Count", value=1)
    return _json(200, {"case_id": case_id, "decision": body.decision, "actor": who, "status": claimed.status,
                       "message": f"{body.decision.capitalize()} recorded for {case_id} by {who}; the workflow "
                                  "resumes."})


@app.post("/api/incidents/<incident_id>/decision")
def decide_incident(incident_id: str) -> Response[str]:
    from unblock.workflow import incidents as incident_flow

    who, incident_id = str(actor()), unquote(incident_id)
    body = IncidentDecisionRequest.parse(*_body())
    record = incident_flow.decide_incident(
        composition.incidents(), composition.cases(), composition.workflow(), composition.human_queue(),
        composition.clock(), incident_id, body.decision, who, body.note, stack_mode=composition.mode(),
        include=body.include,
        include_unverified=body.include_unverified,
        versions=body.versions, platform=composition.platform(),
        settle=float(os.environ.get("INCIDENT_SETTLE_SECONDS", "15")))
    summary = views.outcome_summary(record)
    logger.info("incident decision", extra={"incident_id": incident_id, "decision": body.decision, "actor": who,
                                            "outcomes": summary})
    metrics.add_dimension(name="decision", value=body.decision)
    metrics.add_metric(name="IncidentDecisions", unit="Count", value=1)
    return _json(200, {"incident_id": incident_id, "decision": body.decision, "actor": who,
                       "outcomes": [o.model_dump(mode="json") for o in record.outcomes],
                       "message": f"{body.decision.capitalize()} recorded for incident {incident_id} by {who}: "
                                  f"{summary}."})


def _own_url() -> str | None:
    """The console's address as this request reached it (for links in staff alerts)."""
    host = (app.current_event.raw_event.get("requestContext") or {}).get("domainName")
    return f"https://{host}/" if host else composition.console_url()


@app.post("/api/cases/<case_id>/revert")
def revert(case_id: str) -> Response[str]:
    from unblock.workflow import reverts

    who, case_id = str(actor()), unquote(case_id)
    body = RevertRequest.parse(*_body())
    before = composition.cases().get(case_id)
    case = reverts.revert(composition.platform(), composition.cases(), composition.clock(), case_id, who, body.note,
                          fix=body.fix, alerts=composition.staff_alerts(), outbox=composition.outbox(),
                          console_url=_own_url(), guard=composition.revert_guard())
    fresh = len(case.reverts) - (len(before.reverts) if before else 0)
    done = [r.fix for r in case.reverts[-fresh:]] if fresh else []
    logger.info("fix reverted", extra={"case_id": case_id, "fixes": done, "actor": who})
    if done:
        metrics.add_metric(name="FixesReverted", unit="Count", value=len(done))
    what = ", ".join(done) or "nothing new (already reverted)"
    return _json(200, {"case_id": case_id, "reverted": case.reverted, "actor": who,
                       "message": f"Reverted for {case_id} by {who}: {what}."})


@app.post("/api/cases/<case_id>/shadow")
def shadow_verdict(case_id: str) -> Response[str]:
    from unblock.workflow import shadow

    who, case_id = str(actor()), unquote(case_id)
    body = ShadowVerdictRequest.parse(*_body())
    shadow.mark(composition.cases(), composition.clock(), case_id, body.verdict, who, body.note)
    metrics.add_dimension(name="verdict", value=body.verdict)
    metrics.add_metric(name="ShadowVerdicts", unit="Count", value=1)
    return _json(200, {"case_id": case_id, "verdict": body.verdict, "actor": who,
                       "message": f"{body.verdict.capitalize()} recorded for {case_id} by {who}."})


# --- the stack's mode (DESIGN.md "Modes"): everyone sees it, admins switch it -------------------------
def _admin_group() -> str:
    return os.environ.get("CONSOLE_ADMIN_GROUP", "unblock-admins")


@app.get("/pages/mode")
def mode_view() -> Response[str]:
    modes = composition.mode_switch()
    return _page(200, views.mode_page(modes.current(fresh=True), modes.changes(limit=20),
                                      in_group(_claims(), _admin_group()), _admin_group()))


@app.post("/api/mode")
def switch_mode() -> Response[str]:
    from unblock.workflow.modes import switch_mode

    who = str(actor())
    if not in_group(_claims(), _admin_group()):
        return _json(403, {"error": f"only admins (group {_admin_group()}) may switch the stack's mode"})
    body = ModeSwitchRequest.parse(*_body())
    url = _own_url()
    change = switch_mode(composition.mode_switch(), composition.clock(), body.mode, who, body.note,
                         alerts=composition.staff_alerts(), link=f"{url.rstrip('/')}/mode" if url else None)
    if change is None:
        return _json(200, {"mode": body.mode, "message": f"The stack is in {body.mode} mode already."})
    logger.info("mode switched", extra={"was": change.was, "now": change.now, "actor": who})
    metrics.add_metric(name="ModeSwitches", unit="Count", value=1)
    return _json(200, {"mode": change.now, "actor": who,
                       "message": f"Switched from {change.was} to {change.now} by {who}: every function obeys "
                                  "within a minute."})


# --- errors: one place ----------------------------------------------------------------------------
@app.exception_handler(BadBody)
def bad_body(err: BadBody) -> Response[str]:
    return _json(400, {"error": str(err)})


@app.exception_handler(ValidationError)
def invalid_body(err: ValidationError) -> Response[str]:
    fields = sorted({str(e["loc"][0]) for e in err.errors() if e["loc"]})
    if "decision" in fields:
        return _json(400, {"error": "decision must be approve, resolve or reject"})
    return _json(400, {"error": f"invalid field{'s' if len(fields) != 1 else ''}: {', '.join(fields)}"})


@app.exception_handler(NotFound)
def no_such(err: NotFound) -> Response[str]:
    return _json(404, {"error": str(err)})


@app.exception_handler([AlreadyDecided, StaleDecision])
def stale(err: StaffError) -> Response[str]:
    logger.info("stale decision refused", extra={"path": app.current_event.path})
    return _json(409, {"error": str(err)})


@app.exception_handler(StaffError)
def refused(err: StaffError) -> Response[str]:
    return _json(422, {"error": str(err)})


@app.not_found
def not_found(_: Exception) -> Response[str]:
    return _json(404, {"error": "not found"})


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)

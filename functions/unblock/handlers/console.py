"""ConsoleFunction: the staff console behind API Gateway (HTTP API, JWT authorizer).

Routes (template.yaml wires the same ones):
- public, no token: the page shell (`GET /`, `/cases/...`, `/search`, ...) and its static files;
  the shell holds no data, only the script that fetches pages with the staff member's token;
- behind the JWT authorizer: `GET /pages/...` (the content of a page),
  `POST /api/cases/{case_id}/decision` (approve, resolve or reject with a note) and
  `POST /api/incidents/{incident_id}/decision` (one decision for every waiting member of an
  incident, optionally including teams held by the same rule that have not written in).

Bearer tokens only (no cookies, so no CSRF); every response carries a strict
Content-Security-Policy. The actor of a decision is the token's email (or subject).
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, unquote

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from unblock import composition
from unblock.console import stats, views
from unblock.domain.cases import Case
from unblock.domain.limits import InputRejected, check_json_text
from unblock.domain.models import STAFF_DECISIONS
from unblock.observability import logger, metrics

# Imported where a route needs them, not at a cold start: staff open the queue first, and the
# decision and incident flows bring redaction and the fix guardrails with them (BENCHMARKS.md).


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
SHELL_PATHS = ("/", "/login", "/search", "/closed", "/metrics", "/incidents")
MAX_CASES = 2000
MAX_INCIDENTS = 100

app = APIGatewayHttpResolver()


def _response(status: int, body: str, content_type: str = "text/html; charset=utf-8") -> Response[str]:
    return Response(status_code=status, content_type=content_type, body=body, headers=dict(SECURITY_HEADERS))


def _json(status: int, payload: dict[str, Any]) -> Response[str]:
    return _response(status, json.dumps(payload), "application/json")


def _sla() -> timedelta:
    return timedelta(hours=float(os.environ.get("STAFF_SLA_HOURS", "4")))


def actor() -> str | None:
    """The staff member, from the claims the JWT authorizer verified: their email when the identity
    provider says it is verified (`email_verified`; API Gateway passes claims as strings), else the
    subject: an unverified email is only what someone typed into their profile."""
    ctx = app.current_event.raw_event.get("requestContext") or {}
    claims = ((ctx.get("authorizer") or {}).get("jwt") or {}).get("claims") or {}
    verified = claims.get("email_verified")
    email_ok = verified is True or str(verified).lower() == "true"
    who = (claims.get("email") if email_ok else None) or claims.get("sub")
    return str(who) if who else None


def _all_cases() -> list[Case]:
    return composition.cases().list(None, limit=MAX_CASES)


# --- the shell (no data, no token needed) ---------------------------------------------------------
def _shell() -> Response[str]:
    return _response(200, views.shell(os.environ.get("CONSOLE_LOGIN_URL", "")))


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
    resp = _response(200, text, STATIC[name])
    resp.headers["Cache-Control"] = "public, max-age=300"
    return resp


# --- pages (behind the authorizer) --------------------------------------------------------------
def _page(status: int, html: str) -> Response[str]:
    return _response(status, html)


def protected(route: Callable[..., Response[str]]) -> Callable[..., Response[str]]:
    """The authorizer sees to this already; still, never read data for a request without an identity."""

    @functools.wraps(route)
    def guarded(*args: Any, **kwargs: Any) -> Response[str]:
        if actor() is None:
            return _json(401, {"message": "Unauthorized"})
        return route(*args, **kwargs)

    return guarded


@app.get("/pages/queue")
@protected
def queue() -> Response[str]:
    return _page(200, views.queue_page(_all_cases(), composition.clock().now(), _sla()))


@app.get("/pages/cases/<case_id>")
@protected
def case(case_id: str) -> Response[str]:
    case_id = unquote(case_id)
    found = composition.cases().get(case_id)
    if found is None:
        return _page(404, views.not_found_page(f"No case {case_id}."))
    path = composition.workflow().path(found)
    incident_id = composition.incidents().incident_of(case_id)
    return _page(200, views.case_page(found, composition.clock().now(), _sla(), path, incident_id))


@app.get("/pages/search")
@protected
def search() -> Response[str]:
    q = (app.current_event.get_query_string_value("q") or "")[:200]
    found = stats.search(_all_cases(), q) if q else []
    return _page(200, views.search_page(q, found, composition.clock().now()))


@app.get("/pages/closed")
@protected
def closed() -> Response[str]:
    outcome = app.current_event.get_query_string_value("outcome") or None
    if outcome not in (None, *stats.OUTCOMES):
        outcome = None
    return _page(200, views.closed_page(stats.closed(_all_cases(), outcome), outcome, composition.clock().now()))


@app.get("/pages/metrics")
@protected
def metrics_view() -> Response[str]:
    m = stats.metrics(_all_cases(), composition.clock().now(), _sla())
    return _page(200, views.metrics_page(m, _sla()))


@app.get("/pages/incidents")
@protected
def incidents() -> Response[str]:
    store = composition.incidents()
    cases = {c.case_id: c for c in _all_cases()}
    rows = [(i, [(m, cases.get(m.case_id)) for m in store.members(i.incident_id)])
            for i in store.list(MAX_INCIDENTS)]
    return _page(200, views.incidents_page(rows, composition.clock().now()))


@app.get("/pages/incidents/<incident_id>")
@protected
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
MAX_DECISION_BODY_BYTES = 64 * 1024  # a decision: a few fields and a note


def _bad_body(err: ValueError) -> str:
    """What a refused body is told: the limit it broke, else that it is no form or JSON object."""
    return str(err) if isinstance(err, InputRejected) else "the request body is not a form or JSON object"


def _form() -> dict[str, str]:
    return {k: v[0] for k, v in _form_lists().items() if v}


def _form_lists() -> dict[str, list[str]]:
    """The form's fields with every value (checkboxes repeat a name); a JSON object's lists as lists."""
    body = app.current_event.decoded_body or ""
    ctype = (app.current_event.headers or {}).get("content-type", "")
    if "json" in ctype:
        # depth and size before parsing: a body nested 100,000 deep is a named 400, not a RecursionError
        check_json_text((body or "{}").encode("utf-8", errors="surrogatepass"), "the request body",
                        MAX_DECISION_BODY_BYTES)
        data = json.loads(body or "{}")
        if not isinstance(data, dict):
            return {}
        return {k: [str(x) for x in (v if isinstance(v, list) else [v]) if x is not None]
                for k, v in data.items() if v is not None}
    return parse_qs(body, keep_blank_values=True)


@app.post("/api/cases/<case_id>/decision")
@protected
def decide(case_id: str) -> Response[str]:
    from unblock.workflow import staff_decisions

    who = str(actor())
    case_id = unquote(case_id)
    try:
        form = _form()
    except ValueError as err:
        return _json(400, {"error": _bad_body(err)})
    decision = form.get("decision", "")
    if decision not in STAFF_DECISIONS:
        return _json(400, {"error": "decision must be approve, resolve or reject"})
    version = form.get("version")
    try:
        claimed = staff_decisions.decide(
            composition.cases(), composition.workflow(), composition.human_queue(), composition.clock(), case_id,
            decision, who, form.get("note"),
            expected_version=int(version) if version and version.isdigit() else None)
    except staff_decisions.NoSuchCase as err:
        return _json(404, {"error": str(err)})
    except (staff_decisions.AlreadyDecided, staff_decisions.StaleDecision) as err:
        logger.info("stale decision refused", extra={"case_id": case_id, "decision": decision})
        return _json(409, {"error": str(err)})
    except staff_decisions.StaffError as err:
        return _json(422, {"error": str(err)})
    logger.info("staff decision", extra={"case_id": case_id, "decision": decision, "actor": who})
    metrics.add_dimension(name="decision", value=decision)
    metrics.add_metric(name="StaffDecisions", unit="Count", value=1)
    return _json(200, {"case_id": case_id, "decision": decision, "actor": who, "status": claimed.status,
                       "message": f"{decision.capitalize()} recorded for {case_id} by {who}; the workflow resumes."})


@app.post("/api/incidents/<incident_id>/decision")
@protected
def decide_incident(incident_id: str) -> Response[str]:
    from unblock.workflow import incidents as incident_flow
    from unblock.workflow import staff_decisions

    who = str(actor())
    incident_id = unquote(incident_id)
    try:
        form = _form_lists()
    except ValueError as err:
        return _json(400, {"error": _bad_body(err)})
    decision = (form.get("decision") or [""])[0]
    if decision not in STAFF_DECISIONS:
        return _json(400, {"error": "decision must be approve, resolve or reject"})
    # the version of each member the staff member saw: a member written since is refused as stale
    versions = {k.removeprefix("version:"): int(v[0]) for k, v in form.items()
                if k.startswith("version:") and v and v[0].isdigit()}
    include = [t for t in form.get("include", []) if t.strip()]
    ticked = [c for c in form.get("include_unverified", []) if c.strip()]  # unverified members, one by one
    try:
        record = incident_flow.decide_incident(
            composition.incidents(), composition.cases(), composition.workflow(), composition.human_queue(),
            composition.clock(), incident_id, decision, who, next(iter(form.get("note", [])), None), include=include,
            include_unverified=ticked, versions=versions, platform=composition.platform(),
            settle=float(os.environ.get("INCIDENT_SETTLE_SECONDS", "15")))
    except incident_flow.NoSuchIncident as err:
        return _json(404, {"error": str(err)})
    except staff_decisions.StaffError as err:
        return _json(422, {"error": str(err)})
    summary = views.outcome_summary(record)
    logger.info("incident decision", extra={"incident_id": incident_id, "decision": decision, "actor": who,
                                            "outcomes": summary})
    metrics.add_dimension(name="decision", value=decision)
    metrics.add_metric(name="IncidentDecisions", unit="Count", value=1)
    return _json(200, {"incident_id": incident_id, "decision": decision, "actor": who,
                       "outcomes": [o.model_dump(mode="json") for o in record.outcomes],
                       "message": f"{decision.capitalize()} recorded for incident {incident_id} by {who}: {summary}."})


@app.not_found
def not_found(_: Exception) -> Response[str]:
    return _json(404, {"error": "not found"})


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)

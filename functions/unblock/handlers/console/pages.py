"""The console's pages: the shell and its static files (no data, no token needed), and the pages
behind the authorizer, each reading only what it shows (docs/console.md "Reads")."""

from __future__ import annotations

import os
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from unblock import composition
from unblock.console import stats, views
from unblock.handlers.console.http import (
    MAX_CASES,
    MAX_INCIDENTS,
    MAX_QUERY,
    SHELL_PATHS,
    STATIC,
    page,
    response,
    sla,
)

router = APIGatewayHttpRouter()


# --- the shell (no data, no token needed) ---------------------------------------------------------
def shell() -> Response[str]:
    return page(200, views.shell(os.environ.get("CONSOLE_LOGIN_URL", "")))


for _path in SHELL_PATHS:
    router.get(_path)(shell)


@router.get("/cases/<case_id>")
def shell_case(case_id: str) -> Response[str]:
    return shell()


@router.get("/incidents/<incident_id>")
def shell_incident(incident_id: str) -> Response[str]:
    return shell()


@router.get("/static/<name>")
def static(name: str) -> Response[str]:
    if name not in STATIC:
        return response(404, "not found", "text/plain")
    from importlib import resources

    text = resources.files("unblock.console").joinpath("static", name).read_text(encoding="utf-8")
    return Response(status_code=200, content_type=STATIC[name], body=text,
                    headers={"Cache-Control": "public, max-age=300"})


# --- pages (behind the authorizer); each reads only what it shows (docs/console.md) ------------------
@router.get("/pages/queue")
def queue() -> Response[str]:
    return page(200, views.queue_page(composition.cases().waiting_for_staff(), composition.clock().now(), sla()))


@router.get("/pages/cases/<case_id>")
def case(case_id: str) -> Response[str]:
    case_id = unquote(case_id)
    found = composition.cases().get(case_id)
    if found is None:
        return page(404, views.not_found_page(f"No case {case_id}."))
    path = composition.workflow().path(found)
    incident_id = composition.incidents().incident_of(case_id)
    return page(200, views.case_page(found, composition.clock().now(), sla(), path, incident_id))


@router.get("/pages/search")
def search() -> Response[str]:
    q = (router.current_event.get_query_string_value("q") or "").strip()[:MAX_QUERY]
    found = composition.cases().search(q) if q else []
    return page(200, views.search_page(q, found, composition.clock().now()))


@router.get("/pages/closed")
def closed() -> Response[str]:
    outcome = router.current_event.get_query_string_value("outcome") or None
    if outcome not in (None, *stats.OUTCOMES):
        outcome = None
    found = composition.cases().recently_closed(outcome, limit=stats.CLOSED_SHOWN)
    return page(200, views.closed_page(found, outcome, composition.clock().now()))


@router.get("/pages/metrics")
def metrics_view() -> Response[str]:
    # aggregates over every case: the one page that reads the table (up to MAX_CASES)
    m = stats.metrics(composition.cases().list(None, limit=MAX_CASES), composition.clock().now(), sla())
    return page(200, views.metrics_page(m, sla()))


@router.get("/pages/incidents")
def incidents() -> Response[str]:
    store, cases = composition.incidents(), composition.cases()
    rows = []
    for i in store.list(MAX_INCIDENTS):
        members = store.members(i.incident_id)
        found = cases.get_many([m.case_id for m in members])
        rows.append((i, [(m, found.get(m.case_id)) for m in members]))
    return page(200, views.incidents_page(rows, composition.clock().now()))


@router.get("/pages/incidents/<incident_id>")
def incident(incident_id: str) -> Response[str]:
    from unblock.workflow import incidents as incident_flow

    incident_id = unquote(incident_id)
    view = incident_flow.incident_view(composition.incidents(), composition.cases(), composition.platform(),
                                       incident_id)
    if view is None:
        return page(404, views.not_found_page(f"No incident {incident_id}."))
    return page(200, views.incident_page(view.incident, view.members, view.held_elsewhere,
                                          composition.clock().now(), sla()))

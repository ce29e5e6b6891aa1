"""The console's pages: what each page shows, rendered by its template (templates/, Jinja2, autoescaped).

Each page is the content of the shell's <main>, starting with its <h1>; console.js fetches it
with the staff member's bearer token and puts it in place. The templates escape every value
unless it is Markup already (the SVG charts, built with Markup.format, which escapes too), so a
page is safe without an escape() at each call site. Nothing secret is ever rendered: no task
token (no template names it), and report text was redacted at intake.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any
from urllib.parse import quote, urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined, Template
from markupsafe import Markup

from unblock.console import charts, stats
from unblock.domain.cases import Case
from unblock.domain.causes import CauseView
from unblock.domain.fixes import fixes_for
from unblock.domain.incidents import Incident, IncidentDecision, MemberCase
from unblock.domain.models import Mode
from unblock.domain.modes import ModeChange
from unblock.domain.platform_model import HeldTeam
from unblock.domain.tickets.signal_catalogue import BY_CODE as SIGNALS

NAV = (("/", "Queue"), ("/search", "Search"), ("/closed", "Closed"), ("/metrics", "Metrics"),
       ("/incidents", "Incidents"), ("/causes", "Causes"), ("/mode", "Mode"))

IncidentMembers = list[tuple[MemberCase, Case | None]]


def case_href(case_id: str) -> str:
    return "/cases/" + quote(case_id, safe="")


def incident_href(incident_id: str) -> str:
    return "/incidents/" + quote(incident_id, safe="")


def cause_href(cause_key: str) -> str:
    return "/causes/" + quote(cause_key, safe="")


def minutes(value: timedelta | None) -> str:
    """A duration as staff read it: minutes below two hours, else hours (one decimal)."""
    if value is None:
        return "\u2013"
    mins = value.total_seconds() / 60
    return f"{mins:.1f} min" if mins < 120 else f"{mins / 60:.1f} h"


def safe_url(url: str) -> str:
    """An address the page may link to: https (or a local http address), never `javascript:` or `data:`."""
    parts = urlsplit(url.strip())
    local = parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost")
    return url.strip() if (parts.scheme == "https" or local) and parts.netloc else ""


# bidi embeddings, overrides and isolates: in a case id or a note they make text read backwards
# (`invoice\u202efdp.exe` shows as `invoiceexe.pdf`); every value shows them as their code point
_BIDI = {ch: f"[U+{ord(ch):04X}]" for ch in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"}
_BIDI_TABLE = str.maketrans(_BIDI)


def _finalize(value: Any) -> Any:
    """Every `{{ value }}` passes here before it is escaped (Markup is already built from escaped text)."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return value.translate(_BIDI_TABLE)
    return value


def _json_text(v: Any, indent: int | None = None) -> str:
    """JSON as text, for the template to escape (Jinja's own `tojson` is Markup for a <script>)."""
    if indent is None:
        return json.dumps(v)
    return json.dumps(v, indent=indent, sort_keys=True, default=str)


def is_proactive(case_id: object) -> bool:
    from unblock.domain.incidents import is_proactive as proactive

    return isinstance(case_id, str) and proactive(case_id)


@cache
def _env() -> Environment:
    # the templates are read and compiled on first use, once per container
    env = Environment(loader=PackageLoader("unblock.console", "templates"), autoescape=True,
                      undefined=StrictUndefined, finalize=_finalize)
    env.filters.update(case_href=case_href, incident_href=incident_href, cause_href=cause_href, minutes=minutes,
                       segment=lambda v: quote(str(v), safe=""),
                       safe_url=safe_url, tojson_text=_json_text)
    env.globals.update(stats=stats, charts=charts, outcome_summary=outcome_summary, signals=SIGNALS)
    env.tests["is_proactive"] = is_proactive  # a proactive case has no requester to verify (DESIGN.md "Incidents")
    env.globals["m"] = env.get_template("macros.html").module
    return env


def _template(name: str) -> Template:
    return _env().get_template(name)


def render(name: str, **context: Any) -> str:
    return _template(name).render(**context).strip()


# --- pages -------------------------------------------------------------------------------------
def queue_page(cases: list[Case], now: datetime, sla: timedelta) -> str:
    waiting = stats.queue_order(cases)
    late = sum(1 for c in waiting if stats.age(c, now) > sla)
    return render("queue.html", waiting=waiting, late=late, now=now, sla=sla)


def case_page(case: Case, now: datetime, sla: timedelta, path: list[str] | None,
              incident_id: str | None = None) -> str:
    from unblock.domain.conversations import conversation_view, topic_case_of
    from unblock.domain.fixes import revertible

    topic = topic_case_of(case.case_id)
    return render("case.html", case=case, now=now, sla=sla, path=path, incident_id=incident_id,
                  timeline=timeline(case), conversation=conversation_view(case),
                  topic_cases=[topic] if topic else list(case.topic_cases),
                  revertible=revertible(case.fixes, case.reverted, now))


def mode_page(mode: Mode, changes: list[ModeChange], admin: bool, admin_group: str) -> str:
    """The stack's mode, who switched it when, and (for an admin) the switch (DESIGN.md "Modes")."""
    return render("mode.html", mode=mode, changes=changes, admin=admin, admin_group=admin_group,
                  meanings=MODE_MEANINGS)


MODE_MEANINGS: dict[str, str] = {
    "live": "Safe fixes apply, customers are answered, escalations wait for staff.",
    "approval": "Every fix is a proposal staff approve; customers are answered.",
    "shadow": "Checks and decisions run; nothing is changed and nobody is told, staff decisions included.",
}


def timeline(case: Case) -> list[tuple[datetime, str]]:
    events: list[tuple[datetime, str]] = [(case.created_at, "Case opened")]
    if case.report.received_at:
        events.append((case.report.received_at, "Reported"))
    if case.escalation and case.escalation.queued_at:
        events.append((case.escalation.queued_at, f"Queued for staff ({case.escalation.priority})"))
    # at equal times a staff decision comes before the fixes it approved
    events += [(d.decided_at, f"Staff {d.decision} by {d.actor}" + (f": “{d.note}”" if d.note else ""))
               for d in case.decisions]
    events += [(f.at, f"Fix {f.fix}: {f.status} by {f.actor}") for f in case.fixes]
    events += [(r.at, f"Fix {r.fix} reverted by {r.actor}: “{r.note}”") for r in case.reverts]
    if case.shadow and case.shadow.verdict_at:
        events.append((case.shadow.verdict_at, f"Shadow verdict: {case.shadow.verdict} by {case.shadow.verdict_by}"))
    if case.status == "closed":
        events.append((case.updated_at, f"Closed ({case.resolution or case.outcome})"))
    return sorted(events, key=lambda e: e[0])


def search_page(query: str, found: list[Case], now: datetime) -> str:
    return render("search.html", query=query, found=found, now=now)


def closed_page(found: list[Case], outcome: str | None, now: datetime) -> str:
    return render("closed.html", found=found, outcome=outcome, outcomes=stats.OUTCOMES, now=now)


def metrics_page(m: stats.Metrics, sla: timedelta) -> str:
    return render("metrics.html", metrics=m, sla=sla, series=(*stats.OUTCOMES, "open"))


@dataclass
class IncidentRow:
    incident: Incident
    teams: int
    cases: int
    waiting: int


def incidents_page(rows: list[tuple[Incident, IncidentMembers]], now: datetime) -> str:
    """Incidents, newest first: cause, teams, cases waiting for staff, when it opened and last grew."""
    shown = [IncidentRow(incident, len({m.team_id for m, _ in members}), len(members),
                         sum(1 for _, c in members if c is not None and c.status == "awaiting_staff"))
             for incident, members in rows]
    return render("incidents.html", rows=shown, now=now)


def incident_page(incident: Incident, members: IncidentMembers, held: list[HeldTeam] | None, now: datetime,
                  sla: timedelta) -> str:
    waiting = [c for _, c in members if c is not None and c.status == "awaiting_staff"]
    proposed = sorted({f for c in waiting if c.escalation for f in c.escalation.proposed_fixes})
    if not proposed and held:  # nothing waits, but teams may be included: what their cases would propose
        proposed = sorted({f for _, c in members if c and (d := stats.deciding_finding(c)) for f in fixes_for(d)})
    return render("incident.html", incident=incident, members=members, held=held, now=now, waiting=waiting,
                  teams=len({m.team_id for m, _ in members}), proposed=proposed,
                  late=sum(1 for c in waiting if stats.age(c, now) > sla))


def outcome_summary(d: IncidentDecision) -> str:
    counts: dict[str, int] = {}
    for o in d.outcomes:
        counts[o.result] = counts.get(o.result, 0) + 1
    return ", ".join(f"{n} {r.replace('_', ' ')}" for r, n in sorted(counts.items())) or "no member"


def causes_page(rows: list[CauseView]) -> str:
    """Causes with their record, newest wave first (docs/causes.md)."""
    return render("causes.html", rows=rows)


def cause_page(view: CauseView, policies: Sequence[Any] = ()) -> str:
    """A cause's record and its standing policies (each with `policy`, `state`, `approved`, `agreed`,
    `compared`: unblock.workflow.policies.PolicyView)."""
    return render("cause.html", view=view, policies=list(policies))


def not_found_page(what: str) -> str:
    return render("not_found.html", what=what)


def shell(login_url: str = "") -> str:
    return _template("shell.html").render(login_url=safe_url(login_url), nav=NAV)

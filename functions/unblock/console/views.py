"""The console's pages: plain functions from cases (and the clock) to HTML.

Each page is the content of the shell's <main>, starting with its <h1>; console.js fetches it
with the staff member's bearer token and puts it in place. Everything shown is escaped, and
nothing secret is ever rendered: no task token (case documents reach here through
`staff_decisions.public_view`-equivalent fields only), and report text was redacted at intake.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from html import escape
from typing import Any
from urllib.parse import quote, urlencode

from unblock.console import charts, stats
from unblock.domain.cases import Case
from unblock.domain.fixes import fixes_for
from unblock.domain.incidents import Incident, IncidentDecision, MemberCase
from unblock.domain.models import Finding
from unblock.domain.platform_model import HeldTeam

NAV = (("/", "Queue"), ("/search", "Search"), ("/closed", "Closed"), ("/metrics", "Metrics"),
       ("/incidents", "Incidents"))


def case_href(case_id: str) -> str:
    return "/cases/" + quote(case_id, safe="")


def incident_href(incident_id: str) -> str:
    return "/incidents/" + quote(incident_id, safe="")


def _ts(dt: datetime | None) -> str:
    if dt is None:
        return "–"
    return f'<time datetime="{dt.isoformat()}">{dt:%Y-%m-%d %H:%M} UTC</time>'


def _badge(text: str | None, kind: str = "") -> str:
    if not text:
        return "–"
    return f'<span class="badge {escape(kind)}-{escape(text)}">{escape(text)}</span>'


def _fixes(names: list[str]) -> str:
    return ", ".join(f"<code>{escape(n)}</code>" for n in names) or "none"


def _finding_line(f: Finding | None) -> str:
    if f is None:
        return "–"
    return f'<code>{escape(f.code)}</code><br><span class="muted">{escape(f.summary)}</span>'


def _table(caption: str, head: list[str], rows: list[str], empty: str) -> str:
    if not rows:
        return f'<p class="empty">{escape(empty)}</p>'
    ths = "".join(f'<th scope="col">{escape(h)}</th>' for h in head)
    return (f'<table><caption>{escape(caption)}</caption><thead><tr>{ths}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')


def _case_row(c: Case, now: datetime, sla: timedelta | None = None) -> str:
    cells = [f'<th scope="row"><a href="{case_href(c.case_id)}">{escape(c.case_id)}</a></th>']
    if sla is not None:
        age = stats.age(c, now)
        late = age > sla
        cells += [
            f"<td>{_badge(c.priority, 'p')}</td>",
            f'<td class="{"late" if late else "ok"}">{stats.humanize(age)} / {stats.humanize(sla)}'
            f'{" <strong>past SLA</strong>" if late else ""}</td>',
        ]
    cells += [
        f"<td><code>{escape(c.team_id or '–')}</code>"
        f"{'<br><span class=muted>' + escape(s) + '</span>' if (s := stats.team_slug(c)) else ''}</td>",
        f"<td>{_finding_line(stats.deciding_finding(c))}</td>",
    ]
    if sla is not None:
        proposed = c.escalation.proposed_fixes if c.escalation else []
        cells.append(f"<td>{_fixes(list(proposed))}</td>")
        if c.status == "deciding":
            cells[0] = cells[0].replace("</th>", ' <span class="badge">deciding</span></th>')
    else:
        cells += [f"<td>{_badge(c.outcome, 'o')}</td>", f"<td>{escape(c.resolution or '–')}</td>",
                  f"<td>{_ts(c.updated_at)}</td>"]
    return f"<tr>{''.join(cells)}</tr>"


# --- pages -------------------------------------------------------------------------------------
def queue_page(cases: list[Case], now: datetime, sla: timedelta) -> str:
    waiting = stats.queue_order(cases)
    late = sum(1 for c in waiting if stats.age(c, now) > sla)
    rows = [_case_row(c, now, sla) for c in waiting]
    summary = (f'<p class="summary">{len(waiting)} case{"s" if len(waiting) != 1 else ""} waiting for staff; '
               f'<strong>{late}</strong> past the {stats.humanize(sla)} SLA.</p>')
    return ('<h1 tabindex="-1">Queue</h1>' + summary +
            _table("Cases awaiting staff, highest priority and longest waiting first",
                   ["Case", "Priority", "Waiting / SLA", "Team", "Deciding finding", "Proposed fixes"], rows,
                   "Nothing is waiting for staff."))


def case_page(case: Case, now: datetime, sla: timedelta, path: list[str] | None,
              incident_id: str | None = None) -> str:
    r = case.report
    head = (f'<h1 tabindex="-1">Case <code>{escape(case.case_id)}</code></h1>'
            f'<p class="summary">{_badge(case.status, "st")} {_badge(case.outcome, "o")} '
            f'priority {_badge(case.priority, "p")} · team <code>{escape(case.team_id or "unknown")}</code>'
            f' · opened {_ts(case.created_at)} · updated {_ts(case.updated_at)}</p>')
    parts = [head]
    if incident_id:
        parts.append(f'<p class="notice">Part of incident <a href="{incident_href(incident_id)}">'
                     f'{escape(incident_id)}</a>: many teams, one cause. One decision there covers every waiting '
                     'member.</p>')
    if case.status in stats.WAITING:
        parts.append(_decision_forms(case, now, sla))
    if case.escalation is not None:
        parts.append(f'<section aria-labelledby="why"><h2 id="why">Why it needs a person</h2>'
                     f'<p>{escape(case.escalation.reason)}</p>'
                     f'{"<p class=warn>A secret key was pasted into the ticket (redacted): it must be rotated.</p>" if case.escalation.must_rotate_key else ""}'  # noqa: E501
                     f'<p>Proposed fixes: {_fixes(list(case.escalation.proposed_fixes))}</p></section>')
    verified = getattr(case, "requester_verified", None)
    requester = escape(r.requester_email or r.requested_by or "unknown")
    verified_text = "" if verified is None else (" · requester <strong>verified</strong>" if verified
                                                 else " · requester <strong>not verified</strong>")
    parts.append(
        '<section aria-labelledby="report"><h2 id="report">Report (redacted)</h2>'
        f'<dl class="facts"><dt>Source</dt><dd>{escape(r.source)}{" · " + escape(r.channel) if r.channel else ""}'
        f'{" · ticket " + escape(r.ticket_id) if r.ticket_id else ""}</dd>'
        f'<dt>Requester</dt><dd>{requester}{verified_text}</dd>'
        f'<dt>Subject</dt><dd>{escape(r.subject or "–")}</dd>'
        f'<dt>Received</dt><dd>{_ts(r.received_at)}</dd></dl>'
        f'<blockquote class="report-text">{escape(r.text or r.note or "(no text)")}</blockquote>'
        f'{_facts(r.facts)}</section>')
    parts.append(_findings(case))
    parts.append('<section aria-labelledby="path"><h2 id="path">Path through the workflow</h2>' + (
        '<ol class="path">' + "".join(f"<li>{escape(s)}</li>" for s in path) + "</ol>" if path
        else '<p class="empty">The execution history is not available.</p>') + "</section>")
    parts.append(_fix_audit(case))
    parts.append(_replies(case))
    parts.append(_timeline(case))
    return "".join(parts)


def _decision_forms(case: Case, now: datetime, sla: timedelta) -> str:
    if case.status == "deciding":
        last = case.decisions[-1] if case.decisions else None
        who = f" ({escape(last.decision)} by {escape(last.actor)})" if last else ""
        return f'<p class="notice" role="status">A decision is being applied{who}.</p>'
    age = stats.age(case, now)
    proposed = case.escalation.proposed_fixes if case.escalation else []
    buttons = []
    if proposed:
        buttons.append('<button type="submit" name="decision" value="approve" class="approve">'
                       f'Approve: apply {escape(", ".join(proposed))}</button>')
    buttons.append('<button type="submit" name="decision" value="resolve">Resolve (mended by hand)</button>')
    buttons.append('<button type="submit" name="decision" value="reject" class="reject">Reject</button>')
    action = "/api" + case_href(case.case_id) + "/decision"
    return (
        '<section aria-labelledby="decide" class="decide"><h2 id="decide">Decide</h2>'
        f'<p>Waiting {stats.humanize(age)} (SLA {stats.humanize(sla)})'
        f'{" — <strong>past SLA</strong>" if age > sla else ""}.</p>'
        f'<form method="post" action="{action}" class="decision" data-case="{escape(case.case_id)}">'
        f'<input type="hidden" name="version" value="{case.version}">'
        '<label for="note">Note (kept with the decision; not sent to the customer)</label>'
        '<textarea id="note" name="note" rows="3" maxlength="2000"></textarea>'
        f'<div class="buttons">{"".join(buttons)}</div></form>'
        '<div id="decision-result" role="status" aria-live="polite"></div></section>')


def _facts(facts: dict[str, list[str]]) -> str:
    if not facts:
        return ""
    items = "".join(f"<dt>{escape(k.replace('_', ' '))}</dt><dd>{', '.join(escape(v) for v in vs)}</dd>"
                    for k, vs in sorted(facts.items()) if vs)
    return f'<h3>Facts from the text</h3><dl class="facts">{items}</dl>' if items else ""


def _evidence(evidence: dict[str, Any]) -> str:
    if not evidence:
        return '<p class="muted">No evidence recorded.</p>'
    rows = "".join(f"<dt>{escape(str(k))}</dt><dd>{_value(v)}</dd>" for k, v in evidence.items())
    return f'<dl class="evidence">{rows}</dl>'


def _value(v: Any) -> str:
    if isinstance(v, str | int | float | bool) or v is None:
        return f"<code>{escape(json.dumps(v))}</code>"
    return f"<pre>{escape(json.dumps(v, indent=2, sort_keys=True, default=str))}</pre>"


def _findings(case: Case) -> str:
    findings = case.findings or (case.escalation.findings if case.escalation else [])
    if not findings:
        return ('<section aria-labelledby="findings"><h2 id="findings">Findings</h2>'
                '<p class="empty">No checks ran (the team was not identified, or a step failed first).</p></section>')
    cards = "".join(
        f'<article class="finding d-{escape(f.disposition)}" aria-labelledby="f-{escape(f.check)}">'
        f'<h3 id="f-{escape(f.check)}">{escape(f.check.capitalize())}: <code>{escape(f.code)}</code></h3>'
        f'<p>{_badge(f.disposition, "d")} {escape(f.summary)}'
        f'{" · fix <code>" + escape(f.fix) + "</code>" if f.fix else ""}</p>'
        f'<details><summary>Evidence</summary>{_evidence(f.evidence)}</details></article>'
        for f in findings)
    verification = ""
    if case.verification:
        v = case.verification
        verification = (f'<p>Verification after the fixes: {_badge(str(v.get("outcome")), "o")} '
                        f'{escape(str(v.get("reason", "")))} (probe '
                        f'{escape(str((v.get("probe") or {}).get("status", "–")))})</p>')
    return (f'<section aria-labelledby="findings"><h2 id="findings">Findings</h2>'
            f'<div class="findings">{cards}</div>{verification}</section>')


def _fix_audit(case: Case) -> str:
    rows = [f'<tr><th scope="row"><code>{escape(f.fix)}</code></th><td>{_badge(f.status, "fx")}</td>'
            f'<td>{escape(f.actor)}</td><td>{_ts(f.at)}</td><td>{_value(f.before)}</td><td>{_value(f.after)}</td>'
            f'<td>{escape(f.reason or "–")}</td></tr>' for f in case.fixes]
    return ('<section aria-labelledby="fixes"><h2 id="fixes">Fixes and their audit</h2>' +
            _table("Every fix: before, after, who or what, when",
                   ["Fix", "Status", "Actor", "When", "Before", "After", "Reason"], rows, "No fix was applied or "
                   "proposed.") + "</section>")


def _replies(case: Case) -> str:
    body = ""
    if case.customer_reply:
        body += f'<h3>To the customer</h3><pre class="reply">{escape(case.customer_reply)}</pre>'
    if case.internal_note:
        body += f'<h3>Internal note</h3><pre class="reply">{escape(case.internal_note)}</pre>'
    return ('<section aria-labelledby="replies"><h2 id="replies">Replies</h2>' +
            (body or '<p class="empty">No reply yet.</p>') + "</section>")


def _timeline(case: Case) -> str:
    events: list[tuple[datetime, str]] = [(case.created_at, "Case opened")]
    if case.report.received_at:
        events.append((case.report.received_at, "Reported"))
    if case.escalation and case.escalation.queued_at:
        events.append((case.escalation.queued_at, f"Queued for staff ({case.escalation.priority})"))
    # at equal times a staff decision comes before the fixes it approved
    events += [(d.decided_at, f"Staff {d.decision} by {d.actor}" + (f": “{d.note}”" if d.note else ""))
               for d in case.decisions]
    events += [(f.at, f"Fix {f.fix}: {f.status} by {f.actor}") for f in case.fixes]
    if case.status == "closed":
        events.append((case.updated_at, f"Closed ({case.resolution or case.outcome})"))
    items = "".join(f"<li>{_ts(at)} — {escape(what)}</li>" for at, what in sorted(events, key=lambda e: e[0]))
    return ('<section aria-labelledby="timeline"><h2 id="timeline">Timeline</h2>'
            f'<ol class="timeline">{items}</ol></section>')


def search_page(query: str, found: list[Case], now: datetime) -> str:
    form = ('<form method="get" action="/search" role="search" class="inline">'
            '<label for="q">Team id, slug, ticket or case</label>'
            f'<input id="q" name="q" type="search" value="{escape(query)}" autocomplete="off" required>'
            '<button type="submit">Search</button></form>')
    result = ""
    if query:
        rows = [_case_row(c, now) for c in found]
        result = _table(f"Cases matching “{query}”", ["Case", "Team", "Deciding finding", "Outcome", "Resolution",
                                                      "Updated"], rows, f"No case matches “{query}”.")
    return '<h1 tabindex="-1">Search</h1>' + form + result


def closed_page(found: list[Case], outcome: str | None, now: datetime) -> str:
    options = "".join(f'<option value="{o}"{" selected" if o == outcome else ""}>{o}</option>'
                      for o in stats.OUTCOMES)
    form = ('<form method="get" action="/closed" class="inline"><label for="outcome">Outcome</label>'
            f'<select id="outcome" name="outcome"><option value="">any</option>{options}</select>'
            '<button type="submit">Filter</button></form>')
    rows = [_case_row(c, now) for c in found]
    return ('<h1 tabindex="-1">Recently closed</h1>' + form +
            _table("Closed cases, most recent first", ["Case", "Team", "Deciding finding", "Outcome", "Resolution",
                                                       "Closed"], rows, "No closed case matches."))


def metrics_page(m: stats.Metrics, sla: timedelta) -> str:
    rate = m.auto_fix_rate
    tiles = (
        f'<div class="tiles">'
        f'<div class="tile"><h2>Auto-fix rate</h2><p class="big">{"–" if rate is None else f"{rate:.0%}"}</p>'
        f'{charts.gauge(rate, "Auto-fix rate")}<p class="muted">{m.auto_fixed} of {m.closed} closed cases</p></div>'
        f'<div class="tile"><h2>Resolution time</h2><p class="big">{stats.humanize(m.median_hours)}</p>'
        f'<p class="muted">median; p90 {stats.humanize(m.p90_hours)}</p></div>'
        f'<div class="tile"><h2>SLA breaches</h2><p class="big">{m.sla_breaches}</p>'
        f'<p class="muted">of {m.staff_cases} staff cases (SLA {stats.humanize(sla)}); '
        f'{m.waiting} waiting now</p></div>'
        f'</div>')
    series = (*stats.OUTCOMES, "open")
    table_rows = "".join(
        f'<tr><th scope="row">{d.isoformat()}</th>' + "".join(f"<td>{m.by_day[d].get(s, 0)}</td>" for s in series)
        + "</tr>" for d in m.days)
    table = (f'<details><summary>The numbers</summary><table><caption>Cases opened per day, by outcome</caption>'
             f'<thead><tr><th scope="col">Day</th>{"".join(f"<th scope=col>{s}</th>" for s in series)}</tr></thead>'
             f'<tbody>{table_rows}</tbody></table></details>')
    return ('<h1 tabindex="-1">Metrics</h1>' + tiles +
            '<section aria-labelledby="by-day"><h2 id="by-day">Cases by outcome per day</h2>' +
            (charts.stacked_bars(m.days, m.by_day, series, "Cases opened per day, by outcome") + table
             if m.days else '<p class="empty">No cases yet.</p>') + "</section>"
            '<section aria-labelledby="ttr"><h2 id="ttr">Time to resolution</h2>' +
            (charts.histogram(m.resolution_hours, "Closed cases by time from opening to closing")
             if m.resolution_hours else '<p class="empty">No closed cases yet.</p>') + "</section>")


IncidentMembers = list[tuple[MemberCase, Case | None]]


def _cause(incident: Incident) -> str:
    c = incident.cause
    return f'<code>{escape(c.code)}</code> “{escape(c.reason)}”'


def _incident_status(incident: Incident, now: datetime) -> str:
    return _badge("open", "inc") if incident.active(now) else _badge("quiet", "inc")


def incidents_page(rows: list[tuple[Incident, IncidentMembers]], now: datetime) -> str:
    """Incidents, newest first: cause, teams, cases waiting for staff, when it opened and last grew."""
    body = []
    for incident, members in rows:
        waiting = sum(1 for _, c in members if c is not None and c.status == "awaiting_staff")
        teams = len({m.team_id for m, _ in members})
        body.append(
            f'<tr><th scope="row"><a href="{incident_href(incident.incident_id)}">{escape(incident.incident_id)}</a>'
            f'</th><td>{_cause(incident)}</td><td>{teams}</td><td>{len(members)}</td><td>{waiting}</td>'
            f'<td>{_incident_status(incident, now)}</td><td>{_ts(incident.opened_at)}</td>'
            f'<td>{_ts(incident.last_joined_at)}</td></tr>')
    return ('<h1 tabindex="-1">Incidents</h1>'
            '<p class="summary">When three or more teams share a cause (the deciding finding’s code and its hold’s '
            'reason) within 24 hours, an incident opens; later cases with that cause join it, and one decision '
            'covers every member waiting for staff.</p>' +
            _table("Incidents, newest first", ["Incident", "Cause", "Teams", "Cases", "Waiting", "Status", "Opened",
                                               "Last case"], body,
                   "No incidents. When three or more teams share a cause within 24 hours, an incident opens and is "
                   "listed here with its member cases."))


def incident_page(incident: Incident, members: IncidentMembers, held: list[HeldTeam] | None, now: datetime,
                  sla: timedelta) -> str:
    waiting = [c for _, c in members if c is not None and c.status == "awaiting_staff"]
    teams = len({m.team_id for m, _ in members})
    head = (f'<h1 tabindex="-1">Incident <code>{escape(incident.incident_id)}</code></h1>'
            f'<p class="summary">{_incident_status(incident, now)} {_cause(incident)} · {teams} teams, '
            f'{len(members)} cases, <strong>{len(waiting)}</strong> waiting for staff · opened '
            f'{_ts(incident.opened_at)} by <a href="{case_href(incident.opened_by)}">{escape(incident.opened_by)}</a>'
            f' · last case {_ts(incident.last_joined_at)}</p>')
    rows = []
    for m, c in members:
        finding = stats.deciding_finding(c) if c else None
        proposed: list[str] = list(c.escalation.proposed_fixes) if c and c.escalation and c.status in stats.WAITING \
            else []
        last = c.decisions[-1] if c and c.decisions else None
        rows.append(
            f'<tr><th scope="row"><a href="{case_href(m.case_id)}">{escape(m.case_id)}</a></th>'
            f'<td><code>{escape(m.team_id)}</code>{"<br><span class=muted>included by staff</span>" if m.via == "included" else ""}</td>'  # noqa: E501
            f'<td>{_badge(c.status if c else "starting", "st")}</td><td>{_badge(c.outcome if c else None, "o")}</td>'
            f'<td>{_finding_line(finding)}</td><td>{_fixes(proposed)}</td>'
            f'<td>{escape(f"{last.decision} by {last.actor}") if last else "–"}</td></tr>')
    members_table = ('<section aria-labelledby="members"><h2 id="members">Member cases</h2>' +
                     _table("Every case with this cause since the incident’s first", [
                         "Case", "Team", "Status", "Outcome", "Deciding finding", "Proposed fixes", "Last decision"],
                         rows, "No member cases.") + "</section>")
    return head + _incident_form(incident, members, waiting, held, now, sla) + members_table + \
        _incident_decisions(incident)


def _held_list(held: list[HeldTeam] | None) -> str:
    if held is None:
        return ('<p class="muted">The platform does not list the other teams with this hold (it is not an '
                'automated hold, or its admin API does not offer the list).</p>')
    if not held:
        return '<p class="muted">Every team the platform lists with this hold has written in.</p>'
    items = "".join(
        f'<li><input type="checkbox" id="inc-{i}" name="include" value="{escape(t.team_id)}">'
        f'<label for="inc-{i}" class="inline-label"><code>{escape(t.team_id)}</code>'
        f'{" " + escape(t.slug) if t.slug else ""}'
        f'{" <span class=muted>held since " + _ts(t.since) + "</span>" if t.since else ""}</label></li>'
        for i, t in enumerate(held))
    return (f'<fieldset class="held"><legend>Teams held by the same rule that have not written in '
            f'({len(held)})</legend><p class="muted">A checked team gets a case started by staff, decided with the '
            f'incident once it waits for staff.</p><ul class="checks">{items}</ul></fieldset>')


def _incident_form(incident: Incident, members: IncidentMembers, waiting: list[Case], held: list[HeldTeam] | None,
                   now: datetime, sla: timedelta) -> str:
    proposed = sorted({f for c in waiting if c.escalation for f in c.escalation.proposed_fixes})
    if not proposed and held:  # nothing waits, but teams may be included: what their cases would propose
        proposed = sorted({f for _, c in members if c and (d := stats.deciding_finding(c)) for f in fixes_for(d)})
    late = sum(1 for c in waiting if stats.age(c, now) > sla)
    versions = "".join(f'<input type="hidden" name="version:{escape(c.case_id)}" value="{c.version}">'
                       for c in waiting)
    buttons = []
    if proposed:
        buttons.append('<button type="submit" name="decision" value="approve" class="approve">'
                       f'Approve for all: apply {escape(", ".join(proposed))}</button>')
    buttons.append('<button type="submit" name="decision" value="resolve">Resolve all (mended by hand)</button>')
    buttons.append('<button type="submit" name="decision" value="reject" class="reject">Reject all</button>')
    action = "/api" + incident_href(incident.incident_id) + "/decision"
    return (
        '<section aria-labelledby="decide" class="decide"><h2 id="decide">Decide for every waiting member</h2>'
        f'<p>{len(waiting)} member case{"s" if len(waiting) != 1 else ""} wait for staff'
        f'{f" ({late} past the SLA)" if late else ""}. Each goes through its own staff decision: its guardrails '
        '(one risk-hold lift per team in 30 days, the hourly lift cap), fixes, audit, verification and reply; a '
        'case that moved on since you opened this page is refused as stale and reported.</p>'
        f'<form method="post" action="{action}" class="decision" data-incident="{escape(incident.incident_id)}">'
        f'{versions}{_held_list(held)}'
        '<label for="note">Note (kept with each decision; not sent to customers)</label>'
        '<textarea id="note" name="note" rows="3" maxlength="2000"></textarea>'
        f'<div class="buttons">{"".join(buttons)}</div></form>'
        '<div id="decision-result" role="status" aria-live="polite"></div></section>')


def _incident_decisions(incident: Incident) -> str:
    if not incident.decisions:
        return ""
    parts = []
    for n, d in enumerate(reversed(incident.decisions)):
        rows = [f'<tr><th scope="row"><a href="{case_href(o.case_id)}">{escape(o.case_id)}</a></th>'
                f'<td><code>{escape(o.team_id or "–")}</code></td><td>{_badge(o.result, "r")}</td>'
                f'<td>{escape(o.detail or "–")}</td></tr>' for o in d.outcomes]
        parts.append(
            f'<article class="bulk" aria-labelledby="bulk-{n}"><h3 id="bulk-{n}">{escape(d.decision.capitalize())} by '
            f'{escape(d.actor)} at {_ts(d.decided_at)}</h3>'
            f'{"<p>“" + escape(d.note) + "”</p>" if d.note else ""}'
            f'<p class="muted">{escape(outcome_summary(d))}</p>' +
            _table("What the decision did to each member", ["Case", "Team", "Result", "Detail"], rows,
                   "No member was waiting.") + "</article>")
    return ('<section aria-labelledby="decisions"><h2 id="decisions">Decisions on this incident</h2>' +
            "".join(parts) + "</section>")


def outcome_summary(d: IncidentDecision) -> str:
    counts: dict[str, int] = {}
    for o in d.outcomes:
        counts[o.result] = counts.get(o.result, 0) + 1
    return ", ".join(f"{n} {r.replace('_', ' ')}" for r, n in sorted(counts.items())) or "no member"


def not_found_page(what: str) -> str:
    return f'<h1 tabindex="-1">Not found</h1><p>{escape(what)}</p><p><a href="/">Back to the queue</a></p>'


def query_string(**params: str | None) -> str:
    kept = {k: v for k, v in params.items() if v}
    return "?" + urlencode(kept) if kept else ""


SHELL = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>unblock staff console</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/static/console.css">
<script src="/static/console.js" defer></script>
</head>
<body data-login-url="{login_url}">
<a class="skip" href="#main">Skip to content</a>
<header class="top">
<p class="brand"><a href="/">unblock</a> <span class="muted">staff console</span></p>
<nav aria-label="Console"><ul>{nav}</ul></nav>
<p class="who"><span id="who"></span> <button type="button" id="signout" hidden>Sign out</button></p>
</header>
<main id="main" tabindex="-1">
<noscript><p>The console needs JavaScript: pages are fetched with your sign-in token.</p></noscript>
<p class="loading">Loading…</p>
</main>
</body>
</html>
"""


def shell(login_url: str = "") -> str:
    nav = "".join(f'<li><a href="{href}">{label}</a></li>' for href, label in NAV)
    return SHELL.format(login_url=escape(login_url), nav=nav)

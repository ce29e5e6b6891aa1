"""Every console page escapes every field it renders: markup, quotes, `javascript:` URLs, RTL overrides.

Each page is rendered twice, once from harmless values and once with a hostile value in every text
field a stored case, incident or platform answer can carry (each marked with the field's name): the
hostile page has exactly the elements and attributes of the harmless one (nothing was injected),
every field shows as text, no link leads anywhere but the console, and no bidi override reaches
the page (it could make a case id or a note read backwards).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

import pytest
from markupsafe import escape

from unblock.console import stats, views
from unblock.domain.cases import Case
from unblock.domain.causes import CaseLine, CauseHead, CauseView, Evidence, figures
from unblock.domain.incidents import Cause, Incident, IncidentDecision, MemberCase, MemberOutcome
from unblock.domain.models import Escalation, Finding, FixRecord, Report, Signal, StaffDecision
from unblock.domain.modes import ModeChange
from unblock.domain.platform_model import HeldTeam, RequestRecord
from unblock.domain.policies import Policy
from unblock.workflow.policies import PolicyView

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
SLA = timedelta(hours=4)
HOSTILE = {
    "markup": '<script>alert(1)</script><img src=x onerror=alert(1)><a href="/x">',
    "quotes": "\"' onmouseover=\"alert(1)\" data-x='",
    "javascript-url": "javascript:alert(document.domain)",
    "rtl-override": "invoice\u202efdp.exe",
}
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"

# the text fields of what a page shows, by page; (JSON) marks a field the page shows as JSON
CASE_ROW = ["case_id", "team_id", "team_hint", "finding.summary"]
FIELDS = {
    "queue": CASE_ROW,
    "case": ["case_id", "team_id", "ticket_id", "channel", "requester_email", "subject", "text", "facts.key",
             "facts.value", "finding.summary", "evidence.key", "evidence.value (JSON)",
             "evidence.nested (JSON)", "verification.reason", "escalation.reason", "fix.actor", "fix.reason",
             "fix.before (JSON)", "decision.actor", "decision.note", "customer_reply", "internal_note", "path",
             "incident_id", "signal.snippet", "request.request_id", "request.generation_id", "request.key_prefix",
             "request.endpoint", "request.model", "request.error_type", "request.message"],
    "search": [*CASE_ROW, "query"],
    "closed": CASE_ROW,
    "incidents": ["incident_id", "cause.code", "cause.reason"],
    "incident": ["incident_id", "cause.code", "cause.reason", "opened_by", "member.case_id", "member.team_id",
                 "held.team_id", "held.slug", "bulk.actor", "bulk.note", "outcome.case_id", "outcome.team_id",
                 "outcome.detail", "finding.summary", "decision.actor", "case_id"],
    "causes": ["cause.code", "cause.reason"],
    "cause": ["cause.code", "cause.reason", "line.case_id", "line.team_id", "line.actor", "decider", "owner",
              "policy.policy_id", "policy.owner", "policy.stopped_reason"],
    "metrics": [],  # counts and times only: no text of a case reaches it
    "not_found": ["case_id"],
    "mode": ["change.actor", "change.note", "admin_group"],
    "mode_admin": ["change.actor", "change.note"],
    "shell": [],  # the login address: a `javascript:` one is dropped, the others link as given
}


def _values(payload: str | None) -> Callable[[str], str]:
    """The value of each field: harmless (`v-<field>`), or the payload marked with the field's name."""
    return (lambda f: f"v-{f.split(' ')[0]}") if payload is None else (lambda f: f"{payload}|{f.split(' ')[0]}")


def _world(v: Callable[[str], str]) -> dict[str, Any]:
    finding = Finding(check="restrictions", code="restrictions.risk_hold", disposition="escalate",
                      summary=v("finding.summary"), fix="lift_risk_hold",
                      evidence={v("evidence.key"): v("evidence.value"), "nested": {"reason": v("evidence.nested")}})
    report = Report(case_id=v("case_id"), source="zendesk", ticket_id=v("ticket_id"), channel=v("channel"),
                    requester_email=v("requester_email"), subject=v("subject"), text=v("text"),
                    team_hint=v("team_hint"), facts={v("facts.key"): [v("facts.value")]}, received_at=NOW)
    fix = FixRecord(case_id=v("case_id"), team_id=v("team_id"), fix="lift_risk_hold", status="proposed",
                    actor=v("fix.actor"), at=NOW, before={"reason": v("fix.before")}, after={}, reason=v("fix.reason"))
    decision = StaffDecision(decision="approve", actor=v("decision.actor"), note=v("decision.note"), decided_at=NOW)
    # what the customer saw, and a request-log record as another adapter might give it
    signal = Signal(code="gateway.access_denied", snippet=v("signal.snippet"))
    record = RequestRecord.model_construct(
        request_id=v("request.request_id"), generation_id=v("request.generation_id"), team_id=v("team_id"),
        key_prefix=v("request.key_prefix"), at=NOW, endpoint=v("request.endpoint"), model=v("request.model"),
        status=403, error_type=v("request.error_type"), message=v("request.message"))
    common = dict(team_id=v("team_id"), report=report, findings=[finding], created_at=NOW - timedelta(hours=5),
                  updated_at=NOW, priority="high", signals=[signal], request=record)
    waiting = Case(case_id=v("case_id"), status="awaiting_staff", outcome="escalated", **common,
                   escalation=Escalation(reason=v("escalation.reason"), priority="high", findings=[finding],
                                         proposed_fixes=["lift_risk_hold"], must_rotate_key=True, queued_at=NOW),
                   verification={"outcome": "escalated", "reason": v("verification.reason"), "probe": {"status": 403}},
                   fixes=[fix], decisions=[decision], customer_reply=v("customer_reply"),
                   internal_note=v("internal_note"), task_token="SECRET-TASK-TOKEN")
    closed = waiting.model_copy(update={"status": "closed", "outcome": "auto_fixed", "resolution": "approved"})
    cause = Cause(code=v("cause.code"), reason=v("cause.reason"), hold="risk_hold")
    incident = Incident(incident_id=v("incident_id"), cause=cause,
                        opened_at=NOW, opened_by=v("opened_by"), teams_at_open=3, last_joined_at=NOW,
                        decisions=[IncidentDecision(decision="approve", actor=v("bulk.actor"), note=v("bulk.note"),
                                                    decided_at=NOW, outcomes=[MemberOutcome(
                                                        case_id=v("outcome.case_id"), team_id=v("outcome.team_id"),
                                                        result="decided", detail=v("outcome.detail"))])])
    member = MemberCase(case_id=v("member.case_id"), team_id=v("member.team_id"), joined_at=NOW)
    members = [(member, waiting)]
    # the platform's answer, as another adapter might give it (the platform model checks its shape today)
    held = [HeldTeam.model_construct(team_id=v("held.team_id"), slug=v("held.slug"), since=NOW)]
    changes = [ModeChange(at=NOW, actor=v("change.actor"), was="live", now="shadow", note=v("change.note"))]
    lines = [CaseLine(v("line.case_id"), v("line.team_id"), NOW, False, True, "closed", "auto_fixed", "approve",
                      v("line.actor"), NOW, timedelta(minutes=5), timedelta(minutes=40), NOW)]
    fig = figures(lines)
    fig = dataclasses.replace(fig, deciders=[v("decider")])
    head = CauseHead(cause=cause, first_seen=NOW, last_seen=NOW, owner_told_at=NOW)
    notice = Evidence(cause=cause, owner=v("owner"), approvals=5, decisions=6, window_days=30, teams=[],
                      first_seen=NOW, last_seen=NOW, decided=[])
    cause_view = CauseView(head, lines, fig, notice)
    live = Policy(policy_id=v("policy.policy_id"), cause=cause, fix="lift_risk_hold", owner=v("policy.owner"),
                  created_by="staff", created_at=NOW, expires_at=NOW + timedelta(days=7), status="live")
    stopped = live.model_copy(update={"status": "stopped", "stopped_reason": v("policy.stopped_reason")})
    policies = [PolicyView(live, "live", [], 1, 2), PolicyView(stopped, "stopped", [], 0, 0)]
    return {"waiting": waiting, "closed": closed, "incident": incident, "members": members, "held": held,
            "cause": cause_view, "policies": policies, "changes": changes}


def _render(page: str, v: Callable[[str], str]) -> str:
    w = _world(v)
    pages: dict[str, Callable[[], str]] = {
        "queue": lambda: views.queue_page([w["waiting"]], NOW, SLA),
        "case": lambda: views.case_page(w["waiting"], NOW, SLA, [v("path")], v("incident_id")),
        "search": lambda: views.search_page(v("query"), [w["closed"]], NOW),
        "closed": lambda: views.closed_page([w["closed"]], "auto_fixed", NOW),
        "incidents": lambda: views.incidents_page([(w["incident"], w["members"])], NOW),
        "incident": lambda: views.incident_page(w["incident"], w["members"], w["held"], NOW, SLA),
        "causes": lambda: views.causes_page([w["cause"]]),
        "cause": lambda: views.cause_page(w["cause"], w["policies"]),
        "metrics": lambda: views.metrics_page(stats.metrics([w["waiting"], w["closed"]], NOW, SLA), SLA),
        "not_found": lambda: views.not_found_page(f"No case {v('case_id')}."),
        "mode": lambda: views.mode_page("shadow", w["changes"], False, v("admin_group")),
        "mode_admin": lambda: views.mode_page("live", w["changes"], True, v("admin_group")),
        "shell": lambda: views.shell(v("login_url")),
    }
    return pages[page]()


class _Structure(HTMLParser):
    """The elements and attribute names of a page, and every address it links to."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, tuple[str, ...]]] = []
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, tuple(sorted(name for name, _ in attrs))))
        self.urls += [value or "" for name, value in attrs if name in ("href", "src", "action", "formaction")]


def _structure(html: str) -> _Structure:
    parser = _Structure()
    parser.feed(html)
    parser.close()
    return parser


def _shown(field: str, value: str) -> str:
    """How the page shows a field's value: escaped text, JSON for a JSON field, bidi overrides made visible."""
    if field.endswith("(JSON)"):
        return str(escape(json.dumps(value)))
    for ch in BIDI:
        value = value.replace(ch, f"[U+{ord(ch):04X}]")
    return str(escape(value))


@pytest.mark.parametrize("payload", HOSTILE.values(), ids=HOSTILE.keys())
@pytest.mark.parametrize("page", FIELDS.keys())
def test_every_page_escapes_every_field(page: str, payload: str) -> None:
    harmless, hostile = _render(page, _values(None)), _render(page, _values(payload))
    # nothing was injected: the same elements with the same attributes as from harmless values
    assert _structure(hostile).tags == _structure(harmless).tags
    for field in FIELDS[page]:
        value = _values(payload)(field)
        assert _values(None)(field) in harmless, f"{page} does not show {field}"
        assert _shown(field, value) in hostile, f"{page} does not show {field} as text"
    # links lead into the console only, whatever a field held
    assert all(u.startswith(("/", "#", "data:,")) for u in _structure(hostile).urls), _structure(hostile).urls
    assert not any(ch in hostile for ch in BIDI)
    assert "<script>" not in hostile and "SECRET-TASK-TOKEN" not in hostile


def test_the_fields_under_test_are_every_text_field_the_pages_show() -> None:
    """A field added to a page without a hostile value here fails: each page's harmless rendering shows
    no `v-` value this module does not list for it."""
    import re

    for page, fields in FIELDS.items():
        shown = set(re.findall(r"v-([a-z_]+(?:\.[a-z_]+)?)", _render(page, _values(None))))
        listed = {f.split(" ")[0] for f in fields}
        assert shown <= listed | {"login_url"}, (page, shown - listed)


@pytest.mark.parametrize("url,kept", [("https://idp.example.com/authorize?x=1&y=2", True),
                                      ("http://127.0.0.1:8790/login", True), ("javascript:alert(1)", False),
                                      ("data:text/html,<script>alert(1)</script>", False),
                                      ("//evil.example/x", False), ("", False)])
def test_the_sign_in_address_is_an_https_link_or_nothing(url: str, kept: bool) -> None:
    html = views.shell(url)
    assert f'data-login-url="{escape(url) if kept else ""}"' in html


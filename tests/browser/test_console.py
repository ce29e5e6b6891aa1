"""The staff console in a real browser: Playwright for Python driving Debian's Chromium.

The console is `unblock console`'s server (the same ConsoleFunction handler, through API
Gateway HTTP API events with the local identity's JWT claims) over the session's embedded
stack. Screenshots of each page go to build/screenshots/ (docs/console/ keeps current ones).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.support import EVENTS, ROOT, load_event

playwright_sync = pytest.importorskip("playwright.sync_api")
CHROMIUM = Path("/usr/bin/chromium")
SHOTS = ROOT / "build" / "screenshots"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
ORBIT = "team_H1ghR1skHo1d000000000000"

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (apt-get install chromium)")


@pytest.fixture(scope="module")
def server(stack_app: Any) -> Iterator[Any]:
    from unblock_dev.console_server import ConsoleServer

    srv = ConsoleServer(stack_app).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_sync.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any, server: Any, app: Any) -> Iterator[Any]:
    """A signed-in tab (the one-time link `unblock console` prints), on the queue."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    errors: list[str] = []
    tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda e: errors.append(str(e)))
    # pages that list or search cases query the table's indexes, which moto serves by walking every item:
    # slow once the session's tests have written a few thousand (DynamoDB reads only what a page shows)
    tab.set_default_timeout(30_000)
    tab.goto(server.login_url())
    tab.get_by_role("heading", level=1, name="Queue").wait_for()
    yield tab
    context.close()
    assert not [e for e in errors if "401" not in e and "409" not in e and "422" not in e], errors


def shot(tab: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def escalate(app: Any, name: str) -> str:
    result = app.run(load_event(name))
    assert result.outcome == "escalated"
    return str(result.case_id)


def open_case(tab: Any, case_id: str) -> None:
    tab.get_by_role("link", name="Queue").click()
    tab.get_by_role("link", name=case_id, exact=True).click()
    tab.get_by_role("heading", level=1, name=re.compile(re.escape(case_id))).wait_for()


def test_sign_in_is_one_time_and_the_queue_lists_escalations(page, browser, server, app):
    fraud = escalate(app, "ticket-fraud-review.json")
    risk = escalate(app, "ticket-high-risk-hold.json")
    app.clock.advance(timedelta(hours=5))  # both have waited past the 4 h SLA
    page.get_by_role("link", name="Queue").click()
    page.get_by_role("link", name=fraud, exact=True).wait_for()

    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=risk, exact=True))
    assert "restrictions.risk_hold" in row.inner_text() and "lift_risk_hold" in row.inner_text()
    assert "5.0 h / 4.0 h past SLA" in row.inner_text()
    assert "Signed in as staff:local" in page.locator("#who").inner_text()
    shot(page, "queue")

    # the same link again: the code was used once; a token-less request is refused
    url = server.login_url()
    other = browser.new_context().new_page()
    other.goto(url)
    other.get_by_role("heading", name="Queue").wait_for()
    again = browser.new_context().new_page()
    again.goto(url)
    again.get_by_role("alert").filter(has_text="already used").wait_for()
    shot(again, "sign-in")
    assert again.request.get(server.base_url + "/pages/queue").status == 401


def test_case_page_shows_evidence_path_fixes_and_no_secret(page, app):
    case_id = escalate(app, "ticket-high-risk-hold.json")
    open_case(page, case_id)

    for heading in ("Decide", "Why it needs a person", "Report (redacted)", "Findings", "Path through the workflow",
                    "Fixes and their audit", "Replies", "Timeline"):
        page.get_by_role("heading", name=heading, exact=True).wait_for()
    assert page.get_by_role("heading", name=re.compile("Restrictions: restrictions.risk_hold")).is_visible()
    path = page.locator("ol.path").inner_text()
    assert "CheckBilling" in path and "Escalate" in path
    page.get_by_text("Evidence").first.click()
    token = app.client.store.get(case_id).task_token
    assert token and token not in page.content()
    shot(page, "case")


def test_approve_resumes_the_workflow_and_the_customer_call_then_succeeds(page, app):
    from unblock_dev.gateway import make_gateway_server, sdk_call, seed_secrets, start_in_thread

    secret = next(iter(seed_secrets(json.loads((EVENTS / "platform.json").read_text()))[ORBIT].values()))
    gateway = make_gateway_server(app.platform, app.clock, probe_token="")
    start_in_thread(gateway)
    try:
        assert "PermissionDeniedError" in sdk_call(gateway.base_url, str(secret))
        case_id = escalate(app, "ticket-high-risk-hold.json")
        open_case(page, case_id)
        page.get_by_label("Note").fill("Checked the signup: a legitimate studio.")
        page.get_by_role("button", name=re.compile("^Approve")).click()
        page.get_by_role("status").filter(has_text="Approve recorded").wait_for()

        case = app.wait_for(case_id, lambda c: c.status == "closed")
        assert case.outcome == "auto_fixed" and case.resolution == "approved"
        assert [(d.decision, d.actor, d.note) for d in case.decisions] == [
            ("approve", "staff:local", "Checked the signup: a legitimate studio.")]
        assert case.fixes[0].actor == "staff:local"
        assert "PermissionDeniedError" not in sdk_call(gateway.base_url, str(secret))

        page.reload()
        page.get_by_text("closed", exact=True).first.wait_for()
        assert page.get_by_role("heading", name="Decide").count() == 0
        assert "Staff approve by staff:local" in page.locator("ol.timeline").inner_text()
        shot(page, "case-approved")
    finally:
        gateway.shutdown()
        gateway.server_close()


def test_reject_closes_the_case_as_rejected(page, app):
    case_id = escalate(app, "ticket-fraud-review.json")
    open_case(page, case_id)
    assert page.get_by_role("button", name=re.compile("^Approve")).count() == 0  # nothing to approve
    page.get_by_label("Note").fill("Fraud confirmed by the trust team.")
    page.get_by_role("button", name="Reject").click()
    page.get_by_role("status").filter(has_text="Reject recorded").wait_for()
    case = app.wait_for(case_id, lambda c: c.status == "closed")
    assert case.resolution == "rejected" and case.decisions[0].actor == "staff:local"


def test_a_stale_decision_is_refused_with_a_clear_message(page, app):
    decided = escalate(app, "ticket-fraud-review.json")
    open_case(page, decided)
    app.client.decide(decided, "resolve", "staff:someone-else")  # another staff member, meanwhile
    page.get_by_role("button", name="Resolve (mended by hand)").click()
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "already decided (resolve by staff:someone-else" in alert.inner_text()
    assert page.get_by_role("button", name="Reject").is_disabled()  # the form is stale
    shot(page, "stale-decision")
    page.get_by_role("link", name="Reload the case").click()
    page.get_by_role("heading", level=1, name=re.compile(re.escape(decided))).wait_for()

    moved = escalate(app, "ticket-fraud-review.json")
    open_case(page, moved)
    seen = app.client.store.get(moved)
    app.client.store.save(seen.model_copy(update={"priority": "high"}))  # re-queued meanwhile
    page.get_by_role("button", name="Reject").click()
    page.get_by_role("alert").filter(has_text="changed since you opened it").wait_for()
    assert app.client.store.get(moved).status == "awaiting_staff"


def test_search_by_team_slug_and_ticket(page, app):
    case_id = escalate(app, "ticket-fraud-review.json")
    case = app.client.store.get(case_id)
    page.get_by_role("link", name="Search").click()
    for query in (case.team_id, "quickcash-bots", case.report.ticket_id):
        page.get_by_label("Team id, slug, ticket or case").fill(query)
        page.get_by_role("button", name="Search").click()
        # this query's answer, not the previous one's (its link would already be on the page)
        page.get_by_text(f"Cases matching \u201c{query}\u201d").wait_for()
        page.get_by_role("link", name=case_id, exact=True).wait_for()
    shot(page, "search")
    page.get_by_label("Team id, slug, ticket or case").fill("zz-nothing-matches-9f3c")
    page.get_by_role("button", name="Search").click()
    page.get_by_text("No case matches").wait_for()


def test_closed_cases_filter_metrics_and_incidents(page, app):
    app.run(load_event("ticket-stale-billing-hold.json"))
    page.get_by_role("link", name="Closed").click()
    page.get_by_label("Outcome").select_option("auto_fixed")
    page.get_by_role("button", name="Filter").click()
    page.get_by_role("cell", name="auto_fixed").first.wait_for()
    shot(page, "closed")

    page.get_by_role("link", name="Metrics").click()
    page.get_by_role("heading", name="Cases by outcome per day").wait_for()
    assert page.locator("svg.chart rect").count() > 0
    assert re.search(r"\d+%", page.locator(".tile").first.inner_text())
    page.get_by_role("heading", name="Time to resolution", exact=True).wait_for()
    shot(page, "metrics")

    page.get_by_role("link", name="Incidents").click()
    page.get_by_role("heading", level=1, name="Incidents").wait_for()
    assert "When three or more teams share a cause" in page.locator("main").inner_text()


def test_an_incident_lists_its_members_and_held_teams_and_one_decision_ends_it(page, app):
    from datetime import UTC, datetime

    from tests.support import take_human_queue_messages
    from unblock.workflow.incidents import included_case_id

    day = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)  # a day of its own (the wave in test_incident_trust is on 2027-02-01)
    wave = ["wave-1-comet-labs.json", "wave-2-tidal-forge.json", "wave-3-ember-analytics.json"]
    members = [app.run(load_event(n), at=day + timedelta(minutes=5 * i)).case_id for i, n in enumerate(wave)]
    incident_id = app.client.incidents.incident_of(members[0])
    sable = "team_VeL0c1tyWave000000000006"
    included = included_case_id(sable, incident_id)
    try:
        page.get_by_role("link", name="Incidents").click()
        row = page.get_by_role("row").filter(has=page.get_by_role("link", name=incident_id, exact=True))
        assert "new account velocity" in row.inner_text() and "restrictions.risk_hold" in row.inner_text()
        shot(page, "incidents")
        row.get_by_role("link", name=incident_id).click()
        page.get_by_role("heading", level=1, name=re.compile(re.escape(incident_id))).wait_for()
        table = page.get_by_role("region", name="Member cases")
        for case_id in members:
            table.get_by_role("link", name=case_id, exact=True).wait_for()
        held = page.get_by_role("group", name=re.compile("Teams held by the same rule"))
        assert "(4)" in held.inner_text() and "lumen-metrics" in held.inner_text()
        held.get_by_label(re.compile("sable-robotics")).check()
        page.get_by_label("Note").fill("The velocity rule misfired on new accounts.")
        shot(page, "incident")

        page.get_by_role("button", name=re.compile("^Approve for all")).click()
        page.get_by_role("status").filter(has_text="Approve recorded for incident").wait_for(timeout=40_000)
        decisions = page.get_by_role("region", name="Decisions on this incident")
        assert decisions.get_by_text("decided", exact=True).count() == 4  # three members and the included team
        for case_id in [*members, included]:
            case = app.wait_for(case_id, lambda c: c.status == "closed", timeout=60)
            assert (case.outcome, case.resolution) == ("auto_fixed", "approved")
            assert case.decisions[-1].note == "The velocity rule misfired on new accounts."
        page.reload()
        page.get_by_role("region", name="Member cases").get_by_role("link", name=included, exact=True).wait_for()
        assert page.get_by_role("heading", name="Decide for every waiting member").is_visible()
        assert "0 member cases wait for staff" in page.locator("section.decide").inner_text()
        shot(page, "incident-decided")

        page.get_by_role("region", name="Member cases").get_by_role("link", name=members[0], exact=True).click()
        page.get_by_role("link", name=incident_id, exact=True).wait_for()  # a case links its incident
    finally:
        take_human_queue_messages(app, {*members, included})


def test_keyboard_only(page, app):
    case_id = escalate(app, "ticket-fraud-review.json")
    page.get_by_role("link", name="Queue").click()
    page.get_by_role("link", name=case_id, exact=True).wait_for()

    def tab_to(predicate: str, limit: int = 60) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            if page.evaluate(predicate):
                return
        raise AssertionError(f"Tab never reached {predicate}")

    page.locator("h1").focus()
    tab_to(f"document.activeElement.textContent === {json.dumps(case_id)}")
    page.keyboard.press("Enter")
    page.get_by_role("heading", level=1, name=re.compile(re.escape(case_id))).wait_for()
    assert page.evaluate("document.activeElement.tagName") == "H1"  # focus moves to the new page
    tab_to("document.activeElement.id === 'note'")
    page.keyboard.type("Resolved by hand, keyboard only.")
    tab_to("document.activeElement.textContent.startsWith('Resolve')")
    page.keyboard.press("Enter")
    page.get_by_role("status").filter(has_text="Resolve recorded").wait_for()
    case = app.wait_for(case_id, lambda c: c.status == "closed")
    assert case.decisions[0].note == "Resolved by hand, keyboard only."


def test_screenshots_are_kept_for_the_docs():
    """docs/console.md shows current screenshots from docs/console/ (this module writes them to
    build/screenshots/; copy them over when the pages change)."""
    docs = ROOT / "docs" / "console"
    text = (ROOT / "docs" / "console.md").read_text()
    for name in ("queue", "case", "case-approved", "stale-decision", "search", "closed", "metrics", "incidents",
                 "incident", "incident-decided"):
        assert (docs / f"{name}.png").exists() and f"(console/{name}.png)" in text
        if not (SHOTS / f"{name}.png").exists():
            continue  # this test ran alone
        assert (SHOTS / f"{name}.png").stat().st_size > 10_000


def _goto_case(tab: Any, server: Any, case_id: str) -> None:
    from urllib.parse import quote

    tab.goto(f"{server.base_url}/cases/{quote(case_id, safe='')}")
    tab.get_by_role("heading", level=1, name=re.compile(re.escape(case_id))).wait_for()


def test_staff_revert_a_fix_from_the_case_page(page, server, app):
    fixed = app.run(load_event("ticket-stale-billing-hold.json"))
    assert fixed.outcome == "auto_fixed"
    _goto_case(page, server, fixed.case_id)

    undo = page.get_by_role("region", name="Undo a fix")
    undo.get_by_label(re.compile("^Why")).fill("The bank asked us to keep the hold.")
    undo.get_by_role("button", name="Revert clear_billing_hold").click()

    page.get_by_role("status").filter(has_text="Reverted for").wait_for()
    page.get_by_role("region", name="Undo a fix").get_by_text("reverted by staff:local").wait_for()
    assert page.get_by_role("button", name="Revert clear_billing_hold").count() == 0
    assert app.platform.get_team(fixed.team_id).billing.hold.active
    shot(page, "case-reverted")


def test_staff_mark_a_shadow_case_and_a_disagreement_needs_a_note(page, server, app):
    with app.mode("shadow"):
        shadow = app.run(load_event("ticket-stale-billing-hold.json"))
    _goto_case(page, server, shadow.case_id)

    region = page.get_by_role("region", name="Shadow mode: what unblock would have done")
    assert "auto_fixed" in region.inner_text() and "clear_billing_hold" in region.inner_text()
    region.get_by_role("button", name="Disagree").click()
    page.get_by_role("alert").filter(has_text="needs a note").wait_for()
    region.get_by_label(re.compile("^Note")).fill("The hold was placed by finance on purpose.")
    region.get_by_role("button", name="Disagree").click()
    page.locator("#shadow-verdict").filter(has_text="disagree by staff:local").wait_for()
    shot(page, "case-shadow")

    page.get_by_role("link", name="Metrics").click()
    page.get_by_role("heading", name="Shadow agreement").wait_for()
    assert "billing.stale_hold" in page.get_by_role("region", name="Shadow mode: staff agreement").inner_text()

"""Replies and privacy (DESIGN.md "Who may act on which team"), over every finding combination."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from unblock.domain import replies
from unblock.domain.cases import Case
from unblock.domain.checks import CATALOGUE
from unblock.domain.models import Finding, FixRecord, Report

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
SECRET_FACTS = ["0.87", "risk score", "velocity rule 7", "chargeback", "fraud", "abuse", "sanction"]
CODES = sorted(CATALOGUE)


def _finding(code: str) -> Finding:
    disposition, fix, summary, _ = CATALOGUE[code]
    check = code.split(".")[0]
    evidence: dict[str, Any] = {"reason": "velocity rule 7", "risk_score": 0.87}
    return Finding(check=check, code=code, disposition=disposition, summary=summary, evidence=evidence, fix=fix)


cases = st.builds(
    dict,
    codes=st.lists(st.sampled_from(CODES), min_size=1, max_size=3),
    outcome=st.sampled_from(["auto_fixed", "customer_action", "escalated", "already_working", "needs_info",
                             "handed_off"]),
    status=st.sampled_from(["open", "awaiting_customer", "awaiting_staff", "closed"]),
    resolution=st.sampled_from([None, "verified", "approved", "resolved", "rejected", "timed_out", "stale",
                                "checks_pass"]),
    fixes=st.lists(st.sampled_from(["clear_billing_hold", "resync_key", "resync_entitlements", "lift_risk_hold"]),
                   unique=True),
    verified=st.booleans(),
    channel=st.sampled_from(["email", "web", "forum"]),
    pasted=st.booleans(),
)


def _case(c: dict[str, Any]) -> tuple[Case, list[Finding]]:
    findings = [_finding(code) for code in c["codes"]]
    report = Report(case_id="zendesk:1", source="discourse" if c["channel"] == "forum" else "zendesk",
                    channel=c["channel"], requested_by="lena_v", secrets_redacted=int(c["pasted"]))
    fixes = [FixRecord(case_id="zendesk:1", team_id="team_x", fix=f, status="applied", actor="unblock", at=NOW)
             for f in c["fixes"]]
    case = Case(case_id="zendesk:1", report=report, outcome=c["outcome"], status=c["status"],
                resolution=c["resolution"], findings=findings, fixes=fixes, requester_verified=c["verified"],
                created_at=NOW, updated_at=NOW)
    return case, findings


@settings(max_examples=300, deadline=None)
@given(cases)
def test_no_reply_reveals_internal_signals_and_strangers_learn_no_facts(c):
    case, findings = _case(c)
    public = replies.customer_reply(case, findings) or ""
    private = replies.private_reply(case, findings) or ""
    for text in (public, private):
        for word in SECRET_FACTS:
            assert word not in text.lower()
        assert " we ." not in text and "we  " not in text and ": we ." not in text  # no empty slot
    if not case.requester_verified or case.report.channel == "forum":
        # general terms only: no step for a finding, no name of a fix
        for step in replies.STEPS.values():
            assert step not in public
        for fixed in replies.FIXED.values():
            assert fixed not in public
    if case.report.channel == "forum":
        # a public topic never asks for a team id or a key (DESIGN.md "Conversations")
        assert "reply with your team id" not in public.lower() and "team_" not in public
    if case.outcome == "needs_info" and case.report.channel == "forum":
        assert private == replies.NEEDS_INFO + " " + replies.PRIVATE_ONLY + (
            "\n\n" + replies.ROTATE if case.report.must_rotate_key else "")  # the question only, privately
    elif not case.requester_verified:
        assert private == ""


def test_a_verified_forum_poster_without_a_private_message_is_told_where_the_details_are() -> None:
    """A normalized forum event names no Discourse user to message: the public reply stays general
    and says how to get the specifics instead of leaving the step unsaid."""
    expired = _finding("billing.payment_method_expired")
    report = Report(case_id="ticket:1", source="eventbridge", channel="forum", requester_email="dev@acme.test")
    case = Case(case_id="ticket:1", report=report, outcome="customer_action", status="awaiting_customer",
                findings=[expired], requester_verified=True, created_at=NOW, updated_at=NOW)
    public = replies.customer_reply(case, [expired]) or ""
    assert replies.STEPS["billing.payment_method_expired"] not in public
    assert "private support form" in public and "private message" not in public

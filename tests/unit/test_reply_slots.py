"""Every reply reads as a whole sentence: no outcome and fix combination leaves a slot empty
(issue 13.6: "We found the cause and fixed it: we ." when the fix was found already done)."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from unblock.domain.cases import Case
from unblock.domain.checks import CATALOGUE
from unblock.domain.models import Finding, FixRecord, Report
from unblock.domain.replies import customer_reply
from unit_support import NOW

OUTCOMES = st.sampled_from(["auto_fixed", "customer_action", "escalated", "already_working", "needs_info"])
STATUSES = st.sampled_from(["open", "awaiting_customer", "awaiting_staff", "closed"])
RESOLUTIONS = st.sampled_from(["verified", "approved", "resolved", "rejected", "timed_out", "stale", "checks_pass",
                               None])
FIXES = st.lists(st.tuples(st.sampled_from(["clear_billing_hold", "resync_key", "resync_entitlements",
                                            "lift_risk_hold"]),
                           st.sampled_from(["applied", "proposed", "already_done", "refused"])), max_size=5)
CODES = st.lists(st.sampled_from(sorted(CATALOGUE)), max_size=3)
EMPTY_SLOT = re.compile(r"\bwe\s*[.,:;]|\band\s*[.,:;]|\s[.,:;]|  |\{|\}|: \.|\bWe ,", re.IGNORECASE)


def _finding(code: str) -> Finding:
    disposition, fix, summary, _ = CATALOGUE[code]
    return Finding(check=code.split(".")[0], code=code, disposition=disposition, summary=summary or code, fix=fix)


@settings(max_examples=400, deadline=None)
@given(outcome=OUTCOMES, status=STATUSES, resolution=RESOLUTIONS, fixes=FIXES, codes=CODES,
       secrets=st.sampled_from([0, 1]))
def test_no_reply_ever_has_an_empty_slot(outcome, status, resolution, fixes, codes, secrets):
    case = Case(case_id="zendesk:1", outcome=outcome, status=status, resolution=resolution, team_id="team_x",
                requester_verified=True,
                report=Report(case_id="zendesk:1", source="eventbridge", secrets_redacted=secrets),
                fixes=[FixRecord(case_id="zendesk:1", team_id="team_x", fix=f, status=s, actor="unblock", at=NOW)
                       for f, s in fixes], created_at=NOW, updated_at=NOW)

    reply = customer_reply(case, [_finding(c) for c in codes])

    if reply is None:
        return
    assert reply.strip() and not EMPTY_SLOT.search(reply), reply
    lines = reply.split("\n")
    for i, line in enumerate(lines):
        if line.endswith(":"):  # a lead names what follows: at least one item under it
            assert i + 1 < len(lines) and lines[i + 1].startswith("- "), reply


def test_a_fix_found_already_done_still_reads_as_fixed():
    case = Case(case_id="zendesk:1", outcome="auto_fixed", status="closed", team_id="team_x", requester_verified=True,
                report=Report(case_id="zendesk:1", source="eventbridge"), created_at=NOW, updated_at=NOW,
                fixes=[FixRecord(case_id="zendesk:1", team_id="team_x", fix="clear_billing_hold",
                                 status="already_done", actor="unblock", at=NOW)])

    assert "we removed a billing hold" in customer_reply(case, [])


def test_a_lapsed_wait_never_tells_the_customer_a_review_happened():
    case = Case(case_id="zendesk:1", outcome="escalated", status="closed", resolution="timed_out", team_id="team_x",
                report=Report(case_id="zendesk:1", source="eventbridge"), created_at=NOW, updated_at=NOW)

    reply = customer_reply(case, [])

    assert "reviewed your case" not in reply and "nobody has reviewed it" in reply

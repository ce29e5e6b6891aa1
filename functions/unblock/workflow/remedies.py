"""ApplyFixes and ApplyApprovedFixes, each followed by its verification: where a fix is applied.

Served by the FixFunction (handlers/fix.py), the one function that may change the platform. It
applies (or, where a guardrail holds, proposes) the fixes, each audited and idempotent per case
and fix (domain/fixes.py), then in the same invocation runs the three checks again and probes the
gateway: only a verified fix closes a case as auto_fixed. A fix held for staff is not verified
(nothing changed yet).
"""

from __future__ import annotations

from dataclasses import dataclass

from unblock.domain.fixes import FixPolicy
from unblock.domain.models import FixName, FixRecord, ProbeResult
from unblock.ports import CaseStore, Clock, FixLedger, Platform
from unblock.workflow import steps
from unblock.workflow.models import HeldFix, Remedy, Verification


@dataclass(frozen=True)
class Remedied:
    remedy: Remedy
    records: list[FixRecord]
    probe: ProbeResult | None  # None: held for staff, not verified


def fix_and_verify(platform: Platform, cases: CaseStore, ledger: FixLedger, clock: Clock, case_id: str,
                   fixes: list[FixName], policy: FixPolicy, actor: str, approved: bool) -> Remedied:
    records = steps.apply_case_fixes(platform, cases, ledger, clock, case_id, fixes, policy, actor, approved)
    remedy = Remedy(applied=[r.fix for r in records if r.status in ("applied", "already_done")],
                    held=[HeldFix(fix=r.fix, status=r.status, reason=r.reason)
                          for r in records if r.status in ("proposed", "refused")])
    remedy.needs_staff = bool(remedy.held)
    if remedy.needs_staff:
        return Remedied(remedy, records, None)
    outcome, reason, after, probe = steps.verify_case(platform, cases, clock, case_id)
    remedy.verification = Verification(outcome=outcome, reason=reason, probe_status=probe.status,
                                       codes=[f.code for f in after])
    return Remedied(remedy, records, probe)

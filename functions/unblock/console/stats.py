"""What the console computes over cases: the queue's order and age, and the metrics.

Plain functions over Case documents (no AWS): the views render what these return.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from unblock.domain import case_search
from unblock.domain.cases import Case
from unblock.domain.models import OUTCOMES as OUTCOMES  # the closed page's filter, the metrics' series
from unblock.domain.models import SEVERITY, Finding

PRIORITY_RANK = {"urgent": 0, "high": 1, "normal": 2}
WAITING = case_search.WAITING_FOR_STAFF
CLOSED_SHOWN = 50  # the closed page: the most recently closed cases


def waiting_since(case: Case) -> datetime:
    """When the case was handed to staff (its first escalation; cases escalate on opening)."""
    return case.created_at


def age(case: Case, now: datetime) -> timedelta:
    return max(now - waiting_since(case), timedelta(0))


def queue_order(cases: list[Case]) -> list[Case]:
    """Cases waiting for staff: highest priority first, then the longest waiting."""
    waiting = [c for c in cases if c.status in WAITING]
    return sorted(waiting, key=lambda c: (PRIORITY_RANK.get(c.priority, 9), waiting_since(c), c.case_id))


def deciding_finding(case: Case) -> Finding | None:
    """The finding that decided the outcome: the most severe (escalate before auto_fix before customer_action)."""
    findings = case.escalation.findings if case.escalation and case.escalation.findings else case.findings
    if not findings:
        return None
    return max(findings, key=lambda f: SEVERITY.get(f.disposition, 0))


def team_slug(case: Case) -> str | None:
    return case_search.team_slug(case)


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile (p in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))  # ceil
    return ordered[int(rank) - 1]


@dataclass
class Metrics:
    days: list[date] = field(default_factory=list)
    by_day: dict[date, Counter[str]] = field(default_factory=dict)  # outcome counts per day (cases opened)
    by_signal: Counter[str] = field(default_factory=Counter)  # cases by what the customer saw
    total: int = 0
    closed: int = 0
    auto_fixed: int = 0
    resolution_hours: list[float] = field(default_factory=list)
    median_hours: float | None = None
    p90_hours: float | None = None
    sla_breaches: int = 0
    staff_cases: int = 0
    waiting: int = 0
    fixes_applied: int = 0  # fixes unblock applied (the ones staff could revert)
    reverts: int = 0  # of those, reverted by staff (a revert rate is the other half of trust)
    shadow: ShadowAgreement = field(default_factory=lambda: ShadowAgreement())

    @property
    def auto_fix_rate(self) -> float | None:
        return self.auto_fixed / self.closed if self.closed else None

    @property
    def revert_rate(self) -> float | None:
        return self.reverts / self.fixes_applied if self.fixes_applied else None


@dataclass
class Agreement:
    marked: int = 0
    agreed: int = 0

    @property
    def rate(self) -> float | None:
        return self.agreed / self.marked if self.marked else None


@dataclass
class ShadowAgreement:
    """Staff verdicts on shadow cases: overall, by what unblock would have done, by deciding finding."""

    cases: int = 0  # shadow cases, marked or not
    overall: Agreement = field(default_factory=Agreement)
    by_outcome: dict[str, Agreement] = field(default_factory=lambda: defaultdict(Agreement))
    by_finding: dict[str, Agreement] = field(default_factory=lambda: defaultdict(Agreement))


def shadow_agreement(cases: list[Case]) -> ShadowAgreement:
    out = ShadowAgreement()
    for c in cases:
        if c.shadow is None:
            continue
        out.cases += 1
        if c.shadow.verdict is None:
            continue
        finding = deciding_finding(c)
        rows = [out.overall, out.by_outcome[c.shadow.outcome], out.by_finding[finding.code if finding else "none"]]
        for row in rows:
            row.marked += 1
            row.agreed += c.shadow.verdict == "agree"
    return out


def metrics(cases: list[Case], now: datetime, sla: timedelta, days: int = 14) -> Metrics:
    """Cases by outcome per day (the last `days` days with cases), auto-fix rate over closed cases,
    time to resolution (opened to closed), and SLA breaches (staff cases waiting, or decided,
    past the SLA)."""
    m = Metrics(total=len(cases))
    by_day: dict[date, Counter[str]] = defaultdict(Counter)
    m.shadow = shadow_agreement(cases)
    for c in cases:
        m.fixes_applied += len(c.fixes_applied)
        m.reverts += len(c.reverts)
        if c.mode == "shadow":
            continue  # its last run was a shadow run: it did nothing, it counts towards the agreement rate only
        by_day[c.created_at.date()][c.outcome or "open"] += 1
        m.by_signal.update(c.signal_codes)
        if c.status == "closed":
            m.closed += 1
            m.auto_fixed += c.outcome == "auto_fixed"
            m.resolution_hours.append(max((c.updated_at - c.created_at).total_seconds(), 0) / 3600)
        if c.escalation is not None or c.decisions:
            m.staff_cases += 1
            end = c.decisions[0].decided_at if c.decisions else (now if c.status in WAITING else c.updated_at)
            m.sla_breaches += end - waiting_since(c) > sla
        m.waiting += c.status in WAITING
    m.days = sorted(by_day)[-days:]
    m.by_day = {d: by_day[d] for d in m.days}
    m.median_hours = percentile(m.resolution_hours, 50)
    m.p90_hours = percentile(m.resolution_hours, 90)
    return m


def humanize(delta: timedelta | float | None) -> str:
    """A duration as people read it: 45 s, 12 min, 3.5 h, 2.1 d."""
    if delta is None:
        return "–"
    seconds = delta.total_seconds() if isinstance(delta, timedelta) else float(delta) * 3600
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"

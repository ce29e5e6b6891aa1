"""An in-memory FixLedger: the fake for unit tests (the cases table's ledger on AWS)."""

from __future__ import annotations

from datetime import datetime, timedelta

from unblock.domain.models import FixName, FixRecord


class MemoryLedger:
    """An in-memory FixLedger: the fake for unit tests."""

    def __init__(self) -> None:
        self.records: list[FixRecord] = []
        self.claims: dict[str, datetime] = {}  # case id -> when it claimed a lift
        self.begun: set[tuple[str, FixName]] = set()
        self.reverts: list[datetime] = []

    def find(self, case_id: str, fix: FixName) -> FixRecord | None:
        return next((r for r in reversed(self.records) if r.case_id == case_id and r.fix == fix), None)

    def record(self, rec: FixRecord) -> None:
        self.records.append(rec)

    def lifts_since(self, since: datetime) -> int:
        return sum(1 for r in self.records if r.fix == "lift_risk_hold" and r.status == "applied" and r.at >= since)

    def claim_lift(self, case_id: str, at: datetime, cap: int) -> bool:
        if case_id in self.claims:
            return True
        recorded = {r.case_id for r in self.records if r.fix == "lift_risk_hold" and r.status == "applied"
                    and r.at >= at - timedelta(hours=1)}
        claimed = {c for c, t in self.claims.items() if t >= at - timedelta(hours=1)}
        if len(recorded | claimed) >= cap:
            return False
        self.claims[case_id] = at
        return True

    def release_lift(self, case_id: str, at: datetime) -> None:
        self.claims.pop(case_id, None)

    def fixes_since(self, since: datetime) -> int:
        return sum(1 for r in self.records if r.status == "applied" and r.actor == "unblock" and r.at >= since)

    def record_revert(self, case_id: str, fix: FixName, at: datetime) -> None:
        self.reverts.append(at)

    def reverts_since(self, since: datetime) -> int:
        return sum(1 for at in self.reverts if at >= since)

    def begin_fix(self, case_id: str, fix: FixName) -> bool:
        retry = (case_id, fix) in self.begun
        self.begun.add((case_id, fix))
        return retry

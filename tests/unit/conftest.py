"""Fixtures for the unit tests: a FixedClock at NOW and the sandbox platform over an in-memory
table (memory_table.py), created once per test function; `dynamodb_table` is the same table on
moto (HASH key `pk`, PAY_PER_REQUEST) for tests of the adapter itself.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from memory_ledger import MemoryLedger
from moto import mock_aws

from memory_table import MemoryTable
from unblock.adapters.platform_sandbox import SandboxPlatform
from unblock.domain.platform_model import Seed
from unblock_dev.clock import FixedClock
from unit_support import NOW, make_team, other_team


# --- fixtures ----------------------------------------------------------------------------
@pytest.fixture(scope="session")
def boto_session() -> boto3.Session:
    """One session for all tests (loading the service model once); fake credentials, moto answers."""
    return boto3.Session(region_name="us-east-1", aws_access_key_id="testing",
                         aws_secret_access_key="testing")


@pytest.fixture
def table() -> MemoryTable:
    """The sandbox platform's table, in memory: domain and property tests run the real
    SandboxPlatform (its own team transforms) without a mock (memory_table.py)."""
    return MemoryTable()


@pytest.fixture
def dynamodb_table(boto_session: boto3.Session) -> Iterator[Any]:
    """The same table on moto, for tests whose subject is the adapter over DynamoDB."""
    # a name of its own and deleted after: a mock_aws nested in a session-wide one keeps its data
    with mock_aws():
        table = boto_session.resource("dynamodb").create_table(
            TableName=f"unblock-unit-platform-{uuid.uuid4().hex[:12]}",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield table
        table.delete()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def platform(table: Any, clock: FixedClock) -> SandboxPlatform:
    return SandboxPlatform(table, clock)


@pytest.fixture
def ledger() -> MemoryLedger:
    return MemoryLedger()


@pytest.fixture
def seed(platform: SandboxPlatform) -> Callable[..., str]:
    """Load teams (seed dicts) into the sandbox, plus the other team; returns the first team's id."""

    def load(*teams: dict[str, Any]) -> str:
        teams = teams or (make_team(),)
        platform.load(Seed.model_validate({"teams": [*teams, other_team()]}))
        return str(teams[0]["team_id"])

    return load

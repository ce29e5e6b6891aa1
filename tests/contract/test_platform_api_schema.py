"""schemathesis against the served sandbox platform with docs/platform-api.yaml.

Every operation is exercised with examples from the document, its coverage cases
(boundaries, missing headers, wrong methods, missing auth) and generated data, positive
and negative; the checks assert no server error and no response that breaks the
document. The sandbox is a moto table seeded from events/platform.json.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from moto import mock_aws

from tests.support import EVENTS, ROOT

SPEC = ROOT / "docs" / "platform-api.yaml"
TOKEN = "contract-test-token"

schema = schemathesis.openapi.from_path(str(SPEC))
schema.config.generation.update(max_examples=10, deterministic=True)


@pytest.fixture(scope="module")
def api_url() -> Iterator[str]:
    from datetime import UTC, datetime

    from unblock.adapters.platform_sandbox import SandboxPlatform
    from unblock.domain.platform_model import load_seed_text
    from unblock_dev.api_server import make_api_server
    from unblock_dev.clock import FixedClock

    with mock_aws():
        table: Any = boto3.resource("dynamodb", region_name="us-east-1").create_table(
            TableName="platform-contract", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
        sandbox = SandboxPlatform(table, FixedClock(datetime(2026, 11, 26, 10, 0, tzinfo=UTC)))
        sandbox.load(load_seed_text((EVENTS / "platform.json").read_text()))
        with make_api_server(sandbox, token=TOKEN) as server:
            yield server.url


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck))
def test_the_sandbox_platform_keeps_the_documented_contract(case: Any, api_url: str) -> None:
    case.call_and_validate(base_url=api_url, headers={"Authorization": f"Bearer {TOKEN}"})


def _resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _branches(schema: dict[str, Any], resolve: Any) -> list[dict[str, Any]]:
    schema = resolve(schema)
    alternatives = schema.get("oneOf") or schema.get("anyOf")
    return [resolve(b) for b in alternatives] if alternatives else [schema]


def _traits(schema: dict[str, Any], resolve: Any) -> tuple[bool, str | None]:
    """(nullable, pattern) of a property schema, through $ref, oneOf/anyOf and type lists."""
    branches = _branches(schema, resolve)
    types = [t for b in branches for t in (b["type"] if isinstance(b.get("type"), list) else [b.get("type")])]
    patterns = [b["pattern"] for b in branches if "pattern" in b]
    return "null" in types, patterns[0] if patterns else None


def test_the_document_describes_every_field_of_the_read_models() -> None:
    """The document and the port's read models (unblock.domain.platform_model, ProbeResult) must not drift apart:
    the same properties, the same required ones, the same patterns, the same nullability."""
    import yaml
    from pydantic import BaseModel

    from unblock.domain.models import ProbeResult
    from unblock.domain.platform_model import (
        AutoLift,
        Billing,
        Entitlements,
        HeldTeam,
        Invoice,
        Key,
        RequestRecord,
        Restriction,
        Team,
        TeamMember,
    )

    components = yaml.safe_load(SPEC.read_text())["components"]["schemas"]

    def doc(schema: dict[str, Any]) -> dict[str, Any]:
        return _resolve(schema, components)

    def compare(model: type[BaseModel], component: dict[str, Any], where: str) -> None:
        component = doc(component)
        props = dict(component.get("properties", {}))
        fields = {name: info for name, info in model.model_fields.items() if name != "secret_sha256"}  # never served
        assert set(props) == set(fields), f"{where}: document {sorted(props)} != model {sorted(fields)}"
        required = {name for name, info in fields.items() if info.is_required()}
        assert set(component.get("required", [])) == required, f"{where}: required"
        model_schema = model.model_json_schema(mode="serialization")
        defs = model_schema.get("$defs", {})

        def own(schema: dict[str, Any]) -> dict[str, Any]:
            return _resolve(schema, defs)

        for name, info in fields.items():
            nested = info.annotation
            if isinstance(nested, type) and issubclass(nested, BaseModel):
                compare(nested, props[name], f"{where}.{name}")
                continue
            assert _traits(props[name], doc) == _traits(model_schema["properties"][name], own), f"{where}.{name}"

    for model in (Team, Billing, Key, Restriction, AutoLift, Entitlements, ProbeResult, HeldTeam, RequestRecord):
        compare(model, components[model.__name__], model.__name__)
    compare(TeamMember, components["Member"], "Member")  # the API's name for a team's member
    compare(Invoice, components["Billing"]["properties"]["invoices"]["items"], "Billing.invoices[]")
    # the listing's `kind` is the port's HoldKind
    from typing import get_args

    from unblock.domain.platform_model import HoldKind

    assert components["HoldKind"]["enum"] == list(get_args(HoldKind))

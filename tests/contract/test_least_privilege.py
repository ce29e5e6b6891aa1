"""IAM least privilege, checked on the CloudFormation that SAM generates from template.yaml."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from samtranslator.translator.transform import transform

from tests.support import ROOT
from unblock_dev.local.template import load_template

SCOPED_SERVICES = ("dynamodb:", "sqs:", "secretsmanager:", "states:")


class _NoManagedPolicies:
    def load(self) -> dict[str, str]:
        return {}


@pytest.fixture(scope="module")
def transformed() -> dict[str, Any]:
    import os

    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")  # the translator builds ARNs for a region
    template = copy.deepcopy(load_template(ROOT / "template.yaml"))
    # what `sam package` does first: local paths become S3 locations
    template["Globals"]["Function"]["CodeUri"] = "s3://unblock-artifacts/code.zip"
    for res in template["Resources"].values():
        if res["Type"] == "AWS::Serverless::StateMachine":
            res["Properties"]["DefinitionUri"] = "s3://unblock-artifacts/remediation.asl.json"
    params = {"AWS::Region": "us-east-1", "AWS::AccountId": "123456789012", "AWS::Partition": "aws"}
    return transform(template, params, _NoManagedPolicies())  # type: ignore[arg-type]


def _branches(policy: dict[str, Any]) -> list[dict[str, Any]]:
    """A policy, or both branches of a conditional one (each deployment gets one of them)."""
    if "Fn::If" in policy:
        _, yes, no = policy["Fn::If"]
        return [p for branch in (yes, no) for p in _branches(branch) if "PolicyDocument" in p]
    return [policy]


def _statements(doc: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    out: list[tuple[str, dict[str, Any]]] = []
    for lid, res in doc["Resources"].items():
        if res["Type"] == "AWS::IAM::Role":
            for policy in (p for entry in res["Properties"].get("Policies", []) for p in _branches(entry)):
                statements = policy["PolicyDocument"]["Statement"]
                out += [(lid, s) for s in (statements if isinstance(statements, list) else [statements])]
        if res["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            statements = res["Properties"]["PolicyDocument"]["Statement"]
            out += [(lid, s) for s in (statements if isinstance(statements, list) else [statements])]
    return out


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_the_transform_yields_roles_for_every_function_and_the_state_machine(transformed):
    roles = [lid for lid, r in transformed["Resources"].items() if r["Type"] == "AWS::IAM::Role"]
    functions = [lid for lid, r in transformed["Resources"].items() if r["Type"] == "AWS::Lambda::Function"]
    serverless = [lid for lid, r in load_template(ROOT / "template.yaml")["Resources"].items()
                  if r["Type"] == "AWS::Serverless::Function"]
    assert sorted(functions) == sorted(serverless) and len(roles) >= len(functions) + 1
    assert len(_statements(transformed)) > 20


def test_no_statement_allows_every_action(transformed):
    offenders = [(lid, a) for lid, s in _statements(transformed) if s.get("Effect") == "Allow"
                 for a in _as_list(s.get("Action", [])) if a == "*" or a.endswith(":*")]
    assert offenders == []


def test_data_queue_secret_and_workflow_actions_name_their_resources(transformed):
    offenders = []
    for lid, s in _statements(transformed):
        actions = [a for a in _as_list(s.get("Action", [])) if a.lower().startswith(SCOPED_SERVICES)]
        resources = _as_list(s.get("Resource", []))
        if s.get("Effect") == "Allow" and actions and any(r == "*" for r in resources):
            offenders.append((lid, actions))
    assert offenders == [], json.dumps(offenders)


def test_tables_and_queues_are_encrypted_at_rest():
    resources = load_template(ROOT / "template.yaml")["Resources"]
    for lid, res in resources.items():
        props = res.get("Properties", {})
        if res["Type"] == "AWS::DynamoDB::Table":
            assert props["SSESpecification"]["SSEEnabled"] is True, lid
        if res["Type"] == "AWS::SQS::Queue":
            assert props.get("SqsManagedSseEnabled") or props.get("KmsMasterKeyId"), lid

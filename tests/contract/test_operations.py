"""Operating it (DESIGN.md "Operating it"): every alarm has its runbook entry, the dashboard shows metrics the
code emits (with the dimensions it emits them with), and everything that holds a case, a staff account, a
secret or a message survives a stack update or delete."""

from __future__ import annotations

import json
import re
import typing
from typing import Any

import pytest

from tests.support import ROOT
from unblock.workflow.proactive import SignalOutcome
from unblock_dev.local.template import load_template

TEMPLATE = load_template(ROOT / "template.yaml")
RESOURCES: dict[str, dict[str, Any]] = TEMPLATE["Resources"]
ALARMS = sorted(lid for lid, r in RESOURCES.items() if r["Type"] == "AWS::CloudWatch::Alarm")
FUNCTIONS = sorted(lid for lid, r in RESOURCES.items() if r["Type"] == "AWS::Serverless::Function")
RUNBOOK = (ROOT / "docs" / "runbook.md").read_text()
# what holds a case, a staff account, a secret or a message
STATEFUL = ("AWS::DynamoDB::Table", "AWS::SQS::Queue", "AWS::Cognito::UserPool", "AWS::SecretsManager::Secret")


def dashboard() -> dict[str, Any]:
    """The dashboard's body as CloudWatch reads it, the template's ${...} filled with stand-ins."""
    [body] = [r["Properties"]["DashboardBody"]["Fn::Sub"] for r in RESOURCES.values()
              if r["Type"] == "AWS::CloudWatch::Dashboard"]
    filled = re.sub(r"\$\{StaffSlaHours\}", "4", body)
    filled = re.sub(r"\$\{!([^}]*)\}", r"${\1}", filled)
    return json.loads(re.sub(r"\$\{([A-Za-z0-9:.]+)\}", r"<\1>", filled))


def dashboard_metrics() -> list[list[Any]]:
    return [row for w in dashboard()["widgets"] if w["type"] == "metric" for row in w["properties"]["metrics"]]


def emitted_names() -> set[str]:
    """Every metric name the Lambda package publishes in the Unblock namespace, read from its source."""
    names: set[str] = set()
    for path in (ROOT / "functions" / "unblock").rglob("*.py"):
        text = path.read_text()
        names |= set(re.findall(r"(?:add_metric|single_metric)\(\s*name=\"(\w+)\"", text))
        names |= set(re.findall(r"\b_metric\(\"(\w+)\"\)", text))
        if 'f"DenialSignals{taken.action.capitalize()}"' in text:  # handlers/signals.py: one per outcome
            actions = typing.get_args(typing.get_type_hints(SignalOutcome)["action"])
            names |= {f"DenialSignals{a.capitalize()}" for a in actions}
    return names


def _heading_of(logical_id: str) -> str | None:
    return next((line for line in RUNBOOK.splitlines() if line.startswith("### ") and re.search(
        rf"\b{logical_id}\b", line)), None)


@pytest.mark.parametrize("alarm", ALARMS)
def test_every_alarm_has_a_runbook_entry_that_says_what_it_means_and_what_to_do(alarm):
    heading = _heading_of(alarm)
    assert heading, f"docs/runbook.md has no entry (### heading) naming {alarm}"
    entry = RUNBOOK.split(heading, 1)[1].split("\n### ", 1)[0].split("\n## ", 1)[0]
    assert "**Means**" in entry and "**At 3 a.m.**" in entry, f"{alarm}'s entry lacks what it means or what to do"


def test_the_runbook_names_no_alarm_the_template_does_not_have():
    named = set(re.findall(r"\b(\w+Alarm)\b", RUNBOOK))
    assert named <= set(ALARMS), f"the runbook names alarms the template lacks: {named - set(ALARMS)}"


def test_the_dashboard_shows_only_metrics_the_code_emits():
    emitted = emitted_names()
    shown = {row[1] for row in dashboard_metrics() if isinstance(row[0], str) and row[0] == "Unblock"}
    searched = {m for row in dashboard_metrics() if isinstance(row[0], dict)
                for m in re.findall(r"MetricName=\"(\w+)\"", row[0].get("expression", ""))}
    assert shown and searched
    assert shown | searched <= emitted, f"not emitted by functions/: {(shown | searched) - emitted}"
    alarmed = {RESOURCES[a]["Properties"]["MetricName"] for a in ALARMS
               if RESOURCES[a]["Properties"].get("Namespace") == "Unblock"}
    assert alarmed <= emitted, f"alarms on metrics nobody emits: {alarmed - emitted}"


def test_the_dashboard_covers_what_an_operator_watches():
    rows = dashboard_metrics()
    aws = {(r[0], r[1], r[3]) for r in rows if isinstance(r[0], str) and r[0].startswith("AWS/")}
    unblock = {r[1] for r in rows if isinstance(r[0], str) and r[0] == "Unblock"}
    searched = " ".join(r[0].get("expression", "") for r in rows if isinstance(r[0], dict))
    for function in FUNCTIONS:  # errors and throttles per function
        assert ("AWS/Lambda", "Errors", f"<{function}>") in aws and ("AWS/Lambda", "Throttles", f"<{function}>") in aws
    kept = [q for q, r in RESOURCES.items()  # the dead-letter queues and the failed-events queue: no redrive
            if r["Type"] == "AWS::SQS::Queue" and "RedrivePolicy" not in r["Properties"]]
    assert "IntakeFailedEventsQueue" in kept and len(kept) >= 5
    for queue in kept:
        assert ("AWS/SQS", "ApproximateNumberOfMessagesVisible", f"<{queue}.QueueName>") in aws, queue
    assert ("AWS/SQS", "ApproximateAgeOfOldestMessage", "<HumanQueue.QueueName>") in aws  # escalations' age
    assert 'MetricName="CasesClosed"' in searched  # cases by outcome, and the auto-fix rate over them
    assert {"FixesApplied", "FixesReverted", "Escalations", "DenialSignalsOpened"} <= unblock


def test_throttles_and_bursts_of_fixes_or_reverts_are_alarmed():
    props = {a: RESOURCES[a]["Properties"] for a in ALARMS}
    throttled = {p["Dimensions"][0]["Value"]["Ref"] for p in props.values() if p.get("MetricName") == "Throttles"}
    assert {"WebhookFunction", "SlackActionsFunction"} <= throttled  # the two public URLs, each its own
    [workflow] = [p for p in props.values() if "Metrics" in p]
    summed = {q["MetricStat"]["Metric"]["Dimensions"][0]["Value"]["Ref"] for q in workflow["Metrics"]
              if "MetricStat" in q and q["MetricStat"]["Metric"]["MetricName"] == "Throttles"}
    assert throttled | summed == set(FUNCTIONS)
    assert {p.get("MetricName") for p in props.values()} >= {"FixesApplied", "FixesReverted"}


@pytest.mark.parametrize("logical_id", sorted(lid for lid, r in RESOURCES.items() if r["Type"] in STATEFUL))
def test_what_holds_a_case_an_account_a_secret_or_a_message_is_retained(logical_id):
    resource = RESOURCES[logical_id]
    assert resource.get("DeletionPolicy") == "Retain", f"{logical_id} would be deleted with the stack"
    assert resource.get("UpdateReplacePolicy") == "Retain", f"{logical_id} would be lost when replaced"


def test_cfn_lint_finds_no_stateful_resource_without_a_policy():
    from cfnlint.api import lint_all  # the same cfn-lint as `make cfn-lint`, with its informational rules

    found = [m for m in lint_all((ROOT / "template.yaml").read_text()) if m.rule.id == "I3011"]
    assert found == [], [str(m) for m in found]


def test_samconfig_deploys_with_the_guides_defaults_and_the_guide_answers_every_public_url():
    """`sam deploy` asks nothing with samconfig.toml; `sam deploy --guided` asks, for every Function URL
    without authentication, "<Function> Function Url has no authentication. Is this okay?" (SAM's default,
    N, stops the deploy): docs/deploy.md answers each before SAM asks."""
    import tomllib

    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    deploy = config["default"]["deploy"]["parameters"]
    assert config["default"]["global"]["parameters"]["stack_name"] == "unblock"
    assert deploy["capabilities"] == "CAPABILITY_IAM" and deploy["resolve_s3"] is True
    assert "samconfig.toml" not in (ROOT / ".gitignore").read_text().split()
    guide = (ROOT / "docs" / "deploy.md").read_text()
    public = [lid for lid, r in RESOURCES.items() if r["Type"] == "AWS::Serverless::Function"
              and r["Properties"].get("FunctionUrlConfig", {}).get("AuthType") == "NONE"]
    assert sorted(public) == ["SlackActionsFunction", "WebhookFunction"]
    for function in public:
        assert f"`{function} Function Url has no authentication. Is this okay? [y/N]`** | **y**" in guide, function
    asked = re.findall(r"^\| `Parameter (\w+) \[", guide, re.M) + re.findall(r"`Parameter (\w+) \[[^`]*`", guide)
    assert set(asked) <= set(TEMPLATE["Parameters"]), "the guide quotes a parameter the template lacks"

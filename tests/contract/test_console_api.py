"""The staff console: template.yaml's HTTP API routes, authorizer and IAM agree with the ConsoleFunction."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.support import ROOT
from unblock_dev.local.template import load_template

TEMPLATE = load_template(ROOT / "template.yaml")
RESOURCES = TEMPLATE["Resources"]
CONSOLE = RESOURCES["ConsoleFunction"]["Properties"]
EVENTS = {name: e["Properties"] for name, e in CONSOLE["Events"].items() if e["Type"] == "HttpApi"}


def _event(method: str, path: str, claims: dict[str, str] | None = None, body: str | None = None) -> dict[str, Any]:
    from unblock_dev.console_server import http_api_event

    return http_api_event(method, path, "", {"content-type": "application/x-www-form-urlencoded"},
                          (body or "").encode(), claims)


def test_pages_and_decisions_need_the_jwt_and_only_the_shell_is_public():
    api = RESOURCES["ConsoleApi"]["Properties"]
    assert api["Auth"]["DefaultAuthorizer"] == "StaffJwt"
    jwt = api["Auth"]["Authorizers"]["StaffJwt"]
    assert jwt["IdentitySource"] == "$request.header.Authorization"
    public = {(e["Method"], e["Path"]) for e in EVENTS.values() if e.get("Auth", {}).get("Authorizer") == "NONE"}
    protected = {(e["Method"], e["Path"]) for e in EVENTS.values() if "Auth" not in e}
    assert public == {("GET", "/"), ("GET", "/{proxy+}")}
    assert protected == {("GET", "/pages/{proxy+}"), ("POST", "/api/cases/{case_id}/decision"),
                         ("POST", "/api/incidents/{incident_id}/decision"), ("POST", "/api/cases/{case_id}/revert"),
                         ("POST", "/api/cases/{case_id}/shadow"), ("POST", "/api/causes/{cause_key}/policies"),
                         ("POST", "/api/policies/{policy_id}/status"), ("POST", "/api/mode")}
    assert all(e["ApiId"] == {"Ref": "ConsoleApi"} for e in EVENTS.values())


def test_cognito_by_default_and_the_company_issuer_by_parameter():
    jwt = RESOURCES["ConsoleApi"]["Properties"]["Auth"]["Authorizers"]["StaffJwt"]["JwtConfiguration"]
    cond, company, cognito = jwt["issuer"]["Fn::If"]
    assert cond == "UseCompanyOidc" and company == {"Ref": "ConsoleOidcIssuer"}
    assert "cognito-idp" in cognito["Fn::Sub"]
    assert jwt["audience"][0]["Fn::If"] == ["UseCompanyOidc", {"Ref": "ConsoleOidcAudience"},
                                            {"Ref": "ConsoleUserPoolClient"}]
    for lid in ("ConsoleUserPool", "ConsoleUserPoolClient"):
        assert RESOURCES[lid]["Condition"] == "UseCognito"
    assert RESOURCES["ConsoleUserPool"]["Properties"]["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert "ConsoleUrl" in TEMPLATE["Outputs"]


def test_the_console_may_do_exactly_what_a_decision_needs():
    statements = [p for p in CONSOLE["Policies"] if "Statement" in p]
    actions = sorted(a for p in statements for s in p["Statement"] for a in s["Action"])
    assert actions == sorted(["dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan", "dynamodb:PutItem",
                              "dynamodb:UpdateItem", "states:SendTaskSuccess", "states:SendTaskFailure",
                              "states:GetExecutionHistory", "states:StartExecution",
                              "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility",
                              "sqs:ChangeMessageVisibilityBatch",
                              "sqs:SendMessage"])  # a revert's internal note on the outbox
    starts = [s for p in statements for s in p["Statement"] if "states:StartExecution" in s["Action"]]
    # an incident's included teams: the state machine by its name (a Ref would close a dependency circle)
    machine = TEMPLATE["Resources"]["RemediationStateMachine"]["Properties"]["Name"]["Fn::Sub"]
    arn = f"arn:${{AWS::Partition}}:states:${{AWS::Region}}:${{AWS::AccountId}}:stateMachine:{machine}"
    assert [s["Resource"]["Fn::Sub"] for s in starts] == [arn]
    # the platform's read side, to list the teams an incident's hold is on, and one write: a revert's PutItem
    conditional = [p["Fn::If"] for p in CONSOLE["Policies"] if "Fn::If" in p]
    assert [(c[0], c[2]) for c in conditional] == [("UseSandbox", {"Ref": "AWS::NoValue"}),
                                                    ("UseSandbox", {"Ref": "AWS::NoValue"}),
                                                    ("UseHttp", {"Ref": "AWS::NoValue"}),
                                                    ("HasSlackWebhook", {"Ref": "AWS::NoValue"})]
    assert conditional[0][1] == {"DynamoDBReadPolicy": {"TableName": {"Ref": "PlatformTable"}}}
    [write] = conditional[1][1]["Statement"]
    assert (write["Action"], write["Resource"]) == ("dynamodb:PutItem", {"Fn::GetAtt": ["PlatformTable", "Arn"]})
    assert conditional[2][1]["Statement"][0]["Action"] == "secretsmanager:GetSecretValue"


@pytest.mark.parametrize("method,path", [
    ("GET", "/pages/queue"), ("GET", "/pages/cases/zendesk%3A1"), ("GET", "/pages/search"),
    ("GET", "/pages/closed"), ("GET", "/pages/metrics"), ("GET", "/pages/incidents"),
    ("GET", "/pages/incidents/inc-20261126-0a1b2c3d"), ("POST", "/api/cases/zendesk%3A1/decision"),
    ("POST", "/api/incidents/inc-20261126-0a1b2c3d/decision"), ("POST", "/api/cases/zendesk%3A1/revert"),
    ("POST", "/api/cases/zendesk%3A1/shadow"), ("GET", "/pages/causes"),
    ("GET", "/pages/causes/restrictions.risk_hold%23abc"),
    ("POST", "/api/causes/restrictions.risk_hold%23abc/policies"),
    ("POST", "/api/policies/pol-20270101-abcdef/status"), ("GET", "/pages/mode"), ("POST", "/api/mode")])
def test_every_protected_route_exists_and_refuses_a_request_without_claims(method, path):
    from unblock.handlers import console

    routes = {(r.method if isinstance(r.method, str) else r.method[0], r.rule.pattern) for r in
              console.app._static_routes + console.app._dynamic_routes}
    assert routes
    out = console.app.resolve(_event(method, path), {})  # type: ignore[arg-type]
    assert out["statusCode"] == 401


@pytest.mark.parametrize("path", ["/", "/login", "/cases/zendesk%3A4720", "/search", "/closed", "/metrics",
                                  "/incidents", "/incidents/inc-20261126-0a1b2c3d", "/causes",
                                  "/causes/restrictions.risk_hold%23abc", "/mode"])
def test_the_shell_is_served_everywhere_with_a_strict_csp_and_no_data(path):
    from unblock.handlers import console

    out = console.app.resolve(_event("GET", path), {})  # type: ignore[arg-type]
    assert out["statusCode"] == 200
    headers = {k.lower(): v for k, v in out["headers"].items()}
    assert headers["content-security-policy"].startswith("default-src 'self'")
    assert "unsafe-inline" not in headers["content-security-policy"]
    assert "set-cookie" not in headers
    body = out["body"]
    assert '<script src="/static/console.js"' in body and "<script>" not in body
    assert not re.search(r"\bstyle=", body) and "<style" not in body and "http" not in body.split("<body")[1]


def test_static_files_are_served_and_nothing_inline():
    from unblock.handlers import console

    for name, ctype in (("console.js", "text/javascript"), ("console.css", "text/css")):
        out = console.app.resolve(_event("GET", f"/static/{name}"), {})  # type: ignore[arg-type]
        assert out["statusCode"] == 200 and out["headers"]["Content-Type"].startswith(ctype)
    js = console.app.resolve(_event("GET", "/static/console.js"), {})["body"]  # type: ignore[arg-type]
    assert "document.cookie" not in js and "eval(" not in js and "localStorage" not in js
    assert console.app.resolve(_event("GET", "/static/../composition.py"), {})["statusCode"] == 404  # type: ignore[arg-type]



CLAIMS = {"sub": "staff-1", "email": "alice@example.test"}


@pytest.mark.parametrize("path,ctype,body,error", [
    ("/api/cases/zendesk%3A1/decision", "application/x-www-form-urlencoded", "decision=maybe",
     "decision must be approve, resolve or reject"),
    ("/api/cases/zendesk%3A1/decision", "application/x-www-form-urlencoded", "note=only+a+note",
     "decision must be approve, resolve or reject"),
    ("/api/cases/zendesk%3A1/decision", "application/x-www-form-urlencoded", "decision=resolve&version=seven",
     "invalid field: version"),
    ("/api/cases/zendesk%3A1/decision", "application/json", "[1, 2]", "the request body is not a form or JSON object"),
    ("/api/cases/zendesk%3A1/decision", "application/json", '{"decision": ', "the request body is not a form or JSON"
     " object"),
    ("/api/incidents/inc-20261126-0a1b2c3d/decision", "application/x-www-form-urlencoded",
     "decision=approve&version%3Azendesk%3A1=abc", "invalid field: versions"),
    ("/api/incidents/inc-20261126-0a1b2c3d/decision", "application/x-www-form-urlencoded", "decision=undo",
     "decision must be approve, resolve or reject"),
    ("/api/causes/restrictions.risk_hold%23abc/policies", "application/x-www-form-urlencoded", "days=0",
     "invalid field: days"),
    ("/api/causes/restrictions.risk_hold%23abc/policies", "application/x-www-form-urlencoded",
     "days=7&max_risk_score=2", "invalid field: max_risk_score"),
    ("/api/policies/pol-20270101-abcdef/status", "application/x-www-form-urlencoded", "status=on",
     "invalid field: status"),
])
def test_a_bad_decision_body_is_refused_with_the_field_it_got_wrong(path, ctype, body, error):
    """Refused before anything is read: the request body model names what is wrong, headers as on every page."""
    from unblock.handlers import console
    from unblock_dev.console_server import http_api_event

    out = console.app.resolve(http_api_event("POST", path, "", {"content-type": ctype}, body.encode(), CLAIMS), {})  # type: ignore[arg-type]
    assert (out["statusCode"], json.loads(out["body"])) == (400, {"error": error})
    assert out["headers"]["Content-Security-Policy"] == console.CSP


@pytest.mark.parametrize("method,path", [("GET", "/pages/queue"), ("GET", "/nowhere"), ("GET", "/static/x.js"),
                                         ("GET", "/")])
def test_every_answer_carries_the_security_headers(method, path):
    from unblock.handlers import console

    out = console.app.resolve(_event(method, path), {})  # type: ignore[arg-type]
    assert {k: out["headers"][k] for k in console.SECURITY_HEADERS} == console.SECURITY_HEADERS

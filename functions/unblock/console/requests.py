"""The bodies of the console's POST requests: a form (what the page's script sends) or a JSON object.

A body that is neither, or whose fields are wrong, is refused by the handler with a 400 that names
the field; the staff member's note is redacted and capped by the decision flow itself.
"""

from __future__ import annotations

import json
from typing import Any, Literal, Self
from urllib.parse import parse_qs

from pydantic import BaseModel, ConfigDict, Field, field_validator

from unblock.domain.limits import InputRejected, check_json_text
from unblock.domain.models import FixName, Mode, ShadowVerdict, StaffDecisionName

MAX_FIELD = 4000  # a note is capped at 2000 by the decision; anything far longer is not a person typing
MAX_BODY_BYTES = 64 * 1024  # a decision: a few fields, a note, a version per member


class BadBody(ValueError):
    """The request body is not a form or a JSON object."""


def fields(body: str, content_type: str) -> dict[str, list[str]]:
    """The body's fields with every value (checkboxes repeat a name; a JSON list is a list)."""
    if "json" in content_type:
        try:  # depth and size before parsing: a body nested 100,000 deep is a named 400, not a RecursionError
            check_json_text((body or "{}").encode("utf-8", errors="surrogatepass"), "the request body",
                            MAX_BODY_BYTES)
        except InputRejected as err:
            raise BadBody(str(err)) from None
        try:
            data = json.loads(body or "{}")
        except ValueError as err:
            raise BadBody("the request body is not a form or JSON object") from err
        if not isinstance(data, dict):
            raise BadBody("the request body is not a form or JSON object")
        return {k: [str(x) for x in (v if isinstance(v, list) else [v]) if x is not None]
                for k, v in data.items() if v is not None}
    return parse_qs(body, keep_blank_values=True)


def _blank_is_none(v: Any) -> Any:
    return None if isinstance(v, str) and not v.strip() else v


class _Form(BaseModel):
    """A body whose fields each hold one value (a field given twice: the first)."""

    model_config = ConfigDict(extra="ignore")

    @classmethod
    def parse(cls, body: str, content_type: str) -> Self:
        return cls.model_validate({k: v[0] for k, v in fields(body, content_type).items() if v})


class CaseDecisionRequest(_Form):
    """`POST /api/cases/{case_id}/decision`: the decision, the note, and the case version the page showed."""

    decision: StaffDecisionName
    note: str | None = Field(default=None, max_length=MAX_FIELD)
    version: int | None = Field(default=None, ge=0)

    _blank = field_validator("note", "version", mode="before")(_blank_is_none)


class RevertRequest(_Form):
    """`POST /api/cases/{case_id}/revert`: which fix (default: every revertible one) and why."""

    fix: FixName | None = None
    note: str = Field(default="", max_length=MAX_FIELD)

    _blank = field_validator("fix", mode="before")(_blank_is_none)


class ShadowVerdictRequest(_Form):
    """`POST /api/cases/{case_id}/shadow`: agree or disagree with what unblock would have done."""

    verdict: ShadowVerdict
    note: str | None = Field(default=None, max_length=MAX_FIELD)

    _blank = field_validator("note", mode="before")(_blank_is_none)


class ModeSwitchRequest(_Form):
    """`POST /api/mode`: the mode an admin switches the stack to, and why."""

    mode: Mode
    note: str | None = Field(default=None, max_length=MAX_FIELD)

    _blank = field_validator("note", mode="before")(_blank_is_none)


class IncidentDecisionRequest(BaseModel):
    """`POST /api/incidents/{incident_id}/decision`: one decision for every waiting member, the version of
    each member the page showed (`version:<case id>` fields), and teams to include (`include`, repeated)."""

    model_config = ConfigDict(extra="ignore")

    decision: StaffDecisionName
    note: str | None = Field(default=None, max_length=MAX_FIELD)
    versions: dict[str, int] = {}
    include: list[str] = []
    # unverified members approved too, ticked one by one (DESIGN.md "Incidents"): case ids
    include_unverified: list[str] = []

    _blank = field_validator("note", mode="before")(_blank_is_none)

    @field_validator("include", "include_unverified")
    @classmethod
    def _teams(cls, v: list[str]) -> list[str]:
        return [t for t in v if t.strip()]

    @classmethod
    def parse(cls, body: str, content_type: str) -> Self:
        form = fields(body, content_type)
        return cls.model_validate({
            "decision": next(iter(form.get("decision", [])), None),
            "note": next(iter(form.get("note", [])), None),
            "include": form.get("include", []),
            "include_unverified": form.get("include_unverified", []),
            # the version of each member the staff member saw: a member written since is refused as stale
            "versions": {k.removeprefix("version:"): v[0] for k, v in form.items() if k.startswith("version:") and v},
        })


class PolicyCreateRequest(BaseModel):
    """`POST /api/causes/{cause_key}/policies`: a standing policy for the cause (docs/causes.md), in shadow."""

    model_config = ConfigDict(extra="ignore")

    days: int = Field(default=14, ge=1, le=90)
    max_per_day: int = Field(default=10, ge=1, le=500)
    max_risk_score: float | None = Field(default=None, gt=0, le=1)
    card: Literal["required", "not_required"] = "required"
    owner: str | None = Field(default=None, max_length=200)

    _blank = field_validator("max_risk_score", "owner", mode="before")(_blank_is_none)

    @classmethod
    def parse(cls, body: str, content_type: str) -> Self:
        return cls.model_validate({k: v[0] for k, v in fields(body, content_type).items() if v})


class PolicyStatusRequest(BaseModel):
    """`POST /api/policies/{policy_id}/status`: switch it live, back to shadow, or revoke it."""

    model_config = ConfigDict(extra="ignore")

    status: Literal["live", "shadow", "revoked"]
    note: str | None = Field(default=None, max_length=MAX_FIELD)

    _blank = field_validator("note", mode="before")(_blank_is_none)

    @classmethod
    def parse(cls, body: str, content_type: str) -> Self:
        return cls.model_validate({k: v[0] for k, v in fields(body, content_type).items() if v})


def in_group(claims: dict[str, Any], group: str) -> bool:
    """The token names `group` among its groups: Cognito's `cognito:groups`, or an identity provider's
    `groups`. API Gateway hands a list claim over as a string ("[a b]"), a JWT as a list."""
    if not group:
        return False
    for name in ("cognito:groups", "groups"):
        value = claims.get(name)
        found = value if isinstance(value, list) else str(value or "").strip("[]").replace(",", " ").split()
        if group in (str(g).strip() for g in found):
            return True
    return False

"""The sandbox platform's seed format (DESIGN.md "Sandbox seed format").

These models are also the platform port's read model: every adapter returns a `Team`.
Unknown values and malformed dates fail validation with the offending field named.
"""

from __future__ import annotations

import hashlib
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

BillingPlan = Literal["hobby", "pro", "enterprise"]
Source = Literal["automated", "staff"]
RestrictionFlag = Literal["risk_hold", "abuse", "fraud_review", "sanctions", "staff_hold"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PaymentMethod(_Model):
    status: Literal["none", "valid", "expired", "declined"] = "none"
    verified: bool = False


class Hold(_Model):
    active: bool = False
    source: Source = "automated"
    reason: str = ""
    since: AwareDatetime | None = None


class Invoice(_Model):
    id: str
    status: Literal["open", "paid", "void", "uncollectible"]
    due_at: AwareDatetime
    amount_cents: int = 0


class Credits(_Model):
    tier: Literal["free", "paid"] = "paid"  # when not given: free on the hobby plan (Team._tier_from_plan)
    balance_cents: int | None = None  # not given: credits are not what limits this team
    free_credits_restricted: bool = False
    auto_topup: bool = False


class Billing(_Model):
    payment_method: PaymentMethod = PaymentMethod()
    hold: Hold = Hold()
    invoices: tuple[Invoice, ...] = ()
    credits: Credits = Credits()


class Budget(_Model):
    limit_cents: int | None = None
    used_cents: int = 0


class Key(_Model):
    key_id: str
    prefix: str = Field(pattern=r"^[A-Za-z0-9_-]{4,64}$")
    status: Literal["active", "revoked"] = "active"
    created_at: AwareDatetime | None = None  # unknown: an old key (past any propagation window)
    expires_at: AwareDatetime | None = None
    edge_synced: bool = True
    budget: Budget = Budget()
    # Only a hash is ever kept: a seed may give a test `secret`, hashed here on load.
    secret_sha256: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _hash_secret(cls, data: object) -> object:
        if isinstance(data, dict) and "secret" in data:
            data = dict(data)
            data["secret_sha256"] = hash_secret(str(data.pop("secret")))
        return data


class Restriction(_Model):
    flag: RestrictionFlag
    source: Source = "automated"
    risk_score: float | None = Field(default=None, ge=0.0, le=1.0)
    reason: str = ""
    created_at: AwareDatetime | None = None


class AutoLift(_Model):
    flag: RestrictionFlag
    at: AwareDatetime


class Entitlements(_Model):
    ai_gateway: bool = True


MemberRole = Literal["member", "billing", "admin", "viewer"]


def email_key(email: str | None) -> str:
    """An e-mail address as compared (case-insensitive, DESIGN.md "Who may act"): only ASCII letters
    are folded, so no non-ASCII character turns into an ASCII one (the Kelvin sign U+212A lower-cases
    to "k": `\u212aate@acme.test` must not be `kate@acme.test`)."""
    return "".join(c.lower() if c.isascii() else c for c in (email or "").strip())


class TeamMember(_Model):
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+$", max_length=320)
    role: MemberRole = "member"

    @field_validator("email")
    @classmethod
    def _lower(cls, v: str) -> str:
        return email_key(v)


class Team(_Model):
    team_id: str = Field(pattern=r"^team_[A-Za-z0-9]{24}$")
    slug: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
    plan: BillingPlan
    created_at: AwareDatetime | None = None
    owner_email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+$")
    billing: Billing = Billing()
    keys: tuple[Key, ...] = ()
    restrictions: tuple[Restriction, ...] = ()
    entitlements: Entitlements = Entitlements()
    auto_lifts: tuple[AutoLift, ...] = ()
    members: tuple[TeamMember, ...] = ()  # the owner is a member without being listed

    def has_member(self, email: str | None) -> bool:
        """Whether `email` (case-insensitive) is the owner's or a listed member's."""
        wanted = email_key(email)
        return bool(wanted) and (wanted == self.owner_email or any(m.email == wanted for m in self.members))

    @model_validator(mode="before")
    @classmethod
    def _tier_from_plan(cls, data: object) -> object:
        """A seed that does not say the credit tier: the hobby plan is the free tier, others pay."""
        if not isinstance(data, dict) or not isinstance(data.get("billing", {}), dict):
            return data  # not a team at all: let validation say what is wrong
        billing: dict[str, Any] = data.get("billing", {})
        raw_credits = billing.get("credits")
        credits: dict[str, Any] = raw_credits if isinstance(raw_credits, dict) else {}
        if "tier" in credits:
            return data
        tier = "free" if data.get("plan") == "hobby" else "paid"
        return {**data, "billing": {**billing, "credits": {**credits, "tier": tier}}}

    @field_validator("owner_email", "slug")
    @classmethod
    def _lower(cls, v: str | None) -> str | None:
        return email_key(v) if v else v


# what carries a cause on the platform (DESIGN.md "Incidents"): the billing hold, or a restriction flag
HoldKind = Literal["billing_hold", "risk_hold", "abuse", "fraud_review", "sanctions", "staff_hold"]


class HeldTeam(_Model):
    """A team the platform lists as carrying a hold (or flag) with a given reason."""

    team_id: str = Field(pattern=r"^team_[A-Za-z0-9]{24}$")
    slug: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
    since: AwareDatetime | None = None


class RequestRecord(_Model):
    """One request in the gateway's request log (DESIGN.md "Sandbox seed format", `requests`):
    what it answered, for whom, with which key. Never a secret: a key prefix, not a key."""

    request_id: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9:._-]*$")
    generation_id: str | None = Field(default=None, max_length=200, pattern=r"^gen_[A-Za-z0-9]+$")
    team_id: str = Field(pattern=r"^team_[A-Za-z0-9]{24}$")
    key_prefix: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{4,64}$")
    at: AwareDatetime | None = None
    endpoint: str | None = Field(default=None, max_length=200, pattern=r"^/[A-Za-z0-9/_.-]*$")
    model: str | None = Field(default=None, max_length=200)
    status: int = Field(ge=100, le=599)
    error_type: str | None = Field(default=None, max_length=100)
    message: str | None = Field(default=None, max_length=500)


class ModelPolicy(_Model):
    """Models that free credits do not cover (DESIGN.md `model_policy`)."""

    free_tier_restricted: tuple[str, ...] = ()

    def restricts(self, model: str | None) -> bool:
        return bool(model) and str(model).lower() in {m.lower() for m in self.free_tier_restricted}


class Seed(_Model):
    teams: tuple[Team, ...]
    requests: tuple[RequestRecord, ...] = ()
    model_policy: ModelPolicy = ModelPolicy()

    @model_validator(mode="after")
    def _unique(self) -> Seed:
        for field in ("team_id", "slug"):
            seen: set[str] = set()
            for i, team in enumerate(self.teams):
                value = getattr(team, field)
                if value is None:
                    continue
                if value in seen:
                    raise ValueError(f"teams.{i}.{field}: duplicate {field} {value!r}")
                seen.add(value)
        return self


def load_seed_text(text: str | bytes) -> Seed:
    """Parse a seed file; raises pydantic.ValidationError naming the bad field."""
    return Seed.model_validate_json(text)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()

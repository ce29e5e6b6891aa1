"""`unblock policy`: standing policies made from staff's own decisions (docs/causes.md).

  unblock policy create --cause KEY [--owner O] [--days D] [--max-per-day K] [--max-risk-score S]
                        [--no-card-check]            a policy for the cause's proposed fix, in shadow
  unblock policy list [--cause KEY] [--json]          each policy, its state, audit and agreement
  unblock policy live ID | shadow ID                  switch it (a staff member's decision)
  unblock policy revoke ID [--note N]                 revoke it at once
"""

from __future__ import annotations

import argparse
import json
from typing import Any, TextIO

from pydantic import ValidationError

from unblock.domain.policies import PolicyConditions
from unblock.workflow.policies import PolicyView
from unblock_dev.commands.deployed import add_parser, client_for
from unblock_dev.inputs import fail
from unblock_dev.staff import StackClient


def register(subparsers: Any) -> argparse.ArgumentParser:
    sp = add_parser(subparsers, "policy", "standing policies from staff decisions: create, list, live, shadow, "
                                          "revoke")
    sp.add_argument("action", choices=["create", "list", "live", "shadow", "revoke"])
    sp.add_argument("policy_id", nargs="?", help="the policy (live, shadow, revoke)")
    sp.add_argument("--cause", help="the cause's key (as `unblock causes` lists it)")
    sp.add_argument("--owner", help="who answers for the policy (default: --actor)")
    sp.add_argument("--days", type=int, default=14, help="it expires after this many days (1-90, default 14)")
    sp.add_argument("--max-per-day", type=int, default=10, help="teams it approves a day at most (default 10)")
    sp.add_argument("--max-risk-score", type=float, help="approve only when every risk score is below this")
    sp.add_argument("--no-card-check", action="store_true", help="do not require a valid, verified card")
    sp.add_argument("--note")
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(func=cmd_policy)
    return sp


def policy_json(v: PolicyView) -> dict[str, Any]:
    p = v.policy
    return {"policy_id": p.policy_id, "state": v.state, "cause": p.cause_key, "label": p.cause.label, "fix": p.fix,
            "owner": p.owner, "created_by": p.created_by, "created_at": p.created_at.isoformat(),
            "expires_at": p.expires_at.isoformat(), "conditions": p.conditions.model_dump(mode="json"),
            "stopped_reason": p.stopped_reason, "approved": v.approved,
            "agreement": {"agreed": v.agreed, "compared": v.compared, "rate": v.agreement},
            "history": [h.model_dump(mode="json") for h in p.history],
            "decisions": [d.model_dump(mode="json") for d in v.decisions]}


def cmd_policy(args: argparse.Namespace, out: TextIO, client: StackClient | None = None) -> int:
    stack = client_for(args, client)
    if args.action == "create":
        if not args.cause:
            fail("policy create needs --cause KEY (see `unblock causes`)")
        try:
            conditions = PolicyConditions(card_valid_and_verified=not args.no_card_check,
                                          max_risk_score=args.max_risk_score, max_per_day=args.max_per_day)
        except ValidationError as err:
            fail("bad condition: " + "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors()))
        policy = stack.create_policy(args.cause, args.actor, owner=args.owner, days=args.days, conditions=conditions)
        out.write(json.dumps({"policy_id": policy.policy_id, "state": policy.status,
                              "expires_at": policy.expires_at.isoformat()}) + "\n" if args.json else
                  f"{policy.policy_id}: shadow until switched live (`unblock policy live {policy.policy_id}`); "
                  f"approves {policy.fix} for {policy.cause.label}, at most {policy.conditions.max_per_day} teams "
                  f"a day, until {policy.expires_at:%Y-%m-%d %H:%M} UTC\n")
        return 0
    if args.action == "list":
        views = stack.list_policies(args.cause)
        if args.json:
            out.write(json.dumps([policy_json(v) for v in views]) + "\n")
            return 0
        out.write(f"{'policy':<22} {'state':<8} {'approved':>8} {'agreement':>10} {'expires':<17} owner / cause\n")
        for v in views:
            rate = f"{v.agreed}/{v.compared}" if v.compared else "-"
            out.write(f"{v.policy.policy_id:<22} {v.state:<8} {v.approved:>8} {rate:>10} "
                      f"{v.policy.expires_at:%Y-%m-%d %H:%M} {v.policy.owner} / {v.policy.cause.label}\n")
            if v.policy.stopped_reason:
                out.write(f"  stopped: {v.policy.stopped_reason}\n")
        return 0
    if not args.policy_id:
        fail(f"policy {args.action} needs the policy's id (see `unblock policy list`)")
    status = {"live": "live", "shadow": "shadow", "revoke": "revoked"}[args.action]
    policy = stack.switch_policy(args.policy_id, status, args.actor, args.note)  # type: ignore[arg-type]
    out.write(json.dumps({"policy_id": policy.policy_id, "state": policy.status}) + "\n" if args.json
              else f"{policy.policy_id}: {policy.status}\n")
    return 0

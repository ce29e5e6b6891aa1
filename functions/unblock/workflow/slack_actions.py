"""A staff decision from a Slack button: the same path as the console's (workflow.staff_decisions:
conditional claim, stale refusal), with the Slack user as the actor, and the alert updated in place.

The handler (handlers/slack.py) verifies the request and answers Slack within its 3 seconds; this
runs after, in the function's own asynchronous invocation. What it could not do is said back in
Slack; an error it did not expect is raised, so Lambda retries the invocation.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from unblock.domain import slack
from unblock.domain.models import Mode
from unblock.domain.slack import SlackAction
from unblock.domain.staff_errors import StaffError
from unblock.ports import CaseStore, Clock, HumanQueue, Workflow
from unblock.workflow import staff_decisions

Post = Callable[[str, dict[str, Any]], None]  # (response_url, message)

FOLLOWS = {"approve": "the proposed fix is applied and verified; the case closes or comes back",
           "resolve": "closed as resolved (mended by hand); the customer gets the reply",
           "reject": "closed as rejected; the restriction stays"}


def carry_out(action: SlackAction, *, allowed: Collection[str], store: CaseStore, workflow: Workflow,
              queue: HumanQueue | None, clock: Clock, post: Post, stack_mode: Callable[[], Mode]) -> str:
    """Decide as the Slack user (if allowed) and tell Slack; returns what happened (for the log)."""
    if action.user_id not in allowed:
        post(action.response_url, slack.not_allowed_message())
        return "not_allowed"
    if action.proposal is None:  # a button from before buttons named their proposal: what it showed is unknown
        post(action.response_url, slack.refused_message(action, staff_decisions.CHANGED))
        return "refused"
    try:
        staff_decisions.decide(store, workflow, queue, clock, action.case_id, action.decision, action.actor,
                               "decided in Slack", stack_mode=stack_mode(), expected_proposal=action.proposal)
    except StaffError as err:  # stale, already decided (by the console or another click), no such case
        post(action.response_url, slack.refused_message(action, str(err)))
        return "refused"
    except Exception as err:
        # nothing is lost: the claim was given back (staff_decisions), Slack hears it, Lambda retries
        why = f"it could not be applied just now ({type(err).__name__}); it is retried, or decide in the console"
        post(action.response_url, slack.refused_message(action, why))
        raise
    post(action.response_url, slack.decided_message(action, FOLLOWS[action.decision]))
    return "decided"

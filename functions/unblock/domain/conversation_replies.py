"""What unblock answers to a follow-up (DESIGN.md "Conversations", docs/conversations.md).

The outcome's reply (domain.replies) says what the case now is; a follow-up's reply starts from
what the customer's latest message added (the error they see now, the team they named, that it
still fails) and is never the previous reply again word for word; someone else's "same here" is
answered as their own case, not with the first poster's reply again. A customer who says it works
now gets a short thanks and no question.
"""

from __future__ import annotations

import re
from typing import Literal

from unblock.domain.cases import Case, Message
from unblock.domain.conversations import new_signal_codes, says_it_works_now, still_fails, topic_case_of, unanswered
from unblock.domain.replies import ROTATE
from unblock.domain.tickets.facts import extract

Channel = Literal["public", "private"]

THANKS = ("Thanks for letting us know it works now. We are closing this case; if requests fail again, "
          "reply here and we will look again.")

NEW_ERROR = "Thanks for sending the error you see now."
TEAM_NAMED = "Thanks, that tells us which team to look at."
# the message id of a team's ticket taken into its proactive case (workflow.proactive.join_open_case)
JOINED_TICKET = "joined:"
STILL_FAILS = "Thanks for trying that and letting us know it still fails. We checked again just now."
UPDATE = "Thanks for your reply."
# "still fails" where the outcome's steps would be the previous reply's again: ask for the request itself
STILL_FAILS_AFTER_STEPS = (
    "Sorry it still fails after those steps. To look further we need one failing request: please reply "
    "with the X-Vercel-Id response header of a failing call (or its generation id), the time it failed "
    "with the time zone, and the model you called; we will look at that request itself.")
SAME_HERE = ("Thanks for adding your report. We are looking into it as a case of its own, separately from "
             "the first post.")

# the outcome replies' own opening thanks, left out when a follow-up's lead thanks already
_OPENING_THANKS = re.compile(r"^Thanks for [^.!?\n]*[.!]\s*")
# what unblock's question for the team says (domain.replies NEEDS_INFO*, the private message)
_ASKED_FOR_TEAM = re.compile(r"which team you are on|team ID", re.IGNORECASE)


def answer(case: Case, reply: str | None, channel: Channel) -> str | None:
    """The reply for a run that answers the customer's follow-up: `reply` (the outcome's reply,
    on `channel`) led by what the follow-up added, and never unblock's previous reply repeated.
    A run that answers no follow-up (the first one, a re-check) keeps `reply` as it is."""
    news = unanswered(case)
    if reply is not None and topic_case_of(case.case_id) and not any(m.author == "unblock" for m in case.conversation):
        # someone else's "same here": their first answer is not the first poster's again
        return f"{SAME_HERE}\n\n{_OPENING_THANKS.sub('', reply, count=1)}"
    if reply is None or not news or case.follow_ups == 0:
        return reply
    if all(m.id.startswith(JOINED_TICKET) for m in news):
        return reply  # a team's ticket that joined its proactive case: its first answer, no follow-up's lead
    if case.outcome == "already_working" and says_it_works_now(case):
        return THANKS if channel == "public" else None
    previous = [m.text for m in case.conversation if m.author == "unblock" and m.channel == channel]
    lead = _lead(case, news, previous)
    body = _OPENING_THANKS.sub("", reply, count=1)
    if case.outcome == "customer_action" and any(still_fails(m.text) for m in news) and previous \
            and not any(f.disposition == "customer_action" for f in case.findings) \
            and _steps_of(body) in previous[-1]:
        # the steps of what they quoted did not help, and the same steps again would not either: ask for
        # what lets us look further (a finding's step, an expired card, still applies and is repeated)
        return f"{STILL_FAILS_AFTER_STEPS}\n\nIn case one of them was missed, here they are again:\n{body}"
    text = f"{lead}\n\n{body}"
    if text in previous:
        # the same answer to the same kind of message: say which message this one answers
        text = f"{lead} (Your message of {news[-1].at:%d %b %H:%M} UTC.)\n\n{body}"
    return text


def _steps_of(body: str) -> str:
    """The reply without the rotation notice (it is repeated on purpose while a pasted key is live)."""
    return body.replace(ROTATE, "").strip()


def _lead(case: Case, news: list[Message], previous: list[str]) -> str:
    """What the follow-up added, in one sentence: the latest message says what fails now."""
    if new_signal_codes(case):
        return NEW_ERROR
    if case.team_id and any(_ASKED_FOR_TEAM.search(p) for p in previous) and _names_team(news):
        return TEAM_NAMED
    if any(still_fails(m.text) for m in news) and case.team_id:
        return STILL_FAILS
    return UPDATE



def _names_team(messages: list[Message]) -> bool:
    """The messages give a team (an id or a slug), as identification reads one."""
    return any(extract("", m.text).team_ids or extract("", m.text).team_slugs for m in messages)

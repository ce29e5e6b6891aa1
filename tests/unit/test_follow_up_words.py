"""How a follow-up's words are read (DESIGN.md "Conversations"): "works now" closes the case with a
thanks, "still fails" runs it again; a question, a negation or a failure after the closing word is
not a closing word."""

from __future__ import annotations

import pytest

from unblock.domain.conversations import says_it_works, still_fails

WORKS_NOW = [
    "works now, thanks!", "Fixed! It was my base URL.", "Never mind, found it.", "Resolved, you can close this.",
    "It's working again after I topped up.", "Thanks, all good now!", "nvm, figured it out",
    "The 403 is fixed now, thanks", "Bought $50 of credits, requests go through again. Thank you.",
    "Confirmed, works again. Thanks a lot!", "Hat sich erledigt, funktioniert jetzt wieder. Danke!",
    "ya funciona, gracias", "ça marche maintenant, merci", "Resolvido, obrigado!",
]
NOT_WORKING = [
    "Is it fixed?", "still not working", "Not fixed, still 403", "I fixed the card but now I get 401 Unauthenticated",
    "It worked yesterday, now 403 again", "will it work once I add a card?", "Any news? It still fails.",
    "Hope it works now?", "Doesn't work now either", "Funktioniert immer noch nicht", "No funciona todavía",
    "Thanks!",
]


@pytest.mark.parametrize("text", WORKS_NOW)
def test_works_now_is_read_as_works_now(text: str) -> None:
    assert says_it_works(text) and not still_fails(text)


@pytest.mark.parametrize("text", NOT_WORKING)
def test_a_question_a_negation_or_a_failure_is_not_works_now(text: str) -> None:
    assert not says_it_works(text)


@pytest.mark.parametrize("text", ["Any news? It still fails.", "It is failing again with 403 since an hour.",
                                  "Funktioniert immer noch nicht", "same problem as before"])
def test_still_fails_is_read_as_still_fails(text: str) -> None:
    assert still_fails(text)

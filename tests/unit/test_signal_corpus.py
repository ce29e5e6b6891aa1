"""The labelled corpus (tests/data/signal_corpus.yaml): its shape, the matcher's per-signal precision
and recall on the first messages' text (floors in tests/data/corpus_floors.yaml, printed with
`pytest -s`), and the measurement itself (tests/corpus.py), which must catch what it counts."""

from __future__ import annotations

from typing import Any

import yaml

from tests.corpus import (
    DATA,
    DESIGN_CODES,
    EXTRA_CODES,
    OUTCOMES,
    TICKETS,
    Observed,
    Step,
    below_floors,
    figures,
    judge,
    load_floors,
    precision_recall,
    rounds,
    signal_table,
    steps,
    teams_of,
    text_scores,
)
from tests.support import EVENTS
from unblock.domain.platform_model import load_seed_text
from unblock.domain.tickets.signal_catalogue import SIGNALS

SLUGS = {t.slug for t in load_seed_text((EVENTS / "platform.json").read_text()).teams}


def test_the_corpus_is_large_has_conversations_and_labels_only_known_codes() -> None:
    assert len(TICKETS) >= 300
    assert sum(1 for t in TICKETS if t.get("follow_ups")) >= 40
    assert len({t["id"] for t in TICKETS}) == len(TICKETS)
    known = {s.code for s in SIGNALS}
    every_step = [s for t in TICKETS for s in steps(t)]
    labelled = {c for s in every_step for c in s.expect["signals"]}
    assert labelled <= known | DESIGN_CODES | EXTRA_CODES, labelled - known - DESIGN_CODES - EXTRA_CODES
    assert labelled >= DESIGN_CODES, f"every code of DESIGN.md has tickets; missing {DESIGN_CODES - labelled}"
    assert known <= labelled, f"every catalogue entry has tickets in the corpus; missing {known - labelled}"
    for s in every_step:
        assert s.expect["outcome"] in OUTCOMES, s.id
        assert s.expect["team"] is None or s.expect["team"] in SLUGS, s.id
        assert s.message.get("text") is not None, s.id


def test_per_signal_precision_and_recall_of_the_text_at_their_floors() -> None:
    """Over every first message, and over the held-out ones alone (written after the patterns were tuned)."""
    scores = text_scores(TICKETS)
    held_out = [t for t in TICKETS if t.get("held_out")]
    print(f"\nall {len(TICKETS)} first messages\n" + signal_table(scores))
    print(f"\nheld out ({len(held_out)})\n" + signal_table(text_scores(held_out)))
    floors = load_floors()["text"]["signals"]
    low = []
    for code, floor in floors.items():
        p, r = precision_recall(*scores.get(code, (0, 0, 0)))
        if p + 1e-9 < floor["precision"] or r + 1e-9 < floor["recall"]:
            low.append(f"{code}: {p:.2f}/{r:.2f} < {floor['precision']:.2f}/{floor['recall']:.2f}")
    assert not low, low


# --- the measurement catches what it counts --------------------------------------------------------
def _observed(step_id: str = "t", **kw: Any) -> Observed:
    expect = {"signals": ["gateway.server_error"], "team": None, "outcome": "handed_off",
              "reply_must": ["X-Vercel-Id"], "reply_must_not": ["team ID"]}
    base: dict[str, Any] = {"signals": ["gateway.server_error"], "team": None, "outcome": "handed_off",
                            "reply": "Staff have it: send the X-Vercel-Id, the time and the model."}
    return Observed(step_id, kw.pop("expect", expect), **{**base, **kw})


def test_a_step_that_matches_its_expectation_has_no_miss() -> None:
    assert judge(_observed(), "forum", False, False).misses == []


def test_each_kind_of_miss_is_named() -> None:
    wrong = judge(_observed(signals=[], outcome="needs_info", team="acme-projects",
                            reply="Please send your team ID."), "email", False, False)
    assert [m.split(":")[0] for m in wrong.misses] == ["signals", "team", "outcome", "reply_must", "reply_must_not"]


def test_a_follow_up_answered_with_the_previous_reply_and_a_same_here_in_the_first_case_are_misses() -> None:
    same = judge(_observed("t#1", previous_reply="Staff have it: send the X-Vercel-Id, the time and the model.",
                           case_id="c1", first_case_id="c1"), "forum", True, True)
    assert [m.split(":")[0] for m in same.misses] == ["own_case", "repeated"]


def test_internal_wording_and_a_team_id_on_a_forum_are_violations_not_misses() -> None:
    bad = judge(_observed(reply="X-Vercel-Id please; your team_Q3xr89YFWHvqTRO0X0bmHkoU has a fraud flag"),
                "forum", False, False)
    assert len(bad.violations) == 2 and bad.misses == []


def test_figures_count_outcomes_phrases_and_misses_and_floors_name_what_is_below() -> None:
    right, wrong = _observed("a"), judge(_observed("b", outcome="needs_info", reply="team ID?"), "email", False, False)
    f = figures([right, wrong])
    assert f.outcomes["handed_off"] == (2, 1, 1) and f.outcomes["needs_info"] == (0, 0, 1)
    assert f.reply_must == (1, 2) and f.reply_must_not == 1 and f.passing == 1 and list(f.misses) == ["b"]
    assert below_floors(f, {"outcomes_right": {"handed_off": 2}, "known_misses_max": 0, "steps_right": 1}) == [
        "outcome handed_off: 1 right < floor 2", "steps with a miss: 1 > ceiling 0"]


def test_rounds_name_each_team_at_most_once_and_keep_every_ticket() -> None:
    out = rounds(TICKETS)
    assert sorted(t["id"] for r in out for t in r) == sorted(t["id"] for t in TICKETS)
    for members in out:
        named = [team for t in members for team in teams_of(t)]
        assert len(named) == len(set(named))


def test_a_follow_up_is_a_customer_replied_event_on_the_same_ticket() -> None:
    from tests.corpus import event_for

    convo = next(t for t in TICKETS if any(f.get("by_other") for f in t.get("follow_ups", [])))
    first, *later = [event_for(s, "42") for s in steps(convo)]
    assert first["detail-type"] == "Access Denied Reported"
    assert all(e["detail-type"] == "Customer Replied" and e["detail"]["ticket_id"] == "42" for e in later)
    other = next(e for s, e in zip(steps(convo)[1:], later, strict=True) if s.by_other)
    assert other["detail"]["requester_username"] != convo["requester_username"]
    assert Step(convo, 0).id == convo["id"] and Step(convo, 1).id == convo["id"] + "#1"


def test_the_reply_review_names_steps_of_the_corpus_with_a_verdict_each() -> None:
    """tests/data/reply_review.yaml: the replies read as the customer would (docs/signals.md has the counts)."""
    review = yaml.safe_load((DATA / "reply_review.yaml").read_text())["verdicts"]
    step_ids = {s.id for t in TICKETS for s in steps(t)}
    assert len(review) >= 60 and set(review) <= step_ids, set(review) - step_ids
    assert {v["verdict"] for v in review.values()} <= {"useful", "weak", "wrong"}
    assert all(v.get("why") for v in review.values() if v["verdict"] != "useful"), "a weak or wrong verdict says why"
    assert sum(1 for k in review if "#" in k) >= 40, "the follow-ups are read too"

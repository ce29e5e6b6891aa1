"""Execution names derive from the case id without collisions (DESIGN.md "Limits", issue 13.9)."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from unblock.adapters.stepfunctions import execution_name

VALID = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
CASE_IDS = st.text(min_size=1, max_size=200).filter(lambda s: s.strip())


def test_ids_that_sanitize_alike_get_different_names():
    assert execution_name("zendesk:77.1") != execution_name("zendesk:77/1") != execution_name("zendesk:77:1")
    long = "discourse:" + "9" * 75
    assert execution_name(long + "1") != execution_name(long + "2")
    assert execution_name("zendesk:4711").startswith("zendesk-4711-")  # still readable


@settings(max_examples=300, deadline=None)
@given(a=CASE_IDS, b=CASE_IDS, suffix=st.sampled_from(["", "-r1", "-r12", "-r999"]))
def test_names_are_valid_stable_and_distinct(a, b, suffix):
    name = execution_name(a, suffix)
    assert VALID.match(name) and len(name) <= 80
    assert execution_name(a, suffix) == name  # the same case: the same name (a redelivery starts nothing)
    if a != b:
        assert execution_name(b, suffix) != name

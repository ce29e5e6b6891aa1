"""Key prefixes as tickets quote them (issue 11: the sandbox probe and the gateway had drifted apart).

The gateway's rules (`domain.gateway_rules.find_key`) are the one place a named prefix meets the
stored ones; the sandbox platform's probe and the sandbox gateway both call it.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from unblock.domain.gateway_rules import find_key
from unblock.domain.platform_model import Key

CHARS = st.sampled_from("abcdef0123456789")
PREFIX = st.text(CHARS, min_size=4, max_size=12).map(lambda s: "vck_" + s)


@settings(max_examples=200, deadline=None)
@given(stored=PREFIX, cut=st.integers(min_value=0, max_value=12), extra=st.text(CHARS, max_size=20))
def test_a_key_is_found_by_any_shorter_or_longer_quote_of_its_prefix(stored, cut, extra):
    key = Key(key_id="k1", prefix=stored)
    shorter = stored[:max(len("vck_") + 1, len(stored) - cut)]  # the first characters, as quoted

    assert find_key((key,), shorter) == key
    assert find_key((key,), stored + extra) == key  # the first characters of a pasted, since redacted, key


@settings(max_examples=200, deadline=None)
@given(short=PREFIX, longer=st.text(CHARS, min_size=1, max_size=8), more=st.text(CHARS, max_size=8))
def test_the_longest_stored_prefix_wins_where_two_keys_share_a_start(short, longer, more):
    keys = (Key(key_id="short", prefix=short), Key(key_id="long", prefix=short + longer))

    assert find_key(keys, short + longer + more).key_id == "long"  # both match: the longer is meant
    assert find_key(keys, short[:5]).key_id == "long"  # a quote too short to tell: the longest
    assert find_key(keys, short + "x").key_id == "short"  # goes past the short key, away from the long one


@settings(max_examples=200, deadline=None)
@given(stored=PREFIX, other=st.text(CHARS, min_size=4, max_size=12))
def test_a_prefix_that_shares_no_start_with_a_key_finds_nothing(stored, other):
    named = "vcx_" + other  # differs from every stored prefix within its first four characters
    assert find_key((Key(key_id="k1", prefix=stored),), named) is None

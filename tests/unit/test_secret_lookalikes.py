"""Secrets, rounds three and four (issue 22 item 9, issue 35 item 3, issue 34 items 6 and 8): the labelled
corpus tests/data/secret_lookalikes.json (written by tests/data/make_secret_lookalikes.py), secrets and
look-alikes both ways; docs/reliability.md reports its precision and recall per round."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from unblock.domain.tickets.redaction import redact

SAMPLES: list[dict[str, Any]] = json.loads(
    (Path(__file__).parents[1] / "data" / "secret_lookalikes.json").read_text(encoding="utf-8"))["samples"]
SECRETS = [s for s in SAMPLES if s["label"] == "secret"]
LOOKALIKES = [s for s in SAMPLES if s["label"] == "not_secret"]
ROUND_FOUR = [s for s in SAMPLES if s["round"] == 4]


def _caught(sample: dict[str, Any]) -> bool:
    """Redacted, and no piece of it left: a split key's tail is not in the text, whitespace taken out."""
    out, found = redact(sample["text"])
    return found > 0 and sample["secret"] not in out and sample["secret"][-8:] not in re.sub(r"\s", "", out)


def test_the_corpus_is_labelled_both_ways_and_covers_every_form():
    assert {s["kind"] for s in SECRETS} >= {
        "password_pw", "password_pwd", "key_split_newline", "key_spaced_groups", "key_spaced_chars",
        "key_url_encoded", "key_upper_case", "key_fullwidth_underscore", "key_base64", "provider_key_short"}
    assert {s["kind"] for s in LOOKALIKES} >= {"code_reference", "id", "hash", "prose_or_path"}
    assert {s["kind"] for s in ROUND_FOUR if s["label"] == "secret"} >= {
        "xai_key", "perplexity_key", "gitlab_token", "sendgrid_key", "google_oauth_token", "digitalocean_token",
        "slack_app_token", "hugging_face_bare", "npm_bare", "key_fullwidth", "key_percent_twice", "key_json_escaped",
        "key_markdown_split", "credential_pair"}
    assert {s["kind"] for s in ROUND_FOUR if s["label"] == "not_secret"} >= {
        "request_or_challenge_id", "id_in_url_or_prose", "code_reference"}


@pytest.mark.parametrize("sample", SECRETS, ids=lambda s: s["kind"])
def test_every_round_three_and_four_secret_is_redacted(sample):
    assert _caught(sample), redact(sample["text"])[0]


@pytest.mark.parametrize("sample", LOOKALIKES, ids=lambda s: s["kind"])
def test_no_look_alike_is_redacted(sample):
    assert redact(sample["text"]) == (sample["text"], 0)


@pytest.mark.parametrize("round_", [3, 4])
def test_precision_and_recall_as_docs_reliability_reports_them(round_):
    secrets = [s for s in SECRETS if s["round"] == round_]
    lookalikes = [s for s in LOOKALIKES if s["round"] == round_]
    tp = sum(_caught(s) for s in secrets)
    fp = sum(redact(s["text"])[1] > 0 for s in lookalikes)
    precision, recall = tp / (tp + fp), tp / len(secrets)
    assert (len(secrets), len(lookalikes)) == {3: (20, 26), 4: (29, 22)}[round_]
    assert (precision, recall) == (1.0, 1.0)

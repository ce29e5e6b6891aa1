"""The docs name tests as evidence for their figures; a renamed or deleted test must fail here."""

from __future__ import annotations

import ast
import re

import pytest

from tests.support import ROOT

DOCS = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]
REF = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")


def _references() -> list[tuple[str, str]]:
    refs = []
    for doc in DOCS:
        text = doc.read_text()
        refs += REF.findall(text)
        # `::name` right after a full reference points into the same file
        for path, _first, rest in re.findall(r"`(tests/[\w/]+\.py)::(\w+)`((?:\s*(?:and|,)\s*`::\w+`)+)", text):
            refs += [(path, name) for name in re.findall(r"`::(\w+)`", rest)]
    return refs


def test_the_docs_reference_tests():
    assert len(_references()) >= 10


@pytest.mark.parametrize(("path", "name"), _references())
def test_every_test_the_docs_name_exists(path, name):
    tree = ast.parse((ROOT / path).read_text())
    names = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
    assert name in names, f"{path} has no test {name}"


# --- docs/contract.md: the contract in the repository -----------------------------------------------
CONTRACT = ROOT / "docs" / "contract.md"


def _defined_codes() -> list[str]:
    from typing import get_args

    from unblock.domain.checks import CATALOGUE
    from unblock.domain.models import CHECKS, Outcome
    from unblock.domain.tickets.signal_catalogue import SIGNALS

    return [*CATALOGUE, *(f"{check}.unavailable" for check in CHECKS), *(s.code for s in SIGNALS),
            *get_args(Outcome)]


@pytest.mark.parametrize("code", _defined_codes())
def test_every_finding_signal_and_outcome_is_in_the_contract(code):
    assert f"`{code}`" in CONTRACT.read_text(), f"docs/contract.md does not state `{code}`"


def test_the_readme_links_the_contract_and_nothing_outside_the_repository():
    readme = (ROOT / "README.md").read_text()
    assert "docs/contract.md" in readme
    assert "../" not in readme, "the README points outside the repository"

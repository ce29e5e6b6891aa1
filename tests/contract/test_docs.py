"""The docs name tests as evidence for their figures; a renamed or deleted test must fail here."""

from __future__ import annotations

import ast
import re

import pytest

from tests.support import ROOT

DOCS = [ROOT / "docs" / "reliability.md", ROOT / "README.md"]
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

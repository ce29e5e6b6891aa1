"""The embedded stack's patches reach into moto's private code (tools/unblock_dev/local/moto_patches.py):
an upgrade of moto fails here, loudly, before it fails quietly anywhere else."""

from __future__ import annotations

import re

import pytest

from tests.support import ROOT
from unblock_dev.local import moto_patches


def test_the_patches_were_written_for_the_moto_that_is_installed():
    import moto

    assert moto.__version__ == moto_patches.MOTO_VERSION, (
        f"moto {moto.__version__} is installed; every patch in tools/unblock_dev/local/moto_patches.py was "
        f"written against {moto_patches.MOTO_VERSION}. Check each against the new moto (its docstring names "
        "what it replaces; run the suite with UNBLOCK_MOTO_SPEEDUPS=0 first), then set MOTO_VERSION.")


def test_pyproject_pins_the_moto_the_patches_were_written_for():
    pinned = re.search(r'"moto\[[^\]]*\]==([0-9.]+)"', (ROOT / "pyproject.toml").read_text())
    assert pinned is not None, "pyproject.toml does not pin moto to one version"
    assert pinned.group(1) == moto_patches.MOTO_VERSION


def test_one_switch_turns_the_speedups_off_or_names_some():
    assert moto_patches.speedups("1") == list(moto_patches.SPEEDUPS)
    assert moto_patches.speedups("0") == []
    assert moto_patches.speedups("parsed_json_paths") == ["parsed_json_paths"]
    with pytest.raises(ValueError, match="no speed-up named parsed_jsonpaths"):
        moto_patches.speedups("parsed_jsonpaths")


def test_the_session_stack_has_every_fix(stack_app):
    assert {f.__name__ for f in moto_patches.FIXES} <= set(stack_app.stack.patches)

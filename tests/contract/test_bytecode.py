"""Cold start: each function's package carries its bytecode, compiled for the runtime's Python (Lambda's
/var/task is read-only: without .pyc in the zip, every cold start compiles the code again).

`sam build` runs tools/lambda-build/Makefile for every function (template.yaml BuildMethod makefile). The
build is run here as SAM runs it: in a copy of CodeUri, `make build-<LogicalId>` with ARTIFACTS_DIR; the
wheels are left out (an empty requirements file; pip's --platform download is what SAM's own builder did)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support import ROOT
from unblock_dev.local.template import load_template

TEMPLATE = load_template(ROOT / "template.yaml")
FUNCTIONS = {lid: r for lid, r in TEMPLATE["Resources"].items() if r["Type"] == "AWS::Serverless::Function"}
RUNTIME = TEMPLATE["Globals"]["Function"]["Runtime"]
MAKEFILE = ROOT / "tools" / "lambda-build" / "Makefile"
# CPython's magic number per runtime (Lib/importlib/_bootstrap_external.py): a .pyc whose first two bytes
# differ is ignored by that Python, which compiles the source again
MAGIC = {"python3.11": 3495}


def runtime_python() -> str:
    version = RUNTIME.removeprefix("python")
    found = shutil.which(f"python{version}")
    if found is None:
        pytest.skip(f"no python{version} on this machine to build for the {RUNTIME} runtime")
    return found


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """One function's build folder, as `sam build` makes it (the scratch copy of functions/, then make)."""
    scratch, artifacts = tmp_path_factory.mktemp("scratch"), tmp_path_factory.mktemp("DiagnoseFunction")
    shutil.copytree(ROOT / "functions", scratch, dirs_exist_ok=True)
    (scratch / "no-wheels.txt").write_text("")
    done = subprocess.run(["make", "--makefile", str(MAKEFILE), "build-DiagnoseFunction",
                           "REQUIREMENTS=no-wheels.txt", f"RUNTIME_PYTHON={runtime_python()}"],
                          cwd=scratch, env={"ARTIFACTS_DIR": str(artifacts), "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    return artifacts


def test_every_function_is_built_by_the_makefile_for_the_template_runtime():
    for lid, function in FUNCTIONS.items():
        meta = function.get("Metadata", {})
        assert meta.get("BuildMethod") == "makefile" and meta.get("ContextPath") == "tools/lambda-build", lid
        assert function["Properties"].get("Runtime", RUNTIME) == RUNTIME, lid
    version = re.search(r"^RUNTIME_VERSION := (\S+)$", MAKEFILE.read_text(), re.M)
    assert version and f"python{version.group(1)}" == RUNTIME


def test_the_package_ships_a_pyc_of_the_runtimes_magic_number_for_every_module(built):
    sources = sorted(p for p in (built / "unblock").rglob("*.py"))
    assert len(sources) > 50 and (built / "unblock" / "console" / "templates").is_dir()
    tag = f"cpython-{RUNTIME.removeprefix('python').replace('.', '')}"
    for source in sources:
        pyc = source.parent / "__pycache__" / f"{source.stem}.{tag}.pyc"
        assert pyc.is_file(), f"no bytecode for {source.relative_to(built)}"
        header = pyc.read_bytes()[:8]
        assert header[:4] == MAGIC[RUNTIME].to_bytes(2, "little") + b"\r\n", f"{pyc.name}: not {RUNTIME}'s magic"
        # flags: hash-based (bit 0) and unchecked (bit 1 clear): Lambda's file times never make it stale
        assert int.from_bytes(header[4:8], "little") == 0b01, pyc.name
    assert not [p for p in built.rglob("*.pyc") if ".cpython-" in p.name and tag not in p.name]


def test_the_runtime_uses_the_shipped_bytecode_as_it_is(built, tmp_path):
    """An unchecked .pyc is used without looking at the source: editing a source changes nothing."""
    task = tmp_path / "task"
    shutil.copytree(built, task)
    source = task / "unblock" / "domain" / "clock.py"  # a module of the standard library's imports only
    source.write_text(source.read_text() + "\nraise SystemExit('the source was compiled again')\n")
    code = "import unblock.domain.clock; print('from bytecode')"
    done = subprocess.run([runtime_python(), "-S", "-c", code], cwd=task, env={"PYTHONPATH": str(task)},
                          capture_output=True, text=True, check=False, timeout=60)
    assert done.stdout.strip() == "from bytecode", done.stderr


def test_the_build_refuses_a_python_that_is_not_the_runtimes(tmp_path):
    """Its bytecode would be ignored on Lambda: the build stops, saying which Python to give it."""
    other = "3.12" if RUNTIME != "python3.12" else "3.13"  # the runtime moved on, the machine's Python did not
    done = subprocess.run(["make", "--makefile", str(MAKEFILE), "build-FixFunction", f"RUNTIME_VERSION={other}",
                           f"RUNTIME_PYTHON={runtime_python()}"],
                          cwd=ROOT / "functions", env={"ARTIFACTS_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode != 0 and "the functions run on" in done.stderr
    assert not any(tmp_path.iterdir())

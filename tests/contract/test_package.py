"""What `sam build` puts in a function: CodeUri's folder and what its requirements.txt installs.

Neither may hold the developer package or its dependencies (moto, PyYAML, openai)."""

from __future__ import annotations

import ast
import re
import sys
from importlib import metadata
from pathlib import Path

import yaml

from tests.support import ROOT

DEV_ONLY = {"moto", "pyyaml", "openai", "unblock-dev", "import-linter", "pytest", "hypothesis"}
RUNTIME_PROVIDED = {"boto3", "botocore", "s3transfer", "jmespath", "urllib3", "dateutil", "six"}  # Lambda's Python


class _Loader(yaml.SafeLoader):
    pass


_Loader.add_multi_constructor("!", lambda loader, suffix, node: None)


def _code_uris() -> set[Path]:
    template = yaml.load((ROOT / "template.yaml").read_text(), Loader=_Loader)  # noqa: S506 - SafeLoader subclass
    default = template.get("Globals", {}).get("Function", {}).get("CodeUri")
    uris = {res.get("Properties", {}).get("CodeUri", default) for res in template["Resources"].values()
            if res["Type"] == "AWS::Serverless::Function"}
    return {ROOT / uri for uri in uris}


def _closure(requirements: Path) -> set[str]:
    todo = [re.split(r"[\[=<>~ ]", line.strip())[0] for line in requirements.read_text().splitlines()
            if line.strip() and not line.startswith("#")]
    extras = {re.split(r"[=<>~ ]", line)[0].split("[")[0].lower(): set(line.split("[")[1].split("]")[0].split(","))
              for line in requirements.read_text().splitlines() if "[" in line and not line.startswith("#")}
    seen: set[str] = set()
    while todo:
        name = todo.pop().lower().replace("_", "-")
        if name in seen:
            continue
        seen.add(name)
        for req in metadata.requires(name) or []:
            spec, _, marker = req.partition(";")
            dep = re.split(r"[\[=<>~!( ]", spec.strip())[0]
            if "extra ==" in marker and not any(f'"{e}"' in marker for e in extras.get(name, set())):
                continue
            todo.append(dep)
    return seen


def test_every_function_ships_only_the_unblock_package_and_its_requirements():
    uris = _code_uris()
    assert uris == {ROOT / "functions/"}
    for uri in uris:
        # (the editable install's *.egg-info is a local build artifact, ignored by git and absent from a clone)
        top = {p.name for p in uri.iterdir() if p.name != "__pycache__" and not p.name.endswith(".egg-info")}
        assert top == {"unblock", "requirements.txt"}, top
        assert not list(uri.rglob("unblock_dev"))


def test_the_requirements_pull_in_no_developer_dependency():
    closure = _closure(ROOT / "functions" / "requirements.txt")
    assert "pydantic" in closure and "aws-lambda-powertools" in closure  # the closure is really walked
    assert not closure & DEV_ONLY, closure & DEV_ONLY


def test_the_functions_ship_no_xray_sdk_and_no_second_botocore():
    """Lambda's `Tracing: Active` traces invocations; the X-Ray SDK would bring its own botocore (issue 17)."""
    closure = _closure(ROOT / "functions" / "requirements.txt")
    assert "aws-lambda-powertools" in closure  # the closure is really walked
    assert not closure & {"aws-xray-sdk", "botocore", "boto3", "wrapt"}, closure


def test_every_module_of_the_package_imports_only_what_ships():
    closure = _closure(ROOT / "functions" / "requirements.txt")
    shipped = {name.replace("-", "_") for name in closure} | {"aws_lambda_powertools", "pydantic_core",
                                                              "typing_extensions"}
    allowed = set(sys.stdlib_module_names) | shipped | RUNTIME_PROVIDED | {"unblock", "mypy_boto3_dynamodb",
                                                                           "mypy_boto3_sqs", "mypy_boto3_stepfunctions"}
    for path in (ROOT / "functions" / "unblock").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module] if isinstance(node, ast.ImportFrom) and node.module and not node.level else [])
            for name in names:
                assert name.split(".")[0] in allowed, f"{path.relative_to(ROOT)} imports {name}"


def test_the_console_templates_ship_in_the_function_and_in_the_package_data(tmp_path):
    """`sam build` copies CodeUri's folder: the templates are there and every page renders from the copy
    alone; a pip install (the wheel) takes them through pyproject's package-data."""
    import fnmatch
    import shutil
    import subprocess
    import tomllib

    templates = ROOT / "functions" / "unblock" / "console" / "templates"
    names = sorted(str(p.relative_to(templates.parent.parent)) for p in templates.rglob("*.html"))
    assert "console/templates/case.html" in names and "console/templates/case/report.html" in names
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["unblock"]
    assert all(any(fnmatch.fnmatch(n, pat) and n.count("/") == pat.count("/") for pat in patterns) for n in names)

    build = tmp_path / "ConsoleFunction"
    shutil.copytree(ROOT / "functions", build, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    code = ("import unblock, sys\n"
            "from unblock.console import views\n"
            "env = views._env()\n"
            "assert unblock.__file__.startswith(sys.argv[1]), unblock.__file__\n"
            "for name in env.list_templates():\n"
            "    env.get_template(name)\n"
            "print(len(env.list_templates()))\n")
    out = subprocess.run([sys.executable, "-c", code, str(build)], capture_output=True, text=True,
                         env={"PYTHONPATH": str(build)}, check=False)
    assert out.returncode == 0, out.stderr
    assert int(out.stdout) == len(names)

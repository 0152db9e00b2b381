"""Documentation cannot fall behind: every parameter the API reads or declares is documented in docs/api.md, and
every bench script the documents name exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from shoal.request import params

ROOT = Path(__file__).resolve().parents[1]
API_DOC = (ROOT / "docs/api.md").read_text()
COLLECTOR_DOC = (ROOT / "docs/collector.md").read_text()


def parameters_declared() -> set[str]:
    """Every parameter a request can carry (``shoal.request.params``: the API reads a value only through its
    record, so a parameter it reads is declared); ``shoal scan``'s options (``params.SCAN``) are the command
    line's alone."""
    records = [value for value in vars(params).values() if isinstance(value, params.Param)]
    return {value.name for value in records if value not in params.SCAN} | set(params.SELECTORS)


def test_the_parameters_are_found() -> None:
    assert {"ip", "expression", "filter", "summary_context", "summary_cardinality", "field", "nameserver"} <= (
        parameters_declared()
    )


@pytest.mark.parametrize("name", sorted(parameters_declared()))
def test_parameter_is_documented(name: str) -> None:
    assert f"`{name}`" in API_DOC


@pytest.mark.parametrize("param", params.SCAN, ids=lambda param: param.name)
def test_scan_option_is_documented(param: params.Param[object]) -> None:
    assert param.flag is not None
    name = param.flag.partition("/")[0].removeprefix("--")
    assert f"`--{name}" in COLLECTOR_DOC or f"`--no-{name}" in COLLECTOR_DOC


def test_readme_opens_with_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text().splitlines()
    commands = [line.split("#")[0].strip() for line in readme[:6] if line.startswith("bash ")]
    assert commands == ["bash scripts/demo.sh", "bash scripts/test.sh"]
    assert "scripts/test.sh" in (ROOT / ".ci/run").read_text()


def test_every_bench_script_named_exists() -> None:
    documents = [ROOT / "README.md", ROOT / "BENCHMARKS.md", *sorted((ROOT / "docs").glob("*.md"))]
    named = {name for path in documents for name in re.findall(r"\bbench/\w+\.py\b", path.read_text())}
    assert "bench/fidelity.py" in named
    assert sorted(name for name in named if not (ROOT / name).is_file()) == []

"""Documentation cannot fall behind: every parameter the API reads or declares is documented in docs/api.md."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from shoal.api import registry

ROOT = Path(__file__).resolve().parents[1]
API_SOURCE = "\n".join(path.read_text() for path in sorted((ROOT / "src/shoal/api").rglob("*.py")))
API_DOC = (ROOT / "docs/api.md").read_text()

READ_PARAMETER = re.compile(r'(?:single|boolean|integer|date|network)\(params, "([a-z_]+)"|getlist\("([a-z_]+)"\)')
LOOPED_PARAMETERS = re.compile(r"for name in \(([^)]*)\)")


def parameters_read() -> set[str]:
    names = {a or b for a, b in READ_PARAMETER.findall(API_SOURCE)}
    for group in LOOPED_PARAMETERS.findall(API_SOURCE):
        names |= set(re.findall(r'"([a-z_]+)"', group))
    return names


def parameters_declared() -> set[str]:
    """Every parameter the OpenAPI document declares (shoal.api.registry)."""
    return {value.name for value in vars(registry).values() if isinstance(value, registry.Param)}


def test_the_parameter_scan_finds_them() -> None:
    assert {"ip", "expression", "filter", "summary_context", "summary_cardinality", "field"} <= parameters_read()


@pytest.mark.parametrize("name", sorted(parameters_read() | parameters_declared()))
def test_parameter_is_documented(name: str) -> None:
    assert f"`{name}`" in API_DOC


def test_readme_opens_with_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text().splitlines()
    commands = [line.split("#")[0].strip() for line in readme[:6] if line.startswith("bash ")]
    assert commands == ["bash scripts/demo.sh", "bash scripts/test.sh"]
    assert "scripts/test.sh" in (ROOT / ".ci/run").read_text()

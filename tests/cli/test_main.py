"""The command table: every command loads and has help; ``shoal --help`` and local read commands import
neither the server nor (for --help) the engine; a mistyped command gets a suggestion. (Start-up times are
measured by bench/startup.py, not asserted.)"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shoal.cli.main import COMMANDS, app
from shoal.store.embedded import EmbeddedStore
from tests.corpus import CORPUS

HEAVY = ("fastapi", "uvicorn", "starlette.applications", "tantivy", "shoal.collect.scanner", "shoal.enrich")
IMPORTED = """
import sys
from shoal.cli.main import app
try:
    app(sys.argv[1:])
except SystemExit:
    pass
print("IMPORTED", *sorted(name for name in {heavy!r} if name in sys.modules), file=sys.stderr)
"""


def imported_by(*args: str) -> list[str]:
    """The heavy modules ``shoal ARGS`` imported, run in a fresh interpreter."""
    code = IMPORTED.format(heavy=HEAVY)
    result = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120)
    line = next(line for line in result.stderr.splitlines() if line.startswith("IMPORTED"))
    return line.split()[1:]


def test_help_imports_no_server_no_engine_no_collector() -> None:
    assert imported_by("--help") == []
    assert imported_by("search", "--help") == []


def test_a_local_search_imports_the_engine_but_not_the_server(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path)
    store.ingest(CORPUS[:2])
    store.close()
    assert imported_by("count", "--data", str(tmp_path)) == ["tantivy"]
    assert imported_by("search", "protocol=ssh", "--data", str(tmp_path)) == ["tantivy"]


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_loads_and_has_help(name: str) -> None:
    result = CliRunner().invoke(app, [name, "--help"], env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    assert "Usage: shoal" in result.output


def test_the_list_of_commands_and_a_suggestion() -> None:
    result = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "160"})
    for name, entry in COMMANDS.items():
        assert f"{name} " in result.output and entry.summary in result.output
    result = CliRunner().invoke(app, ["serch"])
    assert result.exit_code == 2 and "Did you mean 'search'" in result.output

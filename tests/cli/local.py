"""What the CLI tests that run commands in-process against a local store share: the store, no saved server (a
`shoal login` of the machine's user must not turn them remote) and the run."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shoal.cli.main import app
from shoal.model import Report
from shoal.store.embedded import EmbeddedStore


def stored(folder: Path, reports: Iterable[Report]) -> Path:
    """``folder`` as a data directory holding ``reports``."""
    store = EmbeddedStore(folder)
    store.ingest(reports)
    store.close()
    return folder


@pytest.fixture(autouse=True)
def no_saved_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOAL_CONFIG", str(tmp_path / "no-config.toml"))
    monkeypatch.delenv("SHOAL_URL", raising=False)


def run(*args: str) -> tuple[int, str, str]:
    """``shoal ARGS`` in this process: exit code, stdout, stderr."""
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
    return result.exit_code, result.stdout, result.stderr

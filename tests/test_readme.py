"""The README's examples run as written (issue 23): every ``.venv/bin/shoal`` line of its ``sh`` blocks runs in
bash against a demo store (the demo's corpus, as ``scripts/demo.sh`` makes it, smaller) and succeeds; every
command its synopsis (the ``text`` block) names exists."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from bench.derive import derive
from bench.generate import generate
from typer.testing import CliRunner

from shoal.cli.main import app
from shoal.model import CT, DOMAINS, RDNS, Report
from shoal.store.embedded import EmbeddedStore

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
DEMO_REPORTS = 2_000  # enough for every example to find something (the demo has 100,000)


def blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", README, flags=re.MULTILINE | re.DOTALL)


def shoal_lines(language: str) -> list[str]:
    return [line for block in blocks(language) for line in block.splitlines() if line.startswith(".venv/bin/shoal ")]


EXAMPLES = shoal_lines("sh")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory as the demo leaves the repository: ./shoal-data holds the four datasets, .venv is there."""
    folder = tmp_path_factory.mktemp("readme")
    corpus = list(generate(DEMO_REPORTS, 1))
    store = EmbeddedStore(folder / "shoal-data")
    store.ingest([Report.from_dict(raw) for raw in corpus])
    for dataset in (DOMAINS, RDNS, CT):
        store.ingest([Report.from_dict(raw, dataset) for raw in derive(iter(corpus), dataset)])
    store.close()
    (folder / ".venv").symlink_to(ROOT / ".venv")
    return folder


def test_the_readme_has_examples() -> None:
    assert len(EXAMPLES) >= 10
    assert any(line.startswith(".venv/bin/shoal count ") for line in EXAMPLES)


@pytest.mark.parametrize("line", EXAMPLES)
def test_each_example_runs_as_written(demo: Path, line: str) -> None:
    command = line.split("   #")[0].strip()
    env = {**os.environ, "SHOAL_CONFIG": str(demo / "no-login.toml"), "COLUMNS": "120"}
    for variable in ("SHOAL_DATA", "SHOAL_URL", "SHOAL_TOKEN", "SHOAL_STORE"):
        env.pop(variable, None)
    ran = subprocess.run(["bash", "-c", command], cwd=demo, capture_output=True, text=True, env=env, timeout=120)
    assert ran.returncode == 0, f"{command}\n{ran.stdout}\n{ran.stderr}"
    assert ran.stdout.strip() or "exported" in ran.stderr, command
    assert "Traceback" not in ran.stderr


def test_the_synopsis_names_real_commands() -> None:
    names = {tuple(word for word in line.split()[1:3] if re.fullmatch(r"[a-z]+", word)) for line in shoal_lines("text")}
    assert len(names) > 15
    for words in names:
        result = CliRunner().invoke(app, [*words, "-h"])
        assert result.exit_code == 0, (words, result.stdout)

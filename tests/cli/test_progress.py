"""Progress that moves: lines on a schedule when not on a terminal, honest numbers, nothing for short jobs."""

from __future__ import annotations

import io
import subprocess
import sys
import time
from pathlib import Path

import orjson
from rich.console import Console

from shoal.cli.progress import JobProgress, duration
from tests.corpus import CORPUS


def wait_for_line(out: io.StringIO, text: str) -> list[str]:
    """The lines printed so far, once one contains ``text`` (the clock prints them; give it 10 s)."""
    deadline = time.monotonic() + 10
    while text not in out.getvalue() and time.monotonic() < deadline:
        time.sleep(0.01)
    return out.getvalue().splitlines()


def test_lines_come_on_the_clock_even_when_the_job_is_busy() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=False)
    with JobProgress(console, "import x", total_bytes=4_000_000, line_seconds=0.05) as progress:
        progress.advance(1_000, bytes_done=1_000_000)
        lines = wait_for_line(out, "25%")  # the job does not call back meanwhile (a commit, say): lines come
        assert lines[0].startswith("import x: 25% 1,000 records, 1.0 of 4.0 MB read, ") and " left, " in lines[0]
        progress.stored = 1_000
        progress.advance(2_000, bytes_done=4_000_000)  # everything read, a third stored: a third done, not 100%
        third = wait_for_line(out, "33%")[-1]
        assert third.startswith("import x: 33% 1,000 records stored, 2,000 queued, 4.0 of 4.0 MB read, ")
        progress.stored = 3_000
        last = wait_for_line(out, "100%")[-1]
    assert last.startswith("import x: 100% 3,000 records stored, 0 queued, 4.0 of 4.0 MB read, ")
    assert " left" not in last


def test_a_job_shorter_than_a_line_says_nothing() -> None:
    out = io.StringIO()
    with JobProgress(Console(file=out, force_terminal=False), "export") as progress:
        progress.advance(10)
    assert out.getvalue() == ""


def test_unknown_totals_give_no_percent_and_no_eta() -> None:
    progress = JobProgress(Console(file=io.StringIO()), "import stdin", noun="reports")
    progress.advance(2_500, new_bytes=3_000_000)
    assert progress.line().startswith("import stdin: 2,500 reports, 3.0 MB read, ")
    assert "%" not in progress.line() and "left" not in progress.line()
    assert duration(3725.4) == "1:02:05"


def test_a_terminal_gets_a_bar(tmp_path: Path) -> None:
    """A real import in a pseudo-terminal: the bar is drawn with records, MB and rate."""
    from tests.cli.test_verbs import on_a_terminal

    source = tmp_path / "corpus.jsonl"
    source.write_bytes(b"".join(orjson.dumps(report.as_dict()) + b"\n" for report in CORPUS))
    command = [sys.executable, "-m", "shoal", "import", str(source), "--data", str(tmp_path / "d"), "--workers", "0"]
    shown = on_a_terminal(command)
    assert "import corpus.jsonl" in shown and "16 reports stored" in shown and "MB" in shown and "reports/s" in shown
    assert "imported 16, duplicate 0, rejected 0" in shown
    piped = subprocess.run(command, capture_output=True, text=True)
    assert piped.stderr.strip() == "" and piped.stdout.strip() == "imported 0, duplicate 16, rejected 0"

"""``shoal ct follow`` against a log that attacks it (tests/ct/hostile_log.py): answers far over 64 MiB, a gzip
bomb, millions of JSON values, a trickle and silence end the run with one line saying why, within the request's
deadline, in under 512 MB; an empty precert is a rejected entry."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.collect.conftest import BLOCK
from tests.ct.hostile_log import HostileLog, hostile_log

LOG_IP = f"127.{BLOCK}.24.2"
MAX_RSS_BYTES = 512 << 20


def follow_measured(url: str, data: Path, *options: str, limit: float = 180) -> tuple[int, str, float, int]:
    """``shoal ct follow --once URL``: (exit status, stderr, seconds, peak resident bytes of that process).

    The peak is the process's own high-water mark (``VmHWM``, read until it exits): ``wait4``'s ``ru_maxrss``
    would count the memory of the forking test process, which Linux carries across ``exec``."""
    command = [sys.executable, "-m", "shoal", "ct", "follow", url, "--once", "--data", str(data), *options]
    errors = data / "stderr.txt"
    started = time.monotonic()
    with open(errors, "wb") as stderr:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr)
    peak = 0
    status = Path(f"/proc/{process.pid}/status")
    while process.poll() is None:
        with contextlib.suppress(OSError, StopIteration):
            line = next(line for line in status.read_text().splitlines() if line.startswith("VmHWM:"))
            peak = max(peak, int(line.split()[1]) << 10)
        if time.monotonic() - started > limit:
            process.kill()
        time.sleep(0.02)
    return process.returncode, " ".join(errors.read_text().split()), time.monotonic() - started, peak


@pytest.mark.slow
@pytest.mark.parametrize(
    ("mode", "said"),
    [
        ("huge", "answer larger than 64 MiB"),
        ("bomb", "answer larger than 64 MiB"),
        ("values", "more than the 144 the entries asked for can hold"),
    ],
)
def test_an_answer_too_large_to_hold_is_refused_in_bounded_memory(tmp_path: Path, mode: str, said: str) -> None:
    with hostile_log(HostileLog(mode), LOG_IP) as url:
        status, stderr, seconds, peak = follow_measured(url, tmp_path)
    assert status == 2 and said in stderr and "Traceback" not in stderr, stderr
    assert peak < MAX_RSS_BYTES, f"{peak >> 20} MiB"
    assert seconds < 60


@pytest.mark.parametrize("mode", ["trickle", "silent"])
def test_a_log_that_answers_too_slowly_is_given_up_on_within_the_request_deadline(tmp_path: Path, mode: str) -> None:
    with hostile_log(HostileLog(mode, trickle_seconds=0.2), LOG_IP) as url:
        status, stderr, seconds, _ = follow_measured(url, tmp_path, "--timeout", "3")
    assert status == 2 and "no whole answer within 3 s (tries included); the log answers too slowly" in stderr, stderr
    assert seconds < 3 + 10  # the deadline, and the start of a Python process on a loaded machine


def test_an_empty_precert_is_a_rejected_entry(tmp_path: Path) -> None:
    with hostile_log(HostileLog("precert", tree_size=1), LOG_IP) as url:
        status, stderr, _, _ = follow_measured(url, tmp_path)
    assert status == 0, stderr
    assert "rejected entry 0: the entry (precert) has no certificate: its length is 0" in stderr


@pytest.mark.slow
def test_answers_just_under_the_limit_are_read_in_bounded_memory(tmp_path: Path) -> None:
    with hostile_log(HostileLog("fat", tree_size=2048), LOG_IP) as url:
        status, stderr, _, peak = follow_measured(url, tmp_path, "--rate", "100/s")
    assert status == 0, stderr
    assert peak < MAX_RSS_BYTES, f"{peak >> 20} MiB"

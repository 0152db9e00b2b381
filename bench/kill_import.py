#!/usr/bin/env python3
"""Durability under ``kill -9``: interrupt ``shoal import`` at random moments, check the store every time.

    python bench/kill_import.py --count 300000 [--kills 25] [--data DIR] [--seed 1] [--engine embedded|chdb]

A corpus of ``--count`` reports is generated (``bench/generate.py``, kept in DIR), then ``shoal import``
is started on it and SIGKILLed at a random moment, ``--kills`` times in a row (each run resumes the file
from the start, as a user would), then run once more to completion. The import runs on a pseudo-terminal
so its progress line ("N stored", updated after each committed batch) can be read. After every kill:

- the store opens and answers a search, a summary and a page of reports;
- its size is a whole number of batches (or the total): a batch is committed entirely or not at all (on
  ClickHouse, per partition: the batch being written may be partly there, docs/clickhouse.md);
- the reports stored are the first N of the file, N whole batches (plus, on ClickHouse, part of the next):
  no report missing, none invented;
- no report is stored twice (every id term has a document frequency of 1);
- every report the import had reported as done (its last progress line) is present.

After the last run the store holds exactly the corpus, and the import's summary line adds up. Worker
processes left behind by a killed import are counted, then killed. ``--batch-size`` other than 200,000
runs the same pipeline through a small child script (``shoal import`` has no such option); the test suite
uses it to get several commits out of a small file. ``--engine chdb`` runs it all on a ``chdb://`` store
(ClickHouse in the importing process) instead of the embedded one. Prints the figures as markdown. Not run by
the tests (``tests/test_durability.py`` runs it small, on both engines).
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import os
import pty
import random
import re
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
SHOAL_BATCH = 200_000  # reports per commit in shoal import of JSON lines (shoal.ingest.pipeline.LINES_BATCH_SIZE)
PROGRESS = re.compile(rb"reports (\d+)|([\d,]+) stored")  # the child's line, or shoal import's progress
SUMMARY = re.compile(rb"imported (\d+), duplicate (\d+), rejected (\d+)")
REPORT_ID = re.compile(rb'"id":"([^"]+)"')
ENGINES = ("embedded", "chdb")
CHILD = """
import sys
from pathlib import Path
from shoal.ingest.inputs import open_input
from shoal.ingest.jsonl import decode_chunk, read_chunks
from shoal.ingest.pipeline import IngestTotals, ingest_chunks
from shoal.store.registry import open_store
store = open_store(sys.argv[4] if len(sys.argv) > 4 else None, Path(sys.argv[1]))
totals = IngestTotals()
progress = lambda current: print(f"reports {current.processed}", flush=True)
stream = open_input(Path(sys.argv[2]))
ingest_chunks(store, read_chunks(stream, sys.argv[2], 500), decode_chunk, totals, progress, 0, int(sys.argv[3]))
store.close()
print(f"imported {totals.imported}, duplicate {totals.duplicates}, rejected {len(totals.rejected)}", flush=True)
"""


@dataclass
class Run:
    killed: bool
    seconds: float
    reported: int  # the last "reports N" the import printed before it died or ended
    output: bytes
    lingering: int = 0  # processes of the import still alive 5 s after the kill


@dataclass
class Check:
    count: int
    problems: list[str] = field(default_factory=list)


@dataclass
class Campaign:
    total: int
    batch: int
    runs: list[Run] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    final_output: bytes = b""

    @property
    def problems(self) -> list[str]:
        return [f"after run {n + 1}: {p}" for n, check in enumerate(self.checks) for p in check.problems]


def tool(name: str) -> str:
    path = BIN / name
    found = str(path) if path.exists() else shutil.which(name)
    if found is None:
        sys.exit(f"cannot find {name!r} next to {sys.executable} or on PATH")
    return found


def ensure_corpus(folder: Path, count: int, seed: int) -> Path:
    corpus = folder / f"kill-corpus-{count}-{seed}.jsonl.gz"
    if not corpus.is_file():
        partial = corpus.with_name(corpus.name + ".partial.gz")
        command = [sys.executable, str(HERE / "generate.py"), "--count", str(count), "--seed", str(seed)]
        subprocess.run(
            [*command, "--out", str(partial)], check=True, capture_output=True, timeout=max(600, count // 500)
        )
        partial.replace(corpus)
    return corpus


def corpus_ids(corpus: Path) -> list[str]:
    opener = gzip.open if corpus.suffix == ".gz" else open
    with opener(corpus, "rb") as stream:
        return [REPORT_ID.search(line)[1].decode() for line in stream if line.strip()]  # type: ignore[index]


def store_url(data: Path, engine: str) -> str | None:
    """The store the import writes to: the embedded one in ``data``, or chDB under ``data/chdb``."""
    return None if engine == "embedded" else f"chdb://{(data / 'chdb').resolve()}"


def import_command(data: Path, corpus: Path, batch: int, engine: str = "embedded") -> list[str]:
    url = store_url(data, engine)
    if batch == SHOAL_BATCH:
        return [tool("shoal"), *(["--store", url] if url else []), "import", "--data", str(data), str(corpus)]
    return [sys.executable, "-c", CHILD, str(data), str(corpus), str(batch), *([url] if url else [])]


def run_import(command: list[str], kill_after: float | None) -> Run:
    """Run the import on a pseudo-terminal; SIGKILL it after ``kill_after`` seconds (if still running)."""
    leader, follower = pty.openpty()
    environment = {**os.environ, "COLUMNS": "160", "TERM": "xterm"}
    started = time.monotonic()
    process = subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=follower, stderr=follower, start_new_session=True, env=environment
    )
    os.close(follower)
    output = bytearray()

    def drain() -> None:
        with selectors.DefaultSelector() as watcher:  # not select(): the pty's number may be above 1023
            watcher.register(leader, selectors.EVENT_READ)
            while True:
                try:
                    if watcher.select(0.5):
                        chunk = os.read(leader, 65536)
                        if not chunk:
                            return
                        output.extend(chunk)
                    elif process.poll() is not None:
                        return
                except OSError:  # EIO: every writer of the terminal is gone
                    return

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    killed = False
    try:
        process.wait(timeout=kill_after)
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        killed = True
        process.wait()
    seconds = time.monotonic() - started
    lingering = wait_for_group(process.pid, 5.0) if killed else 0
    reader.join(timeout=10)
    os.close(leader)
    seen = [int((child or shoal).replace(b",", b"")) for child, shoal in PROGRESS.findall(bytes(output))]
    return Run(killed, seconds, max(seen, default=0), bytes(output), lingering)


def wait_for_group(group: int, seconds: float) -> int:
    """Processes left in the killed import's process group after ``seconds`` (then killed)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not members(group):
            return 0
        time.sleep(0.1)
    left = members(group)
    for pid in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return len(left)


def members(group: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (FileNotFoundError, ProcessLookupError, IndexError):
                continue
            if int(fields[2]) == group and fields[0] != "Z":
                found.append(int(entry.name))
    return found


def stored_ids(store: object) -> tuple[int, list[tuple[str, int]]]:
    """(reports stored, (id, copies) per id) of an embedded or ClickHouse store of protocols."""
    from tantivy import Query

    from shoal.store.clickhouse import ClickHouseStore
    from shoal.store.clickhouse.client import rows

    if isinstance(store, ClickHouseStore):
        found = rows(store.client, f"SELECT id, count() AS copies FROM {store.table('reports')} GROUP BY id")
        return sum(row["copies"] for row in found), [(row["id"], row["copies"]) for row in found]
    index = store.index("protocols")  # type: ignore[attr-defined]
    view = index.view()  # the shards as a reader sees them: a batch whole, or not at all
    count = index.count()
    visible = view.restrict(Query.all_query())
    return count, [term for searcher in view.searchers for term in searcher.terms_with_prefix("id", "", visible)]


def check_store(data: Path, ids: list[str], batch: int, reported: int, engine: str = "embedded") -> Check:
    """Open the store the way ``shoal serve`` would, and check everything the module docstring lists. A chDB
    store is checked in a process of its own (chDB opens one set of files per process)."""
    if engine != "embedded":
        return check_in_child(data, ids, batch, reported, engine)
    return check_opened(data, ids, batch, reported, engine)


def check_in_child(data: Path, ids: list[str], batch: int, reported: int, engine: str) -> Check:
    arguments = [str(data), str(batch), str(reported), engine]
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "check", *arguments],
        input=json.dumps(ids).encode(),
        capture_output=True,
        timeout=600,
    )
    if done.returncode != 0:
        return Check(-1, [f"the check failed: {done.stderr.decode()[-500:]}"])
    count, problems = json.loads(done.stdout)
    return Check(count, problems)


def check_opened(data: Path, ids: list[str], batch: int, reported: int, engine: str) -> Check:
    from starlette.datastructures import QueryParams

    from shoal.request.reading import known_types, summary_of
    from shoal.request.selection import Selection
    from shoal.store.base import Filters
    from shoal.store.registry import open_store

    try:
        store = open_store(store_url(data, engine), data, server=True)
    except Exception as exc:
        return Check(-1, [f"the store does not open: {exc!r}"])
    try:
        count, terms = stored_ids(store)
        check = Check(count)
        problems = check.problems
        whole = count - count % batch if count != len(ids) else count
        if whole != count and engine == "embedded":
            problems.append(f"{count} reports: not a whole number of {batch}-report batches (a torn batch)")
        if count < reported:
            problems.append(f"{count} reports, but the import had reported {reported} done")
        if len(terms) != count or any(frequency != 1 for _, frequency in terms):
            twice = [term for term, frequency in terms if frequency != 1][:5]
            problems.append(f"{count} reports but {len(terms)} ids; stored more than once: {twice}")
        stored = {term for term, _ in terms}
        if not set(ids[:whole]) <= stored <= set(ids[: whole + batch] if whole != count else ids[:count]):
            problems.append(f"the stored ids are not the first {whole} of the file and part of the next batch")
        if count:
            page = store.search(Filters(), limit=100)
            if page.total != count or not all(report.id in set(ids) for report in page.reports):
                problems.append(f"a search found {page.total} reports, not {count}, or unknown ids")
            types = known_types(store)
            summary = summary_of(QueryParams("summarize=port-tcp"), types, False)
            assert summary is not None
            if not store.summarize(Selection.read(QueryParams("")).as_filters(types), summary).values:
                problems.append("a summary over every report is empty")
        return check
    except Exception as exc:
        return Check(-1, [f"the store fails when read: {exc!r}"])
    finally:
        store.close()


def campaign(
    data: Path, corpus: Path, kills: int, batch: int, rng: random.Random, log: bool = True, engine: str = "embedded"
) -> Campaign:
    """Imports killed at random moments until ``kills`` were really killed (each checked; a store found
    complete is wiped so the next kills land mid-import again), then one import to completion, checked."""
    ids = corpus_ids(corpus)
    result = Campaign(total=len(ids), batch=batch)
    command = import_command(data, corpus, batch, engine)
    duration = run_import(command, None).seconds if kills else 0.0  # a timing run on a scratch store
    shutil.rmtree(data, ignore_errors=True)
    attempts = 0
    while sum(run.killed for run in result.runs) < kills and attempts < 3 * kills:
        attempts += 1
        if result.checks and result.checks[-1].count == len(ids):
            shutil.rmtree(data, ignore_errors=True)  # complete: start again, so the next kill is mid-import
        run = run_import(command, rng.uniform(0.05, 1.0) * duration)
        if not run.killed and check_count(result) == 0:
            duration = run.seconds  # a whole import from an empty store: the machine's current pace
        check = check_store(data, ids, batch, run.reported, engine)
        result.runs.append(run)
        result.checks.append(check)
        if log:
            state = "killed" if run.killed else "finished first"
            print(
                f"run {attempts:2d}: {state} at {run.seconds:5.1f} s; reported {run.reported:,}, stored"
                f" {check.count:,}; lingering processes {run.lingering}; problems: {check.problems or 'none'}",
                file=sys.stderr,
                flush=True,
            )
    before = result.checks[-1].count if result.checks else 0
    final = run_import(command, None)
    result.final_output = final.output
    check = check_store(data, ids, batch, final.reported, engine)
    summary = SUMMARY.search(final.output)
    if summary is None:
        check.problems.append(f"the last import printed no summary: {final.output[-300:]!r}")
    else:
        imported, duplicate, rejected = map(int, summary.groups())
        if (imported, duplicate, rejected) != (len(ids) - before, before, 0):
            check.problems.append(
                f"the last import said imported {imported}, duplicate {duplicate}, rejected {rejected};"
                f" expected {len(ids) - before}, {before}, 0"
            )
    if check.count != len(ids):
        check.problems.append(f"after the last import {check.count} reports, not {len(ids)}")
    result.runs.append(final)
    result.checks.append(check)
    return result


def check_count(result: Campaign) -> int:
    """Reports stored before the latest run (0 for a fresh or wiped store)."""
    if len(result.checks) < 1 or result.checks[-1].count == result.total:
        return 0
    return result.checks[-1].count


def report(result: Campaign, corpus: Path) -> None:
    killed = [run for run in result.runs if run.killed]
    counts = [check.count for check in result.checks[:-1]]
    print(f"\n## kill -9 during import: {len(killed)} kills, corpus {corpus.name} ({result.total:,} reports)\n")
    print("| measure | result |")
    print("|---|---|")
    print(f"| imports killed (SIGKILL at a random moment) | {len(killed)} of {len(result.runs) - 1} runs |")
    print(f"| batch size (reports per commit) | {result.batch:,} |")
    print(f"| store opened and readable after every kill | {all(c.count >= 0 for c in result.checks)} |")
    print(f"| reports stored after each kill | {', '.join(f'{c:,}' for c in counts)} |")
    problems = result.problems
    kinds = {
        "torn batches (a batch partly committed)": "torn batch",
        "reports stored twice": "more than once",
        "stored reports other than the file's first N": "not the first",
        "reported done but missing": "had reported",
        "store failed to open or read": "the store",
    }
    for label, words in kinds.items():
        print(f"| {label} | {sum(words in problem for problem in problems)} |")
    print(f"| worker processes left by a killed import (max) | {max((r.lingering for r in killed), default=0)} |")
    print(f"| final run: exact total, no duplicates | {result.checks[-1].count == result.total} |")
    print(f"| problems | {len(result.problems)} |")
    for problem in result.problems:
        print(f"- {problem}")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300_000, help="reports in the corpus (default 300,000)")
    parser.add_argument("--kills", type=int, default=25, help="imports to kill (default 25)")
    parser.add_argument("--data", type=Path, help="work directory (default: a new temporary one)")
    parser.add_argument("--seed", type=int, default=1, help="corpus and kill-moment seed")
    parser.add_argument("--engine", choices=ENGINES, default="embedded", help="the store imported into")
    parser.add_argument("--batch-size", type=int, default=SHOAL_BATCH, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not 1 <= args.count <= 5_000_000 or not 0 <= args.kills <= 200:
        parser.error("--count 1–5,000,000 and --kills 0–200")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    given = sys.argv[1:] if argv is None else list(argv)
    if given[:1] == ["check"]:  # check_in_child's process: DATA BATCH REPORTED ENGINE, the ids on stdin
        data, batch, reported, engine = Path(given[1]), int(given[2]), int(given[3]), given[4]
        check = check_opened(data, json.load(sys.stdin), batch, reported, engine)
        print(json.dumps([check.count, check.problems]))
        return 0
    args = parse_args(argv)
    folder = args.data or Path(tempfile.mkdtemp(prefix="shoal-kill-"))
    folder.mkdir(parents=True, exist_ok=True)
    corpus = ensure_corpus(folder, args.count, args.seed)
    data = folder / "store"
    shutil.rmtree(data, ignore_errors=True)
    started = time.monotonic()
    result = campaign(data, corpus, args.kills, args.batch_size, random.Random(args.seed), engine=args.engine)
    report(result, corpus)
    print(f"\nwall time {time.monotonic() - started:,.0f} s; work directory {folder}")
    return 1 if result.problems else 0


if __name__ == "__main__":
    sys.exit(main())

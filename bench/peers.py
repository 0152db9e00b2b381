#!/usr/bin/env python3
"""Shoal against its peers on one corpus, in the same run: chDB (ClickHouse in-process) and DuckDB.

    python bench/peers.py --count 1000000 --data /tmp/shoal-peers [--runs 5] [--keep] [--engines shoal chdb duckdb]
        [--baseline SRC] [--engines shoal shoal-1 main]

Steps: (1) ``bench/generate.py`` writes ``DIR/corpus-N.jsonl.gz`` (kept and reused); (2) the decode floor is
timed: read + gunzip + ``orjson.loads`` of every line in one process, the least any importer of this file
does; (3) each engine loads the same gzipped file: Shoal by ``shoal import`` (a subprocess, its CPU from
``RUSAGE_CHILDREN``), chDB and DuckDB by their own JSON readers in-engine, each in a worker process of its
own; (4) the queries of ``bench/core.py`` are asked of every engine, interleaved query by query (the order
of the engines rotates each round), each engine timing itself (wall and process CPU); (5) result counts,
first pages (the ids of 100 full reports, newest first) and summaries are compared across engines, and a
table of medians and of Shoal/peer ratios (below 1: Shoal takes less time) is printed, with the load
average before and after, since the machine is shared.

``shoal-1`` is Shoal with one index shard (``shoal db init --shards 1``: what the shard merge costs a search);
``main`` is Shoal from another checkout's ``src`` (``--baseline``: the code before a change, in the same run).
The import's memory is the peak of the sum of its processes' RSS (sampled every 0.2 s) and its largest process.
DuckDB comes with ``pip install -e '.[bench]'``.

The peers' schema: ``reports`` (id, date, target ip/port, the items as an array, ordered by date and id) and
``items`` (one row per item with its lower-cased words between spaces, ordered by type, context, value).
A phrase is a regular expression over those words; ``most_recent`` is ``LIMIT 1 BY`` in ClickHouse and a
window in DuckDB. Not part of the test suite: run it by hand.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import gzip
import ipaddress
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from core import Sample, ensure_corpus, inspect, machine  # noqa: E402

WARMUPS = 1
MARKER = "loaded.json"
ITEM = "STRUCT(context VARCHAR, is_metadata BOOLEAN, type VARCHAR, value VARCHAR)"
CH_ITEM = "Tuple(context String, is_metadata Bool, type String, value String)"


@dataclass
class Query:
    label: str
    params: list[tuple[str, str]]  # Shoal's API parameters
    where: str = ""  # a predicate on reports ({items} is the items table)
    summarize: str = ""  # summary type (any context)
    most_recent: bool = False


@dataclass
class Timing:
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)


def plan(sample: Sample) -> list[Query]:
    network = ipaddress.ip_network(sample.network)
    low, high = int(network.network_address), int(network.broadcast_address)
    in_net = f"v4 AND ip4 BETWEEN {low} AND {high}"
    banner_type, banner_context = ("server-banner", None) if sample.banner_has_nginx else ("http-header", "Server")
    banner = "server-banner:nginx" if sample.banner_has_nginx else "http-header;Server:nginx"
    exact = sample.server.replace("\\", "\\\\").replace('"', '\\"')
    nginx_tag = item_where("product-tag", None, "has_word", "nginx")
    return [
        Query(f"ip={sample.network}", [("ip", sample.network)], in_net),
        Query(banner, [("expression", banner)], item_where(banner_type, banner_context, "has_word", "nginx")),
        Query(
            'title:"university london" slop=1',
            [("expression", 'title:"university london"'), ("slop", "1")],
            item_where("title", None, "regex", " university ([^ ]+ )?london "),
        ),
        Query("title:univ*", [("expression", "title:univ*")], item_where("title", None, "has_text", " univ")),
        Query(
            f'http-header;Server="{exact}"',
            [("expression", f'http-header;Server="{exact}"')],
            item_where("http-header", "Server", "equals", sample.server),
        ),
        Query(
            "product-tag:nginx and not port-tcp:443",
            [("expression", "product-tag:nginx and not port-tcp:443")],
            f"{nginx_tag} AND NOT {item_where('port-tcp', None, 'equals', '443')}",
        ),
        Query("summarize=port-tcp (everything)", [("summarize", "port-tcp")], summarize="port-tcp"),
        Query(
            "summarize=geo-country, product-tag:nginx",
            [("summarize", "geo-country"), ("expression", "product-tag:nginx")],
            nginx_tag,
            summarize="geo-country",
        ),
        Query(
            f"ip={sample.network} most_recent=true",
            [("ip", sample.network), ("most_recent", "true")],
            in_net,
            most_recent=True,
        ),
    ]


def sql_text(text: str) -> str:
    """A string literal both dialects read alike (ClickHouse would read backslashes as escapes)."""
    if "\\" in text:
        raise ValueError(f"no backslashes in benchmark values: {text!r}")
    return "'" + text.replace("'", "''") + "'"


def item_where(item_type: str, context: str | None, test: str, text: str) -> str:
    """``id IN (items of this type [and context] passing test)``; ``{contains}``/``{regex}`` are per dialect."""
    clauses = [f"type = {sql_text(item_type)}"]
    if context is not None:
        clauses.append(f"context = {sql_text(context)}")
    if test == "equals":
        clauses.append(f"value = {sql_text(text)}")
    elif test == "has_word":
        clauses.append("{contains}(words, " + sql_text(f" {text} ") + ")")
    elif test == "has_text":
        clauses.append("{contains}(words, " + sql_text(text) + ")")
    else:
        clauses.append("{regex}(words, " + sql_text(text) + ")")
    return "id IN (SELECT id FROM items WHERE " + " AND ".join(clauses) + ")"


# -- the engines (each in a worker process) -------------------------------------------------------------------


class Engine:
    name = ""
    contains = ""
    regex = ""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def load(self, corpus: Path) -> dict[str, Any]:
        raise NotImplementedError

    def rows(self, sql: str) -> list[list[Any]]:
        raise NotImplementedError

    def sql(self, template: str) -> str:
        return template.replace("{contains}", self.contains).replace("{regex}", self.regex)

    def answer(self, query: Query) -> dict[str, Any]:
        where = self.sql(query.where) if query.where else "1 = 1"
        if query.summarize:
            rows = self.rows(
                f"SELECT value, count(DISTINCT id) FROM items WHERE type = {sql_text(query.summarize)}"
                f" AND ({where}) GROUP BY value"
            )
            return summary_answer([(str(value), int(count)) for value, count in rows])
        if query.most_recent:
            total, page = self.newest(where)
        else:
            total = int(self.rows(f"SELECT count() FROM reports WHERE {where}")[0][0])
            page = self.rows(f"SELECT id, date, items FROM reports WHERE {where} ORDER BY date DESC, id DESC LIMIT 100")
        return {"count": total, "page": [row[0] for row in page]}

    def newest(self, where: str) -> tuple[int, list[list[Any]]]:
        raise NotImplementedError

    def size(self) -> int:
        return sum(path.stat().st_size for path in self.folder.rglob("*") if path.is_file())


def summary_answer(counts: list[tuple[str, int]]) -> dict[str, Any]:
    ranked = sorted(counts, key=lambda pair: (-pair[1], pair[0]))
    listed = ranked[:100]
    other = sum(count for _, count in ranked) - sum(count for _, count in listed)
    return {"count": len(ranked), "values": listed, "other": other}


class ChDB(Engine):
    name = "chdb"
    contains = "position"
    regex = "match"
    split = r"'[^\\p{L}\\p{N}]+'"  # tantivy's simple tokenizer splits on what is not alphanumeric

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        import chdb.session

        self.session = chdb.session.Session(str(folder))
        self.session.query("CREATE DATABASE IF NOT EXISTS peers")
        self.session.query("USE peers")

    def rows(self, sql: str) -> list[list[Any]]:
        result = self.session.query(self.sql(sql).replace("count(DISTINCT id)", "uniqExact(id)"), "JSONCompact")
        return orjson.loads(result.bytes())["data"]

    def load(self, corpus: Path) -> dict[str, Any]:
        run = self.session.query
        run("DROP TABLE IF EXISTS reports")
        run("DROP TABLE IF EXISTS items")
        run(
            f"CREATE TABLE reports (id String, date Date, ip String, ip4 UInt32, v4 Bool, port UInt16,"
            f" items Array({CH_ITEM})) ENGINE = MergeTree ORDER BY (date, id)"
        )
        run(
            "CREATE TABLE items (id String, date Date, type LowCardinality(String), context String, value String,"
            " words String) ENGINE = MergeTree ORDER BY (type, context, value)"
        )
        run(
            "INSERT INTO reports SELECT id, toDate(date),"
            " arrayFirst(x -> x.type = 'ip' AND x.context = '', items).value AS target,"
            " if(isIPv4String(target), toUInt32(toIPv4OrZero(target)), 0), isIPv4String(target),"
            " toUInt16OrZero(arrayFirst(x -> x.type = 'port-tcp' AND x.context = '', items).value), items"
            f" FROM file({sql_text(str(corpus))}, 'JSONEachRow', 'date String, id String, items Array({CH_ITEM})')"
        )
        run(
            "INSERT INTO items SELECT id, date, item.type, item.context, item.value,"
            f" concat(' ', trimBoth(replaceRegexpAll(lowerUTF8(item.value), {self.split}, ' ')), ' ')"
            " FROM reports ARRAY JOIN items AS item"
        )
        run("OPTIMIZE TABLE reports FINAL")
        run("OPTIMIZE TABLE items FINAL")
        return {"reports": int(self.rows("SELECT count() FROM reports")[0][0])}

    def newest(self, where: str) -> tuple[int, list[list[Any]]]:
        total = int(self.rows(f"SELECT uniqExact(ip, port) FROM reports WHERE {where}")[0][0])
        page = self.rows(
            f"SELECT id, date, items FROM reports WHERE {where} ORDER BY date DESC, id DESC"
            " LIMIT 1 BY ip, port LIMIT 100"
        )
        return total, page


class DuckDB(Engine):
    name = "duckdb"
    contains = "contains"
    regex = "regexp_matches"
    split = r"'[^\p{L}\p{N}]+'"

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        import duckdb

        folder.mkdir(parents=True, exist_ok=True)
        self.connection = duckdb.connect(str(folder / "peers.duckdb"))
        self.connection.execute("SET memory_limit = '6GB'")  # a shared machine: it spills beyond (1M peaks at 2.5)

    def rows(self, sql: str) -> list[list[Any]]:
        return [list(row) for row in self.connection.execute(self.sql(sql).replace("count()", "count(*)")).fetchall()]

    def load(self, corpus: Path) -> dict[str, Any]:
        run = self.connection.execute
        run(
            "CREATE OR REPLACE TABLE reports AS SELECT id, date, target AS ip,"
            " coalesce(try_cast(regexp_extract(target, '^(\\d+)\\.', 1) AS UBIGINT) * 16777216"
            " + try_cast(regexp_extract(target, '^\\d+\\.(\\d+)\\.', 1) AS UBIGINT) * 65536"
            " + try_cast(regexp_extract(target, '^\\d+\\.\\d+\\.(\\d+)\\.', 1) AS UBIGINT) * 256"
            " + try_cast(regexp_extract(target, '^\\d+\\.\\d+\\.\\d+\\.(\\d+)$', 1) AS UBIGINT), 0) AS ip4,"
            " NOT contains(target, ':') AS v4, port, items FROM ("
            " SELECT id, date::DATE AS date, items,"
            " list_filter(items, lambda x: x.type = 'ip' AND x.context = '')[1].value AS target,"
            " coalesce(try_cast(list_filter(items, lambda x: x.type = 'port-tcp' AND x.context = '')[1].value"
            " AS USMALLINT), 0) AS port"
            f" FROM read_json({sql_text(str(corpus))}, format = 'newline_delimited',"
            f" columns = {{date: 'VARCHAR', id: 'VARCHAR', items: '{ITEM}[]'}})) ORDER BY date, id"
        )
        run(
            "CREATE OR REPLACE TABLE items AS SELECT id, date, item.type AS type, item.context AS context,"
            " item.value AS value,"
            f" ' ' || trim(regexp_replace(lower(item.value), {self.split}, ' ', 'g'))"
            " || ' ' AS words FROM (SELECT id, date, unnest(items) AS item FROM reports) ORDER BY type, context, value"
        )
        run("CHECKPOINT")
        return {"reports": int(self.rows("SELECT count() FROM reports")[0][0])}

    def newest(self, where: str) -> tuple[int, list[list[Any]]]:
        total = int(self.rows(f"SELECT count(*) FROM (SELECT DISTINCT ip, port FROM reports WHERE {where})")[0][0])
        page = self.rows(
            f"SELECT id, date, items FROM reports WHERE {where}"
            " QUALIFY row_number() OVER (PARTITION BY ip, port ORDER BY date DESC, id DESC) = 1"
            " ORDER BY date DESC, id DESC LIMIT 100"
        )
        return total, page


class Shoal(Engine):
    """Queries in-process through ``EmbeddedStore`` with the API's own parameter parsing (as bench/core.py)."""

    name = "shoal"
    shards: int | None = None  # None: the default (one per core)

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self.store: Any = None

    def open(self) -> Any:
        if self.store is None:
            from shoal.store.embedded import EmbeddedStore

            self.store = EmbeddedStore(self.folder, hold_writer=False)
        return self.store

    def load(self, corpus: Path) -> dict[str, Any]:
        shoal = [sys.executable, "-m", "shoal"]  # the code of this worker's PYTHONPATH (main: the baseline's)
        if self.shards is not None:
            made = [*shoal, "db", "init", "--shards", str(self.shards), "--data", str(self.folder)]
            subprocess.run(made, check=True, capture_output=True)  # this worker's stdout is its answers
        # Its output to files, not pipes: nobody reads a pipe while the import runs, and a long import's progress
        # lines fill one (at 10M reports the progress thread blocked on it for the rest of the import).
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            process = subprocess.Popen(
                [*shoal, "import", "--data", str(self.folder), str(corpus)], stdout=out, stderr=err
            )
            summed = 0
            while process.poll() is None:
                summed = max(summed, tree_rss(process.pid))
                time.sleep(0.2)
            output, errors = (read_back(file) for file in (out, err))
        if process.returncode != 0:
            raise RuntimeError(f"shoal import failed: {output.decode()}\n{errors.decode()[-2000:]}")
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024  # the largest process, in MiB
        return {
            "reports": self.open().count(),
            "output": output.decode().strip(),
            "import peak RSS MiB": peak,
            "import peak RSS of all its processes MiB": summed // 1024,
        }

    def answer(self, query: Query) -> dict[str, Any]:
        from starlette.datastructures import QueryParams

        from shoal.request.reading import known_types, summary_of
        from shoal.request.selection import Selection

        store = self.open()
        params = QueryParams(query.params)
        types = known_types(store)
        filters = Selection.read(params).as_filters(types)
        request = summary_of(params, types, True)
        if request is not None:
            summary = store.summarize(filters, request)
            return {"count": summary.cardinality, "values": [list(pair) for pair in summary.values],
                    "other": summary.other}  # fmt: skip
        page = store.search(filters, offset=0, limit=100)
        return {"count": page.total, "page": [report.id for report in page.reports]}


class Floor(Engine):
    """Read + gunzip + orjson.loads of every line: what every importer of this file must at least do."""

    name = "floor"

    def load(self, corpus: Path) -> dict[str, Any]:
        lines = 0
        with gzip.open(corpus, "rb") as stream:
            for line in stream:
                orjson.loads(line)
                lines += 1
        return {"reports": lines}

    def size(self) -> int:
        return 0


class OneShard(Shoal):
    name = "shoal-1"
    shards = 1


class Baseline(Shoal):
    name = "main"


def read_back(file: Any) -> bytes:
    file.seek(0)
    return file.read()


def tree_rss(pid: int) -> int:
    """The RSS of a process and its descendants, in KiB."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        with contextlib.suppress(OSError):
            status = Path(f"/proc/{current}/status").read_text()
            total += next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS")), 0)
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(child) for child in (task / "children").read_text().split()]
    return total


ENGINES: dict[str, Callable[[Path], Engine]] = {
    "shoal": Shoal,
    "shoal-1": OneShard,
    "main": Baseline,
    "chdb": ChDB,
    "duckdb": DuckDB,
    "floor": Floor,
}


def worker(name: str, folder: Path) -> int:
    """Answer JSON commands on stdin, one per line: load, query, size, memory."""
    engine = ENGINES[name](folder)
    for line in sys.stdin:
        command = json.loads(line)
        wall, cpu = time.perf_counter(), time.process_time()
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        if command["op"] == "load":
            reply = engine.load(Path(command["corpus"]))
        elif command["op"] == "query":
            reply = engine.answer(Query(**command["query"]))
        elif command["op"] == "size":
            reply = {"bytes": engine.size()}
        else:
            reply = {"memory": memory(os.getpid())}
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        child_cpu = (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
        reply["wall_ms"] = (time.perf_counter() - wall) * 1000
        reply["cpu_ms"] = (time.process_time() - cpu + child_cpu) * 1000
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()
    return 0


def memory(pid: int) -> str:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) // 1024
    return f"RSS {fields.get('VmRSS', 0)} MiB (peak {fields.get('VmHWM', 0)})"


class Worker:
    def __init__(self, name: str, folder: Path, baseline: Path | None = None) -> None:
        self.name = name
        environment = dict(os.environ)
        if name == "main" and baseline is not None:
            environment["PYTHONPATH"] = str(baseline)
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--worker", name, "--data", str(folder)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=environment,
        )

    def ask(self, **command: Any) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the {self.name} worker exited ({self.process.wait()})")
        return json.loads(line)

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait(timeout=60)


# -- the run -----------------------------------------------------------------------------------------------


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def loaded(folder: Path, corpus: Path) -> bool:
    marker = folder / MARKER
    return marker.is_file() and json.loads(marker.read_text()).get("corpus") == corpus.name


def to_load(folders: dict[str, Path], corpus: Path, keep: bool) -> set[str]:
    """The engines to load (their folders emptied, before any worker opens them): all, or with --keep those
    not holding this corpus yet."""
    names = {name for name, folder in folders.items() if name != "floor" and not (keep and loaded(folder, corpus))}
    for name in names:
        shutil.rmtree(folders[name], ignore_errors=True)
        folders[name].mkdir(parents=True)
    return names


def ingest(workers: dict[str, Worker], folders: dict[str, Path], corpus: Path, fresh: set[str]) -> dict[str, dict]:
    """Load the corpus into each engine of ``fresh`` in turn, the floor first and last."""
    results: dict[str, dict] = {}
    order = ["floor", *[name for name in workers if name != "floor"], "floor"]
    for name in order:
        if name != "floor" and name not in fresh:
            print(f"ingest {name}: kept from an earlier run", file=sys.stderr)
            results[name] = {**json.loads((folders[name] / MARKER).read_text()), "kept": True}
            continue
        started = load_average()
        reply = workers[name].ask(op="load", corpus=str(corpus))
        reply["load average"] = f"{started} → {load_average()}"
        print(f"ingest {name}: {reply}", file=sys.stderr)
        if name == "floor" and name in results:
            results["floor (again)"] = reply
            continue
        results[name] = {**reply, "corpus": corpus.name}
        if name != "floor":
            (folders[name] / MARKER).write_text(json.dumps(results[name]))
    return results


def compare(query: Query, answers: dict[str, dict[str, Any]]) -> list[str]:
    problems = []
    reference_name = "shoal" if "shoal" in answers else next(iter(answers))
    reference = answers[reference_name]
    for name, answer in answers.items():
        for key in ("count", "page", "values", "other"):
            if key in reference and answer.get(key) != reference[key]:
                problems.append(f"{query.label}: {name} {key} differs from {reference_name}")
    return problems


def run_queries(workers: dict[str, Worker], queries: list[Query], runs: int) -> tuple[dict, dict, list[str]]:
    engines = [name for name in workers if name != "floor"]
    timings = {(query.label, name): Timing() for query in queries for name in engines}
    counts: dict[str, Any] = {}
    problems: list[str] = []
    for round_number in range(WARMUPS + runs):
        order = engines[round_number % len(engines) :] + engines[: round_number % len(engines)]
        for query in queries:
            answers = {}
            for name in order:
                reply = workers[name].ask(op="query", query=vars(query))
                answers[name] = reply
                if round_number >= WARMUPS:
                    timings[query.label, name].wall.append(reply["wall_ms"])
                    timings[query.label, name].cpu.append(reply["cpu_ms"])
            if round_number == 0:
                problems += compare(query, answers)
                counts[query.label] = answers[order[0]]["count"]
        print(f"round {round_number + 1}/{WARMUPS + runs} done, load {load_average()}", file=sys.stderr)
    return timings, counts, problems


def ratio(mine: float, theirs: float) -> str:
    return f"{mine / theirs:.3f}" if theirs > 0 else "–"


def table(queries: list[Query], engines: list[str], timings: dict, counts: dict) -> list[str]:
    peers = [name for name in engines if name != "shoal"]
    head = ["query", "result count", *[f"{name} ms (CPU ms)" for name in engines]]
    head += [f"shoal/{name}" for name in peers if "shoal" in engines]
    lines = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
    for query in queries:
        medians = {name: statistics.median(timings[query.label, name].wall) for name in engines}
        cpus = {name: statistics.median(timings[query.label, name].cpu) for name in engines}
        cells = [f"`{query.label}`", f"{counts[query.label]:,}"]
        cells += [f"{medians[name]:.1f} ({cpus[name]:.1f})" for name in engines]
        if "shoal" in engines:
            cells += [ratio(medians["shoal"], medians[name]) for name in peers]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def ingest_table(results: dict[str, dict], count: int, sizes: dict[str, int]) -> list[str]:
    lines = [
        "| engine | seconds | reports/s | CPU µs/report | on disk | load average | shoal/engine (time) |",
        "|---|---:|---:|---:|---:|---|---:|",
    ]
    shoal = results.get("shoal")
    for name, result in results.items():
        seconds = result["wall_ms"] / 1000
        share = ratio(shoal["wall_ms"], result["wall_ms"]) if shoal else "–"
        size = sizes.get(name, 0)
        on_disk = f"{size / 2**20:,.0f} MiB ({size / count:,.0f} B/report)" if size else "–"
        if result.get("kept"):
            name += " (kept: an earlier run)"
        lines.append(
            f"| {name} | {seconds:,.1f} | {count / seconds:,.0f} | {result['cpu_ms'] * 1000 / count:,.1f}"
            f" | {on_disk} | {result['load average']} | {share} |"
        )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_000_000, help="reports in the corpus (default 1,000,000)")
    parser.add_argument("--data", type=Path, default=Path("/tmp/shoal-peers"), help="corpus and databases")
    parser.add_argument("--runs", type=int, default=5, help="timed rounds after one warm-up (default 5)")
    parser.add_argument("--keep", action="store_true", help="reuse databases already holding this corpus")
    parser.add_argument(
        "--engines",
        nargs="+",
        default=["shoal", "chdb", "duckdb"],
        choices=["shoal", "shoal-1", "main", "chdb", "duckdb"],
    )
    parser.add_argument("--baseline", type=Path, help="the src folder of the Shoal checkout the engine main runs")
    parser.add_argument("--worker", choices=sorted(ENGINES), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args.worker, args.data)
    data: Path = args.data.resolve()
    data.mkdir(parents=True, exist_ok=True)
    corpus = ensure_corpus(data, args.count)
    queries = plan(inspect(corpus))
    folders = {name: data / name for name in [*args.engines, "floor"]}
    print(f"- date: {dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}; machine: {machine()}")
    print(f"- corpus: {corpus.name}; load average at the start: {load_average()}")
    fresh = to_load(folders, corpus, args.keep)
    workers = {name: Worker(name, folders[name], args.baseline) for name in ["floor", *args.engines]}
    try:
        results = ingest(workers, folders, corpus, fresh)
        sizes = {name: workers[name].ask(op="size")["bytes"] for name in args.engines}
        timings, counts, problems = run_queries(workers, queries, args.runs)
        memories = {name: workers[name].ask(op="memory")["memory"] for name in args.engines}
    finally:
        for process in workers.values():
            process.close()
    print(f"- load average at the end: {load_average()}; timings: {WARMUPS} warm-up round, then {args.runs} rounds,")
    print("  engines interleaved query by query; a search is the result count + the first page of 100 full reports")
    print("- memory after the queries: " + ", ".join(f"{name} {value}" for name, value in memories.items()))
    print()
    print("\n".join(ingest_table(results, args.count, sizes)))
    print()
    print("\n".join(table(queries, args.engines, timings, counts)))
    for problem in problems:
        print(f"- MISMATCH {problem}")
    return 1 if any("count" in problem for problem in problems) else 0


if __name__ == "__main__":
    sys.exit(main())

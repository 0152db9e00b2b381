"""ClickHouseStore: the Store interface over ClickHouse (one server, a cluster, or chDB in-process).

Every selection is ``dataset = … AND <plan as SQL>`` on ``reports``; results come newest first (day, then id,
descending). ``most_recent`` keeps, per identity (``schema.identity``), the report with the greatest (day, id):
``argMax`` grouped by identity over the Distributed table, so it holds across shards, and the chosen ids are
shipped to every shard with ``GLOBAL IN``. Summaries count distinct reports per value, exactly.

Writes go through the Distributed tables synchronously, with ``insert_quorum`` = the replicas of a shard:
an acknowledged batch is on every replica, so any replica answers the next query with it. A report whose id
is already stored is a duplicate and is not written again; a retried batch that did reach the server is
recognised by that check, and a retried block by the replicas' block deduplication.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import parse_qs, unquote, urlsplit

import numpy as np

from shoal.errors import BadParameter, StoreError
from shoal.model import (
    DATASET_TABLE,
    SUPERSEDES,
    Body,
    DnsAnswer,
    PortObservation,
    Report,
    UdpObservation,
    pack_ip,
)
from shoal.store.answers import addresses_of
from shoal.store.base import (
    EPOCH,
    PAGE_SIZE,
    Filters,
    IngestResult,
    OpenPorts,
    Page,
    PortQuery,
    Say,
    Store,
    Summary,
    SummaryRequest,
    day_number,
    observation_target,
)
from shoal.store.clickhouse.client import ChdbClient, Client, HttpClient, rows, server_version
from shoal.store.clickhouse.compile import (
    DAY_KEY_OFFSET,
    NEWEST_KEY,
    address_range,
    date_literal,
    literal,
    selection,
    summary_conditions,
    summary_values,
    whole_days,
)
from shoal.store.clickhouse.migrate import migrate
from shoal.store.clickhouse.schema import (
    LATEST,
    REPORTS_PARTITION,
    Layout,
    address16_of,
    answer_row,
    body_row,
    check_dataset,
    items_of_row,
    observation_row,
    report_rows,
    superseded_row,
    type_row,
)
from shoal.store.plan import IpRange, lower

SCAN_CHUNK = 10_000
OBSERVATION_TABLES = {"tcp": "observations", "udp": "udp_observations"}
TYPES_TTL = 2.0  # seconds a process trusts its list of known types (another process may import new ones)
QUORUM_TIMEOUT_MS = 60_000  # how long a write waits for every replica of its shard before it is refused
ID_CHUNK = 5_000  # ids per IN list when looking for already-stored reports


class Prepared(NamedTuple):
    """A report as ``ingest_prepared`` takes it: its rows, encoded in a worker process (pure and picklable)."""

    dataset: str
    id: str
    report_row: bytes
    item_rows: bytes
    types: frozenset[str]
    observation: tuple[bytes, int, int] | None
    supersedes: tuple[str, ...]
    bodies: tuple[Body, ...]


def prepare_report(report: Report) -> Prepared:
    report_row, item_rows = report_rows(report)
    ip, port, day = report.ip, report.port, day_number(report.date)
    observation = None
    row = DATASET_TABLE.get(report.dataset)
    observed = row is not None and row.observations and ip is not None and port is not None
    if observed and 0 <= port <= 0xFFFF and 0 <= day <= 0xFFFF:  # type: ignore[operator]
        observation = (pack_ip(ip), port, day)  # type: ignore[arg-type]
    supersedes = tuple(item.value for item in report.items if item.type == SUPERSEDES and item.is_metadata)
    types = frozenset(item.type for item in report.items)
    return Prepared(report.dataset, report.id, report_row, item_rows, types, observation, supersedes, report.bodies)


class ClickHouseStore(Store):
    name = "ClickHouse"

    def __init__(self, client: Client, database: str = "shoal", cluster: str | None = None) -> None:
        self.client = client
        self.database = database
        self.cluster = cluster
        self._layout: Layout | None = None
        self._types: dict[str, frozenset[str]] = {}
        self._types_checked = float("-inf")
        self._marked: set[str] = set()  # datasets with superseded marks
        self._unmarked: dict[str, int] = {}  # datasets without, and the client's count of writes when read
        self._lock = threading.Lock()
        self.quorum_timeout_ms = QUORUM_TIMEOUT_MS

    # -- opening, and the schema ---------------------------------------------------------------------------

    @classmethod
    def open(cls, url: str, data_dir: Path, server: bool = False) -> ClickHouseStore:
        """``chdb:///path`` (in this process, its files under path, by default DATA/chdb; its schema made or
        migrated on first use, as the embedded engine's files are) or ``clickhouse://[user[:password]@]host:port
        [,host:port]/db[?cluster=NAME]`` (servers tried in order; ``shoal db init`` makes the schema)."""
        store = cls.at(url, data_dir)
        if isinstance(store.client, ChdbClient):
            store.migrate()
        return store

    @classmethod
    def at(cls, url: str, data_dir: Path) -> ClickHouseStore:
        """The store ``url`` names, its schema as it is (``open``)."""
        parts = urlsplit(url)
        if parts.scheme == "chdb":
            folder = Path(parts.path) if parts.path else data_dir / "chdb"
            return cls(ChdbClient(folder), database="shoal", cluster=None)
        credentials, _, netloc = parts.netloc.rpartition("@")
        user, _, password = credentials.partition(":")
        hosts = [host for host in netloc.split(",") if host]
        if not hosts:
            raise BadParameter("store", f"{url!r} names no host: write clickhouse://host:8123/database")
        cluster = parse_qs(parts.query).get("cluster", [None])[0]
        client = HttpClient(hosts, unquote(user) or "default", unquote(password))
        return cls(client, database=parts.path.strip("/") or "shoal", cluster=cluster)

    @classmethod
    def migrate_schema(cls, url: str, data_dir: Path, say: Say) -> None:
        store = cls.at(url, data_dir)
        try:
            for name in store.migrate(say):
                say(f"applied migration {name}")
            say(f"{store.database}: schema version {LATEST} (latest)")
        finally:
            store.close()

    @classmethod
    def schema_status(cls, url: str, data_dir: Path, say: Say) -> bool:
        store = cls.at(url, data_dir)
        try:
            version = store.schema_version()
        finally:
            store.close()
        state = "latest" if version == LATEST else f"Shoal needs {LATEST}: run 'shoal db migrate'"
        say(f"{store.database}: schema version {version} ({state})")
        return version == LATEST

    @property
    def layout(self) -> Layout:
        if self._layout is None:
            self._layout = Layout(self.database, self.cluster, server_version(self.client))
        return self._layout

    def schema_version(self) -> int:
        """The latest migration applied (0: none; the database or its migrations table is missing)."""
        exists = rows(
            self.client,
            f"SELECT count() AS n FROM system.tables WHERE database = {literal(self.database)} AND name = 'migrations'",
        )
        if not int(exists[0]["n"]):
            return 0
        found = rows(self.client, f"SELECT max(version) AS version FROM {self.database}.migrations")
        return int(found[0]["version"]) if found else 0

    def migrate(self, progress: Callable[[str], None] | None = None) -> list[str]:
        """Apply the migrations not applied yet (``migrate.py``); the names of those applied."""
        return migrate(self, progress)

    def drop_database(self) -> None:
        """Remove the database and everything in it (on every node of the cluster)."""
        self.client.execute(f"DROP DATABASE IF EXISTS {self.database}{self.layout.on_cluster()}")

    def check_schema(self) -> None:
        version = self.schema_version()
        if version != LATEST:
            raise StoreError(
                f"the ClickHouse database {self.database!r} is at schema version {version}, Shoal needs {LATEST}:"
                " run 'shoal db migrate' (or 'shoal db init' for a new database)"
            )

    def write_settings(self) -> dict[str, Any]:
        if self.cluster is None:
            return {}
        return {"insert_distributed_sync": 1, "insert_quorum": 2, "insert_quorum_timeout": self.quorum_timeout_ms}

    # -- reading ------------------------------------------------------------------------------------------

    def table(self, name: str) -> str:
        return self.layout.table(name)

    def superseded(self, dataset: str) -> bool:
        """Whether ``dataset`` has superseded marks at all (without any, a selection leaves its clause out). Marks
        are never removed, so a dataset found marked stays so; one found unmarked stays so until the next write,
        known only when this process is the store's only writer (chDB): otherwise it is asked again each time."""
        if dataset in self._marked:
            return True
        writes = self.client.writes()
        if writes is not None and self._unmarked.get(dataset) == writes:
            return False
        found = rows(
            self.client,
            f"SELECT 1 AS marked FROM {self.table('superseded')} WHERE dataset = {literal(check_dataset(dataset))}"
            " LIMIT 1",
        )
        if found:
            self._marked.add(dataset)
        elif writes is not None:
            self._unmarked[dataset] = writes
        return bool(found)

    def selection(self, filters: Filters) -> str:
        marked = not filters.history and filters.report_id is None and self.superseded(filters.dataset)
        return selection(self.layout, filters, marked, lambda: self.stored_types(filters.dataset))

    def stored_types(self, dataset: str) -> frozenset[str]:
        """The item types stored in ``dataset``, read now (a type is recorded before its first report)."""
        found = rows(self.client, f"SELECT DISTINCT type FROM {self.table('types')} WHERE dataset = {literal(dataset)}")
        return frozenset(row["type"] for row in found)

    def search(self, filters: Filters, offset: int = 0, limit: int = PAGE_SIZE) -> Page:
        where = self.selection(filters)
        window = f"LIMIT {int(offset)}, {int(limit)}"
        if filters.most_recent and self.layout.modern:
            return self.newest_page(filters.dataset, where, window)
        if filters.most_recent:  # one report per identity: count the identities, page the newest of each
            counted = rows(self.client, f"SELECT uniqExact(target) AS n FROM {self.table('reports')} WHERE {where}")
            page = self.newest(filters.dataset, where, window)
            return Page(total=int(counted[0]["n"]), reports=[report_of(row) for row in rows(self.client, page)])
        return self.partitions_page(where, self.partition_counts(filters, where), offset, limit)

    def partition_counts(self, filters: Filters, where: str) -> list[tuple[int, int]]:
        """The matches per partition of ``reports`` (``schema.REPORTS_PARTITION``: a greater one holds later days),
        the newest first. A selection of whole /24s (IPv6: /120s) of the scanned address and nothing else, in a
        dataset without superseded marks (or with ``history``), is counted from ``ip_counts`` (``schema.py``):
        a few rows a prefix, not a row a report; any other, on the report rows."""
        plan = lower(filters)
        if (
            isinstance(plan, IpRange)
            and plan.context == ""
            and plan.network.max_prefixlen - plan.network.prefixlen >= 8
            and (filters.history or not self.superseded(filters.dataset))
        ):
            network = plan.network
            first, last = (address16_of(address.packed)[:15].hex() for address in (network[0], network[-1]))
            found = rows(
                self.client,
                f"SELECT part, sum(n) AS n FROM {self.table('ip_counts')} WHERE dataset = {literal(filters.dataset)}"
                f" AND prefix >= unhex('{first}') AND prefix <= unhex('{last}') GROUP BY part",
            )
        else:
            found = rows(
                self.client,
                f"SELECT {self.layout.partition()} AS part, count() AS n FROM {self.table('reports')}"
                f" WHERE {where} GROUP BY part",
            )
        return sorted(((int(row["part"]), int(row["n"])) for row in found), reverse=True)

    def partitions_page(self, where: str, counts: list[tuple[int, int]], offset: int, limit: int) -> Page:
        """The page read from the partitions holding it only (``counts``: the matches per partition, newest first):
        the first page of a large selection reads the newest rows of its newest partition, not those of every
        partition, and a page past the last match (or of no match) reads nothing. Without writes in between, the
        page is the one a single statement would give."""
        reports = self.table("reports")
        total = sum(n for _, n in counts)
        span = page_span(counts, offset, limit)
        if span is None:
            return Page(total=total, reports=[])
        newest, oldest, newer = span
        page = rows(
            self.client,
            f"SELECT {REPORT_ROW} FROM {reports} WHERE {where} AND {REPORTS_PARTITION} <= {newest}"
            f" AND {REPORTS_PARTITION} >= {oldest} ORDER BY day DESC, id DESC LIMIT {offset - newer}, {limit}",
        )
        return Page(total=total, reports=[report_of(row) for row in page])

    def newest_page(self, dataset: str, where: str, window: str) -> Page:
        """most_recent in one pass over the matches: the newest (day, id) of each identity, the page of them
        and (a window function) how many identities there are; then the page's rows by their primary key."""
        chosen = rows(
            self.client,
            f"SELECT argMax(day, {NEWEST_KEY}) AS newest_day, argMax(id, {NEWEST_KEY}) AS newest_id,"
            f" max({NEWEST_KEY}) AS newest, count() OVER () AS identities FROM {self.table('reports')}"
            f" WHERE {where} GROUP BY target ORDER BY newest DESC {window}",
        )
        if not chosen:  # no match, or a page past the last: the count alone
            where_any = f"SELECT uniqExact(target) AS n FROM {self.table('reports')} WHERE {where}"
            return Page(total=int(rows(self.client, where_any)[0]["n"]), reports=[])
        keys = ", ".join(f"({int(row['newest_day'])}, {literal(row['newest_id'])})" for row in chosen)
        found = rows(
            self.client,
            f"SELECT {REPORT_ROW} FROM {self.table('reports')} WHERE dataset = {literal(dataset)}"
            f" AND (day, id) IN ({keys}) ORDER BY day DESC, id DESC",
        )
        return Page(total=int(chosen[0]["identities"]), reports=[report_of(row) for row in found])

    def newest(self, dataset: str, where: str, window: str, before: str | None = None) -> str:
        """The rows of the newest report of each identity among the matches, newest first, ``window`` of them
        (``before``: only those older than that key). The identities are grouped over the Distributed table, so
        the newest wins across shards, and only the chosen page of (day, id) goes back to the shards, where the
        primary key finds it."""
        having = f" HAVING newest < {literal(before)}" if before is not None else ""
        chosen = (
            f"SELECT argMax(day, {NEWEST_KEY}) AS newest_day, argMax(id, {NEWEST_KEY}) AS newest_id,"
            f" max({NEWEST_KEY}) AS newest FROM {self.table('reports')} WHERE {where}"
            f" GROUP BY target{having} ORDER BY newest DESC {window}"
        )
        return (
            f"SELECT {REPORT_ROW} FROM {self.table('reports')} WHERE dataset = {literal(dataset)}"
            f" AND (day, id) GLOBAL IN (SELECT newest_day, newest_id FROM ({chosen})) ORDER BY day DESC, id DESC"
        )

    def iter_matches(self, filters: Filters) -> Iterator[Report]:
        """Every match, newest first, by a cursor on (day, id): constant memory, linear in the matches."""
        where = self.selection(filters)
        after = ""
        last_key: str | None = None
        while True:
            if filters.most_recent:
                chunk = self.newest(filters.dataset, where, f"LIMIT {SCAN_CHUNK}", last_key)
            else:
                chunk = (
                    f"SELECT {REPORT_ROW} FROM {self.table('reports')} WHERE {where}{after}"
                    f" ORDER BY day DESC, id DESC LIMIT {SCAN_CHUNK}"
                )
            found = rows(self.client, chunk)
            for row in found:
                yield report_of(row)
            if len(found) < SCAN_CHUNK:
                return
            last = found[-1]
            day = int(last["day"])
            after = f" AND (day < {day} OR (day = {day} AND id < {literal(last['id'])}))"
            last_key = f"{day + DAY_KEY_OFFSET}{last['id']}"

    def summarize(self, filters: Filters, request: SummaryRequest) -> Summary:
        """Per value, the matching reports holding it, in one pass, never with a set of every report id. Whole days
        (or most_recent): counted on the report rows, each row's distinct values of the wanted items, then a
        GROUP BY (per shard, merged). Any other selection: its type's slice of ``items`` probed against the set of
        matching report ids (distinct reports per value), far fewer bytes than every item of the matching rows."""
        kinds = (request.type, request.contexts, request.excluded_contexts)
        where = self.selection(filters)
        reports = self.table("reports")
        if filters.most_recent:
            values = summary_values(*summary_conditions(*kinds))
            newest = f"SELECT argMax({values}, {NEWEST_KEY}) AS found FROM {reports} WHERE {where} GROUP BY target"
            grouped = f"SELECT value, count() AS n FROM ({newest}) ARRAY JOIN found AS value GROUP BY value"
        elif whole_days(filters):
            values = summary_values(*summary_conditions(*kinds))
            grouped = f"SELECT arrayJoin({values}) AS value, count() AS n FROM {reports} WHERE {where} GROUP BY value"
        else:
            column, conditions = summary_conditions(*kinds, names=("type", "context"))
            grouped = (
                f"SELECT {column} AS value, uniqExact(report_id) AS n FROM {self.table('items')}"
                f" WHERE dataset = {literal(filters.dataset)} AND {' AND '.join(conditions)}"
                f" AND report_id IN (SELECT id FROM {self.layout.local('reports')} WHERE {where}) GROUP BY value"
            )
        order = f"ORDER BY n DESC, value ASC LIMIT {int(request.limit)}"
        if self.layout.modern:  # the totals from the same grouping, by window functions
            top = rows(
                self.client,
                f"SELECT value, n, count() OVER () AS values, sum(n) OVER () AS reports FROM ({grouped}) {order}",
            )
            totals = top[:1]
        else:
            top = rows(self.client, f"{grouped} {order}")
            totals = rows(self.client, f"SELECT count() AS values, sum(n) AS reports FROM ({grouped})")
        listed = [(row["value"], int(row["n"])) for row in top]
        total = int(totals[0]["reports"]) if totals else 0
        cardinality = int(totals[0]["values"]) if totals else 0
        return Summary(values=listed, other=total - sum(count for _, count in listed), cardinality=cardinality)

    def known_types(self, dataset: str | None = None) -> frozenset[str]:
        """The item types stored (in ``dataset``, or in any). Every request asks (the checker needs them), so
        they are re-read at most every TYPES_TTL seconds; this process's own ingest re-reads them at once."""
        now = time.monotonic()
        if now >= self._types_checked + TYPES_TTL:
            found = rows(self.client, f"SELECT DISTINCT dataset, type FROM {self.table('types')}")
            types: dict[str, set[str]] = {}
            for row in found:
                types.setdefault(row["dataset"], set()).add(row["type"])
            self._types = {name: frozenset(values) for name, values in types.items()}
            self._types_checked = now
        if dataset is None:
            return frozenset().union(*self._types.values())
        return self._types.get(check_dataset(dataset), frozenset())

    def all_types(self) -> set[tuple[str, str]]:
        """(dataset, type) of every type stored, read now."""
        self._types_checked = float("-inf")
        self.known_types()
        return {(dataset, item_type) for dataset, types in self._types.items() for item_type in types}

    def counts(self) -> dict[str, int]:
        found = rows(self.client, f"SELECT dataset, count() AS n FROM {self.table('reports')} GROUP BY dataset")
        return {row["dataset"]: int(row["n"]) for row in found}

    def count(self, dataset: str | None = None) -> int:
        counts = self.counts()
        return sum(counts.values()) if dataset is None else counts.get(check_dataset(dataset), 0)

    def bodies(self, digests: Iterable[str]) -> dict[str, Body]:
        found: dict[str, Body] = {}
        for chunk in in_lists(dict.fromkeys(digests)):
            for row in rows(
                self.client,
                f"SELECT sha256, content_type, truncated, hex(data) AS data FROM {self.table('bodies')}"
                f" WHERE sha256 IN ({chunk}) LIMIT 1 BY sha256",
            ):
                found[row["sha256"]] = Body(
                    bytes.fromhex(row["data"]), row["content_type"], bool(int(row["truncated"])), row["sha256"]
                )
        return found

    def stored_bodies(self, digests: Iterable[str]) -> set[str]:
        """Which of the bodies named by ``digests`` are stored (their digests), without reading them."""
        found: set[str] = set()
        for chunk in in_lists(digests):
            stored = rows(self.client, f"SELECT DISTINCT sha256 FROM {self.table('bodies')} WHERE sha256 IN ({chunk})")
            found.update(row["sha256"] for row in stored)
        return found

    def open_ports(self, query: PortQuery) -> OpenPorts:
        network = query.network
        first, last = address_range(network)
        conditions = [f"v6 = {int(network.version == 6)}", f"ip >= {first}", f"ip <= {last}"]
        if query.date_from is not None:
            conditions.append(f"day >= {date_literal(query.date_from)}")
        if query.date_to is not None:
            conditions.append(f"day <= {date_literal(query.date_to)}")
        found = rows(
            self.client,
            f"SELECT hex(ip) AS address, port, uniqExact(day) AS days"
            f" FROM {self.table(observation_table(query.transport))}"
            f" WHERE {' AND '.join(conditions)} GROUP BY address, port ORDER BY address, port",
        )
        if not found:
            return OpenPorts.empty(network.version)
        addresses = [bytes.fromhex(row["address"]) for row in found]
        if network.version == 4:
            hosts = np.array([int.from_bytes(address[12:], "big") for address in addresses], dtype=np.uint32)
        else:
            hosts = np.array(addresses, dtype="S16")
        ports = np.array([int(row["port"]) for row in found], dtype=np.uint16)
        counts = np.array([int(row["days"]) for row in found], dtype=np.int64)
        return OpenPorts(network.version, hosts, ports, counts)

    def known_addresses(self) -> dict[str, list[str]]:
        found = rows(
            self.client,
            f"SELECT DISTINCT name, type, value FROM {self.table('answers')}"
            " WHERE type IN ('A', 'AAAA', 'CNAME') ORDER BY name, value",
        )
        return addresses_of((row["name"], row["type"], row["value"]) for row in found)

    def close(self) -> None:
        self.client.close()

    # -- writing ------------------------------------------------------------------------------------------

    prepare = staticmethod(prepare_report)

    def ingest_prepared(self, batch: Sequence[Prepared]) -> IngestResult:
        """Add prepared reports whose ids are new in their dataset. Items, bodies, observations and superseded
        marks are written before the reports, so an interrupted batch leaves nothing a query can see, and
        importing it again completes it."""
        unique: dict[tuple[str, str], Prepared] = {}
        for prepared in batch:
            unique.setdefault((check_dataset(prepared.dataset), prepared.id), prepared)
        duplicates = len(batch) - len(unique)
        if not unique:
            return IngestResult(duplicates=duplicates)
        with self._lock:
            existing = self.existing_ids(list(unique))
            new = [prepared for key, prepared in unique.items() if key not in existing]
            if new:
                self.write_beside(new)
                self.client.insert(
                    self.table("reports"), b"".join(prepared.report_row for prepared in new), self.write_settings()
                )
                self._types_checked = float("-inf")
        return IngestResult(
            imported=len(new), duplicates=duplicates + len(existing), imported_ids=[prepared.id for prepared in new]
        )

    def write_beside(self, new: list[Prepared]) -> None:
        """What new reports bring besides their own rows."""
        settings = self.write_settings()
        self.client.insert(self.table("items"), b"".join(prepared.item_rows for prepared in new), settings)
        known = self.all_types()
        types = {(p.dataset, item_type) for p in new for item_type in p.types} - known
        if types:
            self.client.insert(self.table("types"), b"".join(type_row(*pair) for pair in sorted(types)), settings)
        superseded = b"".join(superseded_row(p.dataset, old) for p in new for old in p.supersedes)
        if superseded:
            self.client.insert(self.table("superseded"), superseded, settings)
        bodies = {body.sha256: body for prepared in new for body in prepared.bodies}
        if bodies:
            stored = self.stored_bodies(bodies)
            fresh = b"".join(body_row(body) for digest, body in bodies.items() if digest not in stored)
            if fresh:
                self.client.insert(self.table("bodies"), fresh, settings)
        self.store_observations({prepared.observation for prepared in new if prepared.observation is not None})

    def existing_ids(self, keys: list[tuple[str, str]]) -> set[tuple[str, str]]:
        found: set[tuple[str, str]] = set()
        by_dataset: dict[str, list[str]] = {}
        for dataset, report_id in keys:
            by_dataset.setdefault(dataset, []).append(report_id)
        for dataset, ids in by_dataset.items():
            for chunk in in_lists(ids):
                stored = rows(
                    self.client,
                    f"SELECT DISTINCT id FROM {self.table('reports')}"
                    f" WHERE dataset = {literal(dataset)} AND id IN ({chunk})",
                )
                found.update((dataset, row["id"]) for row in stored)
        return found

    def ingest_answers(self, answers: Iterable[DnsAnswer]) -> IngestResult:
        """Store forward DNS answers; counts are of distinct answers (one already known is a duplicate, and is
        recorded again with its day)."""
        latest = {(a.name, a.type, a.value): a.date for a in answers}
        if not latest:
            return IngestResult()
        with self._lock:
            known: set[tuple[str, str, str]] = set()
            for chunk in in_lists(sorted({name for name, _, _ in latest})):
                found = rows(
                    self.client,
                    f"SELECT DISTINCT name, type, value FROM {self.table('answers')} WHERE name IN ({chunk})",
                )
                known.update((row["name"], row["type"], row["value"]) for row in found)
            data = b"".join(answer_row(*key, day_number(date)) for key, date in latest.items())
            self.client.insert(self.table("answers"), data, self.write_settings())
        duplicates = len(known & latest.keys())
        return IngestResult(imported=len(latest) - duplicates, duplicates=duplicates)

    def ingest_observations(
        self, observations: Iterable[PortObservation | UdpObservation], transport: str = "tcp"
    ) -> IngestResult:
        """Store open-port observations (TCP, or UDP apart); ValueError if one is malformed, before anything is
        stored. Counts are of observations: one already stored (or twice in the input) is a duplicate."""
        table = observation_table(transport)
        wanted: list[tuple[bytes, int, int]] = []
        for observation in observations:
            wanted.append(observation_target(observation))
        unique = set(wanted)
        with self._lock:
            stored = self.store_observations(unique, table)
        return IngestResult(imported=stored, duplicates=len(wanted) - stored)

    def store_observations(self, observations: set[tuple[bytes, int, int]], table: str = "observations") -> int:
        """Write the observations not stored yet; how many were new."""
        if not observations:
            return 0
        new = observations - self.stored_observations(observations, table)
        if new:
            data = b"".join(observation_row(*observation) for observation in sorted(new))
            self.client.insert(self.table(table), data, self.write_settings())
        return len(new)

    def stored_observations(self, observations: set[tuple[bytes, int, int]], table: str) -> set[tuple[bytes, int, int]]:
        """Which of ``observations`` (packed 4- or 16-byte address, port, day) are stored already."""
        addresses = sorted({address for address, _, _ in observations})
        days = [day for _, _, day in observations]
        found: set[tuple[bytes, int, int]] = set()
        for chunk in in_lists(addresses, lambda address: f"unhex('{address16_of(address).hex()}')"):
            stored = rows(
                self.client,
                f"SELECT DISTINCT v6, hex(ip) AS address, port, day FROM {self.table(table)}"
                f" WHERE ip IN ({chunk}) AND day >= {date_literal(EPOCH + dt.timedelta(days=min(days)))}"
                f" AND day <= {date_literal(EPOCH + dt.timedelta(days=max(days)))}",
            )
            for row in stored:
                address = bytes.fromhex(row["address"])
                packed = address if int(row["v6"]) else address[12:]
                key = (packed, int(row["port"]), day_number(dt.date.fromisoformat(row["day"])))
                if key in observations:
                    found.add(key)
        return found


def in_lists(values: Iterable[Any], render: Callable[[Any], str] = literal) -> Iterator[str]:
    """``values`` rendered as SQL, ID_CHUNK at a time, each chunk joined for an ``IN (…)`` list."""
    chunk: list[str] = []
    for value in values:
        chunk.append(render(value))
        if len(chunk) == ID_CHUNK:
            yield ", ".join(chunk)
            chunk = []
    if chunk:
        yield ", ".join(chunk)


def page_span(counts: Sequence[tuple[int, int]], offset: int, limit: int) -> tuple[int, int, int] | None:
    """Of the matches counted per partition (the newest first), the partitions holding matches ``offset`` to
    ``offset + limit``, newest first: (the newest, the oldest, how many matches the newer partitions hold); None
    when there are none."""
    if limit <= 0:
        return None
    seen = 0
    first: tuple[int, int] | None = None
    for part, count in counts:
        if first is None and seen + count > offset:
            first = (part, seen)
        seen += count
        if first is not None and seen >= offset + limit:
            return first[0], part, first[1]
    return None if first is None else (first[0], counts[-1][0], first[1])


def observation_table(transport: str) -> str:
    if transport not in OBSERVATION_TABLES:
        raise StoreError(f"unknown transport {transport!r}: observations are tcp or udp")
    return OBSERVATION_TABLES[transport]


REPORT_ROW = "dataset, day, id, item_type, item_value, item_context, item_metadata"  # what a Report is made of


def report_of(row: dict[str, Any]) -> Report:
    return Report(
        date=EPOCH + dt.timedelta(days=int(row["day"])),
        id=row["id"],
        items=items_of_row(row),
        dataset=row["dataset"],
    )

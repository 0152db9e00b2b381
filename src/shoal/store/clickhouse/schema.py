"""The ClickHouse schema, its migrations, and how a Report becomes rows (RowBinary, built in Python).

    reports       dataset, id, day, ip FixedString(16), has_ip, port, target, raw      one row per report
    items         dataset, report_id, day, type, context, value, words Array(String),   one row per item
                  host, address FixedString(16)
    observations  v6, ip FixedString(16), port, day                                      open-port observations
    udp_observations   the same, for UDP (masscan's UDP entries), kept apart
    answers       name, type, value, day                          forward DNS answers (zdns, massdns, lookups)
    superseded    dataset, id                                    reports a successor names with ``supersedes``
    bodies        sha256, content_type, truncated, data                 raw bodies, by digest (model.Body)
    migrations    version, name, applied                                                 the schema's history

A report's ``day`` is its date as days since 1970-01-01 (Int32: any date a report may carry, before 1970
too; observations keep ClickHouse's ``Date``, 1970–2149, as the embedded engine does). ``words`` are the item
value's words by Shoal's own analyzer (``shoal.query.words``), so phrases match as
in every engine; ``host`` is the host an item names (``shoal.store.plan.item_host``); addresses are 16
bytes, IPv4 mapped into IPv6 (``::ffff:a.b.c.d``), so a CIDR is one byte range (observations also record the
family, ``v6``, so that an IPv6 address in the mapped range stays apart from the IPv4 one). ``target`` is the report's
identity for ``most_recent`` (``identity``).

With a cluster, each table is ``<name>_local`` (ReplicatedMergeTree, one per shard and replica, created
``ON CLUSTER``) behind a ``Distributed`` table ``<name>``, sharded by report id (``cityHash64``) so that a
report, its items and the mark that it is superseded live on one shard; observations are sharded by address,
bodies by digest. Without one, ``<name>`` is a
plain MergeTree. Queries read ``<name>``, and name ``<name>_local`` inside the per-shard subqueries.

Speed-ups only new servers have (skip indexes) are DDL chosen by the server's version, never different queries.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass

import orjson

from shoal.errors import StoreError
from shoal.model import DATASETS, PORT_TYPES, Body, Item, Report, identity_of, pack_ip
from shoal.query.words import split_words
from shoal.store.base import day_number
from shoal.store.plan import item_host, port_value

IPV4_MAPPED = b"\0" * 10 + b"\xff\xff"
NO_ADDRESS = b"\0" * 16
MODERN_VERSION = (21, 8)  # from here: bloom-filter skip indexes on arrays, without experimental settings


@dataclass(frozen=True, slots=True)
class Layout:
    """Where the tables are: the database, the cluster (None: one server, or chDB) and what the server has."""

    database: str
    cluster: str | None
    modern: bool

    def table(self, name: str) -> str:
        """The table queries read (Distributed on a cluster)."""
        return f"{self.database}.{name}"

    def local(self, name: str) -> str:
        """The table a per-shard subquery reads: the shard's own part of ``name``."""
        return f"{self.database}.{name}_local" if self.cluster else f"{self.database}.{name}"

    def on_cluster(self) -> str:
        return f" ON CLUSTER {self.cluster}" if self.cluster else ""


# -- DDL ------------------------------------------------------------------------------------------------------

REPORT_COLUMNS = (
    "dataset String, id String, day Int32, ip FixedString(16), has_ip UInt8, port Int32, target String, raw String"
)
ITEM_COLUMNS = (
    "dataset String, report_id String, day Int32, type String, context String, value String, words Array(String),"
    " host String, address FixedString(16)"
)
OBSERVATION_COLUMNS = "v6 UInt8, ip FixedString(16), port UInt16, day Date"
SUPERSEDED_COLUMNS = "dataset String, id String"
ANSWER_COLUMNS = "name String, type String, value String, day Int32"
BODY_COLUMNS = "sha256 String, content_type String, truncated UInt8, data String"


def create_table(layout: Layout, name: str, columns: str, tail: str, shard_key: str, indexes: str = "") -> list[str]:
    """One table: plain, or replicated shards behind a Distributed table of the same name."""
    body = columns + (", " + indexes if indexes else "")
    if layout.cluster is None:
        return [f"CREATE TABLE IF NOT EXISTS {layout.table(name)} ({body}) ENGINE = MergeTree() {tail}"]
    path = f"/clickhouse/tables/{{shard}}/{layout.database}/{name}"
    return [
        f"CREATE TABLE IF NOT EXISTS {layout.local(name)}{layout.on_cluster()} ({body})"
        f" ENGINE = ReplicatedMergeTree('{path}', '{{replica}}') {tail}",
        f"CREATE TABLE IF NOT EXISTS {layout.table(name)}{layout.on_cluster()} ({columns})"
        f" ENGINE = Distributed({layout.cluster}, {layout.database}, {name}_local, {shard_key})",
    ]


def version_1(layout: Layout) -> list[str]:
    item_indexes = ""
    if layout.modern:
        item_indexes = "INDEX words_bloom words TYPE bloom_filter(0.01) GRANULARITY 4"
    return [
        *create_table(
            layout,
            "reports",
            REPORT_COLUMNS,
            "PARTITION BY intDiv(day, 32) ORDER BY (dataset, day, id)",
            "cityHash64(id)",
        ),
        *create_table(
            layout,
            "items",
            ITEM_COLUMNS,
            "PARTITION BY intDiv(day, 32) ORDER BY (dataset, type, value)",
            "cityHash64(report_id)",
            item_indexes,
        ),
        *create_table(
            layout,
            "observations",
            OBSERVATION_COLUMNS,
            "PARTITION BY toYYYYMM(day) ORDER BY (v6, ip, port, day)",
            "cityHash64(ip)",
        ),
        *create_table(
            layout,
            "udp_observations",
            OBSERVATION_COLUMNS,
            "PARTITION BY toYYYYMM(day) ORDER BY (v6, ip, port, day)",
            "cityHash64(ip)",
        ),
        *create_table(layout, "superseded", SUPERSEDED_COLUMNS, "ORDER BY (dataset, id)", "cityHash64(id)"),
        *create_table(layout, "answers", ANSWER_COLUMNS, "ORDER BY (name, type, value)", "cityHash64(name)"),
        *create_table(layout, "bodies", BODY_COLUMNS, "ORDER BY sha256", "cityHash64(sha256)"),
    ]


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    statements: Callable[[Layout], list[str]]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "reports, items, open-port observations, superseded reports, bodies and DNS answers", version_1),
)
LATEST = MIGRATIONS[-1].version


def bootstrap(layout: Layout) -> list[str]:
    """The database and the table recording applied migrations (replicated to every node of a cluster)."""
    statements = [f"CREATE DATABASE IF NOT EXISTS {layout.database}{layout.on_cluster()}"]
    columns = "version UInt32, name String, applied DateTime"
    if layout.cluster is None:
        engine = "MergeTree()"
    else:
        engine = f"ReplicatedMergeTree('/clickhouse/tables/all/{layout.database}/migrations', '{{shard}}-{{replica}}')"
    statements.append(
        f"CREATE TABLE IF NOT EXISTS {layout.database}.migrations{layout.on_cluster()} ({columns})"
        f" ENGINE = {engine} ORDER BY version"
    )
    return statements


# -- rows -----------------------------------------------------------------------------------------------------


def varint(number: int) -> bytes:
    out = bytearray()
    while number > 0x7F:
        out.append(number & 0x7F | 0x80)
        number >>= 7
    out.append(number)
    return bytes(out)


def string(text: str) -> bytes:
    data = text.encode("utf-8", "surrogatepass")
    return varint(len(data)) + data


def address16(value: str) -> bytes:
    return address16_of(pack_ip(value))


def address16_of(packed: bytes) -> bytes:
    """A 4- or 16-byte address as the tables hold it: 16 bytes, IPv4 mapped."""
    return IPV4_MAPPED + packed if len(packed) == 4 else packed


def check_dataset(dataset: str) -> str:
    if dataset not in DATASETS:
        raise StoreError(f"unknown dataset {dataset!r}: the datasets are {', '.join(DATASETS)}")
    return dataset


def identity(report: Report) -> str:
    """The report's identity for ``most_recent`` (``shoal.model.identity_of``, from the dataset's row) as text:
    parts joined by ``|``, a TCP port joined to its address by ``:`` (``<address>:443``, ``host|<address>:443``);
    a report lacking its identity is its own (``\\0`` and its id)."""
    values = identity_of(report)
    if values is None:
        return "\0" + report.id
    text = identity_text(values[0])
    for value in values[1:]:
        text += (":" if type(value) is int else "|") + identity_text(value)
    return text


def identity_text(value: object) -> str:
    if isinstance(value, bytes):
        return address16_of(value).hex()
    if isinstance(value, tuple):  # a part's later type, e.g. a UDP port
        item_type, inner = value
        return f"{item_type}={identity_text(inner)}"
    return str(value)


def stored_items(items: tuple[Item, ...]) -> str:
    return orjson.dumps([(*item,) for item in items]).decode()


def items_from_stored(raw: str) -> tuple[Item, ...]:
    return tuple(tuple.__new__(Item, item) for item in orjson.loads(raw))


def report_rows(report: Report) -> tuple[bytes, bytes]:
    """The report's row and its item rows, RowBinary-encoded."""
    day = struct.pack("<i", day_number(report.date))
    head = string(report.dataset)
    ip = report.ip
    port = report.port
    report_row = b"".join(
        (
            head,
            string(report.id),
            day,
            address16(ip) if ip is not None else NO_ADDRESS,
            b"\1" if ip is not None else b"\0",
            struct.pack("<i", port if port is not None else -1),
            string(identity(report)),
            string(stored_items(report.items)),
        )
    )
    item_head = head + string(report.id) + day
    item_rows = []
    for item_type, value, context, _ in report.items:
        if item_type in PORT_TYPES:
            value = port_value(value)
        words = split_words(value)
        host = item_host(item_type, value) or ""
        address = address16(value) if item_type == "ip" else NO_ADDRESS
        item_rows.append(
            b"".join(
                (
                    item_head,
                    string(item_type),
                    string(context),
                    string(value),
                    varint(len(words)),
                    *map(string, words),
                    string(host),
                    address,
                )
            )
        )
    return report_row, b"".join(item_rows)


def observation_row(packed: bytes, port: int, day: int) -> bytes:
    """An observation of a 4- or 16-byte address: IPv4 and IPv6 stay apart (``::ffff:1.2.3.4`` is not 1.2.3.4)."""
    return (b"\1" if len(packed) == 16 else b"\0") + address16_of(packed) + struct.pack("<HH", port, day)


def superseded_row(dataset: str, report_id: str) -> bytes:
    return string(dataset) + string(report_id)


def body_row(body: Body) -> bytes:
    return (
        string(body.sha256)
        + string(body.content_type)
        + (b"\1" if body.truncated else b"\0")
        + varint(len(body.data))
        + body.data
    )


def answer_row(name: str, kind: str, value: str, day: int) -> bytes:
    return string(name) + string(kind) + string(value) + struct.pack("<i", day)

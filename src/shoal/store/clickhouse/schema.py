"""The ClickHouse schema, its migrations, and how a Report becomes rows (RowBinary, built in Python).

    reports       dataset, id, day, ip FixedString(16), has_ip, port, target,        one row per report
                  item_type, item_value, item_context, item_metadata (the items, as parallel arrays),
                  tokens Array(String) (``tokens.py``)
    items         dataset, report_id, day, type, context, value, words Array(String),   one row per item
                  host, address FixedString(16)
    observations  v6, ip FixedString(16), port, day                                      open-port observations
    udp_observations   the same, for UDP (masscan's UDP entries), kept apart
    answers       name, type, value, day                          forward DNS answers (zdns, massdns, lookups)
    ip_counts     dataset, prefix FixedString(15), part, n        reports per /24 of scanned address and partition
    superseded    dataset, id                                    reports a successor names with ``supersedes``
    bodies        sha256, content_type, truncated, data                 raw bodies, by digest (model.Body)
    migrations    version, name, applied                                                 the schema's history

A report's ``day`` is its date as days since 1970-01-01 (Int32: any date a report may carry, before 1970
too; observations keep ClickHouse's ``Date``, 1970–2149, as the embedded engine does). ``words`` are the item
value's words by Shoal's own analyzer (``shoal.query.words``), so phrases match as
in every engine; ``host`` is the host an item names (``shoal.store.plan.item_host``); addresses are 16
bytes, IPv4 mapped into IPv6 (``::ffff:a.b.c.d``), so a CIDR is one byte range (observations also record the
family, ``v6``, so that an IPv6 address in the mapped range stays apart from the IPv4 one). ``target`` is the report's
identity for ``most_recent`` (``identity``). A report row holds its items itself: a page reads nothing else, and
a summary counts the values of the matching rows in one pass, with no set of report ids.

With a cluster, each table is ``<name>_local`` (ReplicatedMergeTree, one per shard and replica, created
``ON CLUSTER``) behind a ``Distributed`` table ``<name>``, sharded by report id (``cityHash64``) so that a
report, its items and the mark that it is superseded live on one shard; observations are sharded by address,
bodies by digest. Without one, ``<name>`` is a
plain MergeTree. Queries read ``<name>``, and name ``<name>_local`` inside the per-shard subqueries.

``ip_counts`` (schema 3) is kept by a materialized view on ``reports`` (``ip_counts_view``; on a cluster on each
shard's ``reports_local``, into its ``ip_counts_local``): per dataset, 15-byte address prefix (an IPv4 /24, an
IPv6 /120) and partition of ``reports``, how many report rows have a scanned address there, summed as parts
merge (SummingMergeTree, one partition). The matches of an ``ip=`` search of whole prefixes are counted there
(``engine.py``).

What a server has is chosen by its version (``Layout``): from 21.8 a bloom-filter index on ``items.words``;
from 26.2 (text indexes generally available) a text index on ``reports.tokens``, a projection of ``reports``
ordered by address, the modern SQL that uses them (``compile.py``), and explicit codecs (schema 4: LZ4 for the
item arrays, ``item_arrays``). Older servers keep the portable SQL and their configured compression.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

import orjson

from shoal.errors import StoreError
from shoal.model import DATASETS, PORT_TYPES, Body, Item, Report, identity_of, pack_ip
from shoal.query.words import split_words
from shoal.store.base import day_number
from shoal.store.clickhouse.tokens import TOKENS
from shoal.store.plan import item_host, port_value

LATEST = 4  # the schema version this Shoal reads and writes (migrate.py brings older ones to it)
IPV4_MAPPED = b"\0" * 10 + b"\xff\xff"
NO_ADDRESS = b"\0" * 16
SKIP_INDEX_VERSION = (21, 8)  # from here: bloom-filter skip indexes on arrays, without experimental settings
MODERN_VERSION = (26, 2)  # from here: text indexes generally available; projections and window functions long before


@dataclass(frozen=True, slots=True)
class Layout:
    """Where the tables are: the database, the cluster (None: one server, or chDB) and the server's version,
    which decides the DDL and the SQL dialect."""

    database: str
    cluster: str | None
    version: tuple[int, ...] = ()

    @property
    def skip_indexes(self) -> bool:
        return self.version >= SKIP_INDEX_VERSION

    @property
    def modern(self) -> bool:
        """Text indexes, projections and window functions: the modern dialect (``compile.py``)."""
        return self.version >= MODERN_VERSION

    def table(self, name: str) -> str:
        """The table queries read (Distributed on a cluster)."""
        return f"{self.database}.{name}"

    def local(self, name: str) -> str:
        """The table a per-shard subquery reads: the shard's own part of ``name``."""
        return f"{self.database}.{name}_local" if self.cluster else f"{self.database}.{name}"

    def partition(self) -> str:
        """A report row's partition (``REPORTS_PARTITION``) as a query groups by it: the ``_partition_id`` of the
        part it is read from (nothing to read) where the server has it and the query reads its tables itself,
        else computed from the row's day."""
        return "_partition_id" if self.modern and self.cluster is None else REPORTS_PARTITION

    def on_cluster(self) -> str:
        return f" ON CLUSTER {self.cluster}" if self.cluster else ""


# -- DDL ------------------------------------------------------------------------------------------------------

ITEM_COLUMNS = (
    "dataset String, report_id String{packed}, day Int32, type String, context String, value String,"
    " words Array(String), host String, address FixedString(16)"
)
TYPE_COLUMNS = "dataset String, type String"
OBSERVATION_COLUMNS = "v6 UInt8, ip FixedString(16), port UInt16, day Date"
SUPERSEDED_COLUMNS = "dataset String, id String"
ANSWER_COLUMNS = "name String, type String, value String, day Int32"
BODY_COLUMNS = "sha256 String, content_type String, truncated UInt8, data String"
PARTITION_DAYS = 32  # days a partition of ``reports`` and ``items`` holds
REPORTS_PARTITION = f"intDiv(day, {PARTITION_DAYS})"  # a row's partition (intDiv rounds towards zero)
REPORTS_ORDER = f"PARTITION BY {REPORTS_PARTITION} ORDER BY (dataset, day, id)"
REPORTS_SHARD_KEY = "cityHash64(id)"


def report_columns(layout: Layout) -> str:
    """Schema 2's report row: the items as parallel arrays, with each item's words (``shoal.query.words``) and
    the host it names. On a modern server also ``tokens``, computed by the server from them as each row is
    written (``tokens.TOKENS``), LowCardinality (the same RowBinary as String) for the short repeated strings,
    ZSTD for the columns only the index reads, and LZ4 for the item arrays (``item_arrays``)."""
    packed = " CODEC(ZSTD(3))" if layout.modern else ""
    columns = (
        f"dataset {short_string(layout)}, id String, day Int32, ip FixedString(16), has_ip UInt8, port Int32,"
        f" target String, {', '.join(item_arrays(layout))}, item_words Array(Array(String)){packed},"
        f" item_host Array(String){packed}"
    )
    if layout.modern:
        columns += f", tokens Array(String) MATERIALIZED {TOKENS}{packed}"
    return columns


def short_string(layout: Layout) -> str:
    return "LowCardinality(String)" if layout.modern else "String"


def item_arrays(layout: Layout) -> list[str]:
    """The item arrays of a report row that a page reads and a summary reads whole, as column definitions. On a
    modern server LZ4 (schema 4): a server writes a column without a codec of its own by its configuration, and
    chDB writes its larger parts (at 1M reports, those over ~110–170 MB) with ZSTD(3), which a summary of every
    report decompresses 1.45× slower (``BENCHMARKS.md``, "LZ4 for the item arrays")."""
    short, fast = short_string(layout), " CODEC(LZ4)" if layout.modern else ""
    return [
        f"item_type Array({short}){fast}",
        f"item_value Array(String){fast}",
        f"item_context Array({short}){fast}",
        f"item_metadata Array(UInt8){fast}",
    ]


def report_indexes(layout: Layout) -> str:
    if not layout.modern:
        return ""
    return (
        "INDEX tokens_text tokens TYPE text(tokenizer = array),"
        " PROJECTION by_address (SELECT dataset, has_ip, ip, day, id, target ORDER BY dataset, ip)"
    )


def create_table(
    layout: Layout,
    name: str,
    columns: str,
    tail: str,
    shard_key: str,
    indexes: str = "",
    path: str | None = None,
    engine: str = "MergeTree",
) -> list[str]:
    """One table: plain, or replicated shards behind a Distributed table of the same name. ``path`` names the
    replicated table in ZooKeeper (default: ``name``); ``engine``: the MergeTree family member."""
    body = columns + (", " + indexes if indexes else "")
    if layout.cluster is None:
        return [f"CREATE TABLE IF NOT EXISTS {layout.table(name)} ({body}) ENGINE = {engine}() {tail}"]
    return [
        f"CREATE TABLE IF NOT EXISTS {layout.local(name)}{layout.on_cluster()} ({body})"
        f" ENGINE = {replicated(layout, path or name, engine)} {tail}",
        distributed_table(layout, name, columns, shard_key),
    ]


def replicated(layout: Layout, path: str, engine: str = "MergeTree") -> str:
    return f"Replicated{engine}('/clickhouse/tables/{{shard}}/{layout.database}/{path}', '{{replica}}')"


def distributed_table(layout: Layout, name: str, columns: str, shard_key: str) -> str:
    return (
        f"CREATE TABLE IF NOT EXISTS {layout.table(name)}{layout.on_cluster()} ({columns})"
        f" ENGINE = Distributed({layout.cluster}, {layout.database}, {name}_local, {shard_key})"
    )


def reports_table(layout: Layout, name: str = "reports") -> list[str]:
    """Schema 2's ``reports`` (under ``name``: the migration builds it beside the old one)."""
    return create_table(
        layout, name, report_columns(layout), REPORTS_ORDER, REPORTS_SHARD_KEY, report_indexes(layout), "reports-2"
    )


def items_table(layout: Layout) -> list[str]:
    """One row per item, ordered by type and value: the item conditions tokens cannot answer (and, for the
    portable SQL, all of them) read only their type's slice."""
    item_indexes = "INDEX words_bloom words TYPE bloom_filter(0.01) GRANULARITY 4" if layout.skip_indexes else ""
    return create_table(
        layout,
        "items",
        ITEM_COLUMNS.format(packed=" CODEC(ZSTD(3))" if layout.modern else ""),  # random ids: most of the bytes
        f"PARTITION BY {REPORTS_PARTITION} ORDER BY (dataset, type, value)",
        "cityHash64(report_id)",
        item_indexes,
    )


def other_tables(layout: Layout) -> list[str]:
    """Every table but ``reports``, ``items`` and ``types``: the same in schemas 1 and 2."""
    return [
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


def types_table(layout: Layout) -> list[str]:
    """The item types stored in each dataset (the checker's known types), added to by each ingest."""
    return create_table(layout, "types", TYPE_COLUMNS, "ORDER BY (dataset, type)", "cityHash64(type)")


def ip_counts_table(layout: Layout, name: str = "ip_counts", partition: str = "") -> list[str]:
    """Schema 3's ``ip_counts`` (module docstring), under ``name``; one partition unless ``partition`` (the
    migration fills a copy partitioned as ``reports``: a read of a /16 costs ~0.6 ms of CPU more a part)."""
    columns = f"dataset {short_string(layout)}, prefix FixedString(15), part Int32, n UInt64"
    tail = f"{partition}ORDER BY (dataset, prefix, part)"
    return create_table(layout, name, columns, tail, "cityHash64(prefix)", path=name, engine="SummingMergeTree")


def ip_counts_view(layout: Layout) -> str:
    """The materialized view keeping ``ip_counts``: each block written to ``reports`` (a shard's, on a cluster)
    counted into it."""
    return (
        f"CREATE MATERIALIZED VIEW IF NOT EXISTS {layout.database}.ip_counts_view{layout.on_cluster()}"
        f" TO {layout.local('ip_counts')} AS {ip_counts_select(layout.local('reports'))}"
    )


def ip_counts_select(reports: str, where: str = "") -> str:
    """The rows of ``ip_counts`` for the report rows of ``reports`` (``where``: a further condition)."""
    return (
        "SELECT dataset, toFixedString(substring(ip, 1, 15), 15) AS prefix,"
        f" toInt32({REPORTS_PARTITION}) AS part, count() AS n FROM {reports}"
        f" WHERE has_ip = 1{where} GROUP BY dataset, prefix, part"
    )


def latest(layout: Layout) -> list[str]:
    """A new database's tables, at the latest schema."""
    return [
        *reports_table(layout),
        *items_table(layout),
        *types_table(layout),
        *other_tables(layout),
        *ip_counts_table(layout),
        ip_counts_view(layout),
    ]


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
    if number < 0x80:
        return SHORT_LENGTHS[number]
    out = bytearray()
    while number > 0x7F:
        out.append(number & 0x7F | 0x80)
        number >>= 7
    out.append(number)
    return bytes(out)


SHORT_LENGTHS = [bytes((number,)) for number in range(0x80)]  # a varint below 128 is its one byte


def string(text: str) -> bytes:
    data = text.encode("utf-8", "surrogatepass")
    return varint(len(data)) + data


def strings(values: list[str]) -> bytes:
    """An Array(String) value (the hot path of ingest: ~200 strings a report)."""
    parts = [varint(len(values))]
    for text in values:
        data = text.encode("utf-8", "surrogatepass")
        size = len(data)
        parts.append(SHORT_LENGTHS[size] if size < 0x80 else varint(size))
        parts.append(data)
    return b"".join(parts)


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


def items_from_stored(raw: str) -> tuple[Item, ...]:
    """The items of a schema 1 report row (JSON)."""
    return tuple(tuple.__new__(Item, item) for item in orjson.loads(raw))


def items_of_row(row: dict[str, Any]) -> tuple[Item, ...]:
    """The items of a report row, from its parallel arrays."""
    return tuple(
        tuple.__new__(Item, (item_type, value, context, bool(metadata)))
        for item_type, value, context, metadata in zip(
            row["item_type"], row["item_value"], row["item_context"], row["item_metadata"], strict=True
        )
    )


def report_rows(report: Report, with_items: bool = True) -> tuple[bytes, bytes]:
    """The report's row and its item rows (none unless ``with_items``), RowBinary-encoded; each item's words and
    host are found once, for both."""
    items = report.items
    head = string(report.dataset) + string(report.id) + struct.pack("<i", day_number(report.date))
    words: list[list[str]] = []
    hosts: list[str] = []
    rows = []
    for item_type, value, context, _ in items:
        key = port_value(value) if item_type in PORT_TYPES else value
        found = split_words(key)
        host = item_host(item_type, key) or ""
        words.append(found)
        hosts.append(host)
        if with_items:
            address = address16(value) if item_type == "ip" else NO_ADDRESS
            fields = (head, string(item_type), string(context), string(key), strings(found), string(host))
            rows.append(b"".join(fields) + address)
    ip = report.ip
    port = report.port
    report_row = b"".join(
        (
            head,
            address16(ip) if ip is not None else NO_ADDRESS,
            b"\1" if ip is not None else b"\0",
            struct.pack("<i", port if port is not None else -1),
            string(identity(report)),
            strings([item.type for item in items]),
            strings([item.value for item in items]),
            strings([item.context for item in items]),
            varint(len(items)) + bytes(1 if item.is_metadata else 0 for item in items),
            varint(len(items)) + b"".join(map(strings, words)),
            strings(hosts),
        )
    )
    return report_row, b"".join(rows)


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


def type_row(dataset: str, item_type: str) -> bytes:
    return string(dataset) + string(item_type)


def answer_row(name: str, kind: str, value: str, day: int) -> bytes:
    return string(name) + string(kind) + string(value) + struct.pack("<i", day)

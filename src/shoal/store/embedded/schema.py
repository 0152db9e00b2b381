"""Index format 3: the tantivy schema of a dataset's shards, one document per report.

Each kind of query reads its own field (in the table, ``|`` stands for ``TYPE_SEP`` and ``/`` for ``CONTEXT_SEP``).
A type is *closed* (``CLOSED_TYPES``: its contexts are a short list, e.g. a banner's protocol) or *open* (any other
type, e.g. ``http-header``, whose contexts are the header names). An item of a closed type with a named context is
indexed under its context only, so a query over all of a closed type's contexts is an OR over them (the store's list
of contexts, ``shards.Kinds``); an open type keeps a type-level copy, so ``http-header:nginx`` stays one term.

| field  | kind              | terms                                                         | serves                  |
|--------|-------------------|---------------------------------------------------------------|-------------------------|
| id     | raw               | the report's id                                               | duplicates, ``id=``     |
| words  | JSON, positions   | key ``type`` (the empty context; an open type: any context),  | ``type:words``,         |
|        |                   | ``type/context`` (a named context), ``type/`` (an open type's | prefixes                |
|        |                   | empty context in a report holding a named one too)            |                         |
| exact  | raw               | ``type|value``, ``type/context|value``, ``type/|value`` as    | ``type=value``,         |
|        |                   | ``words``; ``|superseded`` (no type) once a successor is in   | summaries, superseded   |
| kinds  | raw               | ``type/context`` of each named context                        | ``protocol=``, contexts |
| hosts  | raw               | reversed labels (host, url items) under the keys of ``exact`` | right-anchored hosts    |
| ipc    | raw               | ``context|`` + 128 address bits, ip items but the scanned one | ``ip;context:CIDR``     |
| multi  | raw               | ``type|value`` held under two contexts or more                | summaries of contexts   |
| ip     | ip, indexed       | the scanned address                                           | narrow ``ip=`` ranges   |
| ipfast | ip, fast          | the scanned address                                           | wide ``ip=`` ranges     |
| ipall  | ip, indexed       | every other ip item                                           | ``ip:`` (any context)   |
| sort   | i64 fast          | day << 48 | the id's first six bytes (days from 1880 to 2059) | newest first, dates     |
| target | u64 fast          | the report's identity (``identity_key``)                      | ``most_recent``         |
| batch  | u64 fast          | the number of the commit that stored it (``shards.State``)    | hiding a torn commit    |
| doc    | stored bytes      | the report as its API JSON                                    | results                 |

Values of one key are joined into one string with a gap of removed (over-long) tokens between them, so that no
phrase with slop ≤ MAX_SLOP can match across two items (DESIGN.md §2, trap 1). Format 2 (before it) had a
type-level copy of every term and an ``exact``/``exactc``/``kinds`` term for every item: 103 terms per report
against about 64 here (BENCHMARKS.md, issue 25).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import NamedTuple

import orjson
import tantivy

from shoal.model import DATASET_TABLE, PROTOCOLS, Item, Report, host_key, identity_of
from shoal.store.base import MAX_SLOP

INDEX_FORMAT = 3
TYPE_SEP = "\x1f"  # between a key and a value in raw terms
CONTEXT_SEP = "\x1e"  # between a type and a context
MAX_TERM_BYTES = 8192  # raw terms are cut to this many bytes (index and query alike)
# One removed token per position: the default tokenizer drops tokens of 40 bytes or more, and tantivy keeps
# their positions, so each filler token opens a one-position gap that no query word can fill.
ITEM_GAP = " " + " ".join(["g" * 40] * (MAX_SLOP + 1)) + " "
ID_SORT_BYTES = 6
# Types whose items under a named context are indexed under that context only (module docstring): a banner's
# protocol, the place a host name was seen (cert-dns-name, rdns, dns-ptr, dns-ns).
CLOSED_TYPES = frozenset({"server-banner", "host"})
# The ``exact`` term of a report that has a successor: an empty type, which no item has (so no summary sees it).
SUPERSEDED = TYPE_SEP + "superseded"

# What ``most_recent`` keeps one report of, per dataset: its row's identity (``shoal.model.DATASET_TABLE``), parts
# of item types; the document builder collects the first empty-context value of each type they name.
IDENTITY_PARTS: dict[str, tuple[tuple[str, ...], ...]] = {row.name: row.identity for row in DATASET_TABLE.values()}


def build_schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    sb.add_text_field("id", tokenizer_name="raw", index_option="basic")
    sb.add_json_field("words", tokenizer_name="default", index_option="position")
    for name in ("exact", "kinds", "hosts", "ipc", "multi"):
        sb.add_text_field(name, tokenizer_name="raw", index_option="basic")
    sb.add_ip_addr_field("ip", indexed=True)  # narrow ranges: the terms in the range
    sb.add_ip_addr_field("ipfast", fast=True)  # wide ranges: a scan of the column (compile.ip_range)
    sb.add_ip_addr_field("ipall", indexed=True)
    sb.add_integer_field("sort", fast=True)
    sb.add_unsigned_field("target", fast=True)
    sb.add_unsigned_field("batch", fast=True)
    sb.add_bytes_field("doc", stored=True)
    return sb.build()


def open_shard(schema: tantivy.Schema, path: Path) -> tantivy.Index:
    """A shard's tantivy index (made if new), its segments sorted newest first by ``sort``: the top of a search in
    newest-first order is at the start of every segment (3× less CPU for a page of 250,000 matches at 1M reports,
    BENCHMARKS.md, issue 25), and the index costs nothing measurable more to write."""
    return tantivy.Index(schema, path=str(path), reuse=True, sort_by_field="sort", sort_order=tantivy.Order.Desc)


def json_key(key: str) -> str:
    """A JSON-field key that tantivy never splits: dots would otherwise read as path separators."""
    return key.replace(".", "\x1d")


CUT_CHARACTERS = MAX_TERM_BYTES // 4  # a term of at most this many characters is never cut (≤ 4 bytes each)


def cut(term: str) -> str:
    if len(term) <= CUT_CHARACTERS:
        return term
    data = term.encode()
    if len(data) <= MAX_TERM_BYTES:
        return term
    return data[:MAX_TERM_BYTES].decode(errors="ignore")


def reversed_host(host: str) -> str:
    """``www.Example.com.`` → ``com.example.www``: right-anchored label matching becomes a prefix match."""
    return ".".join(reversed(host_key(host).split(".")))


IPV4_MAPPED = b"\0" * 10 + b"\xff\xff"


def address_bits(packed: bytes) -> str:
    """128 bits of the address (IPv4 mapped into IPv6), so a CIDR is a prefix of the bit string."""
    if len(packed) == 4:
        packed = IPV4_MAPPED + packed
    return format(int.from_bytes(packed, "big"), "0128b")


# The days a sort key holds (as format 2's): 1880-01-01 to 2059-09-18 (days since 1970, 16 bits signed).
FIRST_DAY, LAST_DAY = -(1 << 15), (1 << 15) - 1


def sort_key(day: int, report_id: str) -> int:
    """Newest first, then by id descending (the id's first six bytes)."""
    return (day << 48) | int.from_bytes(report_id.encode()[:ID_SORT_BYTES].ljust(ID_SORT_BYTES, b"\0"), "big")


def day_range(first: int | None, last: int | None) -> tuple[int | None, int | None] | None:
    """The ``sort`` keys of the reports dated from day ``first`` to day ``last`` (inclusive; None: no bound), or
    None when no report can be dated so."""
    if (first is not None and (first > LAST_DAY or (last is not None and first > last))) or (
        last is not None and last < FIRST_DAY
    ):
        return None
    low = None if first is None or first <= FIRST_DAY else first << 48
    high = None if last is None or last >= LAST_DAY else ((last + 1) << 48) - 1
    return low, high


def hashed_key(identity: object) -> int:
    digest = hashlib.blake2b(repr(identity).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") | 1 << 63


def identity_key(report: Report) -> int:
    """One number per identity for ``most_recent`` (``shoal.model.identity_of``, from the dataset's row): exact for
    an IPv4 TCP service (address << 16 | port), a 63-bit hash of any other; a report lacking its identity is one
    of its own."""
    return key_of(identity_of(report), report.id)


def target_of(dataset: str, report_id: str, values: dict[str, object]) -> int:
    """``identity_key`` of a report from the first empty-context value of each identity type it holds, as compared
    (``shoal.model.IDENTITY_VALUES``: an ip packed, a port a number, a host by ``host_key``, a digest lowercased;
    None: not one), by ``identity_of``'s rule: a part's value is that of the first of its types the report holds,
    ``(type, value)`` for a later one."""
    parts = IDENTITY_PARTS.get(dataset)
    if parts is None:
        return hashed_key(report_id)
    identity: list[object] = []
    for part in parts:
        for item_type in part:
            value = values.get(item_type)
            if value is not None:
                break
        else:
            return hashed_key(report_id)
        identity.append(value if item_type == part[0] else (item_type, value))
    return key_of(tuple(identity), report_id)


def key_of(identity: tuple[object, ...] | None, report_id: str) -> int:
    if identity is None:
        return hashed_key(report_id)
    match identity:
        case (bytes() as packed_ip, int() as port) if len(packed_ip) == 4:
            return v4_target(packed_ip, port)
        case (single,):
            return hashed_key(single)
    return hashed_key(identity)


def v4_target(packed: bytes, port: int) -> int:
    """The identity of a protocols report of an IPv4 address: address << 16 | port, exactly."""
    return int.from_bytes(packed, "big") << 16 | port


class Latest(NamedTuple):
    """A report as a candidate newest report of its identity: what the dataset's latest index keeps of it."""

    target: int  # the identity (the ``target`` field)
    sort: int  # the ``sort`` key: the larger, the newer
    id: str
    ip: str | None  # the scanned address, canonical


def stored_form(report: Report) -> bytes:
    """The report as kept in the index: its API JSON exactly as a result page carries it (sorted keys, compact),
    so that a page is the stored bytes joined, with no decoding or rendering."""
    return orjson.dumps(report.as_dict())


def report_from_stored(data: bytes, dataset: str = PROTOCOLS) -> Report:
    """Inverse of ``stored_form`` (Items built straight from the stored objects)."""
    stored = orjson.loads(data)
    return Report(
        date=dt.date.fromisoformat(stored["date"]),
        id=stored["id"],
        items=tuple(
            _new_item(Item, (item["type"], item["value"], item["context"], item["is_metadata"]))
            for item in stored["items"]
        ),
        dataset=dataset,
    )


_new_item = tuple.__new__

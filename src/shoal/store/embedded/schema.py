"""The tantivy schema and how a Report becomes a tantivy document.

One document per report. Each kind of query reads its own field (in the table, ``|`` stands for
``TYPE_SEP`` and ``/`` for ``CONTEXT_SEP``):

| field     | kind                 | terms                                           | serves                        |
|-----------|----------------------|-------------------------------------------------|-------------------------------|
| words     | JSON, default tokens | key ``type``, and ``type/context`` if context;  | ``type:value`` phrases/prefix |
|           |                      | ``type/`` where a type has both an empty and a  | ``type;:value``               |
|           |                      | named context                                   |                               |
| exact     | raw                  | ``type|value``; ``|superseded`` (no type) once  | ``type=value``, summaries;    |
|           |                      | a successor is stored                           | hiding superseded reports     |
| exactc    | raw                  | ``type/context|value``                     | ``type;context=value``        |
| kinds     | raw                  | ``type/context`` (also for an empty context)  | protocol=, types, contexts    |
| hosts     | raw                  | ``type|`` + reversed labels (host, url hosts)  | right-anchored host queries   |
| hostsc    | raw                  | ``type/context|`` + reversed labels        | ``host;context:``             |
| ipc       | raw                  | ``context|`` + 128 address bits               | ``ip;context:CIDR``           |
| multi     | raw                  | ``type|value`` held under ≥ 2 contexts         | exact multi-context summaries |
| ip, ipall | ip address           | the scanned ip / every ip item                  | ``ip=``, indirect, ``ip:``    |
| ipfast    | ip address, fast     | the scanned ip again                            | wide ``ip=`` ranges           |
| day       | i64 days since epoch | range                                            | from/to                       |
| sort      | i64 fast             | day << 42 | first id characters                 | newest-first order            |
| target    | u64 fast             | the report's identity (its dataset's row's)     | most_recent                   |
| doc       | stored bytes         | the report as JSON                              | results                       |

Values of one type are joined into one string with a gap of removed (over-long) tokens between them, so
that no phrase with slop ≤ MAX_SLOP can match across two items (DESIGN.md §2, trap 1).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from binascii import b2a_base64
from typing import Any, NamedTuple

import orjson
import tantivy

from shoal.model import (
    DATASET_TABLE,
    PROTOCOLS,
    SUPERSEDES,
    Body,
    Item,
    Report,
    canonical_ip,
    host_key,
    identity_of,
    pack_ip,
)
from shoal.store.base import MAX_SLOP, day_number
from shoal.store.plan import port_value, url_host

TYPE_SEP = "\x1f"  # between a key and a value in raw terms
CONTEXT_SEP = "\x1e"  # between a type and a context
MAX_TERM_BYTES = 8192  # raw terms are cut to this many bytes (index and query alike)
# One removed token per position: the default tokenizer drops tokens of 40 bytes or more, and tantivy keeps
# their positions, so each filler token opens a one-position gap that no query word can fill.
ITEM_GAP = " " + " ".join(["g" * 40] * (MAX_SLOP + 1)) + " "
ID_SORT_BYTES = 6


def build_schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    sb.add_text_field("id", tokenizer_name="raw", index_option="basic")
    sb.add_json_field("words", tokenizer_name="default", index_option="position")
    for name in ("exact", "exactc", "kinds", "hosts", "hostsc", "ipc", "multi"):
        sb.add_text_field(name, tokenizer_name="raw", index_option="basic")
    sb.add_ip_addr_field("ip", indexed=True)  # narrow ranges: the terms in the range
    sb.add_ip_addr_field("ipfast", fast=True)  # wide ranges: a scan of the column (compile.ip_range)
    sb.add_ip_addr_field("ipall", indexed=True)
    sb.add_integer_field("day", indexed=True, fast=True)
    sb.add_integer_field("sort", fast=True)
    sb.add_unsigned_field("target", fast=True)
    sb.add_bytes_field("doc", stored=True)
    return sb.build()


def json_key(key: str) -> str:
    """A JSON-field key that tantivy never splits: dots would otherwise read as path separators."""
    return key.replace(".", "\x1d")


def words_path(item_type: str, context: str | None) -> str:
    key = item_type if context is None else item_type + CONTEXT_SEP + context
    return "words." + json_key(key)


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


def sort_key(day: int, report_id: str) -> int:
    """Newest first, then by id descending (the id's first six bytes)."""
    return (day << 48) | int.from_bytes(report_id.encode()[:ID_SORT_BYTES].ljust(ID_SORT_BYTES, b"\0"), "big")


# The ``exact`` term of a report that has a successor: an empty type, which no item has (so the schema of older
# data directories still fits, and no summary sees it).
SUPERSEDED = TYPE_SEP + "superseded"


def hashed_key(identity: object) -> int:
    digest = hashlib.blake2b(repr(identity).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") | 1 << 63


def identity_key(report: Report) -> int:
    """One number per identity for ``most_recent`` (``shoal.model.identity_of``, from the dataset's row): exact for
    an IPv4 TCP service (address << 16 | port), a 63-bit hash of any other; a report lacking its identity is one
    of its own."""
    identity = identity_of(report)
    if identity is None:
        return hashed_key(report.id)
    match identity:
        case (bytes() as packed_ip, int() as port) if len(packed_ip) == 4:
            return int.from_bytes(packed_ip, "big") << 16 | port
        case (single,):
            return hashed_key(single)
    return hashed_key(identity)


def stored_form(report: Report) -> bytes:
    """The report as kept in the index: its API JSON exactly as a result page carries it (sorted keys, compact),
    so that a page is the stored bytes joined, with no decoding or rendering."""
    items = [
        {"context": context, "is_metadata": is_metadata, "type": item_type, "value": value}
        for item_type, value, context, is_metadata in report.items
    ]
    return orjson.dumps({"date": report.date.isoformat(), "id": report.id, "items": items})


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


def document_fields(report: Report, superseded: bool = False) -> dict[str, Any]:
    """The fields of a report's document. The hot loop of every import: one pass over the items, methods bound
    to locals, long terms cut only when they may be."""
    words: dict[str, list[str]] = {}
    exact: set[str] = set()
    exactc: set[str] = set()
    kinds: set[str] = set()
    hosts: set[str] = set()
    hostsc: set[str] = set()
    ipc: set[str] = set()
    ipall: list[str] = []
    first_context: dict[str, str] = {}  # typed value -> the first context it was seen under
    multi: set[str] = set()  # typed values seen under two contexts or more
    exact_add, exactc_add, kinds_add = exact.add, exactc.add, kinds.add
    scanned_ip: bytes | None = None
    for item_type, value, context, _ in report.items:
        if item_type == "port-tcp" or item_type == "port-udp":
            value = port_value(value)  # port-udp as port-tcp: port-udp:053 finds 53
        elif item_type == "ip":
            packed = pack_ip(value)
            ipall.append(canonical_ip(packed))
            if context == "" and scanned_ip is None:
                scanned_ip = packed
            else:
                ipc.add(context + TYPE_SEP + address_bits(packed))
        elif item_type == "host" or item_type == "url":
            host = value if item_type == "host" else url_host(value)
            if host:
                reversed_name = reversed_host(host)
                hosts.add(item_type + TYPE_SEP + reversed_name)
                hostsc.add(item_type + CONTEXT_SEP + context + TYPE_SEP + reversed_name)
        type_key = item_type if "." not in item_type else json_key(item_type)
        held = words.get(type_key)
        if held is None:
            words[type_key] = [value]
        else:
            held.append(value)
        typed_value = item_type + TYPE_SEP + value
        kind = item_type + CONTEXT_SEP + context
        kinded_value = kind + TYPE_SEP + value
        if len(kinded_value) > CUT_CHARACTERS:
            typed_value, kinded_value = cut(typed_value), cut(kinded_value)
        exact_add(typed_value)
        exactc_add(kinded_value)
        kinds_add(kind)
        if context:
            context_key = json_key(kind)
            held = words.get(context_key)
            if held is None:
                words[context_key] = [value]
            else:
                held.append(value)
        seen = first_context.setdefault(typed_value, context)
        if seen != context:
            multi.add(typed_value)
    add_empty_context_words(report, kinds, words)
    day = day_number(report.date)
    document = {
        "id": report.id,
        "words": {key: values[0] if len(values) == 1 else ITEM_GAP.join(values) for key, values in words.items()},
        "exact": list(exact),
        "exactc": list(exactc),
        "kinds": list(kinds),
        "hosts": list(hosts),
        "hostsc": list(hostsc),
        "ipc": list(ipc),
        "multi": list(multi),
        "ipall": ipall,
        "day": day,
        "sort": sort_key(day, report.id),
        "target": identity_key(report),
        "doc": b2a_base64(stored_form(report), newline=False).decode(),
    }
    if superseded:
        document["exact"].append(SUPERSEDED)
    if scanned_ip is not None:
        document["ip"] = document["ipfast"] = canonical_ip(scanned_ip)
    return document


def add_empty_context_words(report: Report, kinds: set[str], words: dict[str, list[str]]) -> None:
    """Words of the empty context (``type;:words``) for the types a report holds under the empty context and
    under a named one too. Where every item of a type has the empty context, the type's own words are those
    and the compiler reads them (saving a second copy of the commonest case, by far)."""
    mixed = {kind[:-1] for kind in kinds if kind[-1] == CONTEXT_SEP} & {
        kind.partition(CONTEXT_SEP)[0] for kind in kinds if kind[-1] != CONTEXT_SEP
    }
    for item_type in mixed:
        values = [value for kind, value, context, _ in report.items if kind == item_type and context == ""]
        words[json_key(item_type + CONTEXT_SEP)] = values


Target = tuple[bytes, int, int]  # an open-port observation: (packed ip, port, day number)


def observation_of(report: Report) -> Target | None:
    """The open-port observation a report is (its scanned ip and port-tcp on its date), if it names both."""
    ip, port = report.ip, report.port
    day = day_number(report.date)
    if ip is None or port is None or not 0 <= port <= 0xFFFF or not 0 <= day <= 0xFFFF:
        return None
    return pack_ip(ip), port, day


class Prepared(NamedTuple):
    """What ``EmbeddedStore.ingest_prepared`` takes for one report."""

    id: str
    dataset: str
    document: str
    observation: Target | None  # protocols and domains reports are also observations of their ip:port
    supersedes: tuple[str, ...]  # ids of the reports this one is the successor of
    bodies: tuple[Body, ...]
    latest: Latest  # the report as its identity's newest (store/embedded/latest.py)


class Latest(NamedTuple):
    """A report as a candidate newest report of its identity: what the dataset's latest index keeps of it."""

    target: int  # the identity (the ``target`` field)
    sort: int  # the ``sort`` key: the larger, the newer
    id: str
    ip: str | None  # the scanned address, canonical


def prepare_report(report: Report) -> Prepared:
    """Pure, so it can run in worker processes."""
    supersedes = tuple(item.value for item in report.items if item.type == SUPERSEDES and item.is_metadata)
    row = DATASET_TABLE.get(report.dataset)
    observation = observation_of(report) if row is not None and row.observations else None
    fields = document_fields(report)
    document = orjson.dumps(fields).decode()
    latest = latest_of(fields)
    return Prepared(report.id, report.dataset, document, observation, supersedes, report.bodies, latest)


def latest_of(fields: dict[str, Any]) -> Latest:
    return Latest(fields["target"], fields["sort"], fields["id"], fields.get("ip"))

"""BGP RIB dumps in MRT ``TABLE_DUMP_V2`` (RFC 6396), plain, gzip or bzip2, read with mrtparse (Apache-2.0).

A dump is a ``PEER_INDEX_TABLE`` record (the collector's BGP id and view name: the feed, ``mrt:<id>[:<view>]``,
dated by the record's timestamp) and then one ``RIB_IPV4_UNICAST`` / ``RIB_IPV6_UNICAST`` record per prefix,
with one RIB entry per peer. A prefix's origin is the last AS of the AS_PATH's last AS_SEQUENCE (of AS4_PATH if
a peer sent one), as most of its peers see it; it becomes a ``bgpasn`` network named after that AS (the
bundled ASN table's name; an imported aut-num's name takes precedence when answering). Other record types are
passed over.

Records are framed by their length, so a record whose body does not parse is rejected (its number and byte
offset) and the next one is read. A header that is cut short, or a length over MAX_RECORD_BYTES (never held:
it is skipped), ends what can be read of the input and is said as a rejection too.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import signal
from collections import Counter
from collections.abc import Iterator
from contextlib import suppress
from typing import Any, BinaryIO

from shoal.enrich.asntable import AsnTable
from shoal.ingest.detect import MRT_MAX_RECORD
from shoal.ingest.jsonl import Rejected
from shoal.registration.book import BGPASN
from shoal.registration.records import NetRecord, RegistrationRecord

TABLE_DUMP_V2 = 13
PEER_INDEX_TABLE = 1
RIB_UNICAST = frozenset({2, 4})  # RIB_IPV4_UNICAST, RIB_IPV6_UNICAST
MAX_RECORD_BYTES = MRT_MAX_RECORD
AS_SEQUENCE = 2
AS_PATH, AS4_PATH = 2, 17
SKIP_BYTES = 1 << 20


class BoundedReads:
    """The input as mrtparse reads it: a record's body longer than MAX_RECORD_BYTES is skipped, never held, and
    read as nothing (mrtparse then says the record is cut short); counts the bytes consumed."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.offset = 0
        self.oversized = 0  # the length of the last record skipped, if the last read skipped one

    def read(self, size: int = -1) -> bytes:
        self.oversized = 0
        if 0 <= size <= MAX_RECORD_BYTES:
            data = self.stream.read(size)
            self.offset += len(data)
            return data
        self.oversized = size
        while size > 0 and (chunk := self.stream.read(min(size, SKIP_BYTES))):
            size -= len(chunk)
            self.offset += len(chunk)
        return b""

    def close(self) -> None:
        self.stream.close()


def mrt_reader(source: BinaryIO) -> Any:
    """mrtparse's reader over ``source``; importing mrtparse sets SIGPIPE to its default, which is put back."""
    previous = signal.getsignal(signal.SIGPIPE)
    import mrtparse  # (only an MRT import needs it)

    with suppress(ValueError):  # not the main thread: nothing was changed there either
        signal.signal(signal.SIGPIPE, previous)
    return mrtparse.Reader(source)


def read_mrt(stream: BinaryIO, source: str, names: AsnTable | None = None) -> Iterator[RegistrationRecord | Rejected]:
    bounded = BoundedReads(stream)
    reader = mrt_reader(bounded)
    feed, date, number = "", "", 0
    while True:
        start = bounded.offset
        number += 1
        where = f"record {number} at byte {start:,}"
        try:
            entry = next(reader)
        except StopIteration:
            return
        except Exception as exc:  # (a body mrtparse trips over: the next record is still framed)
            yield Rejected(source, number, f"{where}: {type(exc).__name__}: {exc}"[:300])
            continue
        error = getattr(entry, "err", None)
        if error is not None:
            entry.err = None
            if bounded.oversized:
                too_long = (
                    f"{bounded.oversized:,} bytes, more than the {MAX_RECORD_BYTES:,} a record may hold (skipped)"
                )
                yield Rejected(source, number, f"{where}: {too_long}")
                continue
            yield Rejected(source, number, f"{where}: {entry.err_msg}")
            if error == 1:  # a header cut short: nothing after it can be framed
                return
            continue
        data = entry.data
        kind, subtype = next(iter(data["type"])), next(iter(data["subtype"]))
        if kind != TABLE_DUMP_V2:
            continue
        if subtype == PEER_INDEX_TABLE:
            view = str(data.get("view_name", "")).strip()
            feed = f"mrt:{data['collector_bgp_id']}" + (f":{view}" if view else "")
            date = day_of_timestamp(next(iter(data["timestamp"])))
            continue
        if subtype not in RIB_UNICAST:
            continue
        if not feed:
            yield Rejected(source, number, f"{where}: a RIB record before the PEER_INDEX_TABLE record")
            continue
        found = rib_record(data, feed, date, names)
        if isinstance(found, str):
            yield Rejected(source, number, f"{where}: {found}")
        elif found is not None:
            yield found


def day_of_timestamp(seconds: int) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).date().isoformat()


def rib_record(data: dict[str, Any], feed: str, date: str, names: AsnTable | None) -> NetRecord | str | None:
    try:
        network = ipaddress.ip_network(f"{data['prefix']}/{data['length']}", strict=False)
    except (KeyError, ValueError) as exc:
        return f"not a prefix: {exc}"
    origins: Counter[int] = Counter()
    for entry in data.get("rib_entries", ()):
        origin = origin_of(entry.get("path_attributes", ()))
        if origin is not None:
            origins[origin] += 1
    if not origins:
        return None  # no peer gave an AS_PATH with an origin (e.g. an aggregate's AS_SET only)
    asn = origins.most_common(1)[0][0]
    name = names.names.get(asn, "") if names is not None else ""
    return NetRecord(feed, BGPASN, (network,), [name] if name else [], asn=asn, date=date)


def origin_of(attributes: Any) -> int | None:
    """The origin AS of a RIB entry: the last AS of the last AS_SEQUENCE (AS4_PATH's when there is one)."""
    paths = {next(iter(attribute["type"])): attribute.get("value") for attribute in attributes}
    for code in (AS4_PATH, AS_PATH):
        segments = paths.get(code)
        if not segments:
            continue
        sequences = [segment["value"] for segment in segments if next(iter(segment["type"])) == AS_SEQUENCE]
        if sequences and sequences[-1]:
            last = str(sequences[-1][-1])
            if "." in last:  # asdot
                high, _, low = last.partition(".")
                return int(high) * 65536 + int(low)
            return int(last)
    return None

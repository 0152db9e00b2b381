"""The bundled IP → (ASN, AS organisation) table: a compact, offline snapshot shipped as package data.

The file ``data/asn-table.xz`` is built once by a developer from the CSV files of the npm package
``@ip-location-db/asn`` (CC BY 4.0: RouteViews, the NRO's RIR statistics and DB-IP's IP-to-ASN Lite; see
docs/enrichment.md) and never downloaded at run time::

    python -m shoal.enrich.asntable asn-ipv4.csv asn-ipv6.csv --date 2026-06-17 --out src/shoal/enrich/data

Format (xz-compressed, little-endian): the magic line, a JSON header line (counts), then the IPv4 ranges as
three uint32 arrays (gap from the previous range's end, length - 1, ASN), the IPv6 ranges as 16-byte
big-endian (gap, length - 1) pairs and a uint32 ASN array, and finally ``ASN<TAB>organisation`` lines.
Deltas compress about 25% better than absolute addresses. A sidecar ``asn-table.json`` carries the
metadata (source, licence, date) so listing the enrichers never has to decompress the table.
"""

from __future__ import annotations

import argparse
import array
import bisect
import csv
import ipaddress
import json
import lzma
import socket
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import accumulate
from operator import add, sub
from pathlib import Path
from typing import Any

MAGIC = b"SHOAL-ASN-TABLE 1\n"
TABLE_NAME = "asn-table.xz"
META_NAME = "asn-table.json"
DATA_DIR = Path(__file__).with_name("data")
SOURCE = "@ip-location-db/asn (RouteViews, NRO RIR statistics, DB-IP IP-to-ASN Lite)"
LICENCE = "CC BY 4.0 (RouteViews, NRO, DB-IP)"

Range = tuple[int, int, int, str]  # (first address, last address, ASN, organisation)


@dataclass(frozen=True, slots=True)
class Network:
    asn: int
    organisation: str


class AsnTable:
    """Ranges sorted by first address; a lookup is one bisect (about a microsecond)."""

    def __init__(
        self,
        v4: tuple[Sequence[int], Sequence[int], Sequence[int]],
        v6: tuple[Sequence[int], Sequence[int], Sequence[int]],
        names: dict[int, str],
    ) -> None:
        self.v4_first, self.v4_last, self.v4_asn = v4
        self.v6_first, self.v6_last, self.v6_asn = v6
        self.names = names

    def __len__(self) -> int:
        return len(self.v4_first) + len(self.v6_first)

    def lookup(self, ip: str) -> Network | None:
        found = self.lookup_range(ip)
        return None if found is None else Network(found[2], found[3])

    def lookup_range(self, ip: str) -> Range | None:
        """The range holding ``ip``: (first, last, ASN, organisation), the addresses as integers."""
        try:
            if ":" in ip:
                number = int.from_bytes(socket.inet_pton(socket.AF_INET6, ip), "big")
                first, last, asns = self.v6_first, self.v6_last, self.v6_asn
            else:
                number = int.from_bytes(socket.inet_aton(ip), "big") if ip.count(".") == 3 else -1
                first, last, asns = self.v4_first, self.v4_last, self.v4_asn
        except OSError:
            return None
        index = bisect.bisect_right(first, number) - 1
        if index < 0 or number > last[index]:
            return None
        asn = asns[index]
        return first[index], last[index], asn, self.names.get(asn, "")


def load_table(folder: Path = DATA_DIR) -> AsnTable:
    raw = lzma.decompress((folder / TABLE_NAME).read_bytes())
    if not raw.startswith(MAGIC):
        raise ValueError(f"{folder / TABLE_NAME} is not a Shoal ASN table")
    header_end = raw.index(b"\n", len(MAGIC))
    header = json.loads(raw[len(MAGIC) : header_end])
    position = header_end + 1
    n4, n6 = header["ipv4"], header["ipv6"]

    def uint32s(count: int) -> array.array[int]:
        nonlocal position
        values = array.array("I")
        values.frombytes(raw[position : position + 4 * count])
        if sys.byteorder != "little":
            values.byteswap()
        position += 4 * count
        return values

    gaps, spans, v4_asn = uint32s(n4), uint32s(n4), uint32s(n4)
    ends = list(accumulate(map(add, gaps, spans), initial=-1))[1:]  # end_i = end_(i-1) + gap_i + span_i
    v4_last = array.array("I", ends)
    v4_first = array.array("I", map(sub, ends, spans))
    pairs = raw[position : position + 32 * n6]
    position += 32 * n6
    v6_first: list[int] = []
    v6_last: list[int] = []
    end = -1
    for offset in range(0, len(pairs), 32):
        start = end + int.from_bytes(pairs[offset : offset + 16], "big")
        end = start + int.from_bytes(pairs[offset + 16 : offset + 32], "big")
        v6_first.append(start)
        v6_last.append(end)
    v6_asn = uint32s(n6)
    names = {}
    for line in raw[position:].decode("utf-8").splitlines():
        asn, _, name = line.partition("\t")
        names[int(asn)] = name
    return AsnTable((v4_first, v4_last, v4_asn), (v6_first, v6_last, v6_asn), names)


def read_metadata(folder: Path = DATA_DIR) -> dict[str, Any]:
    try:
        return dict(json.loads((folder / META_NAME).read_text(encoding="utf-8")))
    except FileNotFoundError:
        return {}


# ---------------------------------------------------------------------------------------------------------------
# Building the table (a developer's step, from files already on disk; nothing is downloaded).
# ---------------------------------------------------------------------------------------------------------------


def read_csv_ranges(path: Path) -> list[Range]:
    """Rows ``first,last,asn,organisation`` of an @ip-location-db/asn CSV file."""
    ranges = []
    with path.open(newline="", encoding="utf-8") as rows:
        for row in csv.reader(rows):
            if len(row) != 4 or not row[2].isdigit():
                raise ValueError(f"{path}: unexpected row {row!r}")
            first, last = int(ipaddress.ip_address(row[0])), int(ipaddress.ip_address(row[1]))
            ranges.append((first, last, int(row[2]), row[3]))
    return ranges


def without_overlaps(ranges: Iterable[Range]) -> list[Range]:
    """Sorted, with each range cut short where the next one starts (the next, more specific one wins)."""
    result: list[Range] = []
    for first, last, asn, name in sorted(ranges):
        if result and first <= result[-1][1]:
            previous = result.pop()
            if previous[0] < first:
                result.append((previous[0], first - 1, previous[2], previous[3]))
        result.append((first, last, asn, name))
    return result


def encode_table(v4: list[Range], v6: list[Range]) -> bytes:
    v4, v6 = without_overlaps(v4), without_overlaps(v6)
    names: dict[int, str] = {}
    for _, _, asn, name in [*v4, *v6]:
        names.setdefault(asn, name)
    previous_ends = [-1, *(last for _, last, _, _ in v4[:-1])]
    gaps = array.array("I", (first - end for (first, *_), end in zip(v4, previous_ends, strict=True)))
    spans = array.array("I", (last - first for first, last, *_ in v4))
    asns4 = array.array("I", (asn for _, _, asn, _ in v4))
    pairs = bytearray()
    end = -1
    for first, last, _, _ in v6:
        pairs += (first - end).to_bytes(16, "big") + (last - first).to_bytes(16, "big")
        end = last
    asns6 = array.array("I", (asn for _, _, asn, _ in v6))
    if sys.byteorder != "little":
        for values in (gaps, spans, asns4, asns6):
            values.byteswap()
    header = json.dumps({"ipv4": len(v4), "ipv6": len(v6), "asns": len(names)}).encode() + b"\n"
    text = "".join(f"{asn}\t{names[asn]}\n" for asn in sorted(names)).encode("utf-8")
    body = b"".join([MAGIC, header, gaps.tobytes(), spans.tobytes(), asns4.tobytes(), bytes(pairs), asns6.tobytes()])
    return lzma.compress(body + text, preset=9 | lzma.PRESET_EXTREME)


def build(ipv4_csv: Path, ipv6_csv: Path, date: str, out: Path) -> dict[str, Any]:
    v4, v6 = read_csv_ranges(ipv4_csv), read_csv_ranges(ipv6_csv)
    out.mkdir(parents=True, exist_ok=True)
    (out / TABLE_NAME).write_bytes(encode_table(v4, v6))
    metadata = {
        "source": SOURCE,
        "licence": LICENCE,
        "date": date,
        "ipv4_ranges": len(v4),
        "ipv6_ranges": len(v6),
        "asns": len({asn for _, _, asn, _ in [*v4, *v6]}),
        "addresses_ipv4": sum(last - first + 1 for first, last, *_ in without_overlaps(v4)),
    }
    (out / META_NAME).write_text(json.dumps(metadata, indent=2) + "\n", encoding="utf-8")
    return metadata


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build Shoal's bundled ASN table from @ip-location-db/asn CSVs.")
    parser.add_argument("ipv4_csv", type=Path)
    parser.add_argument("ipv6_csv", type=Path)
    parser.add_argument("--date", required=True, help="the snapshot's date, YYYY-MM-DD (the npm version's date)")
    parser.add_argument("--out", type=Path, default=DATA_DIR)
    args = parser.parse_args(argv)
    metadata = build(args.ipv4_csv, args.ipv6_csv, args.date, args.out)
    print(json.dumps(metadata, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

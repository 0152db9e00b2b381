"""Registration dumps into the book: each format told by content (plain, gzip, bzip2), malformed records rejected
one by one with their position, nothing half-stored, a newer dump replacing an older one, bounded memory."""

from __future__ import annotations

import bz2
import gzip
import io
import ipaddress
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

from shoal.ingest.detect import Format, detect_head
from shoal.ingest.inputs import Input
from shoal.ingest.jsonl import Rejected
from shoal.ingest.pipeline import IngestTotals
from shoal.registration.book import BGPASN, NET, RegistrationBook
from shoal.registration.importing import import_registration, store_records
from shoal.registration.records import NetRecord
from tests.registration import dumps


def imported(book: RegistrationBook, data: bytes, source: str = "dump") -> IngestTotals:
    stream = Input(io.BufferedReader(io.BytesIO(data)), source)  # type: ignore[arg-type]
    kind = detect_head(stream.peek(65536))
    assert kind is not None, data[:80]
    return import_registration(book, kind, stream, source, IngestTotals())


def net(book: RegistrationBook, address: str, context: str = NET) -> tuple[str, list[str]] | None:
    found = book.most_specific(ipaddress.ip_address(address), context)
    return None if found is None else (found.cidr, found.names)


@pytest.fixture
def book(tmp_path: Path) -> Iterator[RegistrationBook]:
    opened = RegistrationBook(tmp_path)
    yield opened
    opened.close()


def test_the_formats_are_told_by_content() -> None:
    assert detect_head(dumps.rpsl(dumps.INETNUM)) is Format.RPSL  # after the '#' header a split dump starts with
    assert detect_head(b"% a whois server's remark\n\n" + dumps.rpsl(dumps.AUTNUM, header=False)) is Format.RPSL
    assert detect_head(dumps.delegated()) is Format.DELEGATED
    assert detect_head(dumps.rib_dump()) is Format.MRT
    assert detect_head(b"#masscan\nopen tcp 80 192.0.2.1 1700000000\n") is Format.MASSCAN_LIST  # still masscan
    assert detect_head(b"# just comments\n# nothing else\n") is Format.MASSCAN_LIST


def test_rpsl_objects_become_networks_organisations_and_as_names(book: RegistrationBook) -> None:
    data = dumps.rpsl(dumps.ORGANISATION, dumps.INETNUM, dumps.INETNUM_WIDE, dumps.INET6NUM, dumps.AUTNUM)
    totals = imported(book, gzip.compress(dumps.rpsl(dumps.PERSON) + data))
    assert (totals.imported, totals.rejected) == (5, [])  # the person object is passed over
    assert net(book, "198.51.100.7") == ("198.51.100.0/24", ["Example Networks hosting", "EXAMPLE-NET"])
    assert net(book, "198.51.7.7") == ("198.51.0.0/16", ["Regional Allocation Holder", "WIDE-BLOCK"])
    assert net(book, "2001:db8:100:ffff::1") == ("2001:db8:100::/48", ["Example Six Hosting", "EXAMPLE-V6"])
    assert net(book, "198.52.0.1") is None
    found = book.most_specific(ipaddress.ip_address("198.51.100.7"), NET)
    assert found is not None and (found.org, found.country, found.date) == ("ORG-EX1-TEST", "NL", "2026-03-02")
    organisation = book.organisation("org-ex1-test")
    assert organisation is not None and organisation.email == "noc@mail.example.nl"
    assert book.as_name(64500) == "Example Networks B.V."  # its organisation's name


def test_a_range_is_cut_into_the_cidrs_covering_it(book: RegistrationBook) -> None:
    odd = "inetnum: 192.0.2.0 - 192.0.2.5\nnetname: ODD\nsource: TEST\n"
    assert imported(book, dumps.rpsl(odd)).imported == 1
    assert net(book, "192.0.2.5") == ("192.0.2.4/31", ["ODD"])
    assert net(book, "192.0.2.3") == ("192.0.2.0/30", ["ODD"])
    assert net(book, "192.0.2.6") is None


def test_malformed_objects_are_rejected_one_by_one_with_their_line(book: RegistrationBook) -> None:
    backwards = "inetnum: 198.51.100.9 - 198.51.100.1\nnetname: BACKWARDS\nsource: TEST\n"
    no_range = "inetnum: somewhere\nnetname: NOWHERE\nsource: TEST\n"
    bad_as = "aut-num: ASX\nas-name: BAD\nsource: TEST\n"
    no_name = "organisation: ORG-NN1-TEST\ne-mail: a@example.org\nsource: TEST\n"
    broken_line = "inet6num: 2001:db8:1::/48\nthis line has no colon\nsource: TEST\n"
    v4_in_v6 = "inet6num: 192.0.2.0/24\nnetname: WRONG\nsource: TEST\n"
    data = dumps.rpsl(
        dumps.INETNUM, backwards, no_range, bad_as, dumps.AUTNUM, no_name, broken_line, v4_in_v6, header=False
    )
    totals = imported(book, data)
    assert totals.imported == 2
    lines = data.decode().splitlines()
    starts = [number for number, line in enumerate(lines, start=1) if line and (number == 1 or not lines[number - 2])]
    assert [(rejected.line, rejected.reason.split(":")[0]) for rejected in totals.rejected] == [
        (starts[1], "inetnum '198.51.100.9 - 198.51.100.1'"),
        (starts[2], "inetnum 'somewhere'"),
        (starts[3], "aut-num 'ASX'"),
        (starts[5], "organisation 'ORG-NN1-TEST'"),
        (starts[6], f"line {starts[6] + 1}"),
        (starts[7], "inet6num '192.0.2.0/24'"),
    ]
    assert "first address is after its last" in totals.rejected[0].reason
    assert "needs a 'org-name:' attribute" in totals.rejected[3].reason
    assert "not an 'attribute: value' line" in totals.rejected[4].reason
    assert net(book, "198.51.100.1") == ("198.51.100.0/24", ["Example Networks hosting", "EXAMPLE-NET"])
    assert net(book, "2001:db8:1::1") is None and book.organisation("ORG-NN1-TEST") is None  # nothing of them


def test_a_newer_dump_replaces_an_older_one_of_the_same_source_and_class(book: RegistrationBook) -> None:
    def dump(netname: str, day: str) -> bytes:
        return dumps.rpsl(dumps.INETNUM.replace("EXAMPLE-NET", netname).replace("2026-03-02", day), header=False)

    assert imported(book, dump("OLD-NAME", "2026-01-10")).imported == 1
    assert net(book, "198.51.100.1") == ("198.51.100.0/24", ["Example Networks hosting", "OLD-NAME"])
    imported(book, dump("NEW-NAME", "2026-04-10"))
    assert net(book, "198.51.100.1") == ("198.51.100.0/24", ["Example Networks hosting", "NEW-NAME"])
    imported(book, dump("OLDER-STILL", "2025-12-01"))  # an older dump imported late: history, not current
    assert net(book, "198.51.100.1") == ("198.51.100.0/24", ["Example Networks hosting", "NEW-NAME"])
    assert book.reverse("old name", 0, 100) == (0, [])
    imported(book, dumps.rpsl(dumps.ORGANISATION))  # another class of the same source changes nothing here
    assert net(book, "198.51.100.1") == ("198.51.100.0/24", ["Example Networks hosting", "NEW-NAME"])


def test_an_import_that_fails_midway_stores_nothing(book: RegistrationBook) -> None:
    network = ipaddress.ip_network("192.0.2.0/24")

    def records() -> Iterator[NetRecord | Rejected]:
        yield NetRecord("rpsl:TEST:inetnum", NET, (network,), ["HALF"], date="2026-01-01")
        raise OSError("the disk went away")

    with pytest.raises(OSError, match="went away"):
        store_records(book, records(), IngestTotals())
    assert net(book, "192.0.2.1") is None


def test_delegated_statistics_give_networks_named_by_their_holders_as(book: RegistrationBook) -> None:
    broken = dumps.delegated() + b"testnic|NL|ipv4|192.0.2.999|256|20100101|allocated|x\ntestnic|NL|ipv4\n"
    totals = imported(book, broken)
    assert totals.imported == 3  # the asn links its holder; 'available' is no holding
    assert [(rejected.line, rejected.reason[:30]) for rejected in totals.rejected] == [
        (11, "not an ipv4 delegation: '192.0"),
        (12, "a record has at least 7 fields"),
    ]
    found = book.most_specific(ipaddress.ip_address("192.0.2.77"), NET)
    assert found is not None and (found.cidr, found.asn, found.country, found.date) == (
        "192.0.2.0/24",
        64500,
        "NL",
        "2026-03-05",
    )
    assert net(book, "100.64.1.1") == ("100.64.0.0/23", [])
    assert net(book, "100.80.0.1") is None
    assert net(book, "2001:db8:200::1") == ("2001:db8:200::/48", [])


@pytest.mark.parametrize("compress", [bytes, gzip.compress, bz2.compress], ids=["plain", "gzip", "bzip2"])
def test_mrt_rib_dumps_give_prefixes_and_their_origin(book: RegistrationBook, compress: object) -> None:
    totals = imported(book, compress(dumps.rib_dump()))  # type: ignore[operator]
    assert (totals.imported, totals.rejected) == (4, [])
    found = book.most_specific(ipaddress.ip_address("203.0.113.200"), BGPASN)
    assert found is not None and (found.cidr, found.asn, found.date) == ("203.0.113.128/25", 64502, "2026-03-05")
    found = book.most_specific(ipaddress.ip_address("203.0.113.5"), BGPASN)
    assert found is not None and (found.cidr, found.asn) == ("203.0.113.0/24", 64501)
    found = book.most_specific(ipaddress.ip_address("2001:db8:1ff::1"), BGPASN)
    assert found is not None and (found.cidr, found.asn) == ("2001:db8:100::/40", 64500)


def test_malformed_mrt_records_are_rejected_with_their_number_and_offset(book: RegistrationBook) -> None:
    good = dumps.rib_dump()
    time = dumps.MRT_TIME
    cut_attribute = dumps.attribute(dumps.AS_PATH, b"\x02\x05\x00\x00")  # says 5 ASNs, holds less than one
    broken = dumps.rib(time, 3, "198.18.0.0/15", [b""], attributes=cut_attribute)
    only_a_set = dumps.rib(time, 4, "198.18.0.0/16", [dumps.as_path((dumps.AS_SET, [64510, 64511]))])
    after = dumps.rib(time, 5, "100.64.0.0/10", [dumps.as_path((dumps.AS_SEQUENCE, [64496, 64503]))])
    cut_short = dumps.rib(time, 6, "192.0.2.0/24", [dumps.as_path((dumps.AS_SEQUENCE, [64496]))])[:-3]
    totals = imported(book, good + broken + only_a_set + after + cut_short)
    assert totals.imported == 5  # the four of the dump, and the one after the broken record
    reasons = [(rejected.line, rejected.reason.split(":")[0]) for rejected in totals.rejected]
    assert reasons == [  # counted from 1: the peer index table, four prefixes, then the broken one
        (6, f"record 6 at byte {len(good):,}"),
        (9, f"record 9 at byte {len(good + broken + only_a_set + after):,}"),
    ]
    found = book.most_specific(ipaddress.ip_address("100.64.0.1"), BGPASN)
    assert found is not None and found.asn == 64503
    assert book.most_specific(ipaddress.ip_address("198.18.0.1"), BGPASN) is None


def test_a_rib_record_before_the_peer_index_table_is_rejected(book: RegistrationBook) -> None:
    orphan = dumps.rib(dumps.MRT_TIME, 0, "192.0.2.0/24", [dumps.as_path((dumps.AS_SEQUENCE, [64496]))])
    totals = imported(book, orphan)
    assert [rejected.reason.split(": ", 1)[1] for rejected in totals.rejected] == [
        "a RIB record before the PEER_INDEX_TABLE record"
    ]


def rpsl_stream(objects: int) -> io.BufferedReader:
    """A dump of ``objects`` inetnums, made as it is read (it never exists whole)."""

    def lines() -> Iterator[bytes]:
        for number in range(objects):
            address = ipaddress.IPv4Address(0x0A000000 + number * 256)
            yield f"inetnum: {address} - {address + 255}\n".encode()
            yield f"netname: NET-{number}\ndescr: Customer number {number} of a big registry\n".encode()
            yield b"country: NL\nsource: BIG\n\n"

    class Stream(io.RawIOBase):
        def __init__(self) -> None:
            self.pending, self.source = b"", lines()

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
            while len(self.pending) < len(buffer):
                chunk = next(self.source, b"")
                if not chunk:
                    break
                self.pending += chunk
            size = min(len(buffer), len(self.pending))
            buffer[:size], self.pending = self.pending[:size], self.pending[size:]
            return size

    return io.BufferedReader(Stream(), 8192)  # a small buffer: full already with the smaller dump


def test_a_big_dump_imports_in_bounded_memory(tmp_path: Path) -> None:
    """A dump streams through: the import holds far less than the dump's text (held as records, it would be
    several times the text); its rows wait in SQLite's files until the commit."""
    objects = 3_000
    text_bytes = len(rpsl_stream(objects).read())
    book = RegistrationBook(tmp_path)
    tracemalloc.start()
    try:
        stream = Input(rpsl_stream(objects), "big")  # type: ignore[arg-type]
        totals = import_registration(book, Format.RPSL, stream, "big", IngestTotals())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (totals.imported, len(totals.rejected)) == (objects, 0)
    assert net(book, "10.0.15.1") == ("10.0.15.0/24", ["Customer number 15 of a big registry", "NET-15"])
    book.close()
    assert peak < text_bytes / 2, (peak, text_bytes)

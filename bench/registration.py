#!/usr/bin/env python3
"""Registration data: CPU to import an RPSL dump, to answer ``ip/summary`` and ``ip/reverse`` from the book.

    python bench/registration.py [--networks 200000] [--calls 2000] [--rounds 5]

Generates an RPSL dump of ``--networks`` inetnums (a /24 each, one /16 above every 256 of them: two levels, as
real dumps nest), imports it through ``shoal import``'s reader into a fresh book and prints the CPU per object;
then, round by round, interleaves ``--calls`` whois look-ups (``Registrations.summary(ip, "whois")``: the most
specific network and its name) with the same addresses looked up in the bundled ASN table (the peer: the table
``--enrich`` uses to answer the neighbouring question, who announces an address), and times ``ip/reverse`` for a
phrase that matches one network and one that matches them all. Medians of the rounds, as a markdown table.
Not part of the test suite: run it by hand.
"""

from __future__ import annotations

import argparse
import io
import ipaddress
import random
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from shoal.enrich.network import bundled_table
from shoal.ingest.detect import Format
from shoal.ingest.inputs import Input
from shoal.ingest.pipeline import IngestTotals
from shoal.registration.book import RegistrationBook
from shoal.registration.importing import import_registration
from shoal.registration.summary import Registrations
from shoal.store.embedded import EmbeddedStore

FIRST = 0x0A000000  # 10.0.0.0


def dump(networks: int) -> Iterator[bytes]:
    for number in range(networks):
        if number % 256 == 0:
            block = ipaddress.IPv4Address(FIRST + number * 256)
            yield f"inetnum: {block} - {block + 65535}\nnetname: BLOCK-{number // 256}\nsource: BENCH\n\n".encode()
        address = ipaddress.IPv4Address(FIRST + number * 256)
        yield f"inetnum: {address} - {address + 255}\nnetname: NET-{number}\n".encode()
        yield f"descr: Customer {number} of the bench registry\ncountry: NL\nsource: BENCH\n\n".encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--networks", type=int, default=200_000)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    options = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="shoal-bench-registration-"))
    book = RegistrationBook(folder)
    text = b"".join(dump(options.networks))
    started = time.process_time()
    totals = import_registration(
        book,
        Format.RPSL,
        Input(io.BufferedReader(io.BytesIO(text)), "bench"),
        "bench",
        IngestTotals(),  # type: ignore[arg-type]
    )
    import_cpu = (time.process_time() - started) / totals.imported
    store = EmbeddedStore(folder / "store")
    registrations = Registrations(book, store, bundled_table)
    table = bundled_table()
    randomly = random.Random(1)
    addresses = [
        ipaddress.IPv4Address(FIRST + randomly.randrange(options.networks * 256)) for _ in range(options.calls)
    ]
    summary_cpu: list[float] = []
    peer_cpu: list[float] = []
    for _ in range(options.rounds):
        started = time.process_time()
        for address in addresses:
            registrations.summary(address, "whois")
        summary_cpu.append((time.process_time() - started) / options.calls)
        started = time.process_time()
        for address in addresses:
            table.lookup_range(str(address))
        peer_cpu.append((time.process_time() - started) / options.calls)
    reverse_cpu: dict[str, list[float]] = {"customer 4242": [], "bench registry": []}
    for _ in range(options.rounds):
        for phrase, times in reverse_cpu.items():
            started = time.process_time()
            registrations.reverse(phrase, 0)
            times.append(time.process_time() - started)
    summary, peer = statistics.median(summary_cpu), statistics.median(peer_cpu)
    print(f"{totals.imported:,} objects imported ({len(text) / 1e6:.1f} MB of RPSL), {options.rounds} rounds\n")
    print("| measure | CPU (median) |")
    print("|---|---|")
    print(f"| import, per RPSL object | {import_cpu * 1e6:.0f} µs |")
    print(f"| ip/summary restrict=whois (book), per call | {summary * 1e6:.0f} µs |")
    print(f"| peer: bundled ASN table look-up, per call | {peer * 1e6:.1f} µs (ip/summary: {summary / peer:.0f}× it) |")
    for phrase, times in reverse_cpu.items():
        print(f"| ip/reverse phrase={phrase!r}, per call | {statistics.median(times) * 1e3:.0f} ms |")
    store.close()
    book.close()


if __name__ == "__main__":
    main()

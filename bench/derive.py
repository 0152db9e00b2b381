#!/usr/bin/env python3
"""Reports of the other datasets made from a generated ``protocols`` corpus, for the demo and the benchmarks.

    python bench/derive.py --dataset domains|rdns|ct CORPUS OUT

- ``domains``: one visit by host name per report that names its host (an item ``host`` of context "", as
  the web services of ``bench/generate.py`` do): the same items, the host being part of its identity.
- ``rdns``: one report per address that has a PTR name (``host;rdns``): the address, its ``dns-ptr`` name and
  a name server of its zone (``ns1.<zone>``: the corpus knows no name servers, so this one is made up).
- ``ct``: one log entry per distinct certificate: its digest, names, subject and issuer, a log and an index.

Each derived report gets an id of its own (22 URL-safe characters from its dataset and the source report's
id), so deriving twice gives the same file and importing it twice stores nothing twice. CORPUS and OUT may be
gzipped (``.gz``). Prints how many reports it wrote.
"""

from __future__ import annotations

import argparse
import base64
import gzip
import hashlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import orjson

Report = dict[str, Any]


def item(item_type: str, value: str, context: str = "", metadata: bool = False) -> dict[str, object]:
    return {"context": context, "is_metadata": metadata, "type": item_type, "value": value}


def derived_id(dataset: str, source_id: str) -> str:
    digest = hashlib.sha256(f"{dataset}:{source_id}".encode()).digest()[:16]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def first_value(report: Report, item_type: str, context: str) -> str | None:
    return next((i["value"] for i in report["items"] if i["type"] == item_type and i["context"] == context), None)


def domains_of(report: Report, seen: set[str]) -> Report | None:
    if first_value(report, "host", "") is None:
        return None
    return {"date": report["date"], "id": derived_id("domains", report["id"]), "items": report["items"]}


def rdns_of(report: Report, seen: set[str]) -> Report | None:
    ip, ptr = first_value(report, "ip", ""), first_value(report, "host", "rdns")
    if ip is None or ptr is None or ip in seen:
        return None
    seen.add(ip)
    zone = ".".join(ptr.split(".")[-2:])
    items = [item("ip", ip, metadata=True), item("host", ptr, "dns-ptr"), item("host", f"ns1.{zone}", "dns-ns")]
    return {"date": report["date"], "id": derived_id("rdns", report["id"]), "items": items}


def ct_of(report: Report, seen: set[str]) -> Report | None:
    digest = first_value(report, "cert-sha256", "")
    if digest is None or digest in seen:
        return None
    seen.add(digest)
    kept = [
        i
        for i in report["items"]
        if i["type"] in ("subject", "issuer") or i["context"] in ("cert-dns-name", "cert-ip-address")
    ]
    logged = [
        item("cert-sha256", digest),
        *kept,
        item("ct-log", "https://ct.example/shoal-demo/", metadata=True),
        item("ct-index", str(len(seen) - 1), metadata=True),
    ]
    return {"date": report["date"], "id": derived_id("ct", report["id"]), "items": logged}


DERIVERS: dict[str, Callable[[Report, set[str]], Report | None]] = {
    "domains": domains_of,
    "rdns": rdns_of,
    "ct": ct_of,
}


def opened(path: Path, mode: str) -> IO[bytes]:
    return gzip.open(path, mode) if path.suffix == ".gz" else path.open(mode)  # type: ignore[return-value]


def derive(reports: Iterator[Report], dataset: str) -> Iterator[Report]:
    """The ``dataset`` reports made from ``reports`` (a protocols corpus), in its order."""
    make, seen = DERIVERS[dataset], set[str]()
    for report in reports:
        made = make(report, seen)
        if made is not None:
            yield made


def derive_file(corpus: Path, dataset: str, out: Path) -> int:
    """Write the ``dataset`` reports made from ``corpus`` to ``out`` (whole or not at all); how many."""
    partial = out.with_name(f".partial-{out.name}")
    written = 0
    with opened(corpus, "rb") as lines, opened(partial, "wb") as sink:
        for made in derive((orjson.loads(line) for line in lines if line.strip()), dataset):
            sink.write(orjson.dumps(made) + b"\n")
            written += 1
    partial.replace(out)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", choices=sorted(DERIVERS), required=True)
    parser.add_argument("corpus", type=Path)
    parser.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    written = derive_file(args.corpus, args.dataset, args.out)
    print(f"derived {written:,} {args.dataset} reports from {args.corpus.name} -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

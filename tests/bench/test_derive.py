"""bench/derive.py: the domains, rdns and ct reports the demo and the benchmarks make from a protocols corpus."""

from __future__ import annotations

import gzip
import re
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from shoal.model import Report
from tests.generated import BENCH, bench_module

SHOAL = [sys.executable, "-m", "shoal"]
URLSAFE_ID = re.compile(r"[A-Za-z0-9_-]{22}")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("derive") / "corpus.jsonl.gz"
    bench_module("generate").main(["--count", "2000", "--seed", "3", "--out", str(path)])
    return path


def read(path: Path) -> list[dict]:
    with gzip.open(path, "rb") as lines:
        return [orjson.loads(line) for line in lines]


def values(report: dict, item_type: str, context: str) -> list[str]:
    return [i["value"] for i in report["items"] if i["type"] == item_type and i["context"] == context]


@pytest.mark.parametrize("dataset", ["domains", "rdns", "ct"])
def test_derived_reports_are_valid_with_ids_of_their_own_and_the_same_every_time(
    corpus: Path, tmp_path: Path, dataset: str
) -> None:
    derive = bench_module("derive")
    first, second = tmp_path / "a.jsonl.gz", tmp_path / "b.jsonl.gz"
    written = derive.derive_file(corpus, dataset, first)
    derive.derive_file(corpus, dataset, second)
    made = read(first)
    assert written == len(made) > 0
    assert read(second) == made
    source_ids = {report["id"] for report in read(corpus)}
    for report in made:
        assert URLSAFE_ID.fullmatch(report["id"]) and report["id"] not in source_ids
        Report.from_dict(report, dataset)
    assert len({report["id"] for report in made}) == len(made)
    assert not list(tmp_path.glob(".partial-*"))


def test_what_each_dataset_keeps(corpus: Path) -> None:
    derive = bench_module("derive")
    sources = read(corpus)
    domains = list(derive.derive(iter(sources), "domains"))
    assert len(domains) == sum(1 for report in sources if values(report, "host", ""))
    assert all(values(report, "host", "") and values(report, "ip", "") for report in domains)

    rdns = list(derive.derive(iter(sources), "rdns"))
    addresses = {values(report, "ip", "")[0] for report in sources if values(report, "host", "rdns")}
    assert sorted(values(report, "ip", "")[0] for report in rdns) == sorted(addresses)
    for report in rdns:
        (ptr,) = values(report, "host", "dns-ptr")
        assert values(report, "host", "dns-ns") == [f"ns1.{'.'.join(ptr.split('.')[-2:])}"]

    ct = list(derive.derive(iter(sources), "ct"))
    digests = {value for report in sources for value in values(report, "cert-sha256", "")}
    assert sorted(values(report, "cert-sha256", "")[0] for report in ct) == sorted(digests)
    assert sorted(int(values(report, "ct-index", "")[0]) for report in ct) == list(range(len(ct)))
    assert all(values(report, "host", "cert-dns-name") or values(report, "subject", "") for report in ct)


def test_a_derived_file_imported_twice_is_stored_once(corpus: Path, tmp_path: Path) -> None:
    derived = tmp_path / "rdns.jsonl.gz"
    subprocess.run(
        [sys.executable, str(BENCH / "derive.py"), "--dataset", "rdns", str(corpus), str(derived)], check=True
    )
    data = tmp_path / "data"
    for expected in ("imported", "duplicate"):
        output = subprocess.run(
            [*SHOAL, "import", "--data", str(data), "--dataset", "rdns", str(derived)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        count = len(read(derived))
        assert f"{expected} {count}" in output

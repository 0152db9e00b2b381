"""``shoal import`` of scanners' output from the command line: formats chosen by content, the exit status."""

from __future__ import annotations

import gzip
from pathlib import Path

from shoal.model import DATASETS
from shoal.store.embedded import EmbeddedStore
from tests.cli.test_end_to_end import shoal

SAMPLES = Path(__file__).parents[1] / "ingest" / "samples"


def test_every_sample_imports_and_is_found(tmp_path: Path) -> None:
    zipped = tmp_path / "zgrab2.jsonl.gz"
    zipped.write_bytes(gzip.compress((SAMPLES / "zgrab2.jsonl").read_bytes()))
    names = ["nmap.xml", "zdns.jsonl", "massdns.ndjson", "massdns.txt", "certstream.jsonl", "crtsh.json"]
    result = shoal("import", str(zipped), *(str(SAMPLES / name) for name in names), data=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "imported 39, duplicate 0, rejected 14" in result.stdout
    assert "nmap.xml:84: 'address' is not an IP address" in result.stderr
    found = shoal("search", "--json", "protocol=ssh", data=tmp_path)
    assert found.returncode == 0, found.stderr
    assert found.stdout.count('"date"') == 2  # zgrab2's and nmap's
    store = EmbeddedStore(tmp_path)
    try:
        assert {dataset: store.count(dataset) for dataset in DATASETS} == {
            "protocols": 15,  # zgrab2 12, nmap 3
            "domains": 1,
            "ct": 4,
            "rdns": 5,
        }
    finally:
        store.close()


def test_an_unknown_format_is_one_error_naming_the_known_ones(tmp_path: Path) -> None:
    unknown = tmp_path / "notes.txt"
    unknown.write_text("these are my notes\nnot a scan\n")
    result = shoal("import", str(unknown), str(SAMPLES / "massdns.ndjson"), data=tmp_path)
    assert result.returncode == 1
    assert "notes.txt: not a format shoal import reads" in result.stderr
    assert "nmap -oX XML" in result.stderr and "zgrab2 JSON Lines" in result.stderr
    assert "imported 2, duplicate 0, rejected 0" in result.stdout  # the other file still came in


def test_an_import_in_which_every_record_was_rejected_fails(tmp_path: Path) -> None:
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"ip": "192.0.2.1", "data": {"ssh": {"status": "success", "timestamp": "soon"}}}\n')
    result = shoal("import", str(broken), data=tmp_path)
    assert result.returncode == 1
    assert "imported 0, duplicate 0, rejected 1" in result.stdout

"""``shoal import`` of scanners' output from the command line: formats chosen by content, the exit status."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import zlib
from pathlib import Path

import orjson

from shoal.model import DATASETS
from shoal.store.embedded import EmbeddedStore
from tests.cli.test_end_to_end import shoal
from tests.generated import generated_reports

SAMPLES = Path(__file__).parents[1] / "ingest" / "samples"


def test_every_sample_imports_and_is_found(tmp_path: Path) -> None:
    zipped = tmp_path / "zgrab2.jsonl.gz"
    zipped.write_bytes(gzip.compress((SAMPLES / "zgrab2.jsonl").read_bytes()))
    names = ["nmap.xml", "zdns.jsonl", "massdns.ndjson", "massdns.txt", "certstream.jsonl", "crtsh.json"]
    result = shoal("import", str(zipped), *(str(SAMPLES / name) for name in names), data=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "imported 45, duplicate 1, rejected 14" in result.stdout  # massdns twice: one fdns report
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
            "favicons": 0,
            "fdns": 5,  # zdns's and massdns's A/AAAA/CNAME/NS answers, one report per name
            "mx": 2,  # their MX and TXT answers
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
    assert "imported 3, duplicate 0, rejected 0" in result.stdout  # the other file still came in (rdns and fdns)


def test_an_import_in_which_every_record_was_rejected_fails(tmp_path: Path) -> None:
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"ip": "192.0.2.1", "data": {"ssh": {"status": "success", "timestamp": "soon"}}}\n')
    result = shoal("import", str(broken), data=tmp_path)
    assert result.returncode == 1
    assert "imported 0, duplicate 0, rejected 1" in result.stdout


def run_import(data: Path, *args: str, stdin: bytes | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    """``shoal import`` with binary stdin and extra environment variables."""
    return subprocess.run(
        [sys.executable, "-m", "shoal", "import", "--data", str(data), "--workers", "1", *args],
        input=stdin,
        capture_output=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "300", **env},
    )


def reports_in(data: Path) -> int:
    store = EmbeddedStore(data)
    try:
        return store.count()
    finally:
        store.close()


def corpus_lines(count: int) -> list[bytes]:
    return [orjson.dumps(report.as_dict()) + b"\n" for report in generated_reports(count, seed=22)]


def test_a_truncated_gzip_keeps_its_complete_lines_and_says_where_it_ends(tmp_path: Path) -> None:
    whole = gzip.compress(b"".join(corpus_lines(3000)))
    cut = whole[: len(whole) * 2 // 3]
    (tmp_path / "cut.jsonl.gz").write_bytes(cut)
    complete = zlib.decompressobj(zlib.MAX_WBITS | 16).decompress(cut).count(b"\n")
    result = run_import(tmp_path / "data", str(tmp_path / "cut.jsonl.gz"))
    stderr = result.stderr.decode()
    assert result.returncode == 1 and "Traceback" not in stderr and "Aborted" not in stderr, stderr
    [said] = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert f"cut.jsonl.gz: truncated at byte {len(cut):,}" in said
    assert f"imported {complete}, duplicate 0, rejected 0" in result.stdout.decode()
    assert reports_in(tmp_path / "data") == complete


def test_gzip_on_stdin_is_read_as_gzip(tmp_path: Path) -> None:
    result = run_import(tmp_path, "-", stdin=gzip.compress(b"".join(corpus_lines(50))))
    assert result.returncode == 0, result.stderr.decode()
    assert "imported 50, duplicate 0, rejected 0" in result.stdout.decode()


def test_lines_and_reports_over_the_caps_are_rejected_with_the_reason(tmp_path: Path) -> None:
    lines = corpus_lines(4)
    many = orjson.dumps(
        {"date": "2026-11-01", "items": [{"type": "ip", "value": "192.0.2.1"}] + [{"type": "x", "value": "y"}] * 200}
    )
    long_line = orjson.dumps({"date": "2026-11-01", "items": [{"type": "title", "value": "z" * 300_000}]})
    item = {"type": "x", "value": "y", "context": "", "is_metadata": False}
    stored_shape = orjson.dumps({"date": "2026-11-01", "id": "many", "items": [item] * 201})  # the lean path's
    (tmp_path / "capped.jsonl").write_bytes(
        lines[0] + many + b"\n" + lines[1] + long_line + b"\n" + lines[2] + stored_shape + b"\n"
    )
    result = run_import(
        tmp_path / "data", str(tmp_path / "capped.jsonl"), SHOAL_MAX_REPORT_ITEMS="200", SHOAL_MAX_LINE_BYTES="256K"
    )
    stderr = result.stderr.decode()
    assert result.returncode == 0, stderr
    assert (
        "capped.jsonl:2: a report of 201 items, more than the 200 a report may hold ($SHOAL_MAX_REPORT_ITEMS)" in stderr
    )
    over = f"a line of {len(long_line) + 1:,} bytes, more than the 262,144 a line may hold ($SHOAL_MAX_LINE_BYTES)"
    assert f"capped.jsonl:4: {over}" in stderr
    assert "capped.jsonl:6: a report of 201 items" in stderr
    assert "imported 3, duplicate 0, rejected 3" in result.stdout.decode()


def test_massdns_names_that_are_not_dns_names_are_rejected(tmp_path: Path) -> None:
    answers = tmp_path / "massdns.txt"
    answers.write_bytes(
        b"www.example.com. A 192.0.2.1\n"
        b"\x00\x00\x00\x00. A 192.0.2.2\n"
        b"1.2.0.192.in-addr.arpa. PTR \x00\x00.\n" + b"a" * 64 + b".example.com. A 192.0.2.3\n"
    )
    result = run_import(tmp_path / "data", str(answers))
    stderr = result.stderr.decode()
    assert "imported 2, duplicate 0, rejected 3" in result.stdout.decode(), stderr  # its answer, and its fdns report
    assert "massdns.txt:2: '\\x00\\x00\\x00\\x00.' is not a DNS name" in stderr
    assert "massdns.txt:3: '\\x00\\x00.' is not a DNS name" in stderr
    assert "massdns.txt:4: 'aaaa" in stderr

"""bench/generate.py: a deterministic, realistic corpus of Driftnet reports (loaded by path, as scripts do)."""

from __future__ import annotations

import datetime as dt
import gzip
import ipaddress
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.generated import bench_module

COUNT = 2000
REPORT_KEYS = ["date", "id", "items"]
ITEM_KEYS = ["context", "is_metadata", "type", "value"]
URLSAFE_ID = re.compile(r"[A-Za-z0-9_-]{22}")


generator = bench_module("generate")


@pytest.fixture(scope="module")
def reports() -> list[dict[str, Any]]:
    return list(generator.generate(COUNT, seed=1))


def test_the_same_seed_gives_the_same_corpus_and_another_seed_does_not() -> None:
    assert list(generator.generate(300, seed=5)) == list(generator.generate(300, seed=5))
    assert list(generator.generate(300, seed=5)) != list(generator.generate(300, seed=6))


def test_it_yields_exactly_count_reports() -> None:
    for count in (0, 1, 7, 250):
        assert sum(1 for _ in generator.generate(count, seed=3)) == count


def test_json_lines_are_the_generated_reports(reports: list[dict[str, Any]]) -> None:
    lines = b"".join(generator.jsonl_chunks(COUNT, seed=1)).decode().splitlines()
    assert [json.loads(line) for line in lines] == reports


def test_every_report_and_item_has_the_spec_shape_in_key_order(reports: list[dict[str, Any]]) -> None:
    for report in reports:
        assert list(report) == REPORT_KEYS
        assert isinstance(report["items"], list) and report["items"]
        for item in report["items"]:
            assert list(item) == ITEM_KEYS
            assert isinstance(item["context"], str)
            assert isinstance(item["is_metadata"], bool)
            assert isinstance(item["type"], str) and item["type"]
            assert isinstance(item["value"], str) and item["value"]


def test_ids_are_unique_22_character_url_safe_strings(reports: list[dict[str, Any]]) -> None:
    ids = [report["id"] for report in reports]
    assert all(URLSAFE_ID.fullmatch(report_id) for report_id in ids)
    assert len(set(ids)) == len(ids)


def test_the_scanned_ip_and_port_come_first(reports: list[dict[str, Any]]) -> None:
    for report in reports:
        ip, port = report["items"][:2]
        assert (ip["type"], ip["context"], ip["is_metadata"]) == ("ip", "", True)
        assert (port["type"], port["context"], port["is_metadata"]) == ("port-tcp", "", True)
        ipaddress.ip_address(ip["value"])
        assert 1 <= int(port["value"]) <= 65535


def test_a_few_percent_of_addresses_are_ipv6(reports: list[dict[str, Any]]) -> None:
    ipv6 = sum(":" in report["items"][0]["value"] for report in reports)
    assert 0.01 * COUNT <= ipv6 <= 0.06 * COUNT


def test_dates_fill_a_90_day_window_with_newer_days_busier(reports: list[dict[str, Any]]) -> None:
    end = generator.DEFAULT_END_DATE
    start = end - dt.timedelta(days=89)
    dates = [dt.date.fromisoformat(report["date"]) for report in reports]
    assert min(dates) == start and max(dates) == end
    middle = start + dt.timedelta(days=45)
    assert sum(day >= middle for day in dates) > sum(day < middle for day in dates)


def test_the_window_follows_end_date_and_days() -> None:
    dates = {report["date"] for report in generator.generate(200, seed=1, end_date="2025-01-10", days=10)}
    assert dates == {f"2025-01-{day:02d}" for day in range(1, 11)}


def test_reports_hold_10_to_16_items_on_average(reports: list[dict[str, Any]]) -> None:
    assert 10 <= sum(len(report["items"]) for report in reports) / COUNT <= 16


def test_services_are_rescanned_on_several_dates(reports: list[dict[str, Any]]) -> None:
    dates_by_service: dict[tuple[str, str], set[str]] = {}
    for report in reports:
        ip, port = report["items"][0]["value"], report["items"][1]["value"]
        dates_by_service.setdefault((ip, port), set()).add(report["date"])
    assert sum(len(dates) >= 3 for dates in dates_by_service.values()) >= 0.5 * len(dates_by_service)


def test_the_most_popular_network_holds_the_most_reports(reports: list[dict[str, Any]]) -> None:
    prefixes = Counter(".".join(report["items"][0]["value"].split(".")[:2]) for report in reports)
    busiest = f"{prefixes.most_common(1)[0][0]}.0.0/16"
    assert busiest == generator.MOST_POPULAR_NETWORK


def test_enrichment_is_consistent_per_network(reports: list[dict[str, Any]]) -> None:
    enrichment: dict[str, set[tuple[str, str]]] = {}
    for report in reports:
        ip = report["items"][0]["value"]
        if ":" not in ip:
            values = {item["type"]: item["value"] for item in report["items"]}
            enrichment.setdefault(".".join(ip.split(".")[:2]), set()).add((values["geo-country"], values["entity"]))
    assert all(len(pairs) == 1 for pairs in enrichment.values())


def test_web_reports_carry_headers_titles_and_certificates(reports: list[dict[str, Any]]) -> None:
    kinds = Counter((item["type"], item["context"]) for report in reports for item in report["items"])
    expected = [
        ("http-header", "Server"), ("http-header", "Date"), ("title", ""), ("url", ""), ("host", ""), ("subject", ""),
        ("issuer", ""), ("host", "cert-dns-name"), ("ip", "cert-ip-address"), ("cert-sha256", ""),
        ("server-banner", "ssh"), ("geo-country", ""), ("entity", ""), ("asn", ""), ("product-tag", ""),
    ]  # fmt: skip
    assert [kind for kind in expected if kinds[kind] == 0] == []


def test_write_jsonl_gzips_when_the_path_ends_in_gz(tmp_path: Path) -> None:
    out = tmp_path / "corpus.jsonl.gz"
    generator.write_jsonl(str(out), 300, seed=2)
    with gzip.open(out, "rt", encoding="utf-8") as lines:
        assert [json.loads(line) for line in lines] == list(generator.generate(300, seed=2))


def test_the_command_line_writes_the_file_and_a_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "corpus.jsonl"
    assert generator.main(["--count", "50", "--seed", "4", "--out", str(out)]) == 0
    assert len(out.read_text(encoding="utf-8").splitlines()) == 50
    assert "generated 50 reports" in capsys.readouterr().err

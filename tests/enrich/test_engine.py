"""enrich_report: what it adds, the skip rule, idempotence, the registry, worker processes, speed."""

from __future__ import annotations

import pickle
import time

import orjson
import pytest

from shoal.enrich import NAMES, configure, enrich_report
from shoal.enrich.base import EnrichmentError, Settings
from shoal.enrich.engine import REGISTRY, active_enrichers, build_enrichers, enrich_with
from shoal.ingest.jsonl import LineChunk, decode_chunk
from shoal.ingest.pipeline import ingest_chunks
from shoal.model import Item, Report
from shoal.store.base import Filters, Store
from tests.enrich.conftest import of_type, target

NGINX = target(
    "8.8.8.8",
    443,
    Item("server-banner", "HTTP/1.1 200 OK", "https"),
    Item("http-header", "nginx/1.18.0 (Ubuntu)", "Server"),
    Item("title", "Welcome to nginx!"),
)
COWRIE = target("193.60.0.9", 22, Item("server-banner", "SSH-2.0-OpenSSH_6.0p1 Debian-4+deb7u2", "ssh"))
ENRICHMENT_TYPES = {"geo-country", "entity", "asn", "product-tag", "product-info", "honeypot"}


def test_adds_metadata_items_of_every_enricher() -> None:
    enriched = enrich_report(NGINX)
    assert enriched.id == NGINX.id and enriched.date == NGINX.date
    assert enriched.items[: len(NGINX.items)] == NGINX.items  # observed items untouched, in order
    added = enriched.items[len(NGINX.items) :]
    assert all(item.is_metadata for item in added)
    assert [(item.type, item.context, item.value) for item in added] == [
        ("geo-country", "", "US"),
        ("entity", "", "Google LLC"),
        ("asn", "", "15169"),
        ("product-tag", "", "nginx"),
        ("product-info", "nginx", "1.18.0"),
        ("product-info", "nginx", "(Ubuntu)"),
    ]


def test_honeypot_and_product_from_one_banner() -> None:
    enriched = enrich_report(COWRIE)
    assert of_type(enriched, "honeypot") == ["cowrie"]
    assert of_type(enriched, "product-tag") == ["openssh"]
    assert of_type(enriched, "geo-country") == ["GB"]


def test_enriching_twice_adds_nothing() -> None:
    once = enrich_report(NGINX)
    twice = enrich_report(once)
    assert twice is once


def test_nothing_to_add_returns_the_same_object() -> None:
    private = target("10.1.2.3", 9999, Item("server-banner", "\x00\x01", "generic"))
    assert enrich_report(private) is private
    no_target = Report(date=NGINX.date, items=(Item("title", "hello"),), id="x")
    assert enrich_report(no_target) is no_target


def test_an_enricher_skips_a_report_that_has_any_of_its_output_types() -> None:
    imported = Report(
        date=NGINX.date,
        id="imported",
        items=(
            *NGINX.items,
            Item("asn", "64512", "", True),  # Driftnet said so: the entity enricher must not add or contradict
            Item("product-info", "custom", "", True),  # one output type of the product enricher is enough
        ),
    )
    enriched = enrich_report(imported)
    assert of_type(enriched, "asn") == ["64512"]
    assert of_type(enriched, "entity") == []
    assert of_type(enriched, "product-tag") == []
    assert of_type(enriched, "product-info") == ["custom"]
    assert of_type(enriched, "geo-country") == ["US"]  # other enrichers still run


def test_observed_items_of_an_output_type_count_too() -> None:
    """The rule is about types, whatever is_metadata says: a report that carries any asn item keeps it alone."""
    observed = Report(date=NGINX.date, id="o", items=(*NGINX.items, Item("asn", "1", "", False)))
    assert of_type(enrich_report(observed), "entity") == []


def test_the_target_is_the_ip_item_with_an_empty_context() -> None:
    in_certificate = Report(
        date=NGINX.date,
        id="c",
        items=(
            Item("port-tcp", "443", "", True),
            Item("ip", "8.8.8.8", "cert-ip-address"),
            Item("ip", "1.1.1.1", "", True),
        ),
    )
    assert of_type(enrich_report(in_certificate), "asn") == ["13335"]
    assert of_type(enrich_report(target("::ffff:8.8.8.8", 53)), "asn") == ["15169"]


def test_metadata_items_are_never_fingerprinted() -> None:
    report = target("10.0.0.1", 80, Item("http-header", "nginx", "Server", True))
    assert of_type(enrich_report(report), "product-tag") == []


def test_registry_is_data_and_enrichers_can_be_disabled() -> None:
    assert NAMES == ("geo-country", "entity", "product", "honeypot")
    assert [factory.name for factory in REGISTRY] == list(NAMES)  # type: ignore[attr-defined]
    enrichers = build_enrichers(Settings(disabled=frozenset({"entity", "honeypot"})))
    assert [enricher.name for enricher in enrichers] == ["geo-country", "product"]
    enriched = enrich_with(enrichers, COWRIE)
    assert of_type(enriched, "asn") == [] and of_type(enriched, "honeypot") == []
    with pytest.raises(EnrichmentError, match="unknown enrichers"):
        build_enrichers(Settings(disabled=frozenset({"geo"})))
    configure(disabled=["product"])
    assert [enricher.name for enricher in active_enrichers()] == ["geo-country", "entity", "honeypot"]


def test_every_enricher_describes_itself() -> None:
    for enricher in active_enrichers():
        assert enricher.name and enricher.version and enricher.source and enricher.licence
        assert enricher.outputs <= ENRICHMENT_TYPES


def test_enrich_report_is_picklable_and_its_result_survives_json() -> None:
    assert pickle.loads(pickle.dumps(enrich_report)) is enrich_report
    enriched = enrich_report(NGINX)
    assert Report.from_dict(orjson.loads(orjson.dumps(enriched.as_dict()))) == enriched


def test_runs_as_the_ingest_transform_in_worker_processes(empty_store: Store) -> None:
    lines = [orjson.dumps(report.as_dict()) + b"\n" for report in (NGINX, COWRIE)]
    totals = ingest_chunks(
        empty_store, [LineChunk("t.jsonl", 1, lines)], decode_chunk, workers=1, transform=enrich_report
    )
    assert totals.imported == 2
    empty_store.refresh()
    stored = {report.id: report for report in empty_store.iter_matches(Filters())}
    assert stored[NGINX.id] == enrich_report(NGINX)
    assert of_type(stored[COWRIE.id], "honeypot") == ["cowrie"]


def test_fast_enough_for_the_ingest_path() -> None:
    """Measured properly in bench/enrich.py; this only catches an order-of-magnitude regression."""
    reports = [
        target(f"{octet}.{octet}.8.8", 443, *NGINX.items[2:], report_id=str(octet)) for octet in range(1, 201)
    ] * 10
    enrich_report(reports[0])
    started = time.perf_counter()
    for report in reports:
        enrich_report(report)
    per_report = (time.perf_counter() - started) / len(reports)
    assert per_report < 250e-6, f"{per_report * 1e6:.0f} µs per report"

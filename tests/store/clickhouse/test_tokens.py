"""The tokens a report row's text index holds (computed by ClickHouse from the row, ``tokens.TOKENS``) are exactly
the facts of its items as the compiler spells them (``tokens.word``, ``tokens.value``, …): checked on the
conformance corpora and on reports made to be awkward (long and multi-byte values, contexts, host names with
many labels, ports with leading zeros, ip items besides the scanned one)."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator

import pytest

from shoal.model import Item, Report
from shoal.query.words import split_words
from shoal.store.clickhouse import ClickHouseStore, tokens
from shoal.store.clickhouse.client import ChdbClient, rows
from shoal.store.plan import item_host, port_value
from tests.corpus import CORPUS, DATASET_CORPUS
from tests.engines import _databases, drop

TYPES = ["title", "http-header", "server-banner", "host", "url", "ip", "port-tcp", "entity", "tag-é"]
CONTEXTS = ["", "", "Server", "cert-dns-name", "ctx with spaces", "ü:1"]
WORDS = ["nginx", "Apache/2.4", "Ünïcode", "a.b.example.com", "x" * 50, "42", "ǅ", "日本語"]


def expected_tokens(items: tuple[Item, ...]) -> set[str]:
    """The facts of ``items``, each as ``tokens.py``'s table says (the reference the SQL must agree with)."""
    found: set[str] = set()
    scanned = next((index for index, item in enumerate(items) if item.type == "ip" and item.context == ""), None)
    for index, (item_type, text, context, _) in enumerate(items):
        key = port_value(text) if item_type == "port-tcp" else text
        words = split_words(key)
        host = item_host(item_type, key)
        scopes = [None, context] if context else [None]
        if context:
            found.add(tokens.has_context(item_type, context))
        found |= {tokens.word(item_type, scope, word) for scope in scopes for word in words}
        if item_type not in tokens.VALUELESS_TYPES:
            found |= {tokens.value(item_type, scope, key) for scope in scopes}
        if host:
            suffixes = [host[place + 1 :] for place, char in enumerate(host) if char == "."]
            found |= {tokens.host_name(item_type, scope, host) for scope in scopes}
            found |= {tokens.host_suffix(item_type, scope, name) for scope in scopes for name in suffixes}
        if item_type == "ip" and index != scanned:
            found.add(tokens.OTHER_ADDRESS)
    return found


def awkward_reports(count: int) -> list[Report]:
    chance = random.Random(26)
    made = []
    for number in range(count):
        items = [Item("ip", f"198.51.100.{number % 250}", "", True), Item("port-tcp", "0443", "", True)]
        for _ in range(chance.randint(1, 8)):
            item_type, context = chance.choice(TYPES), chance.choice(CONTEXTS)
            text = " ".join(chance.choice(WORDS) for _ in range(chance.randint(1, 6)))
            if item_type == "ip":
                text = chance.choice(["203.0.113.9", "2001:db8::1", "::ffff:192.0.2.1"])
            elif item_type == "port-tcp":
                text = chance.choice(["22", "00080", "0", "x1"])
            elif item_type == "url":
                text = chance.choice(["https://WWW.Example.COM./a b", "ftp://[2001:db8::1]:21/", "no host here"])
            items.append(Item(item_type, text, context))
        made.append(Report(dt.date(2026, 11, 1 + number % 28), tuple(items), f"awkward-{number}"))
    return made


@pytest.fixture(scope="module")
def store(chdb_folder: object) -> Iterator[ClickHouseStore]:
    opened = ClickHouseStore(ChdbClient(chdb_folder), f"shoal_test_{next(_databases)}")  # type: ignore[arg-type]
    opened.migrate()
    yield opened
    drop(opened)


def test_the_row_holds_exactly_the_facts_of_its_items(store: ClickHouseStore) -> None:
    reports = {report.id: report for report in [*CORPUS, *DATASET_CORPUS, *awkward_reports(300)]}
    store.ingest(reports.values())
    found = rows(store.client, f"SELECT dataset, id, tokens FROM {store.table('reports')}")
    assert len(found) == len(reports)
    for row in found:
        report = reports[row["id"]]
        assert set(row["tokens"]) == expected_tokens(report.items), report


def test_a_long_value_is_written_as_its_digest() -> None:
    long = "é" * 40  # 80 bytes
    assert tokens.value("title", None, long).startswith("h5:title")
    assert tokens.value("title", "c", "é" * 32) == "V5:title1:c" + "é" * 32  # 64 bytes: itself

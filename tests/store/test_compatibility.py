"""A data directory written by an earlier release is never read wrongly: index format 2 (reports stored as their
API JSON, docs/storage.md) refuses an index of the last release that holds reports, saying what to do, and
makes an empty one anew.

``released_schema`` is the schema of the last release (index format 1), field by field."""

from __future__ import annotations

import base64
from pathlib import Path

import orjson
import pytest
import tantivy

from shoal.errors import StoreError
from shoal.store.base import Filters
from shoal.store.embedded import EmbeddedStore
from tests.corpus import CORPUS


def released_schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    sb.add_text_field("id", tokenizer_name="raw", index_option="basic")
    sb.add_json_field("words", tokenizer_name="default", index_option="position")
    for name in ("exact", "exactc", "kinds", "hosts", "hostsc", "ipc", "multi"):
        sb.add_text_field(name, tokenizer_name="raw", index_option="basic")
    sb.add_ip_addr_field("ip", indexed=True, fast=True)
    sb.add_ip_addr_field("ipall", indexed=True)
    sb.add_integer_field("day", indexed=True, fast=True)
    sb.add_integer_field("sort", fast=True)
    sb.add_unsigned_field("target", fast=True)
    sb.add_bytes_field("doc", stored=True)
    return sb.build()


def test_an_index_of_the_last_release_is_refused_with_what_to_do(tmp_path: Path) -> None:
    (tmp_path / "index").mkdir()
    old = tantivy.Index(released_schema(), path=str(tmp_path / "index"), reuse=False)
    writer = old.writer(heap_size=15_000_000, num_threads=1)
    stored = base64.b64encode(orjson.dumps(["2026-11-01", "old", [["ip", "192.0.2.1", "", True]]])).decode()
    writer.add_json(
        orjson.dumps({"id": "old", "ip": "192.0.2.1", "day": 20758, "sort": 1, "target": 7, "doc": stored}).decode()
    )
    writer.commit()
    writer.wait_merging_threads()
    with pytest.raises(StoreError, match=r"holds 1 reports in index format 1.*run .shoal db migrate."):
        EmbeddedStore(tmp_path)


def test_an_empty_index_of_the_last_release_is_made_anew(tmp_path: Path) -> None:
    for folder in ("index", "index-domains", "index-ct", "index-rdns"):
        (tmp_path / folder).mkdir()
        tantivy.Index(released_schema(), path=str(tmp_path / folder), reuse=False)
    store = EmbeddedStore(tmp_path)
    assert store.ingest(CORPUS).imported == len(CORPUS)
    assert store.search(Filters()).total == len(CORPUS)

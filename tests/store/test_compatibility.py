"""A data directory written by an earlier release still opens: the index schema is the one it was created with.

``RELEASED_SCHEMA`` is the schema of the last release, field by field. A change to ``build_schema`` fails
here: either keep the old fields readable, or detect the old layout and tell the user what to do (and then
update this test)."""

from __future__ import annotations

import base64
from pathlib import Path

import orjson
import tantivy

from shoal.store.base import Filters
from shoal.store.embedded import EmbeddedStore


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


def test_an_index_of_the_last_release_opens_and_answers(tmp_path: Path) -> None:
    (tmp_path / "index").mkdir()
    old = tantivy.Index(released_schema(), path=str(tmp_path / "index"), reuse=False)
    writer = old.writer(heap_size=15_000_000, num_threads=1)
    stored = base64.b64encode(orjson.dumps(["2026-11-01", "old", [["ip", "192.0.2.1", "", True]]])).decode()
    writer.add_json(
        orjson.dumps({"id": "old", "ip": "192.0.2.1", "day": 20758, "sort": 1, "target": 7, "doc": stored}).decode()
    )
    writer.commit()
    writer.wait_merging_threads()
    store = EmbeddedStore(tmp_path)
    assert store.count("protocols") == 1
    assert [report.id for report in store.search(Filters()).reports] == ["old"]

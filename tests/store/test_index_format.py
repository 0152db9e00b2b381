"""An index in another format is never read: it is refused with what to do, or made anew when empty."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest
import tantivy

from shoal.errors import StoreError
from shoal.store.base import Filters
from shoal.store.embedded import EmbeddedStore
from shoal.store.embedded.index import FORMAT_FILE, stored_id
from shoal.store.embedded.schema import INDEX_FORMAT, stored_form
from tests.corpus import CORPUS
from tests.store.embedded.released import FIXTURE


def test_an_index_of_an_older_format_is_refused_with_what_to_do(tmp_path: Path) -> None:
    shutil.copytree(FIXTURE / "store", tmp_path / "data")  # format 2, written by the release before
    with pytest.raises(StoreError, match=r"holds 1,017 reports in index format 2.*run .shoal db migrate."):
        EmbeddedStore(tmp_path / "data")


def test_an_index_of_a_newer_format_is_refused(tmp_path: Path) -> None:
    EmbeddedStore(tmp_path).close()
    (tmp_path / "index" / FORMAT_FILE).write_text(f"{INDEX_FORMAT + 1}\n")
    with pytest.raises(StoreError, match=r"newer than this version of Shoal reads"):
        EmbeddedStore(tmp_path)


def test_an_empty_index_of_an_older_format_is_made_anew(tmp_path: Path) -> None:
    schema = tantivy.Index.open(str(FIXTURE / "store" / "index")).schema  # format 2's, as the release before wrote
    (tmp_path / "index").mkdir()
    tantivy.Index(schema, path=str(tmp_path / "index"), reuse=False)
    (tmp_path / "index" / FORMAT_FILE).write_text("2\n")
    store = EmbeddedStore(tmp_path)
    assert store.ingest(CORPUS).imported == 16
    assert store.search(Filters()).total == 16
    assert (tmp_path / "index" / FORMAT_FILE).read_text().strip() == str(INDEX_FORMAT)
    store.close()


def test_the_id_is_read_from_a_stored_report_without_decoding_it() -> None:
    for report_id in ["r01", 'quote"and\\backslash', "é ü", "x" * 128]:
        report = replace(CORPUS[0], id=report_id)
        assert stored_id(stored_form(report)) == report_id

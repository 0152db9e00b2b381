"""An index in another format is never read: it is refused with what to do, or made anew when empty."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from shoal.errors import StoreError
from shoal.store.base import Filters
from shoal.store.embedded import EmbeddedStore
from shoal.store.embedded.index import FORMAT_FILE, stored_id
from shoal.store.embedded.schema import stored_form
from tests.corpus import CORPUS


def test_an_index_of_an_older_format_is_refused_with_what_to_do(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path)
    store.ingest(CORPUS)
    store.close()
    (tmp_path / "index" / FORMAT_FILE).unlink()  # as written before index formats were marked (format 1)
    with pytest.raises(StoreError, match=r"holds 16 reports in index format 1.*run .shoal db migrate."):
        EmbeddedStore(tmp_path)


def test_an_empty_index_of_an_older_format_is_made_anew(tmp_path: Path) -> None:
    EmbeddedStore(tmp_path).close()
    (tmp_path / "index" / FORMAT_FILE).unlink()
    store = EmbeddedStore(tmp_path)
    assert store.ingest(CORPUS).imported == 16
    assert store.search(Filters()).total == 16
    assert (tmp_path / "index" / FORMAT_FILE).read_text().strip() == "2"


def test_the_id_is_read_from_a_stored_report_without_decoding_it() -> None:
    for report_id in ["r01", 'quote"and\\backslash', "é ü", "x" * 128]:
        report = replace(CORPUS[0], id=report_id)
        assert stored_id(stored_form(report)) == report_id

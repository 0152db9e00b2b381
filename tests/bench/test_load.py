"""bench/load.py: an index already in the data directory is loaded as it is, not imported again."""

from __future__ import annotations

from pathlib import Path

import pytest

from shoal.model import Report
from shoal.store.embedded import EmbeddedStore
from tests.generated import bench_module, generator


def test_an_index_of_shards_is_not_imported_again(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path, shards=2)
    store.ingest(Report.from_dict(report) for report in generator().generate(20, seed=2))
    store.close()
    bench_module("load").ensure_index(tmp_path, None)  # no corpus given: it would exit asking for one


def test_an_empty_data_directory_asks_for_a_corpus(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="holds no index"):
        bench_module("load").ensure_index(tmp_path, None)

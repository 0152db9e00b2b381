"""A lost or damaged ``ports/manifest.json`` never costs data (issue 14, items 5 and 6): the store refuses to
open with a message saying how to rebuild it, nothing is deleted meanwhile, and the rebuild (``shoal check
--repair``) takes every segment back, salvaging the whole rows of a truncated one."""

from __future__ import annotations

import datetime as dt
import ipaddress
from pathlib import Path

import numpy as np
import orjson
import pytest

from shoal.errors import StoreError
from shoal.store.base import day_number
from shoal.store.embedded import EmbeddedStore
from shoal.store.embedded.ports import ObservationStore, problems, rebuild, v4_keys

DAY = day_number(dt.date(2026, 11, 2))
EVERYTHING = ipaddress.ip_network("0.0.0.0/0")
NONE_V6 = np.array([], dtype="S20")


def filled(path: Path, batches: int = 30) -> ObservationStore:
    """Many small batches over several weeks: many segment files, some merged."""
    store = ObservationStore(path)
    for n in range(batches):
        ips = np.arange(n * 100, n * 100 + 100) + (10 << 24)
        store.add(v4_keys(ips, np.full(100, 80 + n % 3), np.full(100, DAY + n % 20)), NONE_V6)
    return store


def answer(store: ObservationStore) -> list[tuple[int, int, int]]:
    found = store.query(EVERYTHING, 0, 65535)
    return list(zip(found.hosts.tolist(), found.ports.tolist(), found.counts.tolist(), strict=True))


def test_without_its_manifest_the_store_refuses_to_open_and_deletes_nothing(tmp_path: Path) -> None:
    ports = tmp_path / "ports"
    filled(ports)
    segments = sorted(path.name for path in ports.glob("*.npy"))
    assert len(segments) > 3
    (ports / "manifest.json").unlink()
    for _ in range(2):
        with pytest.raises(StoreError, match=r"manifest\.json is missing.*shoal check --data DIR --repair"):
            ObservationStore(ports)
    with pytest.raises(StoreError, match="shoal check --data DIR --repair"):
        EmbeddedStore(tmp_path)
    assert sorted(path.name for path in ports.glob("*.npy")) == segments


def test_the_rebuild_takes_every_segment_back(tmp_path: Path) -> None:
    expected = answer(filled(tmp_path))
    (tmp_path / "manifest.json").unlink()
    report = rebuild(tmp_path)
    assert report.rows_kept == sum(count for _, _, count in expected) and report.rows_lost == 0
    store = ObservationStore(tmp_path)
    assert answer(store) == expected
    assert problems(tmp_path) == []
    store.add(v4_keys(np.array([7]), np.array([22]), np.array([DAY])), NONE_V6)  # and it goes on working
    assert len(answer(ObservationStore(tmp_path))) == len(expected) + 1


def test_a_truncated_segment_is_found_and_its_whole_rows_salvaged(tmp_path: Path) -> None:
    store = filled(tmp_path, batches=3)
    total = store.count()
    victim = max(tmp_path.glob("*.npy"), key=lambda path: path.stat().st_size)
    rows = int(np.load(victim, mmap_mode="r").shape[0])
    size = victim.stat().st_size
    with open(victim, "r+b") as handle:
        handle.truncate(size - 8 * 10 - 3)  # ten rows and a bit
    found = problems(tmp_path)
    assert len(found) == 1 and victim.name in found[0] and "truncated" in found[0]
    with pytest.raises(StoreError, match="shoal check"):
        ObservationStore(tmp_path).query(EVERYTHING, 0, 65535)
    report = rebuild(tmp_path)
    assert (report.rows_kept, report.rows_lost) == (total - 11, 11) and rows > 11
    assert (tmp_path / "damaged" / victim.name).exists()  # the original is kept aside, not deleted
    assert ObservationStore(tmp_path).count() == total - 11 and problems(tmp_path) == []


def test_only_files_the_manifest_names_as_replaced_or_never_committed_are_deleted(tmp_path: Path) -> None:
    store = filled(tmp_path, batches=2)
    manifest = orjson.loads((tmp_path / "manifest.json").read_bytes())
    dropped = manifest["segments"].pop(0)  # a manifest that does not name a segment (restored, edited…)
    (tmp_path / "manifest.json").write_bytes(orjson.dumps(manifest))
    unknown = tmp_path / dropped["name"]
    uncommitted = tmp_path / f"v4-w{DAY // 7:05d}-{manifest['next'] + 5:08d}.npy"  # a batch that never committed
    np.save(uncommitted, v4_keys(np.array([98]), np.array([80]), np.array([DAY])))
    store.add(v4_keys(np.array([97]), np.array([80]), np.array([DAY + 1])), NONE_V6)
    assert unknown.exists() and not uncommitted.exists()
    assert any(unknown.name in problem for problem in problems(tmp_path))
    rebuild(tmp_path)
    assert ObservationStore(tmp_path).count() == 201  # the unnamed segment is taken back

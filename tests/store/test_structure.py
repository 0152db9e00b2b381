"""Every engine of the registry has the structure the conformance suite requires (``tests/store/structure.py``)."""

from __future__ import annotations

from shoal.store.base import Store
from tests.store.structure import check_structure


def test_every_engine_has_the_structure(any_store: Store) -> None:
    check_structure(any_store)

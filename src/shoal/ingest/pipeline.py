"""Batching reports into the store: every source goes through ``ingest_stream``."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import islice

from shoal.ingest.jsonl import Rejected
from shoal.model import Report
from shoal.store.base import Store

BATCH_SIZE = 20_000


@dataclass
class IngestTotals:
    imported: int = 0
    duplicates: int = 0
    rejected: list[Rejected] = field(default_factory=list)

    @property
    def processed(self) -> int:
        return self.imported + self.duplicates + len(self.rejected)


def ingest_stream(
    store: Store,
    records: Iterable[Report | Rejected],
    totals: IngestTotals | None = None,
    on_batch: Callable[[IngestTotals], None] | None = None,
    batch_size: int = BATCH_SIZE,
) -> IngestTotals:
    """Store reports in atomic batches; rejected records are collected, never abort the rest."""
    totals = totals or IngestTotals()
    iterator = iter(records)
    while batch := list(islice(iterator, batch_size)):
        reports = []
        for record in batch:
            if isinstance(record, Rejected):
                totals.rejected.append(record)
            else:
                reports.append(record)
        result = store.ingest(reports)
        totals.imported += result.imported
        totals.duplicates += result.duplicates
        if on_batch is not None:
            on_batch(totals)
    return totals

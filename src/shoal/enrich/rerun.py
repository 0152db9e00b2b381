"""Re-enrichment of stored reports (``shoal enrich``): when rules or data improve, old reports catch up.

Reports are immutable and history is kept forever, so a stored report is never changed or deleted.
Instead, for each matching report whose enrichment differs from what the current enrichers produce, a
*successor* is stored:

- the same ``date`` (the day the service was observed — re-enriching observes nothing new, so the
  report must not move to today and pretend to be a fresh scan);
- the same observed items (everything except the re-run enrichers' metadata items);
- the current enrichment, plus ``{type: "supersedes", value: <predecessor id>, is_metadata: true}``;
- a new id derived from the predecessor's id and the new items, so running ``shoal enrich`` twice stores
  nothing the second time (the store counts the repeat as a duplicate), and a successor whose enrichment
  is already current is left alone.

The predecessor is kept as history (what Shoal said about the service, and when): the store no longer
matches it in searches, summaries or exports, but finds it by id and in ``shoal host``'s history, and
``supersedes=<id>`` finds the successor of a report. Since a superseded report no longer matches, a rerun
re-enriches successors, never their predecessors again: successors form a chain, never a fork.
``--most-recent`` limits the work to the newest report per ip:port.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace

import orjson

from shoal.enrich.base import Enricher
from shoal.enrich.engine import enrich_with
from shoal.model import ID_LENGTH, SUPERSEDES, Item, Report
from shoal.store.base import Filters, Store

BATCH_SIZE = 10_000


@dataclass
class RerunTotals:
    examined: int = 0
    unchanged: int = 0
    written: int = 0
    duplicates: int = 0
    changes: dict[str, int] = field(default_factory=dict)  # enricher output type -> successors changing it

    @property
    def successors(self) -> int:
        return self.written + self.duplicates


def successor(report: Report, enrichers: Sequence[Enricher]) -> Report | None:
    """The report with its enrichment recomputed by ``enrichers``, or None when it would not change."""
    outputs = frozenset().union(*(enricher.outputs for enricher in enrichers))
    kept: list[Item] = []
    old: list[Item] = []
    for item in report.items:
        if item.type == SUPERSEDES and item.is_metadata:
            continue
        (old if item.is_metadata and item.type in outputs else kept).append(item)
    base = replace(report, items=tuple(kept))
    new = list(enrich_with(enrichers, base).items[len(kept) :])
    if set(new) == set(old):
        return None
    items = (*kept, *new, Item(SUPERSEDES, report.id, "", True))
    return replace(report, items=items, id=derived_id(report.id, items))


def derived_id(predecessor: str, items: Iterable[Item]) -> str:
    payload = orjson.dumps([predecessor, [tuple(item) for item in items]])
    return base64.urlsafe_b64encode(hashlib.blake2b(payload, digest_size=16).digest()).decode()[:ID_LENGTH]


def changed_types(report: Report, new: Report) -> set[str]:
    before = {item for item in report.items if item.is_metadata}
    after = {item for item in new.items if item.is_metadata and item.type != SUPERSEDES}
    return {item.type for item in before ^ after}


def rerun(
    store: Store,
    filters: Filters,
    enrichers: Sequence[Enricher],
    dry_run: bool = False,
    on_batch: Callable[[RerunTotals], None] | None = None,
    batch_size: int = BATCH_SIZE,
) -> RerunTotals:
    """Store a successor for every matching report whose enrichment changed (or only count them)."""
    totals = RerunTotals()
    pending: list[Report] = []

    def flush() -> None:
        if pending and not dry_run:
            result = store.ingest(pending)
            totals.written += result.imported
            totals.duplicates += result.duplicates
        elif dry_run:
            totals.written += len(pending)
        pending.clear()
        if on_batch is not None:
            on_batch(totals)

    for report in store.iter_matches(filters):
        totals.examined += 1
        new = successor(report, enrichers)
        if new is None:
            totals.unchanged += 1
            continue
        for item_type in changed_types(report, new):
            totals.changes[item_type] = totals.changes.get(item_type, 0) + 1
        pending.append(new)
        if len(pending) >= batch_size:
            flush()
    flush()
    return totals

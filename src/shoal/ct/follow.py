"""``shoal ct follow``: read an RFC 6962 log (``get-sth``, ``get-entries``) into the ``ct`` dataset, resumably.

The position (the next entry index to read) is kept per log in ``DATA/ct/<digest of the URL>.json`` and
replaced atomically (temporary file, fsync, rename, fsync of the folder) only after the batch of entries before
it is committed to the store. So a kill loses nothing acknowledged, and the batch it interrupted is read again
on the next run, where its reports (whose ids derive from the log and the index) are duplicates, never stored
twice. Requests are rate-limited; a failed request is retried with backoff, then the run stops with an error
(the position stays where the last committed batch left it). An entry that does not parse is rejected (with
its index as its line) and passed, so one bad entry never blocks a log.

The log is contacted because the operator named it, as the DNS resolver is: it is not a scan target, so the
allow-list does not apply to it. Signatures and Merkle proofs are not verified: Shoal records what the log
serves, it does not audit the log.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson

from shoal.ct.entries import entry_report, parse_entry
from shoal.errors import ShoalError
from shoal.filesystem import replace_durably
from shoal.ingest.jsonl import Rejected
from shoal.ingest.pipeline import IngestTotals, ingest_stream
from shoal.ingest.records import BadRecord
from shoal.model import Report
from shoal.store.base import Store

POSITIONS = "ct"
DEFAULT_BATCH = 1024  # entries committed at once (logs answer 32–1024 per get-entries: as many calls as needed)
ATTEMPTS = 4  # tries of one request before the run stops
MAX_RESPONSE_BYTES = 64 << 20


class LogError(ShoalError):
    """The log could not be read (unreachable, errors, answers that are not RFC 6962); the position is kept."""

    status = 502
    code = "ct_log"


@dataclass(frozen=True, slots=True)
class Position:
    log: str
    next_index: int
    tree_size: int


def log_base(url: str) -> str:
    """``https://log.example/2025h2/`` (with or without ``ct/v1/``) as the log's base URL, ending in ``/``."""
    text = url.strip()
    if not text.startswith(("http://", "https://")):
        raise ValueError(f"a CT log URL starts with http:// or https://, not {url!r}")
    text = text.rstrip("/")
    text = text.removesuffix("/ct/v1")
    return text + "/"


def position_path(data: Path, log: str) -> Path:
    return data / POSITIONS / f"{hashlib.sha256(log.encode()).hexdigest()[:24]}.json"


def read_position(data: Path, log: str) -> Position | None:
    try:
        raw = orjson.loads(position_path(data, log).read_bytes())
        return Position(raw["log"], int(raw["next_index"]), int(raw["tree_size"]))
    except FileNotFoundError:
        return None
    except (OSError, orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise LogError(f"cannot read the position of {log} ({position_path(data, log)}): {exc}") from exc


def write_position(data: Path, position: Position) -> None:
    """Replace the position file atomically and durably."""
    path = position_path(data, position.log)
    path.parent.mkdir(parents=True, exist_ok=True)
    body = orjson.dumps(
        {"log": position.log, "next_index": position.next_index, "tree_size": position.tree_size},
        option=orjson.OPT_INDENT_2,
    )
    replace_durably(path, body)


class LogClient:
    """The two RFC 6962 calls, rate-limited (requests per second) and retried with backoff."""

    def __init__(self, base: str, rate: float, timeout: float = 30.0, sleep: Callable[[float], None] = time.sleep):
        self.base = base
        self.interval = 1.0 / rate
        self.sleep = sleep
        self.client = httpx.Client(timeout=timeout, follow_redirects=False, headers={"User-Agent": "shoal-ct"})
        self._next_request = 0.0

    def get(self, path: str, params: dict[str, int] | None = None) -> Any:
        error: Exception | None = None
        for attempt in range(ATTEMPTS):
            wait = self._next_request - time.monotonic()
            if wait > 0:
                self.sleep(wait)
            self._next_request = max(time.monotonic(), self._next_request) + self.interval
            try:
                response = self.client.get(self.base + path, params=params)
                if response.status_code == 200 and len(response.content) <= MAX_RESPONSE_BYTES:
                    return orjson.loads(response.content)
                error = LogError(f"{self.base}{path}: HTTP {response.status_code}")
                if 400 <= response.status_code < 500 and response.status_code != 429:
                    break  # asking again will not help
            except (httpx.HTTPError, orjson.JSONDecodeError) as exc:
                error = exc
            self.sleep(min(30.0, 0.5 * 2**attempt))
        raise LogError(f"cannot read {self.base}{path}: {error}")

    def tree_size(self) -> int:
        head = self.get("ct/v1/get-sth")
        size = head.get("tree_size") if isinstance(head, dict) else None
        if not isinstance(size, int) or size < 0:
            raise LogError(f"{self.base}ct/v1/get-sth: no tree_size in the answer")
        return size

    def entries(self, start: int, end: int) -> list[Any]:
        answer = self.get("ct/v1/get-entries", {"start": start, "end": end})
        entries = answer.get("entries") if isinstance(answer, dict) else None
        if not isinstance(entries, list) or not entries:
            raise LogError(f"{self.base}ct/v1/get-entries?start={start}&end={end}: no entries in the answer")
        return entries[: end - start + 1]

    def close(self) -> None:
        self.client.close()


def decode_entries(log: str, start: int, entries: list[Any]) -> list[Report | Rejected]:
    records: list[Report | Rejected] = []
    for index, entry in enumerate(entries, start=start):
        try:
            if not isinstance(entry, dict):
                raise BadRecord("an entry must be a JSON object")
            leaf = base64.b64decode(entry.get("leaf_input", ""), validate=True)
            extra = base64.b64decode(entry.get("extra_data", ""), validate=True)
            records.append(entry_report(log, index, parse_entry(leaf, extra)))
        except (BadRecord, binascii.Error, TypeError, ValueError) as exc:
            records.append(Rejected(log, index, str(exc) or type(exc).__name__))
    return records


@dataclass
class FollowProgress:
    start: int
    tree_size: int
    next_index: int
    totals: IngestTotals


def follow(
    store: Store,
    data: Path,
    client: LogClient,
    from_index: int | None = None,
    batch: int = DEFAULT_BATCH,
    once: bool = True,
    poll: float = 60.0,
    on_batch: Callable[[FollowProgress], None] | None = None,
) -> FollowProgress:
    """Read entries from the saved position (or ``from_index``) to the tree size, batch by batch; with
    ``once=False``, then poll ``get-sth`` every ``poll`` seconds and go on, until interrupted."""
    log = client.base
    saved = read_position(data, log)
    next_index = from_index if from_index is not None else (saved.next_index if saved else 0)
    totals = IngestTotals()
    tree_size = client.tree_size()
    progress = FollowProgress(next_index, tree_size, next_index, totals)
    while True:
        while next_index < tree_size:
            stop = min(next_index + batch, tree_size)
            records: list[Report | Rejected] = []
            index = next_index
            while index < stop:  # a log answers fewer entries than asked for: ask until the batch is whole
                entries = client.entries(index, stop - 1)
                records += decode_entries(log, index, entries)
                index += len(entries)
            ingest_stream(store, records, totals)
            next_index = index
            saved = Position(log, next_index, tree_size)
            write_position(data, saved)
            progress.next_index, progress.tree_size = next_index, tree_size
            if on_batch is not None:
                on_batch(progress)
        if saved is None or saved.tree_size != tree_size:
            saved = Position(log, next_index, tree_size)
            write_position(data, saved)
        if once:
            return progress
        client.sleep(poll)
        tree_size = client.tree_size()
        progress.tree_size = tree_size

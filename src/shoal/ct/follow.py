"""``shoal ct follow``: read an RFC 6962 log (``get-sth``, ``get-entries``) into the ``ct`` dataset, resumably.

The position (the next entry index to read) is kept per log in ``DATA/ct/<digest of the URL>.json`` and
replaced atomically (temporary file, fsync, rename, fsync of the folder) only after the batch of entries before
it is committed to the store. So a kill loses nothing acknowledged, and the batch it interrupted is read again
on the next run, where its reports (whose ids derive from the log and the index) are duplicates, never stored
twice. Requests are rate-limited; a failed request is retried with backoff, then the run stops with an error
(the position stays where the last committed batch left it). An entry that does not parse is rejected (with
its index as its line) and passed, so one bad entry never blocks a log.

A log is a stranger's server, so every answer is bounded before it is read: it is streamed and its decoded
bytes counted (a gzip bomb included: Shoal decodes gzip and deflate itself, ``MAX_RESPONSE_BYTES`` at most, and
refuses other encodings), reading stops at ``MAX_RESPONSE_BYTES``, an answer holding more JSON values than the
entries asked for can hold is refused before it is parsed, and one request — its tries and the waits between
them included — has ``REQUEST_SECONDS`` in all (a log that trickles its answer a byte at a time is given up on
then, not kept waiting on by a per-read timeout).

The log is contacted because the operator named it, as the DNS resolver is: it is not a scan target, so the
allow-list does not apply to it. Signatures and Merkle proofs are not verified: Shoal records what the log
serves, it does not audit the log.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
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
MAX_RESPONSE_BYTES = 64 << 20  # decoded bytes of one answer
REQUEST_SECONDS = 45.0  # one request, its tries and the waits between them included
# JSON values an answer may hold per entry asked for (an entry is an object of two strings; logs add none or a
# few): orjson builds every value as a Python object, so 64 MiB of ``{},`` would be 21 million dicts (1.3 GB).
VALUES_PER_ENTRY = 8
VALUES_SPARE = 64  # the answer's own object and list, a tree head's fields
ENCODINGS = {"gzip": zlib.MAX_WBITS | 16, "x-gzip": zlib.MAX_WBITS | 16, "deflate": zlib.MAX_WBITS}


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
    """The two RFC 6962 calls, rate-limited (requests per second), retried with backoff, each bounded in bytes,
    in JSON values and in time (``request_seconds`` for all its tries)."""

    def __init__(
        self,
        base: str,
        rate: float,
        request_seconds: float = REQUEST_SECONDS,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.base = base
        self.interval = 1.0 / rate
        self.request_seconds = request_seconds
        self.sleep = sleep
        headers = {"User-Agent": "shoal-ct", "Accept-Encoding": ", ".join(ENCODINGS)}
        self.client = httpx.Client(follow_redirects=False, headers=headers)
        self._next_request = 0.0

    def get(self, path: str, params: dict[str, int] | None = None, max_values: int = VALUES_SPARE) -> Any:
        """The JSON answer of ``path``; LogError when every try failed, the answer is too large, or the request's
        time is over."""
        url = self.base + path
        deadline = time.monotonic() + self.request_seconds
        error = ""
        for attempt in range(ATTEMPTS):
            self._pause(self._next_request - time.monotonic(), deadline, url, error)
            self._next_request = max(time.monotonic(), self._next_request) + self.interval
            try:
                return self._answer(url, params, deadline, max_values)
            except httpx.TimeoutException:
                raise self._too_slow(url) from None
            except _TryAgain as exc:
                error = str(exc)
            except httpx.HTTPError as exc:
                error = str(exc) or type(exc).__name__
            if attempt + 1 < ATTEMPTS:
                self._pause(min(30.0, 0.5 * 2**attempt), deadline, url, error)
        raise LogError(f"cannot read {url}: {error}")

    def _pause(self, seconds: float, deadline: float, url: str, error: str) -> None:
        """Wait ``seconds`` (the rate, a backoff), unless that would end past the request's deadline."""
        if seconds <= 0:
            return
        if time.monotonic() + seconds >= deadline:
            if error:
                raise LogError(f"cannot read {url}: {error} (no time left to try again)")
            raise self._too_slow(url)
        self.sleep(seconds)

    def _too_slow(self, url: str) -> LogError:
        return LogError(
            f"cannot read {url}: no whole answer within {self.request_seconds:g} s (tries included);"
            " the log answers too slowly"
        )

    def _answer(self, url: str, params: dict[str, int] | None, deadline: float, max_values: int) -> Any:
        left = deadline - time.monotonic()
        if left <= 0:
            raise httpx.TimeoutException("over")
        with self.client.stream("GET", url, params=params, timeout=httpx.Timeout(left)) as response:
            if response.status_code != 200:
                message = f"HTTP {response.status_code}"
                if 400 <= response.status_code < 500 and response.status_code != 429:
                    raise LogError(f"cannot read {url}: {message}")  # asking again will not help
                raise _TryAgain(message)
            encoding = response.headers.get("content-encoding", "").strip().lower()
            body = read_bounded(url, response.iter_raw(), encoding, deadline)
        values = body.count(b",") + body.count(b"{") + body.count(b"[") + 1  # at least the values it holds
        if values > max_values:
            raise LogError(
                f"cannot read {url}: an answer of about {values:,} JSON values, more than the {max_values:,}"
                " the entries asked for can hold"
            )
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise _TryAgain(f"not JSON: {exc}") from None

    def tree_size(self) -> int:
        head = self.get("ct/v1/get-sth")
        size = head.get("tree_size") if isinstance(head, dict) else None
        if not isinstance(size, int) or size < 0:
            raise LogError(f"{self.base}ct/v1/get-sth: no tree_size in the answer")
        return size

    def entries(self, start: int, end: int) -> list[Any]:
        asked = end - start + 1
        answer = self.get("ct/v1/get-entries", {"start": start, "end": end}, asked * VALUES_PER_ENTRY + VALUES_SPARE)
        entries = answer.get("entries") if isinstance(answer, dict) else None
        if not isinstance(entries, list) or not entries:
            raise LogError(f"{self.base}ct/v1/get-entries?start={start}&end={end}: no entries in the answer")
        return entries[:asked]

    def close(self) -> None:
        self.client.close()


class _TryAgain(Exception):
    """A try failed in a way another try may not (a 5xx, a 429, an answer cut short)."""


def read_bounded(url: str, chunks: Iterable[bytes], encoding: str, deadline: float) -> bytearray:
    """The decoded body from its raw chunks: LogError past MAX_RESPONSE_BYTES decoded (never more is held) or
    in an encoding Shoal does not decode; a timeout once ``deadline`` (time.monotonic) is past."""
    body = bytearray()
    for piece in decoded(url, chunks, encoding):
        body += piece
        if len(body) > MAX_RESPONSE_BYTES:
            raise LogError(f"cannot read {url}: answer larger than {MAX_RESPONSE_BYTES >> 20} MiB (stopped reading it)")
        if time.monotonic() > deadline:
            raise httpx.TimeoutException("over")
    return body


def decoded(url: str, chunks: Iterable[bytes], encoding: str) -> Iterator[bytes]:
    """Raw chunks decoded (identity, gzip or deflate), each piece at most 1 MiB whatever the compression ratio."""
    if encoding in ("", "identity"):
        yield from chunks
        return
    if encoding not in ENCODINGS:
        raise LogError(f"cannot read {url}: an answer in the encoding {encoding[:40]!r} (Shoal reads gzip, deflate)")
    decoder = zlib.decompressobj(ENCODINGS[encoding])
    try:
        for chunk in chunks:
            pending = chunk
            while pending:
                yield decoder.decompress(pending, 1 << 20)
                pending = decoder.unconsumed_tail
                if decoder.eof and decoder.unused_data:  # a gzip answer of several members
                    pending = decoder.unused_data + pending
                    decoder = zlib.decompressobj(ENCODINGS[encoding])
    except zlib.error as exc:
        raise _TryAgain(f"a {encoding} answer that does not decode: {exc}") from None


def read_entries(client: LogClient, start: int, end: int) -> list[Report | Rejected]:
    """The records of one get-entries answer (at least one): its up to 64 MiB of JSON are freed on return, before
    the next answer is read."""
    return decode_entries(client.base, start, client.entries(start, end))


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
                records += read_entries(client, index, stop - 1)
                index = next_index + len(records)
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

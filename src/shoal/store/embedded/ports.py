"""Open-port observations on disk: ``DATA/ports/``, immutable sorted segments of fixed-width keys.

    DATA/ports/manifest.json              the committed list of segments (replaced atomically: the commit)
    DATA/ports/v4-w02931-00000012.npy     a segment: one address family, one week, sorted unique keys
    DATA/ports/lock                       held (flock) by a writer for the whole of a batch

**Keys.** One row per observation (ip, port, day), day = days since 1970-01-01 (0–65535, i.e. until 2149):

    IPv4  little-endian uint64  ip << 32 | port << 16 | day   (bytes: day, port, ip — read as views, no maths)
    IPv6  S20                   16 address bytes, then port and day big-endian (byte order = numeric order)

Sorted keys are ordered by (ip, port, day), so an address or a CIDR is one contiguous range of every segment
(``np.searchsorted``), and per-(ip, port) counts are run lengths.

**Partitions and merges.** A segment holds one week (``day // 7``): a date window skips whole weeks, and the
duplicate check of a batch only reads the weeks it touches. Within a (family, week), segments merge
size-tiered: ``FANIN`` segments of one level (level k: fewer than ``LEVEL_BASE_ROWS · FANIN^(k+1)`` rows)
become one, so each observation is rewritten O(log n) times and a week keeps few segments. A week is
compacted into a single segment once a batch writes a later week and not that one (``closed_weeks``): a
query then merges about one run per week (BENCHMARKS.md: a /16 over 90 days, 51 runs before, 14 after).

**Deduplication.** An observation is the triple (ip, port, day): seen twice, by two reports, two scans or
two imports of one file, it is one observation, and the second counts as a duplicate.

**Durability.** A batch writes its segments (fsync), then a new manifest (temporary file, fsync, rename,
fsync of the directory): a batch is wholly visible or absent. Readers stat the manifest on every query and
reload it when it changed; segments are never modified, and are read through memory maps.

**Nothing unnamed is deleted.** A new store starts with an empty manifest. The next writer deletes only what
the manifest names as ``replaced`` (a merge's inputs, if the merge was cut short before removing them) and
segments numbered from its ``next`` on (written by a batch that never committed). A segment the manifest
does not name otherwise is kept and reported by ``problems``. Without a manifest, the store refuses to open
while segments exist (it would look empty, and a writer would take the place of their data); ``rebuild``
(``shoal check --repair``) makes a manifest from every segment, salvaging the whole rows of a truncated one
and keeping the damaged original in ``damaged/``.
"""

from __future__ import annotations

import fcntl
import os
import re
import socket
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import orjson

from shoal.errors import StoreError
from shoal.filesystem import sync_directory
from shoal.model import PortObservation
from shoal.store.base import EPOCH, MAX_DAY, IPNetwork, OpenPorts, observation_target

WEEK_DAYS = 7
FANIN = 4
LEVEL_BASE_ROWS = 16_384
OPEN_SEGMENTS = 256  # memory maps kept open per process (one file descriptor each)
MANIFEST = "manifest.json"
FORMAT = 1
READ_ATTEMPTS = 3
SEGMENT_NAME = re.compile(r"v([46])-w([0-9]{5})-([0-9]{8})\.npy")
DAMAGED = "damaged"
REPAIR = "run 'shoal check --data DIR --repair' (it keeps every readable observation)"

V4_KEY = np.dtype("<u8")
V6_KEY = np.dtype("S20")
# The fields of a key, as views (no copies): FIELDS[version] over an array of keys of that version.
V4_FIELDS = np.dtype(
    {"names": ["day", "port", "ip"], "formats": ["<u2", "<u2", "<u4"], "offsets": [0, 2, 4], "itemsize": 8}
)
V6_FIELDS = np.dtype(
    {"names": ["ip", "port", "day"], "formats": ["S16", ">u2", ">u2"], "offsets": [0, 16, 18], "itemsize": 20}
)
KEY_TYPES = {4: V4_KEY, 6: V6_KEY}
FIELDS = {4: V4_FIELDS, 6: V6_FIELDS}

Target = tuple[bytes, int, int]  # (packed address, port, day)


def encode_observations(observations: Iterable[PortObservation]) -> tuple[np.ndarray, np.ndarray]:
    """``encode(map(observation_target, observations))`` in one loop (the hot path of port-scan imports); ValueError
    naming the first malformed observation."""
    v4: list[int] = []
    v6: list[bytes] = []
    epoch, pton, from_bytes = EPOCH.toordinal(), socket.inet_pton, int.from_bytes
    for observation in observations:
        ip, port, date = observation
        try:
            packed = pton(socket.AF_INET6 if ":" in ip else socket.AF_INET, ip)
            day = date.toordinal() - epoch
        except (OSError, TypeError, ValueError, AttributeError):
            observation_target(observation)  # raises the ValueError that says what is wrong
            raise
        if type(port) is not int or not 0 <= port <= 0xFFFF or not 0 <= day <= MAX_DAY:
            observation_target(observation)
        if len(packed) == 4:
            v4.append(from_bytes(packed, "big") << 32 | port << 16 | day)
        else:
            v6.append(packed + port.to_bytes(2, "big") + day.to_bytes(2, "big"))
    return np.array(v4, dtype=V4_KEY), np.array(v6, dtype=V6_KEY)


def observation_key(packed: bytes, port: int, day: int) -> int | bytes:
    """One observation's key: an int for IPv4, 20 bytes for IPv6 (``keys`` makes the arrays)."""
    if len(packed) == 4:
        return int.from_bytes(packed, "big") << 32 | port << 16 | day
    return packed + port.to_bytes(2, "big") + day.to_bytes(2, "big")


def keys(observations: Iterable[int | bytes]) -> tuple[np.ndarray, np.ndarray]:
    """(IPv4 keys, IPv6 keys) of ``observation_key`` values, unsorted, duplicates kept."""
    v4: list[int] = []
    v6: list[bytes] = []
    for key in observations:
        if type(key) is int:
            v4.append(key)
        else:
            v6.append(key)  # type: ignore[arg-type]
    return np.array(v4, dtype=V4_KEY), np.array(v6, dtype=V6_KEY)


def v4_keys(ips: np.ndarray, ports: np.ndarray, days: np.ndarray) -> np.ndarray:
    """IPv4 keys from parallel arrays (addresses as integers): the bulk path, e.g. for benchmarks."""
    keys = ips.astype(V4_KEY) << np.uint64(32)
    keys |= ports.astype(V4_KEY) << np.uint64(16)
    keys |= days.astype(V4_KEY)
    return keys


def days_of(version: int, keys: np.ndarray) -> np.ndarray:
    return keys.view(FIELDS[version])["day"]


def key_range(network: IPNetwork) -> tuple[np.ndarray, np.ndarray]:
    """The first and last possible key of the addresses in ``network`` (inclusive)."""
    if network.version == 4:
        low = int(network.network_address) << 32
        high = int(network.broadcast_address) << 32 | 0xFFFFFFFF
        return np.array(low, dtype=V4_KEY), np.array(high, dtype=V4_KEY)
    low_bytes = network.network_address.packed + b"\0" * 4
    high_bytes = network.broadcast_address.packed + b"\xff" * 4
    return np.array(low_bytes, dtype=V6_KEY), np.array(high_bytes, dtype=V6_KEY)


def level(rows: int) -> int:
    number, limit = 0, LEVEL_BASE_ROWS * FANIN
    while rows >= limit:
        number, limit = number + 1, limit * FANIN
    return number


@dataclass(frozen=True, slots=True)
class Segment:
    name: str
    version: int
    week: int
    rows: int
    first_day: int
    last_day: int


class ObservationStore:
    def __init__(self, path: Path | str, load: bool = True) -> None:
        self.path = Path(path)
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create {self.path}: {exc}") from exc
        self._state_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._stamp: tuple[int, int, int] | None = None
        self._segments: list[Segment] = []
        self._next = 0
        self._replaced: list[str] = []
        self._maps: OrderedDict[str, np.ndarray] = OrderedDict()
        if load:
            self._start_manifest()
            self._reload()

    def _start_manifest(self) -> None:
        """A new store's first, empty manifest (so a missing one later means it was lost)."""
        if (self.path / MANIFEST).exists():
            return
        with self._write_lock, open(self.path / "lock", "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                if not (self.path / MANIFEST).exists() and not segment_files(self.path):
                    self._commit([])
            except OSError as exc:
                raise StoreError(f"cannot write ports/{MANIFEST}: {exc.strerror or exc}") from exc
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    # -- reading ------------------------------------------------------------------------------------------

    def segments(self) -> list[Segment]:
        self._reload()
        return self._segments

    def count(self) -> int:
        return sum(segment.rows for segment in self.segments())

    def arrays(self, version: int) -> Iterator[np.ndarray]:
        """Every stored key of one IP version, segment by segment (read-only memory maps)."""
        for segment in self.segments():
            if segment.version == version:
                yield self._open(segment)

    def query(self, network: IPNetwork, first_day: int, last_day: int) -> OpenPorts:
        """Counts per (host, port) of observations in ``network`` on days in [first_day, last_day]."""
        for _ in range(READ_ATTEMPTS):
            try:
                return self._query(network, first_day, last_day)
            except FileNotFoundError:  # a merge replaced a segment after we read the manifest
                self._reload(force=True)
        raise StoreError(f"the observation segments in {self.path} kept changing during {READ_ATTEMPTS} reads")

    def _query(self, network: IPNetwork, first_day: int, last_day: int) -> OpenPorts:
        version = network.version
        low, high = key_range(network)
        parts: list[np.ndarray] = []
        for segment in self.segments():
            if segment.version != version or segment.last_day < first_day or segment.first_day > last_day:
                continue
            keys = self._open(segment)
            start = int(np.searchsorted(keys, low, side="left"))
            stop = int(np.searchsorted(keys, high, side="right"))
            if start == stop:
                continue
            window = (first_day, last_day) if segment.first_day < first_day or segment.last_day > last_day else None
            counted = runs(version, keys[start:stop], window)
            if len(counted):
                parts.append(counted)
        return open_ports(version, parts)

    def _open(self, segment: Segment) -> np.ndarray:
        with self._state_lock:
            keys = self._maps.get(segment.name)
            if keys is not None:
                self._maps.move_to_end(segment.name)
                return keys
        try:
            keys = np.load(self.path / segment.name, mmap_mode="r", allow_pickle=False)
        except FileNotFoundError:
            raise
        except (OSError, ValueError) as exc:
            raise StoreError(f"cannot read the observation segment ports/{segment.name} ({exc}): {REPAIR}") from exc
        if keys.dtype != KEY_TYPES[segment.version] or keys.ndim != 1 or len(keys) != segment.rows:
            raise StoreError(f"the observation segment ports/{segment.name} does not match the manifest: {REPAIR}")
        with self._state_lock:
            self._maps[segment.name] = keys
            while len(self._maps) > OPEN_SEGMENTS:
                self._maps.popitem(last=False)
        return keys

    def _reload(self, force: bool = False) -> None:
        """Read the manifest again if it changed on disk (one stat per call)."""
        try:
            status = os.stat(self.path / MANIFEST)
        except FileNotFoundError:
            found = segment_files(self.path)
            if found:
                raise StoreError(
                    f"ports/{MANIFEST} is missing but ports/ holds {len(found)} segment files of open-port"
                    f" observations (nothing was deleted): {REPAIR} to rebuild it from them"
                ) from None
            return
        stamp = (status.st_ino, status.st_mtime_ns, status.st_size)
        if stamp == self._stamp and not force:
            return
        try:
            segments, following, replaced = read_manifest(self.path)
        except FileNotFoundError:
            return
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise StoreError(f"cannot read ports/{MANIFEST} ({exc}): {REPAIR} to rebuild it") from exc
        with self._state_lock:
            self._segments, self._next, self._replaced, self._stamp = segments, following, replaced, stamp
            live = {segment.name for segment in segments}
            for name in [name for name in self._maps if name not in live]:
                del self._maps[name]

    # -- writing ------------------------------------------------------------------------------------------

    def add(self, v4: np.ndarray, v6: np.ndarray) -> tuple[int, int]:
        """Store the keys not stored yet, atomically; returns (imported, duplicates)."""
        total = len(v4) + len(v6)
        if total == 0:
            return 0, 0
        with self._writing():
            written: list[Segment] = []
            try:
                for version, keys in ((4, v4), (6, v6)):
                    for week, part in by_week(version, np.unique(keys)):
                        fresh = self._unseen(version, week, part)
                        if len(fresh):
                            written.append(self._write_segment(version, week, fresh))
                if written:
                    self._commit([*self._segments, *written])
            except BaseException:
                self._discard(written)
                raise
            touched = {(segment.version, segment.week) for segment in written}
            for version, week in sorted(touched):
                self._merge(version, week)
            if touched:
                for version, week in closed_weeks(self._segments, touched):
                    self._replace(version, week, [s for s in self._segments if (s.version, s.week) == (version, week)])
        imported = sum(segment.rows for segment in written)
        return imported, total - imported

    @contextmanager
    def _writing(self) -> Iterator[None]:
        with self._write_lock, open(self.path / "lock", "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                self._reload(force=True)
                self._remove_leftovers()
                yield
            except OSError as exc:
                raise StoreError(f"cannot write open-port observations to {self.path}: {exc}") from exc
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _unseen(self, version: int, week: int, keys: np.ndarray) -> np.ndarray:
        """The keys no committed segment of this week holds."""
        for segment in self._segments:
            if segment.version != version or segment.week != week or not len(keys):
                continue
            stored = self._open(segment)
            where = np.searchsorted(stored, keys)
            np.minimum(where, len(stored) - 1, out=where)
            keys = keys[stored[where] != keys]
        return keys

    def _write_segment(self, version: int, week: int, keys: np.ndarray) -> Segment:
        name = f"v{version}-w{week:05d}-{self._next:08d}.npy"
        self._next += 1
        try:
            with open(self.path / name, "wb") as out:
                np.save(out, np.ascontiguousarray(keys, dtype=KEY_TYPES[version]), allow_pickle=False)
                out.flush()
                os.fsync(out.fileno())
        except BaseException:
            (self.path / name).unlink(missing_ok=True)
            raise
        days = days_of(version, keys)
        return Segment(name, version, week, len(keys), int(days.min()), int(days.max()))

    def _commit(self, segments: list[Segment], replaced: Iterable[str] = ()) -> None:
        """Make ``segments`` the stored state: the one atomic step of every write. ``replaced``: files whose
        observations the new state holds elsewhere, to delete next."""
        body = orjson.dumps(
            {
                "format": FORMAT,
                "next": self._next,
                "segments": [asdict(s) for s in segments],
                "replaced": sorted(replaced),
            }
        )
        temporary = self.path / (MANIFEST + ".tmp")
        try:
            with open(temporary, "wb") as out:
                out.write(body)
                out.flush()
                os.fsync(out.fileno())
            self._sync_directory()  # the new segments' names are durable before the manifest names them
            os.replace(temporary, self.path / MANIFEST)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        self._sync_directory()
        status = os.stat(self.path / MANIFEST)
        with self._state_lock:
            self._segments = segments
            self._stamp = (status.st_ino, status.st_mtime_ns, status.st_size)

    def _merge(self, version: int, week: int) -> None:
        while group := merge_group(self._segments, version, week):
            self._replace(version, week, group)

    def _replace(self, version: int, week: int, group: list[Segment]) -> None:
        """Merge ``group`` (segments of one week) into one segment."""
        merged = np.sort(np.concatenate([self._open(segment) for segment in group]), kind="stable")
        replacement = self._write_segment(version, week, merged)
        names = {segment.name for segment in group}
        try:
            self._commit([s for s in self._segments if s.name not in names] + [replacement], names)
        except BaseException:
            self._discard([replacement])
            raise
        self._discard(group)

    def _discard(self, segments: list[Segment]) -> None:
        with self._state_lock:
            for segment in segments:
                self._maps.pop(segment.name, None)
        for segment in segments:
            (self.path / segment.name).unlink(missing_ok=True)

    def _remove_leftovers(self) -> None:
        """Delete what the manifest names as replaced, and segments of batches that never committed."""
        live = {segment.name for segment in self._segments}
        for path in self.path.iterdir():
            name = SEGMENT_NAME.fullmatch(path.name)
            uncommitted = name is not None and int(name[3]) >= self._next
            if path.suffix == ".tmp" or (path.name not in live and (path.name in self._replaced or uncommitted)):
                path.unlink(missing_ok=True)

    def _sync_directory(self) -> None:
        sync_directory(self.path)

    def _rebuild(self) -> Rebuilt:
        """See ``rebuild`` (called with the writers' lock held)."""
        files = segment_files(self.path)
        parts: dict[int, list[np.ndarray]] = {4: [], 6: []}
        damaged: list[Path] = []
        lost = 0
        for file in files:
            version = int(SEGMENT_NAME.fullmatch(file.name)[1])  # type: ignore[index]
            try:
                rows, announced = read_rows(file, KEY_TYPES[version])
            except (OSError, ValueError):
                damaged.append(file)
                lost += max(0, (file.stat().st_size - 128) // KEY_TYPES[version].itemsize)  # about: no header
                continue
            if len(rows) < announced:
                damaged.append(file)
                lost += announced - len(rows)
            parts[version].append(np.sort(rows))
        try:
            _, following, _ = read_manifest(self.path)
        except (OSError, ValueError, KeyError, TypeError):
            following = 0
        numbers = [int(SEGMENT_NAME.fullmatch(file.name)[3]) for file in files]  # type: ignore[index]
        self._next = max([following, *(number + 1 for number in numbers)])
        written: list[Segment] = []
        for version, arrays in parts.items():
            if arrays:
                for week, keys in by_week(version, np.unique(np.concatenate(arrays))):
                    written.append(self._write_segment(version, week, keys))
        new_names = {segment.name for segment in written}
        self._commit(written, (file.name for file in files if file.name not in new_names))
        (self.path / DAMAGED).mkdir(exist_ok=True)
        for file in files:
            if file in damaged:
                os.replace(file, self.path / DAMAGED / file.name)
            elif file.name not in new_names:
                file.unlink(missing_ok=True)
        self._sync_directory()
        return Rebuilt(len(files), sum(segment.rows for segment in written), lost, tuple(file.name for file in damaged))


def by_week(version: int, keys: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
    """Sorted keys split by week, each part still sorted."""
    if not len(keys):
        return
    weeks = days_of(version, keys) // WEEK_DAYS
    first = int(weeks[0])
    if (weeks == first).all():
        yield first, keys
        return
    order = np.argsort(weeks, kind="stable")
    ordered = weeks[order]
    bounds = np.flatnonzero(ordered[1:] != ordered[:-1]) + 1
    for chunk in np.split(order, bounds):
        yield int(weeks[chunk[0]]), keys[chunk]


def merge_group(segments: list[Segment], version: int, week: int) -> list[Segment]:
    """FANIN or more segments of one level in this week (lowest level first), or nothing to merge."""
    levels: dict[int, list[Segment]] = {}
    for segment in segments:
        if segment.version == version and segment.week == week:
            levels.setdefault(level(segment.rows), []).append(segment)
    for number in sorted(levels):
        if len(levels[number]) >= FANIN:
            return levels[number]
    return []


def closed_weeks(segments: list[Segment], touched: set[tuple[int, int]]) -> list[tuple[int, int]]:
    """Weeks to compact into one segment: several segments, older than the newest week a batch wrote, and
    not written by it (so scans written in order compact each week once, when the next one starts, while a
    bulk import of old data in any order is never rewritten batch after batch)."""
    newest = max(week for _, week in touched)
    counts: dict[tuple[int, int], int] = {}
    for segment in segments:
        key = (segment.version, segment.week)
        counts[key] = counts.get(key, 0) + 1
    return sorted(key for key, number in counts.items() if number > 1 and key[1] < newest and key not in touched)


def run_starts(version: int, keys: np.ndarray) -> np.ndarray:
    """Index of the first key of each (ip, port) in sorted keys, from field views and one-byte masks (never a
    full-size copy of the keys: fresh large temporaries cost a page fault per 4 KiB, which dominated a /16)."""
    fields = keys.view(FIELDS[version])
    ips, ports = fields["ip"], fields["port"]
    changes = ips[1:] != ips[:-1]
    changes |= ports[1:] != ports[:-1]
    starts = np.flatnonzero(changes)
    starts += 1
    return np.concatenate((np.zeros(1, dtype=starts.dtype), starts))


def runs(version: int, rows: np.ndarray, window: tuple[int, int] | None) -> np.ndarray:
    """Counted keys of sorted rows of one segment: one per (ip, port), its day field holding the number of its
    rows (days) in ``window`` (all when None). A segment spans one week, so a count is at most 7."""
    starts = run_starts(version, rows)
    if window is None:
        counts = np.diff(np.append(starts, len(rows)))
    else:
        days = days_of(version, rows)
        inside = days >= window[0]
        inside &= days <= window[1]
        counts = np.add.reduceat(inside, starts, dtype=np.int64)
        seen = counts > 0
        starts, counts = starts[seen], counts[seen]
    counted = rows[starts]
    counted.view(FIELDS[version])["day"] = counts
    return counted


def open_ports(version: int, parts: list[np.ndarray]) -> OpenPorts:
    """Join the counted keys of several segments: sum the counts of each (ip, port)."""
    if not parts:
        return OpenPorts.empty(version)
    # Each part is sorted; a stable sort of their concatenation is a timsort merge of sorted runs.
    merged = parts[0] if len(parts) == 1 else np.sort(np.concatenate(parts), kind="stable")
    starts = run_starts(version, merged)
    counts = np.add.reduceat(days_of(version, merged), starts, dtype=np.int64)
    firsts = merged[starts].view(FIELDS[version])
    hosts = firsts["ip"].astype(np.uint32 if version == 4 else "S16")
    return OpenPorts(version, hosts, firsts["port"].astype(np.uint16), counts)


# -- checking and rebuilding (shoal check) ---------------------------------------------------------------


def segment_files(path: Path) -> list[Path]:
    return sorted(file for file in path.glob("*.npy") if SEGMENT_NAME.fullmatch(file.name))


def read_manifest(path: Path) -> tuple[list[Segment], int, list[str]]:
    data = orjson.loads((path / MANIFEST).read_bytes())
    segments = [Segment(**entry) for entry in data["segments"]]
    return segments, int(data["next"]), [str(name) for name in data.get("replaced", [])]


def read_header(handle: BinaryIO, key_type: np.dtype) -> int:
    """The rows a segment file's header announces (the handle is left at the first row); ValueError if the
    header is unreadable or of another type."""
    version = np.lib.format.read_magic(handle)
    if version == (1, 0):
        shape, _, dtype = np.lib.format.read_array_header_1_0(handle)
    else:
        shape, _, dtype = np.lib.format.read_array_header_2_0(handle)
    if dtype != key_type or len(shape) != 1:
        raise ValueError(f"holds {dtype} {shape}, not a list of {key_type} keys")
    return int(shape[0])


def read_rows(path: Path, key_type: np.dtype) -> tuple[np.ndarray, int]:
    """The whole rows a segment file holds (even if it was cut short) and the rows its header announces;
    ValueError if the header is unreadable or of another type."""
    with open(path, "rb") as handle:
        announced = read_header(handle, key_type)
        data = handle.read()
    whole = min(len(data) // key_type.itemsize, announced)
    return np.frombuffer(data[: whole * key_type.itemsize], dtype=key_type), announced


def count_rows(path: Path, key_type: np.dtype) -> tuple[int, int]:
    """``read_rows``'s two counts from the header and the file's size, without reading the rows."""
    with open(path, "rb") as handle:
        announced = read_header(handle, key_type)
        held = os.fstat(handle.fileno()).st_size - handle.tell()
    return min(held // key_type.itemsize, announced), announced


def problems(path: Path | str) -> list[str]:
    """What is wrong with the observation store at ``path`` (empty if nothing): each message names the file."""
    path = Path(path)
    if not path.exists():
        return []
    try:
        segments, following, replaced = read_manifest(path)
    except FileNotFoundError:
        found = segment_files(path)
        return [f"ports/{MANIFEST} is missing but ports/ holds {len(found)} segment files"] if found else []
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return [f"ports/{MANIFEST} cannot be read ({exc})"]
    found: list[str] = []
    for segment in segments:
        file = path / segment.name
        try:
            whole, announced = count_rows(file, KEY_TYPES[segment.version])
        except FileNotFoundError:
            found.append(f"ports/{segment.name} is in the manifest but missing ({segment.rows:,} observations)")
            continue
        except (OSError, ValueError, KeyError) as exc:
            found.append(f"ports/{segment.name} cannot be read ({exc})")
            continue
        if announced != segment.rows or whole != segment.rows:
            found.append(f"ports/{segment.name} is truncated: {whole:,} of {segment.rows:,} observations")
    live = {segment.name for segment in segments}
    for file in segment_files(path):
        number = int(SEGMENT_NAME.fullmatch(file.name)[3])  # type: ignore[index]
        if file.name not in live and file.name not in replaced and number < following:
            found.append(f"ports/{file.name} holds observations the manifest does not name")
    return found


@dataclass(frozen=True, slots=True)
class Rebuilt:
    segments_read: int
    rows_kept: int  # distinct observations in the rebuilt store
    rows_lost: int  # rows announced by damaged segments that could not be read
    damaged: tuple[str, ...]  # files moved to ports/damaged/


def rebuild(path: Path | str) -> Rebuilt:
    """A new manifest from every segment file: each week's keys merged into one segment (duplicates, e.g. a
    merge's inputs beside its output, counted once); a damaged file gives its whole rows and is moved to
    ``damaged/``. Holds the writers' lock throughout."""
    store = ObservationStore(path, load=False)
    with open(store.path / "lock", "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            return store._rebuild()
        except OSError as exc:
            raise StoreError(f"cannot rebuild ports/{MANIFEST}: {exc.strerror or exc}") from exc
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)

"""A full disk, recognised wherever it surfaces, and the file system it is, described in one line.

A full file system reaches Shoal in many dresses: ``OSError`` with ``ENOSPC``/``EDQUOT``, SQLite's
"database or disk is full", tantivy's "No space left on device (os error 28)" inside a ``ValueError``, or a
``StoreError`` wrapping any of them. ``is_disk_full`` looks through the whole chain of causes. One dress hides
its cause: when tantivy's indexing thread meets the full disk, the writer answers only "An index writer was
killed" (the io::Error stays in that thread); such an error counts as a full disk when the file system holding
the data has less than ``LOW_SPACE_BYTES`` free (measured: 0 B free right after it, on a full tmpfs).
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from shoal.errors import DiskFull

FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}
FULL_WORDS = ("no space left on device", "os error 28", "database or disk is full", "disk quota exceeded")
WRITER_KILLED = "index writer was killed"  # tantivy, when its indexing thread failed (on a full disk: ENOSPC)
LOW_SPACE_BYTES = 64 << 20


def is_disk_full(error: BaseException | None, data: Path | None = None) -> bool:
    """Whether ``error`` (or a cause of it) is a full disk; with ``data``, a killed tantivy writer is one when the
    file system holding ``data`` is (nearly) full."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, DiskFull) or (isinstance(error, OSError) and error.errno in FULL_ERRNOS):
            return True
        text = str(error).lower()
        if any(word in text for word in FULL_WORDS):
            return True
        if data is not None and WRITER_KILLED in text and free_bytes(data) < LOW_SPACE_BYTES:
            return True
        error = error.__cause__ or error.__context__
    return False


def free_bytes(path: Path) -> int:
    """Bytes free to an ordinary user on the file system holding ``path`` (a large number if it cannot be told)."""
    try:
        status = os.statvfs(nearest_existing(path))
    except OSError:
        return 1 << 62
    return status.f_bavail * status.f_frsize


def sync_directory(path: Path) -> None:
    """Make the names in the directory ``path`` durable (an fsync of the directory itself)."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def replace_durably(path: Path, body: bytes, mode: int | None = None) -> None:
    """Replace the file ``path`` by ``body``, atomically and durably: a temporary file beside it (``mode``, if
    given), fsync, rename, fsync of the folder. A failed write removes the temporary file and raises."""
    temporary = path.with_suffix(".tmp")
    try:
        with open(temporary, "wb") as out:
            if mode is not None:
                os.fchmod(out.fileno(), mode)
            out.write(body)
            out.flush()
            os.fsync(out.fileno())
    except OSError:
        temporary.unlink(missing_ok=True)
        raise
    os.replace(temporary, path)
    sync_directory(path.parent)


def mount_of(path: Path) -> tuple[str, str]:
    """(mount point, file system type) of the file system holding ``path``."""
    target = os.path.realpath(nearest_existing(path))
    best, kind = "/", "unknown"
    try:
        with open("/proc/self/mounts", encoding="utf-8", errors="replace") as mounts:
            for line in mounts:
                fields = line.split()
                if len(fields) < 3:
                    continue
                point = fields[1].replace("\\040", " ")
                inside = target == point or target.startswith(point.rstrip("/") + "/")
                if inside and len(point) >= len(best):
                    best, kind = point, fields[2]
    except OSError:
        pass
    return best, kind


def nearest_existing(path: Path) -> Path:
    path = Path(path).absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def describe(path: Path) -> str:
    """e.g. "the file system mounted at /srv (ext4, 20.0 GiB, 0 B free)"."""
    point, kind = mount_of(path)
    try:
        status = os.statvfs(nearest_existing(path))
        size = f", {size_text(status.f_blocks * status.f_frsize)}, {size_text(status.f_bavail * status.f_frsize)} free"
    except OSError:
        size = ""
    return f"the file system mounted at {point} ({kind}{size})"


def size_text(count: int) -> str:
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"


def disk_full(path: Path, kept: str) -> DiskFull:
    """The one-line error for the CLI: which file system, and what was kept."""
    return DiskFull(f"the disk is full: {describe(path)} has no room left; {kept}")

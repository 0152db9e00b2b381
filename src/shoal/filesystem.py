"""A full disk, recognised wherever it surfaces, and the file system it is, described in one line.

A full file system reaches Shoal in many dresses: ``OSError`` with ``ENOSPC``/``EDQUOT``, SQLite's
"database or disk is full", tantivy's "No space left on device (os error 28)" inside a ``ValueError``, or a
``StoreError`` wrapping any of them. ``is_disk_full`` looks through the whole chain of causes.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from shoal.errors import DiskFull

FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}
FULL_WORDS = ("no space left on device", "os error 28", "database or disk is full", "disk quota exceeded")


def is_disk_full(error: BaseException | None) -> bool:
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, DiskFull) or (isinstance(error, OSError) and error.errno in FULL_ERRNOS):
            return True
        if any(word in str(error).lower() for word in FULL_WORDS):
            return True
        error = error.__cause__ or error.__context__
    return False


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

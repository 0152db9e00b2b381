"""What every worker process of Shoal does first: exit with the process that started it, collect garbage seldom,
and keep few malloc arenas. Used by the importer's parser processes (``ingest.pipeline``) and the embedded store's
shard writers (``store.embedded.processes``); a command that writes keeps few arenas too (``cli.common.open_store``)."""

from __future__ import annotations

import ctypes
import gc
import signal
import sys

PR_SET_PDEATHSIG = 1
WORKER_GC_THRESHOLDS = (50_000, 20, 100)  # Python's are (700, 10, 10)
M_ARENA_MAX = -8  # glibc's mallopt parameter: how many malloc arenas the process may have
MALLOC_ARENAS = 2


def start_worker() -> None:
    """In a worker: collect garbage seldom (a chunk's reports hold no cycles, and the collector's passes over
    them cost more than the decoding), keep few malloc arenas, and exit with the importing process."""
    gc.set_threshold(*WORKER_GC_THRESHOLDS)
    few_malloc_arenas()
    die_with_parent()


def few_malloc_arenas() -> None:
    """At most MALLOC_ARENAS malloc arenas in this process from now on (glibc; elsewhere nothing changes). glibc
    gives each thread that allocates an arena of its own, up to eight a core, and keeps what is freed in the arena
    it came from: an import's threads (the pipes' senders and receivers, tantivy's indexing, merging and
    compressing) pass large buffers between them, and its coordinator held twice the memory it needs (a 3M-report
    import: 1,065-1,135 MB of anonymous memory, 556 MB with two arenas; BENCHMARKS.md, issue 25). glibc reads
    the limit when a second thread first allocates: called later, it changes nothing."""
    if sys.platform != "linux":
        return
    mallopt = getattr(libc(), "mallopt", None)
    if mallopt is not None:
        mallopt(M_ARENA_MAX, MALLOC_ARENAS)


def die_with_parent() -> None:
    """In a worker: exit when the importing process dies, even by SIGKILL (Linux's PR_SET_PDEATHSIG)."""
    if sys.platform != "linux":
        return
    libc().prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def libc() -> ctypes.CDLL:
    """The C library's functions, from the process's own symbols (no library search: ``ctypes.util`` alone takes
    17 ms to import)."""
    return ctypes.CDLL(None, use_errno=True)

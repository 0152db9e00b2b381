"""What every worker process of Shoal does first: exit with the process that started it, and collect garbage
seldom. Used by the importer's parser processes (``ingest.pipeline``) and the embedded store's shard writers
(``store.embedded.processes``)."""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import signal
import sys

PR_SET_PDEATHSIG = 1
WORKER_GC_THRESHOLDS = (50_000, 20, 100)  # Python's are (700, 10, 10)


def start_worker() -> None:
    """In a worker: collect garbage seldom (a chunk's reports hold no cycles, and the collector's passes over
    them cost more than the decoding), and exit with the importing process."""
    gc.set_threshold(*WORKER_GC_THRESHOLDS)
    die_with_parent()


def die_with_parent() -> None:
    """In a worker: exit when the importing process dies, even by SIGKILL (Linux's PR_SET_PDEATHSIG)."""
    if sys.platform != "linux":
        return
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)

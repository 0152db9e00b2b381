"""Fingerprints the collector computes from what a service sent (pure functions; JARM opens connections).

- ``cert_sha256(der)``: the SHA-256 of a certificate's DER bytes, lowercase hex (the ``cert-sha256`` item).
- ``favicon_mmh3(content)``: Shodan's favicon hash — MurmurHash3 (x86, 32-bit, seed 0, signed) of the
  favicon's base64 text *with a newline after every 76 characters and at the end* (Python's
  ``base64.encodebytes``, which is what Shodan hashes), so values match ``http.favicon.hash:`` searches.
- ``jarm(host, port)`` / ``jarm_async``: the JARM TLS fingerprint (10 crafted ClientHellos) via ``pyjarm``
  (ISC). Returns None when the server answered none of them (JARM's all-zero hash). Only call it on
  targets the collector is allowed to scan: it opens 10 TLS connections.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import warnings

JARM_NOTHING = "0" * 62  # pyjarm's hash when no ClientHello got a ServerHello
JARM_TIMEOUT_SECONDS = 5
_IGNORE_ALL = ("ignore", None, Warning, None, 0)  # what warnings.filterwarnings("ignore") inserts


def cert_sha256(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest()


def favicon_mmh3(content: bytes) -> int:
    import mmh3

    return int(mmh3.hash(base64.encodebytes(content)))


async def jarm_async(host: str, port: int, timeout: float = JARM_TIMEOUT_SECONDS) -> str | None:
    """The JARM hash of host:port (an address or a name), or None if nothing answered.

    A plain connect comes first, so a closed port costs one connection, not ten. pyjarm's ``suppress``
    (which keeps it from logging a traceback per failure) also adds a process-wide "ignore all warnings"
    filter; it is taken out again afterwards unless it was there before.
    """
    from jarm.scanner.scanner import Scanner

    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    except (OSError, TimeoutError):
        return None
    had_filter = _IGNORE_ALL in warnings.filters
    try:
        result = await Scanner.scan_async(host, port, timeout=int(max(1, timeout)), proxy="ignore", suppress=True)
    finally:
        if not had_filter and _IGNORE_ALL in warnings.filters:
            warnings.filters.remove(_IGNORE_ALL)
            getattr(warnings, "_filters_mutated", lambda: None)()
    value = str(result[0])
    return None if value == JARM_NOTHING else value


def jarm(host: str, port: int, timeout: float = JARM_TIMEOUT_SECONDS) -> str | None:
    """``jarm_async`` for callers without an event loop."""
    return asyncio.run(jarm_async(host, port, timeout))

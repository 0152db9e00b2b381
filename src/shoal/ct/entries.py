"""One certificate logged in Certificate Transparency as one ``ct`` report (DESIGN.md §6).

Items: the certificate's (``subject``, ``issuer``, ``host;cert-dns-name``, ``ip;cert-ip-address``,
``cert-sha256``; ``shoal.certificates``), its ``cert-serial``, ``cert-not-before`` and ``cert-not-after``, then
where it was logged (metadata): ``ct-log`` (the log's URL), ``ct-index`` (the entry's index) and
``ct-entry-type`` (``x509`` or ``precert``). The date is the UTC day of the entry's timestamp.

RFC 6962 §3.4: a ``MerkleTreeLeaf`` is version (1 byte), leaf type (1), a ``TimestampedEntry``: timestamp
(8, ms), entry type (2: 0 x509, 1 precert), then the certificate (3-byte length + DER) or, for a precert, the
issuer key hash (32) and the TBSCertificate (3-byte length), then extensions (2-byte length). A precert's
``extra_data`` starts with the whole pre-certificate (3-byte length + DER): its items come from that.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from shoal.certificates import certificate_items, validity_items
from shoal.ingest.records import BadRecord, record_id
from shoal.model import CT, Item, Report

X509_ENTRY, PRECERT_ENTRY = 0, 1
ENTRY_TYPES = {X509_ENTRY: "x509", PRECERT_ENTRY: "precert"}
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True, slots=True)
class LogEntry:
    timestamp_ms: int
    entry_type: int  # X509_ENTRY or PRECERT_ENTRY
    certificate: bytes  # the DER of the certificate, or of the pre-certificate (from extra_data)


def _opaque24(data: bytes, offset: int) -> tuple[bytes, int]:
    if offset + 3 > len(data):
        raise BadRecord("a CT entry ends inside a length")
    length = int.from_bytes(data[offset : offset + 3], "big")
    end = offset + 3 + length
    if end > len(data):
        raise BadRecord("a CT entry is shorter than its length says")
    return data[offset + 3 : end], end


def parse_entry(leaf_input: bytes, extra_data: bytes) -> LogEntry:
    """An RFC 6962 entry (``get-entries``'s ``leaf_input`` and ``extra_data``); BadRecord saying what is wrong."""
    if len(leaf_input) < 12 or leaf_input[0] != 0 or leaf_input[1] != 0:
        raise BadRecord("not a v1 timestamped-entry MerkleTreeLeaf")
    timestamp = int.from_bytes(leaf_input[2:10], "big")
    entry_type = int.from_bytes(leaf_input[10:12], "big")
    if entry_type == X509_ENTRY:
        certificate, _ = _opaque24(leaf_input, 12)
    elif entry_type == PRECERT_ENTRY:
        if len(leaf_input) < 12 + 32:
            raise BadRecord("a precert entry without its issuer key hash")
        _opaque24(leaf_input, 44)  # the TBSCertificate: its length must be right
        certificate, _ = _opaque24(extra_data, 0)
    else:
        raise BadRecord(f"unknown CT entry type {entry_type}")
    return LogEntry(timestamp, entry_type, certificate)


def entry_report(log_url: str, index: int, entry: LogEntry) -> Report:
    """The ``ct`` report of one log entry; its id is derived from the log and the index, so reading an entry
    twice stores it once."""
    day = (EPOCH + dt.timedelta(milliseconds=entry.timestamp_ms)).date()
    items = [
        *certificate_items(entry.certificate),
        *validity_items(entry.certificate),
        Item("ct-log", log_url, "", True),
        Item("ct-index", str(index), "", True),
        Item("ct-entry-type", ENTRY_TYPES[entry.entry_type], "", True),
    ]
    return Report(date=day, items=tuple(items), id=record_id("ct", log_url, str(index)), dataset=CT)

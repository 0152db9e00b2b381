"""What CT watchers save, as ``ct`` reports: certstream JSON messages and crt.sh JSON exports.

- certstream (``certstream --json``, certstream-server-go): one message a line; ``certificate_update``
  messages are certificates (``data.leaf_cert``, ``data.cert_index``, ``data.source.url``, ``data.seen``,
  ``data.update_type``), others (``heartbeat``) are skipped. With ``as_der`` (the full stream) the items come
  from the DER; otherwise from ``subject``/``issuer`` (``aggregated``), ``all_domains``, the subjectAltName
  extension's IP addresses and ``sha256`` when the server sends it.
- crt.sh (``https://crt.sh/?q=…&output=json``): one JSON array of ``{"id", "issuer_name", "common_name",
  "name_value", "entry_timestamp", "not_before", "not_after", "serial_number"}``; ``name_value`` holds the
  names, one a line. crt.sh does not export the certificate's digest: those reports have no ``cert-sha256``.
  Rejections of crt.sh records give the record's position in the array (1-based) as their line.

Each report is dated by when the log saw the certificate (certstream ``seen``, crt.sh ``entry_timestamp``).
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import re
from collections.abc import Iterator
from typing import Any, BinaryIO

from shoal.certificates import base64_certificate_items, named_items
from shoal.ingest.jsonl import LineChunk, Rejected
from shoal.ingest.records import BadRecord, Record, day_of, decode_json_lines, record_id, text_of
from shoal.model import CT, Item, Report, check_item_count

SAN_IP = re.compile(r"IP Address:([0-9A-Fa-f:.]+)")
ENTRY_TYPES = {"X509LogEntry": "x509", "PrecertLogEntry": "precert"}
MAX_EXPORT_BYTES = 1 << 30


def decode_certstream_chunk(chunk: LineChunk) -> list[Record]:
    return decode_json_lines(chunk, decode_certstream_line)


def decode_certstream_line(line: Any, raw: bytes, source: str, number: int) -> Iterator[Report]:
    if type(line) is not dict:
        raise BadRecord("a certstream message must be a JSON object")
    if line.get("message_type", "certificate_update") != "certificate_update":
        return
    data = line.get("data")
    leaf = data.get("leaf_cert") if type(data) is dict else None
    if type(leaf) is not dict:
        raise BadRecord("a certificate_update needs 'data.leaf_cert'")
    day = day_of(data.get("seen"), "seen")
    items = _leaf_items(leaf)
    source_url = data.get("source", {}).get("url") if type(data.get("source")) is dict else None
    log = text_of(source_url, 512) or "certstream"
    items.append(Item("ct-log", log, "", True))
    if type(data.get("cert_index")) is int:
        items.append(Item("ct-index", str(data["cert_index"]), "", True))
    if data.get("update_type") in ENTRY_TYPES:
        items.append(Item("ct-entry-type", ENTRY_TYPES[data["update_type"]], "", True))
    identity = record_id("ct", log, str(data.get("cert_index"))) if "cert_index" in data else record_id("ct", raw)
    yield Report(date=day, items=tuple(items), id=identity, dataset=CT)


def _leaf_items(leaf: dict[str, Any]) -> list[Item]:
    der = leaf.get("as_der")
    if type(der) is str and der and (decoded := base64_certificate_items(der)) is not None:
        return decoded + _validity(leaf)
    extensions = leaf.get("extensions") if type(leaf.get("extensions")) is dict else {}
    san = extensions.get("subjectAltName") if type(extensions.get("subjectAltName")) is str else ""
    domains = leaf.get("all_domains") if type(leaf.get("all_domains")) is list else []
    names = [name for name in domains if type(name) is str]
    subject, issuer = _aggregated(leaf.get("subject")), _aggregated(leaf.get("issuer"))
    return named_items(subject, issuer, names, SAN_IP.findall(san), leaf.get("sha256")) + _validity(leaf)


def _aggregated(name: Any) -> str:
    """certstream's ``/C=US/O=Example/CN=example.com`` as ``CN=example.com, O=Example, C=US``."""
    if type(name) is not dict or type(name.get("aggregated")) is not str:
        return ""
    parts = [part for part in name["aggregated"].split("/") if "=" in part]
    return text_of(", ".join(reversed(parts)), 1024)


def _validity(leaf: dict[str, Any]) -> list[Item]:
    items = []
    if type(leaf.get("serial_number")) is str:
        items.append(serial_item(leaf["serial_number"]))
    for key, kind in (("not_before", "cert-not-before"), ("not_after", "cert-not-after")):
        if type(leaf.get(key)) in (int, float):
            with contextlib.suppress(BadRecord):
                items.append(Item(kind, day_of(leaf[key], key).isoformat()))
    return items


def serial_item(serial: str) -> Item:
    """A certificate's serial number as the certificate readers write it: lower-case hex, no leading zeros."""
    return Item("cert-serial", text_of(serial, 128).lower().lstrip("0") or "0")


def read_crtsh(stream: BinaryIO, source: str) -> Iterator[Report | Rejected]:
    """The records of a crt.sh export, one by one; a record that does not parse is rejected and the reader
    goes on at the next record (a cut-off export keeps everything before the cut)."""
    text = stream.read(MAX_EXPORT_BYTES + 1).decode("utf-8", "replace")
    if len(text) > MAX_EXPORT_BYTES:
        yield Rejected(source, 1, f"a crt.sh export larger than {MAX_EXPORT_BYTES >> 20} MiB")
        return
    decoder = json.JSONDecoder()
    position = text.find("[") + 1
    number = 0
    while True:
        while position < len(text) and text[position] in " \t\r\n,":
            position += 1
        if position >= len(text) or text[position] == "]":
            return
        number += 1
        try:
            record, position = decoder.raw_decode(text, position)
            report = crtsh_report(record)
            check_item_count(len(report.items))
            yield report
        except json.JSONDecodeError as exc:
            yield Rejected(source, number, f"not valid JSON: {exc.msg}")
            following = text.find("{", exc.pos + 1)
            if following < 0:
                return
            position = following
        except (ValueError, TypeError, KeyError, AttributeError) as exc:  # BadRecord, InvalidReport
            yield Rejected(source, number, str(exc))


def crtsh_report(record: Any) -> Report:
    if type(record) is not dict:
        raise BadRecord("a crt.sh record must be a JSON object")
    crtsh_id = record.get("id")
    if type(crtsh_id) is not int:
        raise BadRecord("a crt.sh record needs its numeric 'id'")
    day = day_of(record.get("entry_timestamp"), "entry_timestamp")
    names = record.get("name_value") if type(record.get("name_value")) is str else ""
    common_name = text_of(record.get("common_name"), 256)
    dns_names = [common_name, *names.split("\n")] if common_name else names.split("\n")
    addresses = [name for name in dns_names if _is_address(name)]
    items = named_items(
        f"CN={common_name}" if common_name else "",
        text_of(record.get("issuer_name"), 1024),
        [name for name in dns_names if name and name not in addresses],
        addresses,
    )
    if type(record.get("serial_number")) is str:
        items.append(serial_item(record["serial_number"]))
    for key, kind in (("not_before", "cert-not-before"), ("not_after", "cert-not-after")):
        if type(record.get(key)) is str:
            items.append(Item(kind, day_of(record[key], key).isoformat()))
    items += [Item("ct-log", "crt.sh", "", True), Item("crtsh-id", str(crtsh_id), "", True)]
    return Report(date=day, items=tuple(items), id=record_id("crt.sh", str(crtsh_id)), dataset=CT)


def _is_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name.strip())
    except ValueError:
        return False
    return True

"""nmap XML (``-oX``) as reports and observations, one ``<host>`` element at a time.

The file is cut into its ``<host>…</host>`` elements (nmap writes each from the start of a line), and each is
parsed on its own with ``defusedxml`` (no DTD, no entities: an XML bomb is one rejected host, never an
expansion). A malformed host element is rejected with its line number and the reader goes on with the next, so
a truncated file (an interrupted scan) keeps every host before the cut. Per host, dated by its ``starttime``
(else the run's ``start``), UTC day:

- each open TCP port whose service nmap **probed** (``-sV``: ``method="probed"``) → one ``protocols`` report;
- each open TCP port nmap only named from its port table (no ``-sV``), or found ``tcpwrapped`` (it closed without
  a word) → an open-port observation;
- each open UDP port → a UDP observation (``port-udp``, docs/ports.md);
- PTR host names (``<hostname type="PTR">``) → one ``rdns`` report for the address.

docs/importers.md has the mapping table.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

import defusedxml.ElementTree as SafeTree
from defusedxml import DefusedXmlException

from shoal.certificates import base64_certificate_items, named_items
from shoal.ingest.jsonl import Rejected
from shoal.ingest.records import BadRecord, Record, checked_ip, day_of, record_id, target_items, text_of
from shoal.model import RDNS, Item, PortObservation, Report, UdpObservation, check_item_count

FORMAT = "nmap"
HOST_START = re.compile(rb"<host[\s>]")
HOST_END = b"</host>"
RUN_START = re.compile(rb"<nmaprun\b[^>]*\bstart=\"(\d+)\"")
MAX_HOST_BYTES = 16 << 20  # a host element longer than this is rejected (nmap's own are a few KiB)
HOSTS_PER_CHUNK = 500
PEM = re.compile(r"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", re.DOTALL)
SAN_ENTRY = re.compile(r"(DNS|IP Address):([^,\s]+)")


@dataclass(frozen=True, slots=True)
class HostChunk:
    """Consecutive ``<host>`` elements of one nmap file: (line number, bytes) each, and the run's start time."""

    source: str
    hosts: list[tuple[int, bytes]]
    run_start: int | None


def read_host_chunks(stream: BinaryIO, source: str, hosts_per_chunk: int = HOSTS_PER_CHUNK) -> Iterator[HostChunk]:
    """The host elements of an nmap XML stream, in chunks; an element that never closes is one host of its own
    (its parse then fails, and it is rejected)."""
    run_start: int | None = None
    hosts: list[tuple[int, bytes]] = []
    pending: list[bytes] = []
    pending_size = 0
    first = 0
    for number, line in enumerate(stream, start=1):
        if run_start is None and not pending and (match := RUN_START.search(line)):
            run_start = int(match.group(1))
        if not pending:
            start = HOST_START.search(line)
            if start is None:
                continue
            line, first = line[start.start() :], number
        elif HOST_START.match(line.lstrip()):  # a new host while the last never closed
            hosts.append((first, b"".join(pending)))
            pending, pending_size, first = [], 0, number
        end = line.find(HOST_END)
        if end >= 0:
            pending.append(line[: end + len(HOST_END)])
            hosts.append((first, b"".join(pending)))
            pending, pending_size = [], 0
            if len(hosts) >= hosts_per_chunk:
                yield HostChunk(source, hosts, run_start)
                hosts = []
            continue
        pending.append(line)
        pending_size += len(line)
        if pending_size > MAX_HOST_BYTES:
            hosts.append((first, b"<host-too-long/>"))
            pending, pending_size = [], 0
    if pending:
        hosts.append((first, b"".join(pending)))
    if hosts:
        yield HostChunk(source, hosts, run_start)


def decode_host_chunk(chunk: HostChunk) -> list[Record]:
    records: list[Record] = []
    for number, block in chunk.hosts:
        try:
            if block == b"<host-too-long/>":
                raise BadRecord(f"a <host> element longer than {MAX_HOST_BYTES >> 20} MiB")
            try:
                element = SafeTree.fromstring(block, forbid_dtd=True)
            except (ElementTree.ParseError, DefusedXmlException) as exc:
                raise BadRecord(f"not a well-formed <host> element: {exc}") from None
            found = list(host_records(element, block, chunk.run_start))
            for record in found:
                if isinstance(record, Report):
                    check_item_count(len(record.items))
            records.extend(found)
        except ValueError as exc:
            records.append(Rejected(chunk.source, number, str(exc)))
    return records


def host_records(host: ElementTree.Element, raw: bytes, run_start: int | None) -> Iterator[Record]:
    address = next((a for a in host.iter("address") if a.get("addrtype") in ("ipv4", "ipv6")), None)
    if address is None:
        raise BadRecord("a <host> without an ipv4 or ipv6 <address>")
    ip = checked_ip(address.get("addr"), "address")
    started = host.get("starttime") or run_start
    if started is None:
        raise BadRecord("a <host> without 'starttime' (and the run has no 'start')")
    day = day_of(started, "starttime")
    for port in host.iterfind("ports/port"):
        state = port.find("state")
        if state is None or state.get("state") != "open":
            continue
        number = _port_number(port.get("portid"))
        if port.get("protocol") == "udp":
            yield UdpObservation(ip, number, day)
        elif port.get("protocol") == "tcp":
            service = port.find("service")
            if service is None or service.get("method") != "probed" or service.get("name") == "tcpwrapped":
                yield PortObservation(ip, number, day)
            else:
                items = [*target_items(ip, number), *service_items(port, service)]
                yield Report(date=day, items=tuple(items), id=record_id(FORMAT, raw, str(number)))
    names = [name.get("name", "") for name in host.iterfind("hostnames/hostname") if name.get("type") == "PTR"]
    ptr_items = [Item("host", text_of(name, 256).rstrip("."), "dns-ptr") for name in names if name]
    if ptr_items:
        yield Report(date=day, items=(*target_items(ip), *ptr_items), id=record_id(FORMAT, raw, "ptr"), dataset=RDNS)


def _port_number(value: str | None) -> int:
    if value is None or not value.isdigit() or int(value) > 0xFFFF:
        raise BadRecord(f"'portid' must be a port number from 0 to 65535, not {value!r:.40}")
    return int(value)


def service_items(port: ElementTree.Element, service: ElementTree.Element) -> list[Item]:
    """server-banner (context: the service name; ``https`` for http over SSL), product-info, cpe, scripts."""
    name = service.get("name") or "unknown"
    if service.get("tunnel") == "ssl" and name == "http":
        name = "https"
    scripts = {script.get("id"): script for script in port.iterfind("script")}
    product = " ".join(text for text in (service.get("product"), service.get("version")) if text)
    if service.get("extrainfo"):
        product = f"{product} ({service.get('extrainfo')})".strip()
    banner_script = scripts.get("banner")
    banner = text_of(banner_script.get("output")) if banner_script is not None else text_of(product)
    items = [Item("server-banner", banner, name[:64])]
    if product:
        items.append(Item("product-info", text_of(product, 1024)))
    items += [Item("cpe", text_of(cpe.text, 512)) for cpe in service.iterfind("cpe") if cpe.text]
    if (title := scripts.get("http-title")) is not None:
        value = _elem(title, "title") or title.get("output", "")
        if value:
            items.append(Item("title", text_of(value, 1024)))
    if (server := scripts.get("http-server-header")) is not None:
        values = [elem.text for elem in server.iterfind("elem") if elem.text] or [server.get("output", "")]
        items += [Item("http-header", text_of(value), "Server") for value in values if value]
    if (hostkeys := scripts.get("ssh-hostkey")) is not None:
        for table in hostkeys.iterfind("table"):
            fingerprint, kind = _elem(table, "fingerprint"), _elem(table, "type")
            if fingerprint:
                items.append(Item("ssh-hostkey", text_of(fingerprint, 128), text_of(kind, 64)))
    if (certificate := scripts.get("ssl-cert")) is not None:
        items += ssl_cert_items(certificate)
    return items


def _elem(element: ElementTree.Element, key: str) -> str:
    found = element.find(f"elem[@key='{key}']")
    return (found.text or "") if found is not None else ""


def ssl_cert_items(script: ElementTree.Element) -> list[Item]:
    """The certificate of nmap's ``ssl-cert`` script: from its PEM when present, else from its tables."""
    pem = PEM.search(_elem(script, "pem") or script.get("output", ""))
    if pem and (decoded := base64_certificate_items("".join(pem.group(1).split()))) is not None:
        return decoded
    subject = _name_table(script.find("table[@key='subject']"))
    issuer = _name_table(script.find("table[@key='issuer']"))
    dns_names: list[str] = []
    ips: list[str] = []
    for extension in script.iterfind("table[@key='extensions']/table"):
        if _elem(extension, "name") == "X509v3 Subject Alternative Name":
            for kind, value in SAN_ENTRY.findall(_elem(extension, "value")):
                (dns_names if kind == "DNS" else ips).append(value)
    return named_items(subject, issuer, dns_names, ips, _elem(script, "sha256"))


NAME_KEYS = {"commonName": "CN", "organizationName": "O", "organizationalUnitName": "OU", "countryName": "C"}
NAME_KEYS |= {"stateOrProvinceName": "ST", "localityName": "L"}


def _name_table(table: ElementTree.Element | None) -> str:
    """nmap's name table (``commonName``, ``organizationName``, …) as ``CN=…, O=…, C=…``."""
    if table is None:
        return ""
    parts = [(elem.get("key", ""), elem.text or "") for elem in table.iterfind("elem")]
    order = list(NAME_KEYS)
    parts.sort(key=lambda part: order.index(part[0]) if part[0] in order else len(order))
    return ", ".join(f"{NAME_KEYS.get(key, key)}={text_of(value, 256)}" for key, value in parts if value)

"""The one data model: a Report is a dated set of Items in one dataset; a PortObservation is the plain fact
that an ip:port accepted a TCP connection on a day (DESIGN.md §1); a Body is a raw response kept beside a report;
a Dataset is one row of the table of datasets (``DATASET_TABLE``), which everything else reads.

Shapes are exactly Driftnet's: ``{"date", "id", "items": [{"context", "is_metadata", "type", "value"}]}``. A
report's dataset and bodies are not part of that shape: the dataset is where the report is stored (and which
endpoint searches it), bodies are served by ``scan/protocols/body``.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import ipaddress
import os
import secrets
import socket
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import orjson

ID_LENGTH = 22

# The names of the datasets a store holds (their rows, ``DATASET_TABLE``, are at the end of this module).
PROTOCOLS = "protocols"
DOMAINS = "domains"
CT = "ct"
RDNS = "rdns"
FAVICONS = "favicons"
FDNS = "fdns"
MX = "mx"
SUPERSEDES = "supersedes"  # the item a successor names its predecessor's id with (shoal enrich)
BODY_SHA256 = "body-sha256"  # the item naming a report's stored body (context: the protocol it came from)
MAX_BODY_BYTES = 256 * 1024  # bodies are kept up to this size; longer ones are cut and marked truncated
MAX_ID_LENGTH = 128
PORT_TYPES = ("port-tcp", "port-udp")  # the scanned port of a TCP service's report, of a UDP service's
ITEMS_VARIABLE = "SHOAL_MAX_REPORT_ITEMS"
DEFAULT_MAX_REPORT_ITEMS = 10_000  # real reports hold 5–200 items; a certificate rarely names 1,000 hosts


def new_report_id() -> str:
    """A 22-character URL-safe random id (128 bits of randomness, like Driftnet's)."""
    return secrets.token_urlsafe(16)[:ID_LENGTH]


def content_id(data: dict[str, Any]) -> str:
    """A 22-character URL-safe id derived from a report's date and items, for input that carries no id:
    importing the same file twice then adds nothing, as with ids that are given."""
    digest = hashlib.blake2b(orjson.dumps([data.get("date"), data.get("items")]), digest_size=16).digest()
    return base64.urlsafe_b64encode(digest).decode()[:ID_LENGTH]


class InvalidReport(ValueError):
    """A report (or a line holding one) does not have the documented shape."""


def max_report_items() -> int:
    """The cap on items per imported report: ``$SHOAL_MAX_REPORT_ITEMS``, else 10,000. A report over it is
    rejected (never cut: a cut report would say less than its source did), so that one line cannot make every
    search, host page and export that meets it carry millions of items."""
    return _items_cap(os.environ.get(ITEMS_VARIABLE, ""))


@functools.lru_cache(maxsize=4)
def _items_cap(text: str) -> int:
    value = text.strip()
    return int(value) if value.isascii() and value.isdigit() and int(value) > 0 else DEFAULT_MAX_REPORT_ITEMS


def check_item_count(count: int) -> None:
    """InvalidReport if a report of ``count`` items is over the cap (called by every reader, per record)."""
    cap = max_report_items()
    if count > cap:
        raise InvalidReport(f"a report of {count:,} items, more than the {cap:,} a report may hold (${ITEMS_VARIABLE})")


class Item(NamedTuple):
    """One observed (or enriched) value. A tuple: reports hold millions of them, so they must be cheap."""

    type: str
    value: str
    context: str = ""
    is_metadata: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"context": self.context, "is_metadata": self.is_metadata, "type": self.type, "value": self.value}


class PortObservation(NamedTuple):
    """ip:port accepted a TCP connection on date (UTC). Every report is also one; port scans add more."""

    ip: str
    port: int
    date: dt.date


class UdpObservation(NamedTuple):
    """ip answered on UDP port on date (UTC): masscan's UDP entries. Kept apart from the TCP observations that
    ``scan/ports`` counts (docs/ports.md)."""

    ip: str
    port: int
    date: dt.date


class DnsAnswer(NamedTuple):
    """A forward DNS answer (``www.example.com A 192.0.2.1``) seen on date (UTC): zdns and massdns output and
    the collector's own lookups. Kept beside the reports for the domain scans (``shoal scan --names known``)."""

    name: str  # lower case, no trailing dot
    type: str  # A, AAAA, CNAME, NS, MX, TXT
    value: str
    date: dt.date


@dataclass(frozen=True, slots=True)
class Body:
    """A raw response (an HTTP body, a whole banner) as received, at most MAX_BODY_BYTES of it."""

    data: bytes
    content_type: str = ""  # the Content-Type the service declared, if any
    truncated: bool = False  # the service sent more than MAX_BODY_BYTES
    # The data's digest, which names the body (the body-sha256 item, the store's key): hashed once, when the body
    # is made, so the readers, the importer's workers and the store do not hash up to 256 KiB again each; a store
    # reading a body back by its digest gives it.
    sha256: str = field(default="", repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.sha256:
            object.__setattr__(self, "sha256", hashlib.sha256(self.data).hexdigest())

    @classmethod
    def capped(cls, data: bytes, content_type: str = "") -> Body:
        return cls(data[:MAX_BODY_BYTES], content_type, len(data) > MAX_BODY_BYTES)


@dataclass(frozen=True, slots=True)
class Report:
    date: dt.date
    items: tuple[Item, ...]
    id: str = field(default_factory=new_report_id)
    dataset: str = PROTOCOLS
    bodies: tuple[Body, ...] = field(default=(), compare=False)  # each named by a BODY_SHA256 item

    def value_of(self, item_type: str) -> str | None:
        """The value of the first item of ``item_type`` with an empty context (the report's own, e.g. its host)."""
        for item in self.items:
            if item.type == item_type and item.context == "":
                return item.value
        return None

    @property
    def ip(self) -> str | None:
        """The scanned address: the first ``ip`` item with an empty context."""
        return self.value_of("ip")

    @property
    def port(self) -> int | None:
        """The scanned TCP port: the first ``port-tcp`` item with an empty context."""
        return self._port_of("port-tcp")

    @property
    def udp_port(self) -> int | None:
        """The scanned UDP port: the first ``port-udp`` item with an empty context (a UDP service's report)."""
        return self._port_of("port-udp")

    @property
    def title(self) -> str | None:
        """The page title (the first ``title`` item, any context)."""
        return self.first_of("title")

    @property
    def country(self) -> str | None:
        """The country code enrichment gave the address (``geo-country``)."""
        return self.first_of("geo-country")

    @property
    def org(self) -> str | None:
        """The organisation holding the address (``entity``, from enrichment)."""
        return self.first_of("entity")

    def first_of(self, item_type: str) -> str | None:
        """The value of the first item of ``item_type``, whatever its context."""
        return next((item.value for item in self.items if item.type == item_type), None)

    def _port_of(self, item_type: str) -> int | None:
        for item in self.items:
            if item.type == item_type and item.context == "":
                try:
                    return int(item.value)
                except ValueError:
                    return None
        return None

    def as_dict(self) -> dict[str, Any]:
        return {"date": self.date.isoformat(), "id": self.id, "items": [item.as_dict() for item in self.items]}

    @classmethod
    def from_dict(cls, data: Any, dataset: str = PROTOCOLS) -> Report:
        """Validate and build a report of ``dataset`` from its JSON shape; raises InvalidReport saying what is
        wrong."""
        if not isinstance(data, dict):
            raise InvalidReport("a report must be a JSON object")
        date = _parse_date(data.get("date"))
        report_id = data.get("id")
        if report_id is None:
            report_id = content_id(data)
        elif not isinstance(report_id, str) or not report_id or len(report_id) > MAX_ID_LENGTH:
            raise InvalidReport(f"'id' must be a non-empty string of at most {MAX_ID_LENGTH} characters")
        raw_items = data.get("items")
        if not isinstance(raw_items, list) or not raw_items:
            raise InvalidReport("'items' must be a non-empty list")
        check_item_count(len(raw_items))
        report = cls(date=date, items=_parse_items(raw_items), id=report_id, dataset=dataset)
        _check_target(report)
        return report


def report_dict(report: Report) -> dict[str, Any]:
    """``report.as_dict()``, inlined: a page renders 1,300 items, and method calls were a tenth of a search's CPU."""
    return {
        "date": report.date.isoformat(),
        "id": report.id,
        "items": [
            {"context": context, "is_metadata": is_metadata, "type": type_, "value": value}
            for type_, value, context, is_metadata in report.items
        ],
    }


def _parse_date(value: Any) -> dt.date:
    if not isinstance(value, str):
        raise InvalidReport("'date' must be a string YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError as exc:
        raise InvalidReport(f"'date' is not a valid YYYY-MM-DD date: {value!r}") from exc


def _parse_items(raw_items: list[Any]) -> tuple[Item, ...]:
    """The items of a report (the hot loop of every import): an item already in its exact shape is taken as it is;
    any other goes through ``_parse_item``, which converts it or says what is wrong."""
    items = []
    append = items.append
    for raw in raw_items:
        if type(raw) is dict:
            item_type, value, is_metadata = raw.get("type"), raw.get("value"), raw.get("is_metadata", False)
            context = raw.get("context") or ""
            if (
                type(item_type) is str
                and item_type
                and type(value) is str
                and type(context) is str
                and (is_metadata is True or is_metadata is False)
            ):
                append(_new_item(Item, (item_type, value, context, is_metadata)))
                continue
        append(_parse_item(raw))
    return tuple(items)


_new_item = tuple.__new__


def _parse_item(raw: Any) -> Item:
    """One item from its JSON object (the hot loop of every import: plain type checks, no helpers)."""
    if type(raw) is not dict:
        raise InvalidReport(f"an item must be a JSON object, not {raw!r:.40}")
    item_type = raw.get("type")
    value = raw.get("value")
    context = raw.get("context") or ""
    is_metadata = raw.get("is_metadata", False)
    if type(item_type) is not str or not item_type:
        raise InvalidReport(f"item 'type' must be a non-empty string, not {item_type!r:.40}")
    if type(value) is not str:
        if type(value) not in (int, float):
            raise InvalidReport(f"item 'value' must be a string, not {value!r:.40}")
        value = str(value)
    if type(context) is not str:
        raise InvalidReport(f"item 'context' must be a string, not {context!r:.40}")
    if is_metadata is not True and is_metadata is not False:
        raise InvalidReport(f"item 'is_metadata' must be true or false, not {is_metadata!r:.40}")
    return Item(item_type, value, context, is_metadata)


def host_key(host: str) -> str:
    """A host name as compared and kept: stripped, lowercased, without a trailing dot."""
    return host.strip().rstrip(".").lower()


def pack_ip(value: str) -> bytes:
    """The 4 or 16 bytes of an IPv4 or IPv6 address in its usual text form; ValueError if it is not one."""
    try:
        return socket.inet_pton(socket.AF_INET6 if ":" in value else socket.AF_INET, value)
    except (OSError, ValueError):
        raise ValueError(f"not an IP address: {value!r}") from None


def canonical_ip(packed: bytes) -> str:
    return socket.inet_ntop(socket.AF_INET if len(packed) == 4 else socket.AF_INET6, packed)


IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")  # IPv4-mapped IPv6 addresses


def ipv4_of_mapped(network: IPNetwork) -> IPNetwork:
    """An IPv4-mapped network (``::ffff:8.8.8.0/120``) as the IPv4 network it is; any other as it is."""
    if network.version == 6 and network.subnet_of(MAPPED):  # type: ignore[arg-type]
        return ipaddress.IPv4Network((int(network.network_address) & 0xFFFFFFFF, network.prefixlen - 96))
    return network


def _check_target(report: Report) -> None:
    for item in report.items:
        if item.type == "ip":
            try:
                pack_ip(item.value)
            except ValueError as exc:
                raise InvalidReport(f"'ip' item value is not an IP address: {item.value!r}") from exc
        elif item.type in PORT_TYPES and item.context == "" and not _is_port(item.value):
            raise InvalidReport(f"'{item.type}' item value is not a port number: {item.value!r}")


def _is_port(value: str) -> bool:
    return port_number(value) is not None


def port_number(value: str) -> int | None:
    """The number of a port's ASCII decimal text (``0443`` is 443); None if it is not one or is over 65535. Never
    ``int()`` of a long text (Python refuses over 4,300 digits, and an import must reject the line, not fail)."""
    if not (value.isascii() and value.isdigit()):
        return None
    digits = value.lstrip("0")
    if len(digits) > 5:
        return None
    number = int(digits or "0")
    return number if number <= 65535 else None


def decimal_text(value: str) -> str:
    """``str(int(value))`` of a decimal text (``value.isdecimal()``: Unicode digits too), whatever its length."""
    if not value.isascii():
        value = "".join(str(unicodedata.decimal(character)) for character in value)
    return value.lstrip("0") or "0"


# -- the datasets ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Selector:
    """A parameter of one dataset's endpoint that selects its reports by an item (domain/rdns's ``host=``): a
    report holding an item of ``type`` (in ``context``; None: any) with the value given. A ``host`` value matches
    as ``host:`` does, by whole labels from the right; any other type's value matches exactly."""

    name: str  # the parameter
    type: str
    context: str | None
    help: str  # what it selects (the parameter's help names the endpoints that take it)
    pattern: str = ""  # a value must match it whole (a regular expression), else it is a 400 saying ``expects``
    expects: str = ""


@dataclass(frozen=True, slots=True)
class Facet:
    """A summary the web UI draws beside a dataset's results: the top values of ``type`` (in ``context``)."""

    type: str
    context: str | None
    title: str


@dataclass(frozen=True, slots=True)
class Dataset:
    """One dataset (DESIGN.md §6): what a report of it is, where it is searched, and what is the same thing twice.

    ``identity`` says which reports ``most_recent`` keeps one of: a tuple of parts, each a tuple of item types of
    which the first a report holds (with an empty context) gives the part's value. Reports with equal values are
    the same thing seen again; a report lacking a part is one of its own (``identity_of``).
    """

    name: str
    path: str  # its search endpoint (Driftnet's)
    label: str  # what the web UI calls it
    a_report_is: str  # what one report of it is (the web UI's dataset switch says it)
    identity: tuple[tuple[str, ...], ...]
    selectors: tuple[Selector, ...] = ()  # its endpoint's own parameters, ANDed with the rest
    bodies: bool = False  # its reports keep raw responses (scan/protocols/body)
    observations: bool = False  # each of its reports is also an open-port observation of its ip:port-tcp
    facets: tuple[Facet, ...] = ()
    columns: str = "date,target,protocol,summary,id"  # what ``shoal search`` prints without --fields
    unit: str = "newest report"  # what ``most_recent`` keeps one report of, as counts name it ("2 services")
    ip_in_any_context: bool = False  # its ``ip=`` matches ip items in any context (fdns: the names pointing there)


SERVICE_FACETS = (
    Facet("geo-country", None, "Countries"),
    Facet("port-tcp", None, "Ports"),
    Facet("product-tag", None, "Products"),
    Facet("entity", None, "Organisations"),
    Facet("protocol", None, "Protocols"),
)
SERVICE = (("ip",), ("port-tcp", "port-udp"))  # a TCP and a UDP service on one port number are two services
DATASET_TABLE: dict[str, Dataset] = {
    row.name: row
    for row in (
        Dataset(
            PROTOCOLS,
            "/v1/scan/protocols",
            "Services",
            "a protocol exchange with ip:port",
            SERVICE,
            bodies=True,
            observations=True,
            facets=SERVICE_FACETS,
            unit="service",
        ),
        Dataset(
            DOMAINS,
            "/v1/scan/domains",
            "Web sites by name",
            "a visit to a web service by host name (HTTP Host, TLS SNI)",
            (("host",), ("ip",), ("port-tcp",)),
            bodies=True,
            observations=True,
            facets=SERVICE_FACETS,
            columns="date,host;,target,protocol,summary,id",
            unit="site",
        ),
        Dataset(
            CT,
            "/v1/ct/log",
            "CT log certificates",
            "a certificate logged in Certificate Transparency",
            (("cert-sha256",),),
            facets=(
                Facet("issuer", None, "Issuers"),
                Facet("host", "cert-dns-name", "Names in certificates"),
                Facet("ct-log", None, "Logs"),
            ),
            columns="date,subject,issuer,host;cert-dns-name,id",
            unit="certificate",
        ),
        Dataset(
            RDNS,
            "/v1/domain/rdns",
            "Reverse DNS",
            "DNS facts about an IP: its PTR names and their name servers",
            (("ip",),),
            selectors=(
                Selector("host", "host", None, "Reports with a host name under this domain (right-anchored)."),
                Selector("nameserver", "host", "dns-ns", "Reports whose name server is under this domain."),
            ),
            # not PTR names: each names one address, so their counts are all 1
            facets=(
                Facet("host", "dns-ns", "Name servers"),
                Facet("asn", None, "Networks (AS)"),
                Facet("entity", None, "Organisations"),
            ),
            columns="date,ip,host;dns-ptr,host;dns-ns,id",
            unit="address",
        ),
        Dataset(
            FAVICONS,
            "/v1/scan/favicons",
            "Favicons",
            "a favicon fetched from a web site: its URL, the site's host, ip and port, and its hashes",
            (("url",),),
            selectors=(
                *(
                    Selector(
                        name,
                        f"obj-{name}",
                        "favicon",
                        f"Favicons whose {label} is exactly this.",
                        f"[0-9a-fA-F]{{{digits}}}",
                        f"{digits} hexadecimal digits (the {label})",
                    )
                    for name, label, digits in (("md5", "MD5", 32), ("sha1", "SHA-1", 40), ("sha256", "SHA-256", 64))
                ),
                Selector(
                    "murmur3",
                    "obj-murmur3",
                    "favicon",
                    "Favicons whose Shodan hash (signed 32-bit MurmurHash3 of the base64) is exactly this.",
                    "-?[0-9]{1,10}",
                    "a signed 32-bit whole number, e.g. -1234",
                ),
            ),
            facets=(
                Facet("obj-murmur3", "favicon", "Favicon hashes"),
                Facet("host", None, "Hosts"),
                Facet("port-tcp", None, "Ports"),
            ),
            columns="date,url;,host;,target,obj-murmur3;favicon,obj-sha256;favicon,id",
            unit="favicon",
        ),
        Dataset(
            FDNS,
            "/v1/domain/fdns",
            "Forward DNS",
            "a name's forward DNS answers on a day: its A, AAAA, CNAME and NS records",
            (("host",),),
            selectors=(
                Selector("host", "host", "", "Reports of a name under this domain (right-anchored)."),
                Selector("nameserver", "host", "dns-ns", "Reports whose name server is under this domain."),
            ),
            facets=(
                Facet("ip", None, "Addresses"),
                Facet("host", "dns-ns", "Name servers"),
                Facet("host", "dns-cname", "CNAME targets"),
            ),
            columns="date,host;,ip;dns-a,ip;dns-aaaa,host;dns-cname,host;dns-ns,id",
            ip_in_any_context=True,
            unit="name",
        ),
        Dataset(
            MX,
            "/v1/domain/mx",
            "Mail DNS (MX, TXT)",
            "a name's mail DNS on a day: its MX records, TXT strings (SPF) and DMARC policy",
            (("host",),),
            selectors=(
                Selector("host", "host", "", "Reports of a name under this domain (right-anchored)."),
                Selector("mx", "host", "dns-mx", "Reports whose mail exchanger is under this domain."),
            ),
            facets=(Facet("host", "dns-mx", "Mail exchangers"), Facet("dns-txt", "dmarc", "DMARC policies")),
            columns="date,host;,dns-mx,dns-txt;spf,dns-txt;dmarc,id",
            unit="name",
        ),
    )
}
DATASETS = tuple(DATASET_TABLE)

# An identity's values as compared: an address by its bytes, a port by its number, a host name as ``host_key``.
IDENTITY_VALUES: dict[str, Callable[[str], object]] = {
    "ip": pack_ip,
    "port-tcp": int,
    "port-udp": int,
    "host": host_key,
    "cert-sha256": lambda digest: digest.strip().lower(),
}


def identity_of(report: Report) -> tuple[object, ...] | None:
    """What makes ``report`` the same thing as another of its dataset (``Dataset.identity``): one value per part,
    as compared; a value of a part's later type is ``(type, value)`` (a UDP port is not the TCP port of that
    number). None when the report lacks a part, or its dataset is not known. (On every report an import stores:
    one pass over the items, stopping once each part has its first type.)"""
    plan = IDENTITY_PLANS.get(report.dataset)
    if plan is None:
        return None
    parts, wanted, firsts = plan
    found: dict[str, str] = {}
    for item_type, value, context, _ in report.items:
        if context == "" and item_type in wanted and item_type not in found:
            found[item_type] = value
            if firsts <= found.keys():
                break
    values: list[object] = []
    for part in parts:
        for item_type in part:
            if item_type in found:
                break
        else:
            return None
        try:
            value = IDENTITY_VALUES.get(item_type, str)(found[item_type])
        except ValueError:
            return None
        values.append(value if item_type == part[0] else (item_type, value))
    return tuple(values)


# Per dataset: its identity's parts, every type they name, and each part's first type.
IDENTITY_PLANS: dict[str, tuple[tuple[tuple[str, ...], ...], frozenset[str], frozenset[str]]] = {
    row.name: (
        row.identity,
        frozenset(item_type for part in row.identity for item_type in part),
        frozenset(part[0] for part in row.identity),
    )
    for row in DATASET_TABLE.values()
}

#!/usr/bin/env python3
"""Generate a deterministic corpus of realistic Driftnet scan reports as JSON Lines.

    python bench/generate.py --count 1000000 --seed 1 --out corpus.jsonl.gz
    python bench/generate.py --count 10 --out - | jq .

or, from another script, ``generate(count, seed)`` yields the reports as dicts in the spec's shape
``{"date", "id", "items": [{"context", "is_metadata", "type", "value"}, ...]}``.

The model: a fixed vocabulary (networks, entities, domains, products; read from vocabulary.txt next to
this file, the same for every seed) and a population of ~count/5 services (ip:port) built lazily from the
seed. Reports are emitted day by day, oldest first, over a window ending at ``end_date``; newer days hold
more reports. Each day scans a sample of the population, so an ip:port is reported on ~5 dates and history
exists. Per scan only the id and the HTTP ``Date`` header change (and, for 2% of re-scans, the service
itself, e.g. an upgrade).

Stdlib only; uses orjson when it is installed. The JSON Lines path serialises each service once and
splices the per-scan parts in, which is what makes it fast.
"""

from __future__ import annotations

import argparse
import binascii
import bisect
import datetime as dt
import gzip
import ipaddress
import itertools
import os
import queue
import random
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Generic, TypeVar

try:
    import orjson

    def dumps(obj: Any) -> bytes:
        return orjson.dumps(obj)

except ImportError:  # pragma: no cover - only where orjson is missing
    import json

    def dumps(obj: Any) -> bytes:
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


DEFAULT_END_DATE = dt.date(2026, 11, 20)
DEFAULT_DAYS = 90
SCANS_PER_SERVICE = 5.0  # average number of dates an ip:port is reported on
NEWEST_DAY_WEIGHT = 2.0  # the newest day holds this many times the reports of the oldest
IPV6_SHARE = 0.03
EXTRA_PORT_SHARE = 0.35  # share of services that open another port on an already known host
REBUILD_SHARE = 0.02  # share of re-scans that find the service changed
CERT_IP_SHARE = 0.10  # share of TLS services whose certificate carries IP SANs
SELF_SIGNED_SHARE = 0.5  # share of TLS services without a site name that present a self-signed certificate
VOCABULARY_SEED = 20261120  # the vocabulary does not depend on the corpus seed

T = TypeVar("T")
Item = dict[str, Any]


class Zipf(Generic[T]):
    """Draws values by rank (the first is the most popular): weight 1/rank**exponent, or explicit weights."""

    def __init__(self, values: Sequence[T], exponent: float = 1.0, weights: Sequence[float] | None = None) -> None:
        if not values:
            raise ValueError("Zipf needs at least one value")
        self.values = list(values)
        if weights is None:
            weights = [1.0 / rank**exponent for rank in range(1, len(self.values) + 1)]
        self.cumulative = list(itertools.accumulate(weights))
        self.total = self.cumulative[-1]
        self.last = len(self.values) - 1

    def draw(self, rng: random.Random) -> T:
        return self.values[min(bisect.bisect_right(self.cumulative, rng.random() * self.total), self.last)]


# ---------------------------------------------------------------------------------------------------------------
# Vocabulary: who owns the networks, what runs on them, what they say. Read from vocabulary.txt (the same for
# every seed), where rows are in popularity order.
# ---------------------------------------------------------------------------------------------------------------

VOCABULARY_PATH = Path(__file__).with_name("vocabulary.txt")
GENERATED_NETWORK_COUNT = 278  # /16s beyond the named ones, owned by entities in proportion to their weight
SITE_SHARE = {"cloud": 0.5, "cdn": 0.6, "isp": 0.1, "edu": 0.85}  # hosts serving a named site
OWN_DOMAIN_SHARE = {"cloud": 0.3, "cdn": 0.5, "isp": 0.0, "edu": 0.9}  # sites under the entity's own domains
RDNS_SHARE = {"cloud": 0.5, "cdn": 0.3, "isp": 0.7, "edu": 0.0}  # hosts with a reverse-DNS name (if a template)
IOT_SHARE = {"cloud": 0.02, "cdn": 0.0, "isp": 0.45, "edu": 0.05}  # nameless web servers that are devices
ENTITY_TITLE_SHARE = 0.5  # sites of an entity with its own titles that show one of them
HIGH_PORT_SHARE = 0.08
HIGH_PORT_PROTOCOLS = Zipf(["http", "generic", "https", "ssh"], weights=[45, 30, 15, 10])
DEFAULT_WEB_PORTS = {80: "http", 443: "https"}
STATUS_LINES = {
    "200": "HTTP/1.1 200 OK",
    "401": "HTTP/1.1 401 Unauthorized",
    "403": "HTTP/1.1 403 Forbidden",
    "404": "HTTP/1.1 404 Not Found",
}
HSTS_HEADER = (0.2, "Strict-Transport-Security", "max-age=31536000; includeSubDomains")
AUTH_HEADER = ("WWW-Authenticate", 'Basic realm="index.html"')
X_POWERED_BY_SHARE = 0.35
GOOGLE_ISSUER = ("CN=WR2, O=Google Trust Services, C=US", False)
EDU_ISSUER = ("CN=GEANT OV RSA CA 4, O=GEANT Vereniging, C=NL", True)
ENGLISH_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
ENGLISH_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True, slots=True)
class Entity:
    name: str
    asn: int
    countries: tuple[str, ...]
    kind: str  # cloud | cdn | isp | edu
    network_weight: float  # weight when assigning generated /16s
    domains: tuple[str, ...]  # registered domains of sites hosted on its networks
    rdns: str | None  # reverse-DNS name template: {dashed} 1-2-3-4, {reversed} 4.3.2.1, {number}
    titles: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Network:
    prefix: str  # "129.67" for an IPv4 /16, or an IPv6 CIDR
    entity: Entity
    country: str


@dataclass(frozen=True, slots=True)
class WebProfile:
    server: str | None  # the Server header; None when absent
    tags: tuple[str, ...]
    info: str | None  # product-info
    status: str
    path: str
    powered_by: tuple[str, ...]
    title_share: float  # how often the profile's own title is shown rather than a site's title
    title: str | None  # the profile's own page title (default page, device UI)


Banner = tuple[str, tuple[str, ...], str | None]  # (server-banner, product tags, product-info)


def read_vocabulary(path: Path) -> dict[str, list[str]]:
    """The sections of a vocabulary file: name -> data lines (comments and blank lines dropped)."""
    sections: dict[str, list[str]] = {}
    current: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], [])
        elif line and not line.startswith("#"):
            current.append(line)
    return sections


def rows(section: str, columns: int) -> list[list[str]]:
    """A section's rows split on '|' into columns (the last keeps any further '|'); a '-' cell is ''."""
    result = []
    for line in VOCABULARY[section]:
        cells = [cell.strip() for cell in line.split("|", columns - 1)]
        if len(cells) != columns:
            raise ValueError(f"{VOCABULARY_PATH.name} [{section}]: expected {columns} columns in {line!r}")
        result.append(["" if cell == "-" else cell for cell in cells])
    return result


def words(text: str, separator: str = ",") -> tuple[str, ...]:
    return tuple(word.strip() for word in text.split(separator) if word.strip())


def load_entities() -> dict[str, Entity]:
    titles: dict[str, list[str]] = {}
    for key, title in rows("entity-titles", 2):
        titles.setdefault(key, []).append(title)
    return {
        key: Entity(
            name,
            int(asn),
            words(countries, " "),
            kind,
            float(weight),
            words(domains),
            rdns or None,
            tuple(titles.get(key, ())),
        )
        for key, name, asn, countries, kind, weight, domains, rdns in rows("entities", 8)
    }


def load_networks(section: str) -> list[Network]:
    return [Network(prefix, ENTITIES[key], country) for prefix, key, country in rows(section, 3)]


def generate_networks(vocabulary_rng: random.Random) -> list[Network]:
    """IPv4 /16s in popularity order: the named ones, then random ones owned by entities in proportion to weight."""
    networks = load_networks("ipv4-networks")
    taken = {network.prefix for network in networks}
    wanted = len(networks) + GENERATED_NETWORK_COUNT
    owners = Zipf(list(ENTITIES.values()), weights=[entity.network_weight for entity in ENTITIES.values()])
    reserved_first_octets = {0, 10, 100, 127, 169, 172, 192, 198}
    while len(networks) < wanted:
        first = vocabulary_rng.randint(1, 223)
        prefix = f"{first}.{vocabulary_rng.randint(0, 255)}"
        if first in reserved_first_octets or prefix in taken:
            continue
        taken.add(prefix)
        entity = owners.draw(vocabulary_rng)
        country = entity.countries[0] if vocabulary_rng.random() < 0.6 else vocabulary_rng.choice(entity.countries)
        networks.append(Network(prefix, entity, country))
    return networks


def generate_domains(vocabulary_rng: random.Random) -> list[str]:
    """Registered domains in popularity order: a few well-known ones, then a shuffled long tail of made-up ones."""
    firsts = "blue north river data cloud green smart alpha delta nova pixel metro urban solar iron silver apex bright"
    seconds = "tech labs net systems works media hub soft host shop bank health games travel link zone"
    tlds = "com net io co.uk de cn ru jp org info xyz"
    tail = [f"{a}{b}.{tld}" for a in firsts.split() for b in seconds.split() for tld in tlds.split()]
    vocabulary_rng.shuffle(tail)
    return ["example.com", "driftnet.io", "example.org", "example.net", *tail]


def load_web_profiles(section: str) -> list[WebProfile]:
    return [
        WebProfile(
            server or None,
            words(tags),
            info or None,
            STATUS_LINES[status],
            path,
            words(powered_by),
            float(share),
            title or None,
        )
        for server, tags, info, status, path, powered_by, share, title in rows(section, 8)
    ]


def load_banners() -> dict[str, Zipf[Banner]]:
    by_protocol: dict[str, list[Banner]] = {}
    for protocol, banner, tags, info in rows("banners", 4):
        unescaped = banner.encode("ascii").decode("unicode_escape")
        by_protocol.setdefault(protocol, []).append((unescaped, words(tags), info or None))
    return {protocol: Zipf(banners, exponent=1.2) for protocol, banners in by_protocol.items()}


VOCABULARY = read_vocabulary(VOCABULARY_PATH)
ENTITIES = load_entities()
_vocabulary_rng = random.Random(VOCABULARY_SEED)
IPV4_NETWORKS = generate_networks(_vocabulary_rng)
IPV4_NETWORK_RANKS = Zipf(IPV4_NETWORKS)
IPV6_NETWORK_RANKS = Zipf(load_networks("ipv6-networks"))
DOMAINS = Zipf(generate_domains(_vocabulary_rng))
PORT_RANKS = Zipf(
    [(int(port), protocol) for port, _, protocol in rows("ports", 3)],
    weights=[float(weight) for _, weight, _ in rows("ports", 3)],
)
BANNERS = load_banners()
WEB_PROFILES = Zipf(load_web_profiles("web-servers"), exponent=1.1)
GOOGLE_WEB_PROFILE = next(profile for profile in WEB_PROFILES.values if profile.server == "gws")
IOT_PROFILES = Zipf(load_web_profiles("devices"))
TITLES = Zipf([title for (title,) in rows("titles", 1)])
CONTENT_TYPES = Zipf([value for (value,) in rows("content-types", 1)])
EXTRA_HEADERS = [(float(share), name, value) for share, name, value in rows("headers", 3)]
SUBDOMAINS = Zipf([label for (label,) in rows("subdomains", 1)])
EDU_SUBDOMAINS = Zipf([label for (label,) in rows("edu-subdomains", 1)])
ISSUERS = Zipf([(issuer, validated == "yes") for issuer, validated in rows("issuers", 2)])
SELF_SIGNED_SUBJECTS = Zipf([subject for (subject,) in rows("self-signed", 1)])
MOST_POPULAR_NETWORK = f"{IPV4_NETWORKS[0].prefix}.0.0/16"


# ---------------------------------------------------------------------------------------------------------------
# The population: hosts (an address on a network) and services (a port on a host, and what it answers).
# ---------------------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Host:
    ip: str
    network: Network
    site: str | None  # the web site name it serves, e.g. www.ox.ac.uk
    domain: str | None  # the site's registered domain, e.g. ox.ac.uk
    rdns: str | None  # its reverse-DNS name
    ports: set[int] = field(default_factory=set)


@dataclass(slots=True)
class Service:
    host: Host
    port: int
    protocol: str
    head: list[Item] = field(default_factory=list)  # items before the per-scan HTTP Date header, or all items
    tail: list[Item] | None = None  # items after the Date header; None when the service sends no Date header
    head_json: bytes = b""  # head and tail serialised, without the surrounding brackets
    tail_json: bytes = b""


@dataclass(frozen=True, slots=True)
class Certificate:
    subject: str
    issuer: str
    dns_names: tuple[str, ...]
    sha256: str


def item(type_: str, value: str, context: str = "", is_metadata: bool = False) -> Item:
    """One item, keys in the spec's order."""
    return {"context": context, "is_metadata": is_metadata, "type": type_, "value": value}


class Population:
    """Hosts and services, created on demand from one seeded random stream."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.hosts: list[Host] = []
        self.hosts_by_ip: dict[str, Host] = {}
        self.certificates: dict[str, Certificate] = {}

    def new_service(self) -> Service:
        if self.hosts and self.rng.random() < EXTRA_PORT_SHARE:
            host = self.hosts[self.rng.randrange(len(self.hosts))]
        else:
            host = self.new_host()
        port, protocol = self.pick_port(host)
        host.ports.add(port)
        service = Service(host, port, protocol)
        self.rebuild(service)
        return service

    def rebuild(self, service: Service) -> None:
        """(Re)draw what the service answers and its enrichment; keeps host, port and protocol."""
        if service.protocol in ("http", "https"):
            service.head, service.tail = self.web_items(service)
        else:
            service.head, service.tail = self.banner_items(service), None
        service.head_json = dumps(service.head)[1:-1]
        service.tail_json = dumps(service.tail)[1:-1] if service.tail is not None else b""

    def new_host(self) -> Host:
        rng = self.rng
        if rng.random() < IPV6_SHARE:
            network = IPV6_NETWORK_RANKS.draw(rng)
            ip = self.ipv6_in(network.prefix)
        else:
            network = IPV4_NETWORK_RANKS.draw(rng)
            ip = f"{network.prefix}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
        known = self.hosts_by_ip.get(ip)
        if known is not None:
            return known
        kind = network.entity.kind
        site, domain = self.invent_site(network.entity) if rng.random() < SITE_SHARE[kind] else (None, None)
        rdns = self.reverse_dns(network.entity, ip) if rng.random() < RDNS_SHARE[kind] else None
        host = Host(ip, network, site, domain, rdns)
        self.hosts.append(host)
        self.hosts_by_ip[ip] = host
        return host

    def ipv6_in(self, cidr: str) -> str:
        network = ipaddress.IPv6Network(cidr)
        subnet_bits = 64 - network.prefixlen
        subnet = self.rng.getrandbits(subnet_bits) if subnet_bits > 0 else 0
        interface = self.rng.randint(1, 255) if self.rng.random() < 0.5 else self.rng.getrandbits(64)
        return ipaddress.IPv6Address(int(network.network_address) | subnet << 64 | interface).compressed

    def invent_site(self, entity: Entity) -> tuple[str, str]:
        """A site name and its registered domain: under the entity's own domains or a popular one."""
        rng = self.rng
        if entity.domains and rng.random() < OWN_DOMAIN_SHARE[entity.kind]:
            domain = rng.choice(entity.domains)
        else:
            domain = DOMAINS.draw(rng)
        label = (EDU_SUBDOMAINS if entity.kind == "edu" else SUBDOMAINS).draw(rng)
        return (f"{label}.{domain}" if label else domain), domain

    def reverse_dns(self, entity: Entity, ip: str) -> str | None:
        if entity.rdns is None or ":" in ip:
            return None
        octets = ip.split(".")
        return entity.rdns.format(
            dashed="-".join(octets), reversed=".".join(reversed(octets)), number=self.rng.randint(100000, 999999)
        )

    def pick_port(self, host: Host) -> tuple[int, str]:
        rng = self.rng
        for _ in range(8):
            if rng.random() < HIGH_PORT_SHARE:
                port, protocol = rng.randint(1024, 65535), HIGH_PORT_PROTOCOLS.draw(rng)
            else:
                port, protocol = PORT_RANKS.draw(rng)
            if port not in host.ports:
                return port, protocol
        port = rng.randint(10000, 65535)  # a crowded host: any free high port
        while port in host.ports:
            port += 1
        return port, "generic"

    def target_items(self, service: Service) -> list[Item]:
        return [item("ip", service.host.ip, is_metadata=True), item("port-tcp", str(service.port), is_metadata=True)]

    def enrichment_items(self, host: Host, tags: Sequence[str], info: str | None) -> list[Item]:
        network, entity = host.network, host.network.entity
        items = [item("host", host.rdns, "rdns", is_metadata=True)] if host.rdns else []
        items.append(item("geo-country", network.country, is_metadata=True))
        items.append(item("entity", entity.name, is_metadata=True))
        items.append(item("asn", str(entity.asn), is_metadata=True))
        items.extend(item("product-tag", tag, is_metadata=True) for tag in tags)
        if info is not None:
            items.append(item("product-info", info, is_metadata=True))
        return items

    def banner_items(self, service: Service) -> list[Item]:
        host = service.host
        banner, tags, info = BANNERS[service.protocol].draw(self.rng)
        if "{" in banner:
            banner = banner.format(host=host.site or host.rdns or "localhost.localdomain", ip=host.ip)
        items = [*self.target_items(service), item("server-banner", banner, service.protocol)]
        if service.protocol == "tls":
            items.extend(self.certificate_items(host))
        items.extend(self.enrichment_items(host, tags, info))
        return items

    def web_items(self, service: Service) -> tuple[list[Item], list[Item]]:
        rng, host = self.rng, service.host
        tls = service.protocol == "https"
        entity = host.network.entity
        if entity.name == "Google LLC" and rng.random() < 0.7:
            profile = GOOGLE_WEB_PROFILE
        elif host.site is None and rng.random() < IOT_SHARE[entity.kind]:
            profile = IOT_PROFILES.draw(rng)
        else:
            profile = WEB_PROFILES.draw(rng)
        head = [*self.target_items(service), item("server-banner", profile.status, service.protocol)]
        if profile.server is not None:
            head.append(item("http-header", profile.server, "Server"))
        head.append(item("http-header", CONTENT_TYPES.draw(rng), "Content-Type"))
        tail: list[Item] = []
        tags = list(profile.tags)
        if profile.powered_by and rng.random() < X_POWERED_BY_SHARE:
            powered_by = rng.choice(profile.powered_by)
            tail.append(item("http-header", powered_by, "X-Powered-By"))
            if powered_by.startswith("PHP"):
                tags.append("php")
        for share, name, value in [*EXTRA_HEADERS, HSTS_HEADER] if tls else EXTRA_HEADERS:
            if rng.random() < share:
                if "{" in value:
                    value = value.format(hex=f"{rng.getrandbits(104):026x}", number=rng.randint(100, 99999))
                tail.append(item("http-header", value, name))
        if profile.status == STATUS_LINES["401"]:
            tail.append(item("http-header", AUTH_HEADER[1], AUTH_HEADER[0]))
        tail.append(item("title", self.pick_title(profile, entity)))
        tail.append(item("url", self.url(service, profile.path)))
        if host.site is not None:
            tail.append(item("host", host.site))
        if tls:
            tail.extend(self.certificate_items(host))
        tail.extend(self.enrichment_items(host, tags, profile.info))
        return head, tail

    def pick_title(self, profile: WebProfile, entity: Entity) -> str:
        rng = self.rng
        if profile.title is not None and rng.random() < profile.title_share:
            return profile.title
        if entity.titles and rng.random() < ENTITY_TITLE_SHARE:
            return rng.choice(entity.titles)
        return TITLES.draw(rng)

    def url(self, service: Service, path: str) -> str:
        host = service.host
        scheme = "https" if service.protocol == "https" else "http"
        name = host.site or (f"[{host.ip}]" if ":" in host.ip else host.ip)
        port = "" if DEFAULT_WEB_PORTS.get(service.port) == scheme else f":{service.port}"
        return f"{scheme}://{name}{port}{path}"

    def certificate_items(self, host: Host) -> list[Item]:
        certificate = self.certificate_for(host)
        items = [item("subject", certificate.subject), item("issuer", certificate.issuer)]
        items.extend(item("host", name, "cert-dns-name") for name in certificate.dns_names)
        if self.rng.random() < CERT_IP_SHARE:
            items.extend(item("ip", ip, "cert-ip-address") for ip in self.certificate_ips(host))
        items.append(item("cert-sha256", certificate.sha256))
        return items

    def certificate_ips(self, host: Host) -> list[str]:
        """IP SANs: mostly other scanned hosts' addresses (so indirect searches find something), or its own."""
        ips = [host.ip] if self.rng.random() < 0.3 else []
        for _ in range(self.rng.randint(1, 2)):
            other = self.hosts[self.rng.randrange(len(self.hosts))].ip
            if other not in ips:
                ips.append(other)
        return ips

    def certificate_for(self, host: Host) -> Certificate:
        """One certificate per site name, shared by every host serving it; nameless hosts are often self-signed."""
        rng = self.rng
        name, domain = host.site, host.domain
        if name is None or domain is None:
            if rng.random() < SELF_SIGNED_SHARE:
                subject = SELF_SIGNED_SUBJECTS.draw(rng).replace("{ip}", host.ip)
                return Certificate(subject, subject, (), f"{rng.getrandbits(256):064x}")
            name, domain = self.invent_site(host.network.entity)
        known = self.certificates.get(name)
        if known is not None:
            return known
        entity, country = host.network.entity, host.network.country
        if entity.kind == "edu":
            issuer, organisation_validated = EDU_ISSUER
        elif entity.name == "Google LLC":
            issuer, organisation_validated = GOOGLE_ISSUER
        else:
            issuer, organisation_validated = ISSUERS.draw(rng)
        subject = f"CN={name}"
        if organisation_validated:
            organisation = entity.name if entity.kind == "edu" else f"{domain.split('.')[0].title()} Ltd"
            subject += f", O={organisation}, C={country}"
        dns_names = [name]
        if domain != name and rng.random() < 0.5:
            dns_names.append(domain)
        if rng.random() < 0.2:
            dns_names.append(f"*.{domain}")
        certificate = Certificate(subject, issuer, tuple(dns_names), f"{rng.getrandbits(256):064x}")
        self.certificates[name] = certificate
        return certificate


# ---------------------------------------------------------------------------------------------------------------
# The scan schedule, and its two renderings: dicts (generate) and JSON Lines (jsonl_chunks, write_jsonl).
# ---------------------------------------------------------------------------------------------------------------

Scan = tuple[int, bytes, Service, str]  # (day index, report id, service, HTTP time "HH:MM:SS GMT" or "")
URLSAFE = bytes.maketrans(b"+/", b"-_")


def window_days(end_date: dt.date | str, days: int) -> list[dt.date]:
    """The dates of the window, oldest first."""
    end = end_date if isinstance(end_date, dt.date) else dt.date.fromisoformat(end_date)
    return [end - dt.timedelta(days=days - 1 - offset) for offset in range(days)]


def http_date_prefix(day: dt.date) -> str:
    """'Fri, 20 Nov 2026 ' (English names whatever the locale)."""
    return f"{ENGLISH_DAYS[day.weekday()]}, {day.day:02d} {ENGLISH_MONTHS[day.month - 1]} {day.year} "


def reports_per_day(count: int, days: int) -> list[int]:
    """Split count over days (oldest first), rising linearly to NEWEST_DAY_WEIGHT times on the newest day."""
    weights = [1.0 + (NEWEST_DAY_WEIGHT - 1.0) * day / max(days - 1, 1) for day in range(days)]
    total = sum(weights)
    bounds = [round(count * share / total) for share in itertools.accumulate(weights)]
    return [high - low for low, high in zip([0, *bounds[:-1]], bounds, strict=True)]


def scans(count: int, seed: int, days: int) -> Iterator[Scan]:
    """The schedule: each day scans a sample (without repeats) of a population of ~count/5 services."""
    if count < 0 or days < 1:
        raise ValueError("count must be >= 0 and days >= 1")
    rng = random.Random(seed)
    per_day = reports_per_day(count, days)
    size = max(round(count / SCANS_PER_SERVICE), max(per_day), 1)
    population = Population(rng)
    services: list[Service | None] = [None] * size
    uniform, getrandbits, b64 = rng.random, rng.getrandbits, binascii.b2a_base64
    for day_index, day_count in enumerate(per_day):
        seen: set[int] = set()
        for _ in range(day_count):
            index = int(uniform() * size)
            while index in seen:
                index = int(uniform() * size)
            seen.add(index)
            service = services[index]
            if service is None:
                service = services[index] = population.new_service()
            elif uniform() < REBUILD_SHARE:
                population.rebuild(service)
            report_id = b64(getrandbits(128).to_bytes(16, "big"), newline=False)[:22].translate(URLSAFE)
            http_time = ""
            if service.tail is not None:
                second = int(uniform() * 86400)
                http_time = f"{second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d} GMT"
            yield day_index, report_id, service, http_time


def generate(
    count: int, seed: int = 1, *, end_date: dt.date | str = DEFAULT_END_DATE, days: int = DEFAULT_DAYS
) -> Iterator[dict[str, Any]]:
    """Yield count reports, oldest day first, as fresh dicts in the spec's shape and key order."""
    window = window_days(end_date, days)
    dates = [day.isoformat() for day in window]
    prefixes = [http_date_prefix(day) for day in window]
    for day_index, report_id, service, http_time in scans(count, seed, days):
        items = [entry.copy() for entry in service.head]
        if service.tail is not None:
            items.append(item("http-header", prefixes[day_index] + http_time, "Date"))
            items.extend(entry.copy() for entry in service.tail)
        yield {"date": dates[day_index], "id": report_id.decode(), "items": items}


def jsonl_chunks(
    count: int,
    seed: int = 1,
    *,
    end_date: dt.date | str = DEFAULT_END_DATE,
    days: int = DEFAULT_DAYS,
    lines_per_chunk: int = 2000,
) -> Iterator[bytes]:
    """The reports of generate(), as JSON Lines bytes, many lines per chunk (the fast path)."""
    window = window_days(end_date, days)
    starts = [b'{"date":"%s","id":"' % day.isoformat().encode() for day in window]
    date_items = [
        b',{"context":"Date","is_metadata":false,"type":"http-header","value":"%s' % (http_date_prefix(day).encode())
        for day in window
    ]
    lines: list[bytes] = []
    for day_index, report_id, service, http_time in scans(count, seed, days):
        if service.tail is None:
            parts = (starts[day_index], report_id, b'","items":[', service.head_json, b"]}\n")
        else:
            parts = (
                starts[day_index],
                report_id,
                b'","items":[',
                service.head_json,
                date_items[day_index],
                http_time.encode(),
                b'"},',
                service.tail_json,
                b"]}\n",
            )
        lines.append(b"".join(parts))
        if len(lines) >= lines_per_chunk:
            yield b"".join(lines)
            lines = []
    if lines:
        yield b"".join(lines)


def write_in_background(chunks: Iterator[bytes], sink: IO[bytes]) -> None:
    """Write chunks from a second thread, so that compression (which releases the GIL) overlaps generation."""
    pending: queue.Queue[bytes | None] = queue.Queue(maxsize=16)
    failures: list[BaseException] = []

    def drain() -> None:
        while (chunk := pending.get()) is not None:
            if not failures:
                try:
                    sink.write(chunk)
                except BaseException as exc:  # re-raised in the calling thread
                    failures.append(exc)

    writer = threading.Thread(target=drain, name="jsonl-writer", daemon=True)
    writer.start()
    try:
        for chunk in chunks:
            if failures:
                break
            pending.put(chunk)
    finally:
        pending.put(None)
        writer.join()
    if failures:
        raise failures[0]


def write_jsonl(
    out: str,
    count: int,
    seed: int = 1,
    *,
    end_date: dt.date | str = DEFAULT_END_DATE,
    days: int = DEFAULT_DAYS,
    compress_level: int = 1,
) -> None:
    """Write the corpus to a path (gzip when it ends in .gz), or to stdout when out is '-'."""
    chunks = jsonl_chunks(count, seed, end_date=end_date, days=days)
    if out == "-":
        write_in_background(chunks, sys.stdout.buffer)
        sys.stdout.buffer.flush()
    elif out.endswith(".gz"):
        with gzip.open(out, "wb", compresslevel=compress_level) as sink:
            write_in_background(chunks, sink)
    else:
        with open(out, "wb", buffering=1 << 20) as sink:
            write_in_background(chunks, sink)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Generate realistic Driftnet scan reports as JSON Lines.")
    parser.add_argument("--count", type=int, default=1000, help="number of reports (default 1000)")
    parser.add_argument("--seed", type=int, default=1, help="random seed: the same seed gives the same corpus")
    parser.add_argument("--out", default="-", help="output path ('.gz' for gzip), or '-' for stdout (default)")
    parser.add_argument(
        "--end-date",
        type=dt.date.fromisoformat,
        default=DEFAULT_END_DATE,
        help=f"newest date of the window (default {DEFAULT_END_DATE})",
    )
    parser.add_argument("--days", type=int, default=DEFAULT_DAYS, help=f"days in the window (default {DEFAULT_DAYS})")
    parser.add_argument(
        "--compress-level",
        type=int,
        default=1,
        choices=range(10),
        metavar="0-9",
        help="gzip level for .gz outputs (default 1, the fastest)",
    )
    args = parser.parse_args(argv)
    if args.count < 0 or args.days < 1:
        parser.error("--count must be >= 0 and --days >= 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    try:
        write_jsonl(
            args.out, args.count, args.seed, end_date=args.end_date, days=args.days, compress_level=args.compress_level
        )
    except BrokenPipeError:  # the reader stopped early, as `| head` does: not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the exit flush does not fail again
        return 0
    seconds = time.perf_counter() - started
    rate = args.count / seconds if seconds > 0 else float("inf")
    print(f"generated {args.count:,} reports in {seconds:.1f} s ({rate:,.0f} reports/s) -> {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

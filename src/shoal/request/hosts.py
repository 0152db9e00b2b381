"""What is known about one address, as Shodan's host view leads with it: country, organisation, AS, tags, PTR
names, first and last seen, open ports, then its services (the newest report of each port).

``shoal host`` (from a store or a server) and ``Client.host`` build it the same way, from the newest report of
each service, the rdns dataset's PTR names and the dates of the oldest and newest reports; the web host page
shows the same header.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from shoal.model import Report

PTR_ITEM = ("host", "dns-ptr")
FACTS = {"countries": "geo-country", "organisations": "entity", "asns": "asn", "tags": "product-tag"}


def port_of(report: Report) -> tuple[int | None, str]:
    """The port a report's service was found on and its transport: (443, "tcp"), (53, "udp"), (None, "tcp")."""
    udp = report.udp_port if report.port is None else None
    return (report.port, "tcp") if udp is None else (udp, "udp")


def port_label(port: int | None, transport: str) -> str:
    """``443``, ``53/udp`` (nmap's way), or nothing."""
    return "" if port is None else f"{port}/udp" if transport == "udp" else str(port)


def common(reports: Iterable[Report], item_type: str) -> list[str]:
    """The values of ``item_type`` over the reports, each once, most frequent first (ties: first seen)."""
    tally: Counter[str] = Counter()
    for report in reports:
        tally.update(list(dict.fromkeys(item.value for item in report.items if item.type == item_type)))
    return [value for value, _ in tally.most_common()]


def ptr_names_of(rdns: Iterable[Report]) -> list[str]:
    """The PTR names of rdns reports (newest first), each once."""
    names = (item.value for report in rdns for item in report.items if (item.type, item.context) == PTR_ITEM)
    return list(dict.fromkeys(names))


@dataclass(frozen=True, slots=True)
class Host:
    ip: str
    countries: list[str]  # each list: most frequent over the services first
    organisations: list[str]
    asns: list[str]
    tags: list[str]
    ptr_names: list[str]
    first_seen: dt.date | None
    last_seen: dt.date | None
    services: list[Report]  # the newest report of each port, by port

    @property
    def country(self) -> str | None:
        return self.countries[0] if self.countries else None

    @property
    def org(self) -> str | None:
        return self.organisations[0] if self.organisations else None

    @property
    def ports(self) -> list[str]:
        """Its open ports, ``22``, ``53/udp``, in order."""
        return [port_label(*port_of(report)) for report in self.services if port_of(report)[0] is not None]

    def header(self) -> dict[str, object]:
        """The facts before the services, as JSON."""
        return {
            "ip": self.ip,
            "country": self.countries,
            "organisation": self.organisations,
            "asn": self.asns,
            "tags": self.tags,
            "ptr_names": self.ptr_names,
            "first_seen": self.first_seen.isoformat() if self.first_seen else None,
            "last_seen": self.last_seen.isoformat() if self.last_seen else None,
            "ports": self.ports,
        }

    def body(self) -> dict[str, object]:
        """The header, then the services as the API's reports."""
        return self.header() | {"services": [report.as_dict() for report in self.services]}


def host_of(
    ip: str,
    newest: Iterable[Report],
    ptr_names: list[str],
    first_seen: dt.date | None,
    last_seen: dt.date | None,
) -> Host:
    """The host of ``ip`` from reports newest first: the first of each port is its service."""
    services: dict[tuple[int | None, str], Report] = {}
    for report in newest:
        services.setdefault(port_of(report), report)
    ordered = [services[key] for key in sorted(services, key=lambda key: (key[0] is None, key[0] or 0, key[1]))]
    facts = {name: common(ordered, item_type) for name, item_type in FACTS.items()}
    return Host(ip, **facts, ptr_names=ptr_names, first_seen=first_seen, last_seen=last_seen, services=ordered)

"""The fixed corpus every semantics test runs on: small, hand-written, each report there for a reason."""

from __future__ import annotations

import datetime as dt

from shoal.model import Item, Report


def report(
    report_id: str, day: int, ip: str, port: int, *items: tuple[str, str, str] | tuple[str, str, str, bool]
) -> Report:
    target = (Item("ip", ip, "", True), Item("port-tcp", str(port), "", True))
    extra = tuple(Item(t[0], t[2], t[1], t[3] if len(t) > 3 else False) for t in items)
    return Report(date=dt.date(2026, 11, day), id=report_id, items=target + extra)


# (type, context, value[, is_metadata])
CORPUS: list[Report] = [
    report(
        "r01",
        1,
        "8.8.8.8",
        443,
        ("title", "", "University of London"),
        ("subject", "", "CN=www.ox.ac.uk, O=University of Oxford, C=GB"),
        ("host", "cert-dns-name", "www.ox.ac.uk"),
        ("ip", "cert-ip-address", "8.8.4.4"),
        ("http-header", "Server", "nginx/1.18.0"),
        ("http-header", "X-Clacks-Overhead", "GNU Terry Pratchett"),
        ("server-banner", "https", "HTTP/1.1 200 OK"),
        ("geo-country", "", "GB", True),
        ("product-tag", "", "nginx", True),
    ),
    report(
        "r02",
        2,
        "8.8.8.8",
        443,
        ("title", "", "University London"),
        ("http-header", "Server", "nginx/1.20.1"),
        ("host", "", "mail.example.com"),
        ("server-banner", "https", "HTTP/1.1 200 OK"),
        ("geo-country", "", "US", True),
        ("product-tag", "", "nginx", True),
    ),
    report("r03", 3, "8.8.8.8", 53, ("server-banner", "dns", "dnsmasq-2.80"), ("geo-country", "", "US", True)),
    report(
        "r04",
        1,
        "10.1.2.3",
        22,
        ("server-banner", "ssh", "SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.6"),
        ("entity", "", "Tencent Cloud Computing", True),
        ("product-tag", "", "openssh", True),
        ("geo-country", "", "CN", True),
    ),
    report(
        "r05",
        2,
        "10.1.2.4",
        2222,
        ("server-banner", "ssh", "SSH-2.0-OpenSSH_7.4"),
        ("entity", "", "Tencent Cloud Computing", True),
        ("geo-country", "", "CN", True),
    ),
    report(
        "r06",
        3,
        "10.1.2.5",
        80,
        ("entity", "", "Tencent Cloud Computing", True),
        ("http-header", "Content-Disposition", 'inline; filename="index.html"'),
        ("product-info", "", "(Fedora)", True),
        ("title", "", "London"),
        ("title", "", "University"),
        ("server-banner", "http", "HTTP/1.1 404 Not Found"),
    ),
    report(
        "r07",
        4,
        "10.9.0.1",
        502,
        ("server-banner", "modbus", "Schneider Electric BMX P34 2020"),
        ("product-tag", "", "hikvision dvr ds-7208hwi-sh", True),
        ("geo-country", "", "RU", True),
    ),
    report("r08", 4, "10.9.0.2", 37777, ("product-tag", "", "dahua", True), ("geo-country", "", "IR", True)),
    report("r09", 5, "10.9.0.3", 37777, ("product-tag", "", "dahua", True), ("geo-country", "", "RU", True)),
    report("r10", 5, "10.9.0.4", 8000, ("product-tag", "", "hikvision", True), ("geo-country", "", "IR", True)),
    report(
        "r11",
        6,
        "2001:db8::10",
        80,
        ("url", "", "https://foo.bar.example.com/abc/def"),
        ("host", "", "notexample.com"),
        ("title", "", "CherryPy Server"),
        ("server-banner", "http", "HTTP/1.1 200 OK"),
    ),
    report(
        "r12",
        6,
        "2001:db8::11",
        8080,
        ("http-header", "Server", "NimPlant C2 Server"),
        ("server-banner", "http", "CherryPy/18.8.0"),
    ),
    report("r13", 7, "192.0.2.1", 443, ("host", "", "driftnet.io"), ("http-header", "Server", "cloudflare")),
    report("r14", 7, "192.0.2.2", 80, ("host", "", "api.driftnet.io"), ("url", "", "http://driftnet.io/login")),
    report("r15", 7, "192.0.2.3", 443, ("host", "", "driftnet.io.evil.com")),
    report(
        "r16",
        8,
        "192.0.2.4",
        21,
        ("server-banner", "ftp", "220 (vsFTPd 3.0.5)"),
        ("product-info", "", "C:\\Program Files\\ftpd"),
        ("http-header", "Server", "vsftpd"),
        ("http-header", "X-Backend", "vsftpd"),
    ),
]

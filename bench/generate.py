#!/usr/bin/env python3
"""Generate a deterministic corpus of realistic Driftnet scan reports as JSON Lines.

    python bench/generate.py --count 1000000 --seed 1 --out corpus.jsonl.gz
    python bench/generate.py --count 10 --out - | jq .

or, from another script, ``generate(count, seed)`` yields the reports as dicts in the spec's shape
``{"date", "id", "items": [{"context", "is_metadata", "type", "value"}, ...]}``.

The model: a fixed vocabulary (networks, entities, domains, products; the same for every seed) and a
population of services (ip:port) built lazily from the seed. Reports are emitted day by day over a
window ending at ``end_date``; newer days hold more reports. Each day scans a random sample of the
population, so an ip:port is seen on ~5 dates on average and history exists. Per scan, only the id
and the HTTP ``Date`` header change (and, rarely, the service is rebuilt, e.g. after an upgrade).

Stdlib only; uses orjson when it is installed.
"""

from __future__ import annotations

import argparse
import base64
import bisect
import datetime as dt
import gzip
import ipaddress
import itertools
import queue
import random
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, Any, Generic, TypeVar

try:
    import orjson

    def dumps(obj: Any) -> bytes:
        return orjson.dumps(obj)

except ImportError:  # pragma: no cover - exercised only where orjson is missing
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
VOCABULARY_SEED = 20261120  # the vocabulary does not depend on the corpus seed

T = TypeVar("T")
Item = dict[str, Any]


class Zipf(Generic[T]):
    """Draws from values by rank (first is most popular), weight 1/rank**exponent, or explicit weights."""

    def __init__(self, values: Sequence[T], exponent: float = 1.0, weights: Sequence[float] | None = None) -> None:
        if not values:
            raise ValueError("Zipf needs at least one value")
        self.values = list(values)
        if weights is None:
            weights = [1.0 / (rank**exponent) for rank in range(1, len(self.values) + 1)]
        self.cumulative = list(itertools.accumulate(weights))
        self.total = self.cumulative[-1]
        self.last = len(self.values) - 1

    def draw(self, rng: random.Random) -> T:
        index = bisect.bisect_right(self.cumulative, rng.random() * self.total)
        return self.values[min(index, self.last)]


# ---------------------------------------------------------------------------------------------------------------
# Vocabulary: who owns the networks, what runs on them, what they say.
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Entity:
    name: str
    asn: int
    countries: tuple[str, ...]
    kind: str  # cloud | cdn | isp | edu
    domains: tuple[str, ...] = ()
    titles: tuple[str, ...] = ()
    network_weight: float = 1.0  # weight when assigning generated /16s


ENTITIES: dict[str, Entity] = {
    e_key: e
    for e_key, e in [
        ("amazon", Entity("Amazon.com, Inc.", 16509, ("US", "IE", "DE", "GB", "JP", "SG"), "cloud", ("amazonaws.com",), (), 14)),
        ("tencent", Entity("Tencent Cloud Computing (Beijing) Co., Ltd.", 45090, ("CN", "SG", "HK"), "cloud", ("qq.com", "tencent.com"), (), 6)),
        ("alibaba", Entity("Alibaba (US) Technology Co., Ltd.", 45102, ("CN", "US", "SG"), "cloud", ("aliyun.com", "alibaba.com"), (), 6)),
        ("digitalocean", Entity("DigitalOcean, LLC", 14061, ("US", "NL", "DE", "SG", "IN"), "cloud", (), (), 8)),
        ("google", Entity("Google LLC", 15169, ("US", "BE", "GB", "NL"), "cloud", ("google.com", "googleusercontent.com", "1e100.net"), (), 6)),
        ("microsoft", Entity("Microsoft Corporation", 8075, ("US", "IE", "NL"), "cloud", ("azurewebsites.net", "cloudapp.azure.com", "microsoft.com"), (), 7)),
        ("cloudflare", Entity("Cloudflare, Inc.", 13335, ("US",), "cdn", ("cloudflare.com",), (), 3)),
        ("akamai", Entity("Akamai Technologies, Inc.", 20940, ("US", "NL"), "cdn", ("akamaitechnologies.com",), (), 2)),
        ("ovh", Entity("OVH SAS", 16276, ("FR", "CA", "DE"), "cloud", ("ovh.net",), (), 6)),
        ("hetzner", Entity("Hetzner Online GmbH", 24940, ("DE", "FI"), "cloud", ("your-server.de",), (), 6)),
        ("linode", Entity("Akamai Connected Cloud (Linode)", 63949, ("US", "GB", "DE"), "cloud", ("linodeusercontent.com",), (), 3)),
        ("vultr", Entity("The Constant Company, LLC", 20473, ("US", "NL", "JP"), "cloud", ("vultrusercontent.com",), (), 3)),
        ("contabo", Entity("Contabo GmbH", 51167, ("DE",), "cloud", ("contaboserver.net",), (), 3)),
        ("oracle", Entity("Oracle Corporation", 31898, ("US", "GB"), "cloud", ("oraclecloud.com",), (), 2)),
        ("chinanet", Entity("Chinanet", 4134, ("CN",), "isp", (), (), 14)),
        ("unicom", Entity("China Unicom Backbone", 4837, ("CN",), "isp", (), (), 9)),
        ("kt", Entity("Korea Telecom", 4766, ("KR",), "isp", (), (), 6)),
        ("skb", Entity("SK Broadband Co Ltd", 9318, ("KR",), "isp", (), (), 3)),
        ("comcast", Entity("Comcast Cable Communications, LLC", 7922, ("US",), "isp", ("comcast.net",), (), 7)),
        ("dtag", Entity("Deutsche Telekom AG", 3320, ("DE",), "isp", ("t-ipconnect.de",), (), 5)),
        ("bt", Entity("British Telecommunications PLC", 2856, ("GB",), "isp", ("btcentralplus.com",), (), 4)),
        ("orange", Entity("Orange S.A.", 3215, ("FR",), "isp", ("orange.fr",), (), 4)),
        ("telefonica", Entity("Telefonica de Espana S.A.U.", 3352, ("ES",), "isp", (), (), 3)),
        ("rostelecom", Entity("Rostelecom", 12389, ("RU",), "isp", ("rt.ru",), (), 6)),
        ("tci", Entity("Iran Telecommunication Company PJS", 58224, ("IR",), "isp", (), (), 4)),
        ("vnpt", Entity("VNPT Corp", 45899, ("VN",), "isp", (), (), 4)),
        ("chunghwa", Entity("Chunghwa Telecom Co., Ltd.", 3462, ("TW",), "isp", ("hinet.net",), (), 4)),
        ("ntt", Entity("NTT Communications Corporation", 4713, ("JP",), "isp", ("ocn.ne.jp",), (), 4)),
        ("jio", Entity("Reliance Jio Infocomm Limited", 55836, ("IN",), "isp", (), (), 4)),
        ("claro", Entity("Claro S.A.", 28573, ("BR",), "isp", (), (), 4)),
        ("turktelekom", Entity("Turk Telekom", 9121, ("TR",), "isp", (), (), 3)),
        ("telstra", Entity("Telstra Limited", 1221, ("AU",), "isp", ("bigpond.net.au",), (), 2)),
        ("oxford", Entity("University of Oxford", 786, ("GB",), "edu", ("ox.ac.uk",), ("University of Oxford", "Oxford University IT Services", "Bodleian Libraries | University of Oxford"), 0)),
        ("ucl", Entity("University College London", 786, ("GB",), "edu", ("ucl.ac.uk",), ("University College London Portal", "UCL - London's Global University"), 0)),
        ("london", Entity("University of London", 786, ("GB",), "edu", ("london.ac.uk",), ("University of London", "University of London Online Library"), 0)),
        ("cambridge", Entity("University of Cambridge", 786, ("GB",), "edu", ("cam.ac.uk",), ("University of Cambridge", "Raven Login"), 0)),
    ]
}


@dataclass(frozen=True, slots=True)
class Network:
    prefix: str  # "129.67" for a /16, or an IPv6 CIDR
    entity: Entity
    country: str


# The most popular networks by rank (Zipf), then generated /16s. Rank 1 holds ~15% of IPv4 hosts.
NAMED_NETWORKS: list[tuple[str, str, str]] = [
    ("43.135", "tencent", "CN"), ("52.95", "amazon", "US"), ("47.88", "alibaba", "US"),
    ("104.21", "cloudflare", "US"), ("159.89", "digitalocean", "IN"), ("142.250", "google", "US"),
    ("51.15", "ovh", "FR"), ("88.198", "hetzner", "DE"), ("218.92", "chinanet", "CN"),
    ("95.167", "rostelecom", "RU"), ("5.160", "tci", "IR"), ("220.70", "kt", "KR"), ("20.81", "microsoft", "US"),
    ("35.176", "amazon", "GB"), ("129.67", "oxford", "GB"), ("123.30", "vnpt", "VN"), ("73.15", "comcast", "US"),
    ("81.2", "bt", "GB"), ("128.40", "ucl", "GB"), ("61.177", "chinanet", "CN"), ("193.61", "london", "GB"),
    ("131.111", "cambridge", "GB"),
]
GENERATED_NETWORK_COUNT = 278
IPV6_NETWORKS: list[tuple[str, str, str]] = [
    ("2a01:4f8::/32", "hetzner", "DE"), ("2600:1f18::/32", "amazon", "US"), ("2606:4700::/32", "cloudflare", "US"),
    ("2001:41d0::/32", "ovh", "FR"), ("2402:4e00::/32", "tencent", "CN"), ("2a00:1450:4009::/48", "google", "GB"),
    ("2001:630:440::/44", "oxford", "GB"),
]
HOSTNAME_SHARE = {"cloud": 0.6, "cdn": 0.7, "isp": 0.15, "edu": 0.85}
IOT_SHARE = {"cloud": 0.02, "cdn": 0.0, "isp": 0.45, "edu": 0.05}

# (port, relative weight, protocol); ports outside this list are a long tail of random high ports.
PORTS: list[tuple[int, float, str]] = [
    (80, 30, "http"), (443, 22, "https"), (22, 14, "ssh"), (8080, 6, "http"), (21, 4, "ftp"), (25, 3.5, "smtp"),
    (3389, 3, "rdp"), (8443, 3, "https"), (23, 2.5, "telnet"), (3306, 2.2, "mysql"), (110, 1.5, "pop3"),
    (143, 1.4, "imap"), (993, 1.3, "tls"), (995, 1.1, "tls"), (587, 1.1, "smtp"), (5432, 1.0, "postgres"),
    (6379, 0.9, "redis"), (8000, 0.9, "http"), (8888, 0.8, "http"), (2222, 0.7, "ssh"), (1883, 0.7, "mqtt"),
    (9100, 0.6, "generic"), (502, 0.5, "modbus"), (161, 0.5, "generic"), (465, 0.5, "tls"), (5000, 0.5, "http"),
    (81, 0.5, "http"), (8081, 0.5, "http"), (7547, 0.4, "http"), (4443, 0.4, "https"), (10443, 0.3, "https"),
    (9443, 0.3, "https"), (2323, 0.3, "telnet"), (636, 0.2, "tls"), (9000, 0.2, "http"),
]
HIGH_PORT_SHARE = 0.08
HIGH_PORT_PROTOCOLS = Zipf(["http", "generic", "https", "ssh"], weights=[45, 30, 15, 10])
DEFAULT_WEB_PORTS = {80: "http", 443: "https"}

# Banners of non-web protocols: (banner, product tags, product-info). {host} and {ip} are filled in.
BANNERS: dict[str, list[tuple[str, tuple[str, ...], str | None]]] = {
    "ssh": [
        ("SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.6", ("openssh",), "Ubuntu-3ubuntu0.6"),
        ("SSH-2.0-OpenSSH_7.4", ("openssh",), None),
        ("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3", ("openssh",), "Debian-2+deb12u3"),
        ("SSH-2.0-OpenSSH_8.0", ("openssh",), None),
        ("SSH-2.0-OpenSSH_7.6p1 Ubuntu-4ubuntu0.7", ("openssh",), "Ubuntu-4ubuntu0.7"),
        ("SSH-2.0-dropbear_2020.81", ("dropbear",), None),
        ("SSH-2.0-OpenSSH_8.4p1 Debian-5+deb11u3", ("openssh",), "Debian-5+deb11u3"),
        ("SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13.5", ("openssh",), "Ubuntu-3ubuntu13.5"),
        ("SSH-2.0-ROSSSH", ("mikrotik", "routeros"), None),
        ("SSH-2.0-OpenSSH_7.4p1 Raspbian-10+deb9u7", ("openssh", "raspbian"), "Raspbian-10+deb9u7"),
        ("SSH-2.0-Cisco-1.25", ("cisco",), None),
        ("SSH-2.0-dropbear_2019.78", ("dropbear",), None),
        ("SSH-2.0-HUAWEI-1.5", ("huawei",), None),
        ("SSH-2.0-libssh_0.9.6", ("libssh",), None),
        ("SSH-2.0-OpenSSH_9.8 FreeBSD-20240701", ("openssh", "freebsd"), "FreeBSD-20240701"),
    ],
    "ftp": [
        ("220 (vsFTPd 3.0.5)", ("vsftpd",), "(vsFTPd 3.0.5)"),
        ("220 (vsFTPd 3.0.3)", ("vsftpd",), "(vsFTPd 3.0.3)"),
        ("220 ProFTPD Server (ProFTPD Default Installation) [{ip}]", ("proftpd",), None),
        ("220 Microsoft FTP Service", ("microsoft ftp",), None),
        ("220-FileZilla Server 1.8.0\r\n220 Please visit https://filezilla-project.org/", ("filezilla",), "1.8.0"),
        ("220---------- Welcome to Pure-FTPd [privsep] [TLS] ----------", ("pure-ftpd",), None),
        ("220 DiskStation FTP server ready.", ("synology",), None),
        ("220 ProFTPD 1.3.5e Server (Debian) [{ip}]", ("proftpd",), "(Debian)"),
    ],
    "smtp": [
        ("220 {host} ESMTP Postfix (Ubuntu)", ("postfix",), "(Ubuntu)"),
        ("220 {host} ESMTP Exim 4.96 Ubuntu", ("exim",), None),
        ("220 {host} ESMTP Postfix", ("postfix",), None),
        ("220 {host} Microsoft ESMTP MAIL Service ready", ("microsoft exchange",), None),
        ("220 {host} ESMTP Sendmail 8.15.2/8.15.2; ready", ("sendmail",), "8.15.2/8.15.2"),
        ("220 {host} ESMTP Postfix (Debian/GNU)", ("postfix",), "(Debian/GNU)"),
    ],
    "telnet": [
        ("\r\nUser Access Verification\r\n\r\nUsername: ", ("cisco",), None),
        ("(none) login: ", ("busybox",), None),
        ("Ubuntu 22.04.4 LTS\r\nserver login: ", ("ubuntu",), None),
        ("MikroTik v6.49.10 (stable)\r\nLogin: ", ("mikrotik", "routeros"), "v6.49.10 (stable)"),
        ("dvrdvs login: ", ("xiongmai",), None),
        ("\r\n\r\nWelcome to ZXHN H108N\r\nLogin: ", ("zte",), None),
    ],
    "redis": [
        ("-NOAUTH Authentication required.", ("redis",), None),
        ("redis_version:7.2.4", ("redis",), "7.2.4"),
        ("redis_version:6.0.16", ("redis",), "6.0.16"),
        ("redis_version:5.0.7", ("redis",), "5.0.7"),
        ("-DENIED Redis is running in protected mode because protected mode is enabled", ("redis",), None),
    ],
    "mysql": [
        ("5.7.44-log", ("mysql",), "5.7.44-log"),
        ("8.0.36-0ubuntu0.22.04.1", ("mysql",), "8.0.36-0ubuntu0.22.04.1"),
        ("5.5.5-10.11.6-MariaDB-0+deb12u1", ("mariadb",), "10.11.6-MariaDB-0+deb12u1"),
        ("Host '{ip}' is not allowed to connect to this MySQL server", ("mysql",), None),
        ("5.5.5-10.3.39-MariaDB", ("mariadb",), "10.3.39-MariaDB"),
    ],
    "postgres": [
        ("FATAL:  unsupported frontend protocol 1234.5679: server supports 3.0 to 3.0", ("postgresql",), None),
        ('FATAL:  no pg_hba.conf entry for host "{ip}", user "postgres", database "postgres", SSL off',
         ("postgresql",), None),
    ],
    "mqtt": [
        ("MQTT Connection Code: 0", ("mqtt", "mosquitto"), None),
        ("MQTT Connection Code: 5", ("mqtt",), None),
    ],
    "modbus": [
        ("Unit ID: 0\nDevice: Schneider Electric BMX P34 2020 v2.9", ("schneider electric", "modicon"), "BMX P34 2020 v2.9"),
        ("Unit ID: 1\nDevice: Siemens SIMATIC S7-1200", ("siemens", "simatic"), "S7-1200"),
        ("Unit ID: 255\nDevice: Moxa MB3170 Modbus Gateway", ("moxa",), None),
    ],
    "rdp": [
        ("Remote Desktop Protocol; CredSSP (NLA) required", ("microsoft rdp",), "CredSSP (NLA)"),
        ("Remote Desktop Protocol; TLS security", ("microsoft rdp",), None),
        ("Remote Desktop Protocol; xrdp", ("xrdp",), None),
    ],
    "pop3": [
        ("+OK Dovecot (Ubuntu) ready.", ("dovecot",), "(Ubuntu)"),
        ("+OK POP3 server ready <{host}>", ("pop3",), None),
        ("+OK The Microsoft Exchange POP3 service is ready.", ("microsoft exchange",), None),
    ],
    "imap": [
        ("* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS AUTH=PLAIN] "
         "Dovecot (Ubuntu) ready.", ("dovecot",), "(Ubuntu)"),
        ("* OK The Microsoft Exchange IMAP4 service is ready.", ("microsoft exchange",), None),
        ("* OK Courier-IMAP ready. Copyright 1998-2018 Double Precision, Inc.", ("courier",), None),
    ],
    "tls": [
        ("* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN] Dovecot ready.", ("dovecot",), None),
        ("+OK Dovecot ready.", ("dovecot",), None),
        ("220 {host} ESMTP Postfix", ("postfix",), None),
        ("0\x84\x00\x00\x00\x10\x02\x01\x01a\x84\x00\x00\x00\x07\n\x01\x00\x04\x00\x04\x00", ("openldap",), None),
    ],
    "generic": [
        ('@PJL INFO STATUS\r\nCODE=10001\r\nDISPLAY="Ready"\r\nONLINE=TRUE', ("hp jetdirect",), None),
        ("\x15\x03\x01\x00\x02\x02\n", (), None),
        ("HTTP/1.0 400 Bad Request", (), None),
        ("Public; community=public; sysDescr=Linux router 4.14.76", ("net-snmp",), None),
        ("\x00\x00\x00\x0c\x00\x00\x00\x01", (), None),
        ("Welcome to Claymore's Dual Miner", ("claymore",), None),
    ],
}


@dataclass(frozen=True, slots=True)
class WebProfile:
    server: str | None  # the Server header, None when absent
    tags: tuple[str, ...]
    info: str | None = None
    title: str | None = None  # the profile's own page title (default page, device UI)
    title_share: float = 0.0  # how often that title is shown instead of a site's title
    path: str = "/"
    status: str = "HTTP/1.1 200 OK"
    powered_by: tuple[str, ...] = ()


WEB_PROFILES = Zipf(
    [
        WebProfile("nginx", ("nginx",), None, "Welcome to nginx!", 0.25),
        WebProfile("nginx/1.18.0 (Ubuntu)", ("nginx",), "(Ubuntu)", "Welcome to nginx!", 0.3, powered_by=("PHP/7.4.3",)),
        WebProfile("Apache/2.4.41 (Ubuntu)", ("apache",), "(Ubuntu)", "Apache2 Ubuntu Default Page: It works", 0.3,
                   powered_by=("PHP/7.4.3-4ubuntu2.24",)),
        WebProfile("cloudflare", ("cloudflare",), None, "Just a moment...", 0.3, status="HTTP/1.1 403 Forbidden"),
        WebProfile("Microsoft-IIS/10.0", ("iis", "microsoft"), None, "IIS Windows Server", 0.4, powered_by=("ASP.NET",)),
        WebProfile("Apache", ("apache",), None),
        WebProfile("nginx/1.24.0", ("nginx",), None, "Welcome to nginx!", 0.2),
        WebProfile("Apache/2.4.6 (CentOS) OpenSSL/1.0.2k-fips", ("apache", "openssl"), "(CentOS)", "Welcome to CentOS", 0.2,
                   powered_by=("PHP/5.4.16",)),
        WebProfile("openresty", ("openresty", "nginx"), None),
        WebProfile("Apache/2.4.38 (Debian)", ("apache",), "(Debian)", powered_by=("PHP/7.3.33",)),
        WebProfile("nginx/1.22.1", ("nginx",), None),
        WebProfile("Microsoft-IIS/8.5", ("iis", "microsoft"), None, "IIS Windows Server", 0.4, powered_by=("ASP.NET",)),
        WebProfile("lighttpd/1.4.59", ("lighttpd",), None),
        WebProfile("Apache/2.4.37 (Fedora)", ("apache",), "(Fedora)", "Test Page for the Apache HTTP Server on Fedora", 0.5),
        WebProfile("Caddy", ("caddy",), None),
        WebProfile("Apache-Coyote/1.1", ("tomcat", "apache tomcat"), None, "Apache Tomcat/9.0.83", 0.3),
        WebProfile("Jetty(9.4.44.v20210927)", ("jetty",), "(9.4.44.v20210927)"),
        WebProfile("gunicorn", ("gunicorn",), None, "Swagger UI", 0.2, powered_by=("Express",)),
        WebProfile("Werkzeug/2.0.2 Python/3.10.12", ("werkzeug", "python"), None),
        WebProfile("Kestrel", ("kestrel", "microsoft"), None),
        WebProfile("AkamaiGHost", ("akamai",), None, "Access Denied", 0.5, status="HTTP/1.1 403 Forbidden"),
        WebProfile("gws", ("google",), None, "Error 404 (Not Found)!!1", 0.5, status="HTTP/1.1 404 Not Found"),
        WebProfile("CherryPy/18.8.0", ("cherrypy",), None),
        WebProfile("mini_httpd/1.30 26Oct2018", ("mini_httpd",), None),
        WebProfile("Boa/0.94.14rc21", ("boa",), None),
        WebProfile("NimPlant C2 Server", ("nimplant",), None),
    ],
    exponent=1.1,
)
IOT_PROFILES = Zipf(
    [
        WebProfile("Hikvision-Webs", ("hikvision",), None, "Hikvision DVR", 0.8, "/doc/page/login.asp"),
        WebProfile(None, ("mikrotik", "routeros"), None, "RouterOS router configuration page", 0.95, "/webfig/"),
        WebProfile(None, ("dahua",), None, "WEB SERVICE", 0.9),
        WebProfile("DNVRS-Webs", ("hikvision", "hikvision dvr ds-7208hwi-sh"), None, "Hikvision DVR", 0.9, "/doc/page/login.asp"),
        WebProfile("uc-httpd 1.0.0", ("xiongmai",), None, "NETSurveillance WEB", 0.9),
        WebProfile("GoAhead-Webs", ("goahead",), None, "Router Login", 0.6, status="HTTP/1.1 401 Unauthorized"),
        WebProfile("nginx", ("synology", "nginx"), None, "Synology DiskStation", 0.9, "/webman/index.cgi"),
        WebProfile("micro_httpd", ("zyxel",), None, "Unauthorized", 0.7, status="HTTP/1.1 401 Unauthorized"),
        WebProfile("Boa/0.94.14rc21", ("boa", "dahua"), None, "WEB SERVICE", 0.6),
    ]
)
TITLES = Zipf(
    [
        "Login", "Welcome to nginx!", "404 Not Found", "403 Forbidden", "Home", "Document", "Index of /",
        "Just a moment...", "Dashboard", "Sign in to your account", "301 Moved Permanently", "Example Domain", "Outlook",
        "Grafana", "phpMyAdmin", "Kibana", "GitLab", "Dashboard [Jenkins]", "cPanel Login", "Plesk Obsidian 18.0.61",
        "Roundcube Webmail :: Welcome to Roundcube Webmail", "Coming Soon", "Site en construction",
        "Attention Required! | Cloudflare", "Swagger UI", "Proxmox Virtual Environment", "pfSense - Login", "Zabbix",
        "Nextcloud", "My Blog – Just another WordPress site", "OpenWrt - LuCI", "Unauthorized", "University of London",
        "University College London Portal", "University of Oxford", "ログイン", "Вход в систему", "登录",
        "driftnet.io - Internet Scan Data", "Work Resources", "Bob's \"Home\" Page; Welcome", "(untitled)",
        "Hikvision DVR", "RouterOS router configuration page", "Under Construction", "Test Page",
        "Welcome to Our Website", "Router", "Web Client", "Default Parallels Plesk Page",
    ]
)
CONTENT_TYPES = Zipf(["text/html; charset=UTF-8", "text/html", "text/html; charset=utf-8", "application/json",
                      "text/plain; charset=utf-8", "text/html; charset=iso-8859-1"])
# Occasional headers: (share of web services, name, value). {host} and {hex} are filled in.
EXTRA_HEADERS: list[tuple[float, str, str]] = [
    (0.25, "Connection", "keep-alive"),
    (0.18, "X-Frame-Options", "SAMEORIGIN"),
    (0.12, "Cache-Control", "no-cache, no-store, must-revalidate"),
    (0.08, "Set-Cookie", "PHPSESSID={hex}; path=/; HttpOnly"),
    (0.05, "Vary", "Accept-Encoding"),
    (0.02, "X-Generator", "Drupal 10 (https://www.drupal.org)"),
    (0.01, "Content-Disposition", 'inline; filename="index.html"'),
    (0.003, "X-Clacks-Overhead", "GNU Terry Pratchett"),
]
TLS_ONLY_HEADER = (0.2, "Strict-Transport-Security", "max-age=31536000; includeSubDomains")
AUTH_HEADER = ("WWW-Authenticate", 'Basic realm="index.html"')
X_POWERED_BY_SHARE = 0.35

SUBDOMAINS = Zipf(["www", "", "mail", "api", "vpn", "portal", "remote", "dev", "app", "staging", "test", "cdn", "m",
                   "owa", "git", "admin", "shop", "blog", "login", "static", "autodiscover", "webmail", "ns1", "srv01"])
EDU_SUBDOMAINS = Zipf(["www", "webmail", "vpn", "portal", "www.cs", "www.physics", "www.maths", "library",
                       "weblearn", "intranet", "sso", "moodle", "www.it", "eduroam", ""])
AWS_REGIONS = {"US": "us-east-1", "IE": "eu-west-1", "DE": "eu-central-1", "GB": "eu-west-2", "JP": "ap-northeast-1",
               "SG": "ap-southeast-1"}
ISSUERS = Zipf(
    [
        ("CN=R3, O=Let's Encrypt, C=US", False), ("CN=R11, O=Let's Encrypt, C=US", False),
        ("CN=R10, O=Let's Encrypt, C=US", False), ("CN=E5, O=Let's Encrypt, C=US", False),
        ("CN=Sectigo RSA Domain Validation Secure Server CA, O=Sectigo Limited, L=Salford, ST=Greater Manchester, C=GB",
         False),
        ("CN=DigiCert Global G2 TLS RSA SHA256 2020 CA1, O=DigiCert Inc, C=US", True),
        ("CN=GlobalSign GCC R6 AlphaSSL CA 2023, O=GlobalSign nv-sa, C=BE", False),
        ("CN=Amazon RSA 2048 M02, O=Amazon, C=US", False),
        ("CN=Cloudflare Inc ECC CA-3, O=Cloudflare, Inc., C=US", False),
        ("CN=Sectigo RSA Organization Validation Secure Server CA, O=Sectigo Limited, L=Salford, ST=Greater Manchester, "
         "C=GB", True),
    ]
)
ISSUER_BY_ENTITY = {
    "google": ("CN=WR2, O=Google Trust Services, C=US", False),
    "edu": ("CN=GEANT OV RSA CA 4, O=GEANT Vereniging, C=NL", True),
}
SELF_SIGNED_SUBJECTS = Zipf(["CN=localhost", "C=US, ST=California, L=Sunnyvale, O=Fortinet, OU=FortiGate, CN=FGT60F",
                             "CN={ip}, O=Hikvision, C=CN", "CN=localhost.localdomain, O=SomeOrganization, C=--",
                             "CN=Synology Inc. CA, O=Synology Inc., C=TW", "CN=router.lan, O=MikroTik"])
CITIES = {"GB": "London", "US": "Seattle", "DE": "Berlin", "FR": "Paris", "CN": "Beijing", "JP": "Tokyo"}
ENGLISH_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
ENGLISH_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def build_networks(vocabulary_rng: random.Random) -> list[Network]:
    """The IPv4 /16 networks in popularity order: the named ones, then generated ones owned by weighted entities."""
    networks = [Network(prefix, ENTITIES[key], country) for prefix, key, country in NAMED_NETWORKS]
    taken = {network.prefix for network in networks}
    owners = Zipf(list(ENTITIES.values()), weights=[entity.network_weight for entity in ENTITIES.values()])
    reserved_first_octets = {0, 10, 100, 127, 169, 172, 192, 198}
    while len(networks) < len(NAMED_NETWORKS) + GENERATED_NETWORK_COUNT:
        first = vocabulary_rng.randint(1, 223)
        prefix = f"{first}.{vocabulary_rng.randint(0, 255)}"
        if first in reserved_first_octets or prefix in taken:
            continue
        taken.add(prefix)
        entity = owners.draw(vocabulary_rng)
        country = entity.countries[0] if vocabulary_rng.random() < 0.6 else vocabulary_rng.choice(entity.countries)
        networks.append(Network(prefix, entity, country))
    return networks


def build_domains(vocabulary_rng: random.Random) -> list[str]:
    """Registered domains in popularity order: a few well-known ones, then a long tail of made-up ones."""
    firsts = ["blue", "north", "river", "data", "cloud", "green", "smart", "alpha", "delta", "nova", "pixel", "metro",
              "urban", "solar", "iron", "silver", "apex", "bright", "quick", "zen"]
    seconds = ["tech", "labs", "net", "systems", "works", "media", "hub", "soft", "host", "shop", "bank", "health",
               "games", "travel", "link", "zone"]
    tlds = ["com", "net", "io", "co.uk", "de", "cn", "ru", "jp", "org", "info", "xyz"]
    tail = [f"{a}{b}.{tld}" for a in firsts for b in seconds for tld in tlds]
    vocabulary_rng.shuffle(tail)
    return ["example.com", "driftnet.io", "example.org", "example.net", "github.io", "herokuapp.com", *tail]


_vocabulary_rng = random.Random(VOCABULARY_SEED)
IPV4_NETWORKS = build_networks(_vocabulary_rng)
IPV4_NETWORK_RANKS = Zipf(IPV4_NETWORKS, exponent=1.0)
IPV6_NETWORK_RANKS = Zipf([Network(cidr, ENTITIES[key], country) for cidr, key, country in IPV6_NETWORKS])
DOMAINS = Zipf(build_domains(_vocabulary_rng), exponent=1.0)
PORT_RANKS = Zipf([(port, protocol) for port, _, protocol in PORTS], weights=[weight for _, weight, _ in PORTS])
BANNER_RANKS = {protocol: Zipf(banners, exponent=1.2) for protocol, banners in BANNERS.items()}
MOST_POPULAR_NETWORK = f"{IPV4_NETWORKS[0].prefix}.0.0/16"


# ---------------------------------------------------------------------------------------------------------------
# The population: hosts (an address on a network) and services (a port on a host, with what it answers).
# ---------------------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Host:
    ip: str
    network: Network
    hostname: str | None
    domain: str | None
    ports: set[int] = field(default_factory=set)


@dataclass(slots=True)
class Service:
    host: Host
    port: int
    protocol: str
    head: list[Item]  # items before the per-scan HTTP Date header (all items when there is none)
    tail: list[Item] | None  # items after the Date header; None when the service sends no Date header
    head_json: bytes = b""  # head and tail pre-serialised, without the surrounding brackets
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


def http_date_prefix(day: dt.date) -> str:
    """'Fri, 20 Nov 2026 ' (English names whatever the locale)."""
    return f"{ENGLISH_DAYS[day.weekday()]}, {day.day:02d} {ENGLISH_MONTHS[day.month - 1]} {day.year} "


def reports_per_day(count: int, days: int) -> list[int]:
    """Split count over days (oldest first), rising linearly to NEWEST_DAY_WEIGHT times on the newest day."""
    weights = [1.0 + (NEWEST_DAY_WEIGHT - 1.0) * day / max(days - 1, 1) for day in range(days)]
    total = sum(weights)
    bounds = [round(count * share / total) for share in itertools.accumulate(weights)]
    return [high - low for low, high in zip([0, *bounds[:-1]], bounds, strict=True)]


class Population:
    """Hosts and services, created on demand from one seeded random stream."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.hosts: list[Host] = []
        self.hosts_by_ip: dict[str, Host] = {}
        self.certificates: dict[str, Certificate] = {}

    def new_service(self) -> Service:
        rng = self.rng
        if self.hosts and rng.random() < EXTRA_PORT_SHARE:
            host = self.hosts[rng.randrange(len(self.hosts))]
        else:
            host = self.new_host()
        port, protocol = self.pick_port(host)
        host.ports.add(port)
        service = Service(host, port, protocol, [], None)
        self.rebuild(service)
        return service

    def rebuild(self, service: Service) -> None:
        """(Re)draw what the service answers and its enrichment; keeps host, port and protocol."""
        if service.protocol in ("http", "https"):
            head, tail = self.web_items(service)
        else:
            head, tail = self.banner_items(service), None
        service.head, service.tail = head, tail
        service.head_json = dumps(head)[1:-1]
        service.tail_json = dumps(tail)[1:-1] if tail is not None else b""

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
        hostname, domain = self.pick_hostname(network, ip)
        host = Host(ip, network, hostname, domain)
        self.hosts.append(host)
        self.hosts_by_ip[ip] = host
        return host

    def ipv6_in(self, cidr: str) -> str:
        network = ipaddress.IPv6Network(cidr)
        subnet_bits = 64 - network.prefixlen
        subnet = self.rng.getrandbits(subnet_bits) if subnet_bits > 0 else 0
        interface = self.rng.randint(1, 255) if self.rng.random() < 0.5 else self.rng.getrandbits(64)
        return ipaddress.IPv6Address(int(network.network_address) | (subnet << 64) | interface).compressed

    def pick_hostname(self, network: Network, ip: str) -> tuple[str | None, str | None]:
        rng, entity = self.rng, network.entity
        if rng.random() >= HOSTNAME_SHARE[entity.kind]:
            return None, None
        if entity.name == "Amazon.com, Inc." and ":" not in ip and rng.random() < 0.6:
            region = AWS_REGIONS.get(network.country, "us-east-1")
            return f"ec2-{ip.replace('.', '-')}.{region}.compute.amazonaws.com", "amazonaws.com"
        own_domain_share = 0.9 if entity.kind == "edu" else 0.3
        if entity.domains and rng.random() < own_domain_share:
            domain = rng.choice(entity.domains)
        else:
            domain = DOMAINS.draw(rng)
        label = (EDU_SUBDOMAINS if entity.kind == "edu" else SUBDOMAINS).draw(rng)
        return (f"{label}.{domain}" if label else domain), domain

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

    def enrichment_items(self, network: Network, tags: Sequence[str], info: str | None) -> list[Item]:
        entity = network.entity
        items = [
            item("geo-country", network.country, is_metadata=True),
            item("entity", entity.name, is_metadata=True),
            item("asn", str(entity.asn), is_metadata=True),
        ]
        items.extend(item("product-tag", tag, is_metadata=True) for tag in tags)
        if info is not None:
            items.append(item("product-info", info, is_metadata=True))
        return items

    def target_items(self, service: Service) -> list[Item]:
        return [item("ip", service.host.ip, is_metadata=True), item("port-tcp", str(service.port), is_metadata=True)]

    def banner_items(self, service: Service) -> list[Item]:
        host = service.host
        banner, tags, info = BANNER_RANKS[service.protocol].draw(self.rng)
        if "{" in banner:
            banner = banner.format(host=host.hostname or "localhost.localdomain", ip=host.ip)
        items = [*self.target_items(service), item("server-banner", banner, service.protocol)]
        if service.protocol == "tls":
            items.extend(self.certificate_items(host))
        items.extend(self.enrichment_items(host.network, tags, info))
        return items

    def web_items(self, service: Service) -> tuple[list[Item], list[Item]]:
        rng, host = self.rng, service.host
        tls = service.protocol == "https"
        entity = host.network.entity
        iot = host.hostname is None and rng.random() < IOT_SHARE[entity.kind]
        profile = (IOT_PROFILES if iot else WEB_PROFILES).draw(rng)
        if entity.name == "Google LLC" and rng.random() < 0.7:
            profile = WEB_PROFILES.values[21]  # gws
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
        extra_headers = [*EXTRA_HEADERS, TLS_ONLY_HEADER] if tls else EXTRA_HEADERS
        for share, name, value in extra_headers:
            if rng.random() < share:
                tail.append(item("http-header", value.replace("{hex}", f"{rng.getrandbits(104):026x}"), name))
        if profile.status.endswith("401 Unauthorized"):
            tail.append(item("http-header", AUTH_HEADER[1], AUTH_HEADER[0]))
        tail.append(item("title", self.pick_title(profile, entity)))
        tail.append(item("url", self.url(service, profile.path)))
        if host.hostname is not None:
            tail.append(item("host", host.hostname))
        if tls:
            tail.extend(self.certificate_items(host))
        tail.extend(self.enrichment_items(host.network, tags, profile.info))
        return head, tail

    def pick_title(self, profile: WebProfile, entity: Entity) -> str:
        rng = self.rng
        if profile.title is not None and rng.random() < profile.title_share:
            return profile.title
        if entity.titles and rng.random() < 0.5:
            return rng.choice(entity.titles)
        return TITLES.draw(rng)

    def url(self, service: Service, path: str) -> str:
        host = service.host
        scheme = "https" if service.protocol == "https" else "http"
        name = host.hostname or (f"[{host.ip}]" if ":" in host.ip else host.ip)
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
        """IP SANs: often another scanned host's address (so indirect searches find something), or the host's own."""
        ips = [host.ip] if self.rng.random() < 0.3 else []
        for _ in range(self.rng.randint(1, 2)):
            other = self.hosts[self.rng.randrange(len(self.hosts))].ip
            if other not in ips:
                ips.append(other)
        return ips

    def certificate_for(self, host: Host) -> Certificate:
        """One certificate per hostname (shared by every host serving it); self-signed for nameless hosts."""
        rng = self.rng
        name = host.hostname
        if name is None:
            subject = SELF_SIGNED_SUBJECTS.draw(rng).replace("{ip}", host.ip)
            return Certificate(subject, subject, (), f"{rng.getrandbits(256):064x}")
        known = self.certificates.get(name)
        if known is not None:
            return known
        entity, country = host.network.entity, host.network.country
        key = "edu" if entity.kind == "edu" else ("google" if entity.name == "Google LLC" else "")
        issuer, organisation_validated = ISSUER_BY_ENTITY.get(key) or ISSUERS.draw(rng)
        if organisation_validated:
            organisation = entity.name if entity.kind == "edu" else f"{host.domain.split('.')[0].title()} Ltd"
            subject = f"CN={name}, O={organisation}, L={CITIES.get(country, 'London')}, C={country}"
        else:
            subject = f"CN={name}"
        dns_names = [name]
        if host.domain is not None and host.domain != name and rng.random() < 0.5:
            dns_names.append(host.domain)
        if host.domain is not None and rng.random() < 0.2:
            dns_names.append(f"*.{host.domain}")
        certificate = Certificate(subject, issuer, tuple(dns_names), f"{rng.getrandbits(256):064x}")
        self.certificates[name] = certificate
        return certificate


# ---------------------------------------------------------------------------------------------------------------
# The scan schedule, and the two outputs: dicts (generate) and JSON Lines (write_jsonl).
# ---------------------------------------------------------------------------------------------------------------

Scan = tuple[int, bytes, Service, str]  # (day index, id, service, HTTP time "HH:MM:SS GMT" or "")


def parse_date(value: dt.date | str) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def window_days(end_date: dt.date | str, days: int) -> list[dt.date]:
    """The dates of the window, oldest first."""
    end = parse_date(end_date)
    return [end - dt.timedelta(days=days - 1 - offset) for offset in range(days)]


def scans(count: int, seed: int, days: int) -> Iterator[Scan]:
    """The schedule: each day scans a sample (without repeats) of a population of ~count/5 services."""
    if count < 0 or days < 1:
        raise ValueError("count must be >= 0 and days >= 1")
    rng = random.Random(seed)
    per_day = reports_per_day(count, days)
    population_size = max(round(count / SCANS_PER_SERVICE), max(per_day), 1)
    population = Population(rng)
    services: list[Service | None] = [None] * population_size
    randbelow, random_float, getrandbits, b64 = rng.randrange, rng.random, rng.getrandbits, base64.urlsafe_b64encode
    for day_index, day_count in enumerate(per_day):
        seen: set[int] = set()
        for _ in range(day_count):
            index = randbelow(population_size)
            while index in seen:
                index = randbelow(population_size)
            seen.add(index)
            service = services[index]
            if service is None:
                service = services[index] = population.new_service()
            elif random_float() < REBUILD_SHARE:
                population.rebuild(service)
            report_id = b64(getrandbits(128).to_bytes(16, "big"))[:22]
            if service.tail is None:
                yield day_index, report_id, service, ""
            else:
                seconds = randbelow(86400)
                yield day_index, report_id, service, f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d} GMT"


def generate(
    count: int, seed: int = 1, *, end_date: dt.date | str = DEFAULT_END_DATE, days: int = DEFAULT_DAYS
) -> Iterator[dict[str, Any]]:
    """Yield count reports (oldest day first) as fresh dicts in the spec's shape and key order."""
    dates = [day.isoformat() for day in window_days(end_date, days)]
    prefixes = [http_date_prefix(day) for day in window_days(end_date, days)]
    for day_index, report_id, service, http_time in scans(count, seed, days):
        items = [entry.copy() for entry in service.head]
        if service.tail is not None:
            items.append(item("http-header", prefixes[day_index] + http_time, "Date"))
            items.extend(entry.copy() for entry in service.tail)
        yield {"date": dates[day_index], "id": report_id.decode(), "items": items}


def jsonl_chunks(
    count: int, seed: int = 1, *, end_date: dt.date | str = DEFAULT_END_DATE, days: int = DEFAULT_DAYS,
    lines_per_chunk: int = 2000,
) -> Iterator[bytes]:
    """The same reports as generate(), serialised as JSON Lines, a chunk of lines at a time (the fast path)."""
    heads = [b'{"date":"%s","id":"' % day.isoformat().encode() for day in window_days(end_date, days)]
    date_items = [
        b',{"context":"Date","is_metadata":false,"type":"http-header","value":"%s' % http_date_prefix(day).encode()
        for day in window_days(end_date, days)
    ]
    lines: list[bytes] = []
    for day_index, report_id, service, http_time in scans(count, seed, days):
        if service.tail is None:
            parts = (heads[day_index], report_id, b'","items":[', service.head_json, b"]}\n")
        else:
            parts = (heads[day_index], report_id, b'","items":[', service.head_json, date_items[day_index],
                     http_time.encode(), b'"},', service.tail_json, b"]}\n")
        lines.append(b"".join(parts))
        if len(lines) >= lines_per_chunk:
            yield b"".join(lines)
            lines = []
    if lines:
        yield b"".join(lines)


def write_in_background(chunks: Iterator[bytes], sink: IO[bytes]) -> None:
    """Write chunks from a second thread, so compression (which releases the GIL) overlaps with generation."""
    pending: queue.Queue[bytes | None] = queue.Queue(maxsize=16)
    failure: list[BaseException] = []

    def drain() -> None:
        try:
            while (chunk := pending.get()) is not None:
                sink.write(chunk)
        except BaseException as exc:  # reported in the main thread
            failure.append(exc)
            while pending.get() is not None:
                pass

    writer = threading.Thread(target=drain, name="jsonl-writer", daemon=True)
    writer.start()
    try:
        for chunk in chunks:
            if failure:
                break
            pending.put(chunk)
    finally:
        pending.put(None)
        writer.join()
    if failure:
        raise failure[0]


def write_jsonl(
    out: str, count: int, seed: int = 1, *, end_date: dt.date | str = DEFAULT_END_DATE, days: int = DEFAULT_DAYS,
    compress_level: int = 1,
) -> None:
    """Write the corpus to a path (gzip when it ends in .gz) or to stdout when out is '-'."""
    chunks = jsonl_chunks(count, seed, end_date=end_date, days=days)
    if out == "-":
        write_in_background(chunks, sys.stdout.buffer)
        sys.stdout.buffer.flush()
        return
    opener: Callable[[], IO[bytes]]
    if out.endswith(".gz"):
        opener = lambda: gzip.open(out, "wb", compresslevel=compress_level)  # noqa: E731
    else:
        opener = lambda: open(out, "wb", buffering=1 << 20)  # noqa: E731, SIM115
    with opener() as sink:
        write_in_background(chunks, sink)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Generate realistic Driftnet scan reports as JSON Lines.")
    parser.add_argument("--count", type=int, default=1000, help="number of reports (default 1000)")
    parser.add_argument("--seed", type=int, default=1, help="random seed; the same seed gives the same corpus")
    parser.add_argument("--out", default="-", help="output path ('.gz' for gzip) or '-' for stdout (default)")
    parser.add_argument("--end-date", type=dt.date.fromisoformat, default=DEFAULT_END_DATE,
                        help=f"newest date of the window (default {DEFAULT_END_DATE})")
    parser.add_argument("--days", type=int, default=DEFAULT_DAYS, help=f"window length in days (default {DEFAULT_DAYS})")
    parser.add_argument("--compress-level", type=int, default=1, choices=range(10),
                        help="gzip level for .gz outputs (default 1, fastest)")
    args = parser.parse_args(argv)
    if args.count < 0 or args.days < 1:
        parser.error("--count must be >= 0 and --days >= 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    write_jsonl(args.out, args.count, args.seed, end_date=args.end_date, days=args.days,
                compress_level=args.compress_level)
    seconds = time.perf_counter() - started
    rate = args.count / seconds if seconds > 0 else float("inf")
    print(f"generated {args.count:,} reports in {seconds:.1f} s ({rate:,.0f} reports/s) -> {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

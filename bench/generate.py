#!/usr/bin/env python3
"""Generate a deterministic corpus of realistic Driftnet scan reports as JSON Lines.

    python bench/generate.py --count 1000000 --seed 1 --out corpus.jsonl.gz
    python bench/generate.py --count 10 --out - | jq .

or, from another script, ``generate(count, seed)`` yields the reports as dicts in the spec's shape
``{"date", "id", "items": [{"context", "is_metadata", "type", "value"}, ...]}``.

The model: a fixed vocabulary (networks, entities, domains, products: the same for every seed) and a
population of ~count/5 services (ip:port) built lazily from the seed. Reports are emitted day by day,
oldest first, over a window ending at ``end_date``; newer days hold more reports. Each day scans a
sample of the population, so an ip:port is reported on ~5 dates and history exists. Per scan only the
id and the HTTP ``Date`` header change (and, for 2% of re-scans, the service itself, e.g. an upgrade).

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
import queue
import random
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
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


def table(text: str) -> list[list[str | None]]:
    """The rows of a '|'-separated text table; a '-' cell is None."""
    rows = []
    for line in text.strip().splitlines():
        cells = [cell.strip() for cell in line.split("|")]
        rows.append([None if cell == "-" else cell for cell in cells])
    return rows


def words(text: str | None, separator: str = ",") -> tuple[str, ...]:
    return tuple(word.strip() for word in text.split(separator) if word.strip()) if text else ()


# ---------------------------------------------------------------------------------------------------------------
# Vocabulary: who owns the networks, what runs on them, what they say. Rows are in popularity order.
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Entity:
    name: str
    asn: int
    countries: tuple[str, ...]
    kind: str  # cloud | cdn | isp | edu
    network_weight: float  # weight when assigning generated /16s
    domains: tuple[str, ...]  # registered domains of sites hosted on its networks
    rdns: str | None  # reverse-DNS name template: {dashed} 1-2-3-4, {reversed} 4.3.2.1, {number}
    titles: tuple[str, ...] = ()


# key | entity | asn | countries | kind | weight when generating /16s | registered domains of its sites
ENTITY_TABLE = """
amazon       | Amazon.com, Inc.                            | 16509 | US IE DE GB JP SG | cloud | 14 | amazon.com
tencent      | Tencent Cloud Computing (Beijing) Co., Ltd. | 45090 | CN SG HK          | cloud | 6  | qq.com, tencent.com
alibaba      | Alibaba (US) Technology Co., Ltd.           | 45102 | CN US SG          | cloud | 6  | aliyun.com, alibaba.com
digitalocean | DigitalOcean, LLC                           | 14061 | US NL DE SG IN    | cloud | 8  | -
google       | Google LLC                                  | 15169 | US BE GB NL       | cloud | 6  | google.com, youtube.com
microsoft    | Microsoft Corporation                       | 8075  | US IE NL          | cloud | 7  | microsoft.com, office.com
cloudflare   | Cloudflare, Inc.                            | 13335 | US                | cdn   | 3  | cloudflare.com
akamai       | Akamai Technologies, Inc.                   | 20940 | US NL             | cdn   | 2  | akamai.com
ovh          | OVH SAS                                     | 16276 | FR CA DE          | cloud | 6  | ovhcloud.com
hetzner      | Hetzner Online GmbH                         | 24940 | DE FI             | cloud | 6  | hetzner.com
linode       | Akamai Connected Cloud (Linode)             | 63949 | US GB DE          | cloud | 3  | -
vultr        | The Constant Company, LLC                   | 20473 | US NL JP          | cloud | 3  | -
contabo      | Contabo GmbH                                | 51167 | DE                | cloud | 3  | -
oracle       | Oracle Corporation                          | 31898 | US GB             | cloud | 2  | oracle.com
chinanet     | Chinanet                                    | 4134  | CN                | isp   | 14 | -
unicom       | China Unicom Backbone                       | 4837  | CN                | isp   | 9  | -
kt           | Korea Telecom                               | 4766  | KR                | isp   | 6  | -
skb          | SK Broadband Co Ltd                         | 9318  | KR                | isp   | 3  | -
comcast      | Comcast Cable Communications, LLC           | 7922  | US                | isp   | 7  | -
dtag         | Deutsche Telekom AG                         | 3320  | DE                | isp   | 5  | -
bt           | British Telecommunications PLC              | 2856  | GB                | isp   | 4  | -
orange       | Orange S.A.                                 | 3215  | FR                | isp   | 4  | -
telefonica   | Telefonica de Espana S.A.U.                 | 3352  | ES                | isp   | 3  | -
rostelecom   | Rostelecom                                  | 12389 | RU                | isp   | 6  | -
tci          | Iran Telecommunication Company PJS          | 58224 | IR                | isp   | 4  | -
vnpt         | VNPT Corp                                   | 45899 | VN                | isp   | 4  | -
chunghwa     | Chunghwa Telecom Co., Ltd.                  | 3462  | TW                | isp   | 4  | -
ntt          | NTT Communications Corporation              | 4713  | JP                | isp   | 4  | -
jio          | Reliance Jio Infocomm Limited               | 55836 | IN                | isp   | 4  | -
claro        | Claro S.A.                                  | 28573 | BR                | isp   | 4  | -
turktelekom  | Turk Telekom                                | 9121  | TR                | isp   | 3  | -
telstra      | Telstra Limited                             | 1221  | AU                | isp   | 2  | -
oxford       | University of Oxford                        | 786   | GB                | edu   | 0  | ox.ac.uk
ucl          | University College London                   | 786   | GB                | edu   | 0  | ucl.ac.uk
london       | University of London                        | 786   | GB                | edu   | 0  | london.ac.uk
cambridge    | University of Cambridge                     | 786   | GB                | edu   | 0  | cam.ac.uk
"""
# Reverse-DNS name templates: {dashed} 1-2-3-4, {reversed} 4.3.2.1, {number} a random number
RDNS_TEMPLATES = {
    "amazon": "ec2-{dashed}.compute-1.amazonaws.com",
    "google": "{reversed}.bc.googleusercontent.com",
    "akamai": "a{dashed}.deploy.static.akamaitechnologies.com",
    "ovh": "ns{number}.ip-{dashed}.eu",
    "hetzner": "static.{reversed}.clients.your-server.de",
    "linode": "{dashed}.ip.linodeusercontent.com",
    "vultr": "{dashed}.vultrusercontent.com",
    "contabo": "vmi{number}.contaboserver.net",
    "comcast": "c-{dashed}.hsd1.ca.comcast.net",
    "dtag": "p{number}.dip0.t-ipconnect.de",
    "bt": "host{dashed}.range86-1.btcentralplus.com",
    "orange": "lfbn-{number}.w90-1.abo.wanadoo.fr",
    "telefonica": "{reversed}.dynamic.telefonica.es",
    "rostelecom": "{dashed}.dynamic.spb.rt.ru",
    "vnpt": "{dashed}.vnpt.vn",
    "chunghwa": "{dashed}.dynamic-ip.hinet.net",
    "ntt": "p{number}-ipngn100.tokyo.ocn.ne.jp",
    "claro": "{dashed}.user.veloxzone.com.br",
    "telstra": "cpe-{dashed}.bpw.bigpond.net.au",
}
ENTITY_TITLES = {
    "oxford": ("University of Oxford", "Oxford University IT Services", "Bodleian Libraries | University of Oxford"),
    "ucl": ("University College London Portal", "UCL - London's Global University"),
    "london": ("University of London", "University of London Online Library"),
    "cambridge": ("University of Cambridge", "Raven Login"),
}
# The most popular IPv4 /16s by rank (Zipf; rank 1 holds ~16% of reports), then generated ones.
NAMED_NETWORKS = """
43.135 tencent CN, 52.95 amazon US, 47.88 alibaba US, 104.21 cloudflare US, 159.89 digitalocean IN,
142.250 google US, 51.15 ovh FR, 88.198 hetzner DE, 218.92 chinanet CN, 95.167 rostelecom RU, 5.160 tci IR,
220.70 kt KR, 20.81 microsoft US, 123.30 vnpt VN, 129.67 oxford GB, 35.176 amazon GB, 73.15 comcast US,
81.2 bt GB, 128.40 ucl GB, 131.111 cambridge GB, 61.177 chinanet CN, 193.61 london GB
"""
GENERATED_NETWORK_COUNT = 278
IPV6_NETWORKS = """
2a01:4f8::/32 hetzner DE, 2600:1f18::/32 amazon US, 2606:4700::/32 cloudflare US, 2001:41d0::/32 ovh FR,
2402:4e00::/32 tencent CN, 2a00:1450:4009::/48 google GB, 2001:630:440::/44 oxford GB
"""
SITE_SHARE = {"cloud": 0.5, "cdn": 0.6, "isp": 0.1, "edu": 0.85}  # hosts serving a named site
OWN_DOMAIN_SHARE = {"cloud": 0.3, "cdn": 0.5, "isp": 0.0, "edu": 0.9}  # sites under the entity's own domains
RDNS_SHARE = {"cloud": 0.5, "cdn": 0.3, "isp": 0.7, "edu": 0.0}  # hosts with a reverse-DNS name, if a template
IOT_SHARE = {"cloud": 0.02, "cdn": 0.0, "isp": 0.45, "edu": 0.05}  # nameless web servers that are devices

# port weight protocol; other ports are a long tail of random high ports.
PORTS = """
80 30 http, 443 22 https, 22 14 ssh, 8080 6 http, 21 4 ftp, 25 3.5 smtp, 3389 3 rdp, 8443 3 https, 23 2.5 telnet,
3306 2.2 mysql, 110 1.5 pop3, 143 1.4 imap, 993 1.3 tls, 995 1.1 tls, 587 1.1 smtp, 5432 1 postgres, 6379 0.9 redis,
8000 0.9 http, 8888 0.8 http, 2222 0.7 ssh, 1883 0.7 mqtt, 9100 0.6 generic, 502 0.5 modbus, 161 0.5 generic,
465 0.5 tls, 5000 0.5 http, 81 0.5 http, 8081 0.5 http, 7547 0.4 http, 4443 0.4 https, 10443 0.3 https,
9443 0.3 https, 2323 0.3 telnet, 636 0.2 tls, 9000 0.2 http
"""
HIGH_PORT_SHARE = 0.08
HIGH_PORT_PROTOCOLS = Zipf(["http", "generic", "https", "ssh"], weights=[45, 30, 15, 10])
DEFAULT_WEB_PORTS = {80: "http", 443: "https"}

# protocol | banner (backslash escapes; {host} {ip} filled in) | product tags | product-info
BANNER_TABLE = r"""
ssh | SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.6 | openssh | Ubuntu-3ubuntu0.6
ssh | SSH-2.0-OpenSSH_7.4 | openssh | -
ssh | SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3 | openssh | Debian-2+deb12u3
ssh | SSH-2.0-OpenSSH_8.0 | openssh | -
ssh | SSH-2.0-OpenSSH_7.6p1 Ubuntu-4ubuntu0.7 | openssh | Ubuntu-4ubuntu0.7
ssh | SSH-2.0-dropbear_2020.81 | dropbear | -
ssh | SSH-2.0-OpenSSH_8.4p1 Debian-5+deb11u3 | openssh | Debian-5+deb11u3
ssh | SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13.5 | openssh | Ubuntu-3ubuntu13.5
ssh | SSH-2.0-ROSSSH | mikrotik, routeros | -
ssh | SSH-2.0-OpenSSH_7.4p1 Raspbian-10+deb9u7 | openssh, raspbian | Raspbian-10+deb9u7
ssh | SSH-2.0-Cisco-1.25 | cisco | -
ssh | SSH-2.0-dropbear_2019.78 | dropbear | -
ssh | SSH-2.0-HUAWEI-1.5 | huawei | -
ssh | SSH-2.0-libssh_0.9.6 | libssh | -
ssh | SSH-2.0-OpenSSH_9.8 FreeBSD-20240701 | openssh, freebsd | FreeBSD-20240701
ftp | 220 (vsFTPd 3.0.5) | vsftpd | (vsFTPd 3.0.5)
ftp | 220 (vsFTPd 3.0.3) | vsftpd | (vsFTPd 3.0.3)
ftp | 220 ProFTPD Server (ProFTPD Default Installation) [{ip}] | proftpd | -
ftp | 220 Microsoft FTP Service | microsoft ftp | -
ftp | 220-FileZilla Server 1.8.0\r\n220 Please visit https://filezilla-project.org/ | filezilla | 1.8.0
ftp | 220---------- Welcome to Pure-FTPd [privsep] [TLS] ---------- | pure-ftpd | -
ftp | 220 DiskStation FTP server ready. | synology | -
ftp | 220 ProFTPD 1.3.5e Server (Debian) [{ip}] | proftpd | (Debian)
smtp | 220 {host} ESMTP Postfix (Ubuntu) | postfix | (Ubuntu)
smtp | 220 {host} ESMTP Exim 4.96 Ubuntu | exim | -
smtp | 220 {host} ESMTP Postfix | postfix | -
smtp | 220 {host} Microsoft ESMTP MAIL Service ready | microsoft exchange | -
smtp | 220 {host} ESMTP Sendmail 8.15.2/8.15.2; ready | sendmail | 8.15.2/8.15.2
smtp | 220 {host} ESMTP Postfix (Debian/GNU) | postfix | (Debian/GNU)
telnet | \r\nUser Access Verification\r\n\r\nUsername:  | cisco | -
telnet | (none) login:  | busybox | -
telnet | Ubuntu 22.04.4 LTS\r\nserver login:  | ubuntu | -
telnet | MikroTik v6.49.10 (stable)\r\nLogin:  | mikrotik, routeros | v6.49.10 (stable)
telnet | dvrdvs login:  | xiongmai | -
telnet | \r\n\r\nWelcome to ZXHN H108N\r\nLogin:  | zte | -
redis | -NOAUTH Authentication required. | redis | -
redis | redis_version:7.2.4 | redis | 7.2.4
redis | redis_version:6.0.16 | redis | 6.0.16
redis | redis_version:5.0.7 | redis | 5.0.7
redis | -DENIED Redis is running in protected mode because protected mode is enabled | redis | -
mysql | 5.7.44-log | mysql | 5.7.44-log
mysql | 8.0.36-0ubuntu0.22.04.1 | mysql | 8.0.36-0ubuntu0.22.04.1
mysql | 5.5.5-10.11.6-MariaDB-0+deb12u1 | mariadb | 10.11.6-MariaDB-0+deb12u1
mysql | Host '{ip}' is not allowed to connect to this MySQL server | mysql | -
mysql | 5.5.5-10.3.39-MariaDB | mariadb | 10.3.39-MariaDB
postgres | FATAL:  unsupported frontend protocol 1234.5679: server supports 3.0 to 3.0 | postgresql | -
postgres | FATAL:  no pg_hba.conf entry for host "{ip}", user "postgres", database "postgres", SSL off | postgresql | -
mqtt | MQTT Connection Code: 0 | mqtt, mosquitto | -
mqtt | MQTT Connection Code: 5 | mqtt | -
modbus | Unit ID: 0\nDevice: Schneider Electric BMX P34 2020 v2.9 | schneider electric, modicon | BMX P34 2020 v2.9
modbus | Unit ID: 1\nDevice: Siemens SIMATIC S7-1200 | siemens, simatic | S7-1200
modbus | Unit ID: 255\nDevice: Moxa MB3170 Modbus Gateway | moxa | -
rdp | Remote Desktop Protocol; CredSSP (NLA) required | microsoft rdp | CredSSP (NLA)
rdp | Remote Desktop Protocol; TLS security | microsoft rdp | -
rdp | Remote Desktop Protocol; xrdp | xrdp | -
pop3 | +OK Dovecot (Ubuntu) ready. | dovecot | (Ubuntu)
pop3 | +OK POP3 server ready <{host}> | - | -
pop3 | +OK The Microsoft Exchange POP3 service is ready. | microsoft exchange | -
imap | * OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS] Dovecot (Ubuntu) ready. | dovecot | (Ubuntu)
imap | * OK The Microsoft Exchange IMAP4 service is ready. | microsoft exchange | -
imap | * OK Courier-IMAP ready. Copyright 1998-2018 Double Precision, Inc. | courier | -
tls | * OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN] Dovecot ready. | dovecot | -
tls | +OK Dovecot ready. | dovecot | -
tls | 220 {host} ESMTP Postfix | postfix | -
tls | 0\x84\x00\x00\x00\x10\x02\x01\x01a\x84\x00\x00\x00\x07\n\x01\x00\x04\x00\x04\x00 | openldap | -
generic | @PJL INFO STATUS\r\nCODE=10001\r\nDISPLAY="Ready"\r\nONLINE=TRUE | hp jetdirect | -
generic | \x15\x03\x01\x00\x02\x02\n | - | -
generic | HTTP/1.0 400 Bad Request | - | -
generic | Public; community=public; sysDescr=Linux router 4.14.76 | net-snmp | -
generic | \x00\x00\x00\x0c\x00\x00\x00\x01 | - | -
generic | Welcome to Claymore's Dual Miner | claymore | -
"""


@dataclass(frozen=True, slots=True)
class WebProfile:
    server: str | None  # the Server header; None when absent
    tags: tuple[str, ...]
    info: str | None  # product-info
    title: str | None  # the profile's own page title (default page, device UI)
    title_share: float  # how often that title is shown rather than a site's title
    path: str
    status: str
    powered_by: tuple[str, ...]


# Server header | product tags | product-info | own title | its share | path | status | X-Powered-By values
WEB_TABLE = """
nginx                  | nginx          | -        | Welcome to nginx!                     | 0.25 | / | 200 | -
nginx/1.18.0 (Ubuntu)  | nginx          | (Ubuntu) | Welcome to nginx!                     | 0.3  | / | 200 | PHP/7.4.3
Apache/2.4.41 (Ubuntu) | apache         | (Ubuntu) | Apache2 Ubuntu Default Page: It works | 0.3  | / | 200 | PHP/7.4.3-4ubuntu2.24
cloudflare             | cloudflare     | -        | Just a moment...                      | 0.3  | / | 403 | -
Microsoft-IIS/10.0     | iis, microsoft | -        | IIS Windows Server                    | 0.4  | / | 200 | ASP.NET
Apache                 | apache         | -        | -                                     | 0    | / | 200 | PHP/8.1.2-1ubuntu2.14
nginx/1.24.0           | nginx          | -        | Welcome to nginx!                     | 0.2  | / | 200 | -
Apache/2.4.6 (CentOS) OpenSSL/1.0.2k-fips | apache, openssl | (CentOS) | Welcome to CentOS     | 0.2  | / | 200 | PHP/5.4.16
openresty              | openresty, nginx | -      | -                                     | 0    | / | 200 | -
Apache/2.4.38 (Debian) | apache         | (Debian) | -                                     | 0    | / | 200 | PHP/7.3.33
nginx/1.22.1           | nginx          | -        | -                                     | 0    | / | 200 | Express
Microsoft-IIS/8.5      | iis, microsoft | -        | IIS Windows Server                    | 0.4  | / | 200 | ASP.NET
lighttpd/1.4.59        | lighttpd       | -        | -                                     | 0    | / | 200 | -
Apache/2.4.37 (Fedora) | apache         | (Fedora) | Test Page for the Apache HTTP Server on Fedora | 0.5 | / | 200 | -
Caddy                  | caddy          | -        | -                                     | 0    | / | 200 | -
Apache-Coyote/1.1      | tomcat, apache tomcat | - | Apache Tomcat/9.0.83                  | 0.3  | / | 200 | -
Jetty(9.4.44.v20210927) | jetty         | (9.4.44.v20210927) | -                           | 0    | / | 200 | -
gunicorn               | gunicorn       | -        | Swagger UI                            | 0.2  | /docs | 200 | -
Werkzeug/2.0.2 Python/3.10.12 | werkzeug, python | - | -                                   | 0    | / | 200 | -
Kestrel                | kestrel, microsoft | -    | -                                     | 0    | / | 200 | -
AkamaiGHost            | akamai         | -        | Access Denied                         | 0.5  | / | 403 | -
gws                    | google         | -        | Error 404 (Not Found)!!1              | 0.5  | / | 404 | -
CherryPy/18.8.0        | cherrypy       | -        | -                                     | 0    | / | 200 | -
mini_httpd/1.30 26Oct2018 | mini_httpd  | -        | -                                     | 0    | / | 200 | -
NimPlant C2 Server     | nimplant       | -        | -                                     | 0    | / | 404 | -
"""
IOT_TABLE = """
Hikvision-Webs | hikvision          | - | Hikvision DVR                      | 0.8  | /doc/page/login.asp | 200 | -
-              | mikrotik, routeros | - | RouterOS router configuration page | 0.95 | /webfig/            | 200 | -
-              | dahua              | - | WEB SERVICE                        | 0.9  | /                   | 200 | -
DNVRS-Webs     | hikvision, hikvision dvr ds-7208hwi-sh | - | Hikvision DVR  | 0.9  | /doc/page/login.asp | 200 | -
uc-httpd 1.0.0 | xiongmai           | - | NETSurveillance WEB                | 0.9  | /                   | 200 | -
GoAhead-Webs   | goahead            | - | Router Login                       | 0.6  | /                   | 401 | -
nginx          | synology, nginx    | - | Synology DiskStation               | 0.9  | /webman/index.cgi   | 200 | -
micro_httpd    | zyxel              | - | Unauthorized                       | 0.7  | /                   | 401 | -
Boa/0.94.14rc21 | boa, dahua        | - | WEB SERVICE                        | 0.6  | /                   | 200 | -
"""
STATUS_LINES = {code: f"HTTP/1.1 {code} {reason}" for code, reason in
                [("200", "OK"), ("401", "Unauthorized"), ("403", "Forbidden"), ("404", "Not Found")]}  # fmt: skip
TITLES = [
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
]  # fmt: skip
CONTENT_TYPES = ["text/html; charset=UTF-8", "text/html", "text/html; charset=utf-8", "application/json",
                 "text/plain; charset=utf-8", "text/html; charset=iso-8859-1"]  # fmt: skip
# share of web services | header name | value ({hex} {number} filled in)
HEADER_TABLE = """
0.45  | Connection | keep-alive
0.4   | Content-Length | {number}
0.18  | X-Frame-Options | SAMEORIGIN
0.12  | Cache-Control | no-cache, no-store, must-revalidate
0.08  | Set-Cookie | PHPSESSID={hex}; path=/; HttpOnly
0.05  | Vary | Accept-Encoding
0.02  | X-Generator | Drupal 10 (https://www.drupal.org)
0.01  | Content-Disposition | inline; filename="index.html"
0.003 | X-Clacks-Overhead | GNU Terry Pratchett
"""
HSTS_HEADER = (0.2, "Strict-Transport-Security", "max-age=31536000; includeSubDomains")
AUTH_HEADER = ("WWW-Authenticate", 'Basic realm="index.html"')
X_POWERED_BY_SHARE = 0.35
SUBDOMAINS = ["www", "", "mail", "api", "vpn", "portal", "remote", "dev", "app", "staging", "test", "cdn", "m", "owa",
              "git", "admin", "shop", "blog", "login", "static", "autodiscover", "webmail", "ns1", "srv01"]  # fmt: skip
EDU_SUBDOMAINS = ["www", "webmail", "vpn", "portal", "www.cs", "www.physics", "www.maths", "library", "weblearn",
                  "intranet", "sso", "moodle", "www.it", "eduroam", ""]  # fmt: skip
# issuer | organisation-validated (the subject then names the organisation)
ISSUER_TABLE = """
CN=R3, O=Let's Encrypt, C=US | no
CN=R11, O=Let's Encrypt, C=US | no
CN=R10, O=Let's Encrypt, C=US | no
CN=E5, O=Let's Encrypt, C=US | no
CN=Sectigo RSA Domain Validation Secure Server CA, O=Sectigo Limited, L=Salford, ST=Greater Manchester, C=GB | no
CN=DigiCert Global G2 TLS RSA SHA256 2020 CA1, O=DigiCert Inc, C=US | yes
CN=GlobalSign GCC R6 AlphaSSL CA 2023, O=GlobalSign nv-sa, C=BE | no
CN=Amazon RSA 2048 M02, O=Amazon, C=US | no
CN=Cloudflare Inc ECC CA-3, O=Cloudflare, Inc., C=US | no
CN=Sectigo RSA Organization Validation Secure Server CA, O=Sectigo Limited, L=Salford, ST=Greater Manchester, C=GB | yes
"""
GOOGLE_ISSUER = ("CN=WR2, O=Google Trust Services, C=US", False)
EDU_ISSUER = ("CN=GEANT OV RSA CA 4, O=GEANT Vereniging, C=NL", True)
SELF_SIGNED_SUBJECTS = ["CN=localhost", "C=US, ST=California, L=Sunnyvale, O=Fortinet, OU=FortiGate, CN=FGT60F",
                        "CN={ip}, O=Hikvision, C=CN", "CN=localhost.localdomain, O=SomeOrganization, C=--",
                        "CN=Synology Inc. CA, O=Synology Inc., C=TW", "CN=router.lan, O=MikroTik"]  # fmt: skip
CITIES = {"GB": "London", "US": "Seattle", "DE": "Berlin", "FR": "Paris", "CN": "Beijing", "JP": "Tokyo"}
ENGLISH_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
ENGLISH_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True, slots=True)
class Network:
    prefix: str  # "129.67" for an IPv4 /16, or an IPv6 CIDR
    entity: Entity
    country: str


def load_entities() -> dict[str, Entity]:
    entities = {}
    for key, name, asn, countries, kind, weight, domains, rdns in table(ENTITY_TABLE):
        assert key and name and asn and countries and kind and weight
        entities[key] = Entity(name, int(asn), words(countries, " "), kind, float(weight), words(domains), rdns,
                               ENTITY_TITLES.get(key, ()))  # fmt: skip
    return entities


def load_networks(text: str) -> list[Network]:
    return [Network(prefix, ENTITIES[key], country) for prefix, key, country in map(str.split, words(text))]


def generate_networks(vocabulary_rng: random.Random) -> list[Network]:
    """IPv4 /16s in popularity order: the named ones, then random ones owned by entities in proportion to weight."""
    networks = load_networks(NAMED_NETWORKS)
    taken = {network.prefix for network in networks}
    owners = Zipf(list(ENTITIES.values()), weights=[entity.network_weight for entity in ENTITIES.values()])
    reserved_first_octets = {0, 10, 100, 127, 169, 172, 192, 198}
    while len(networks) < len(taken) + GENERATED_NETWORK_COUNT:
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


def load_web_profiles(text: str) -> list[WebProfile]:
    profiles = []
    for server, tags, info, title, share, path, status, powered_by in table(text):
        assert share and path and status
        profiles.append(WebProfile(server, words(tags), info, title, float(share), path, STATUS_LINES[status],
                                   words(powered_by)))  # fmt: skip
    return profiles


def load_banners() -> dict[str, Zipf[tuple[str, tuple[str, ...], str | None]]]:
    by_protocol: dict[str, list[tuple[str, tuple[str, ...], str | None]]] = {}
    for protocol, banner, tags, info in table(BANNER_TABLE):
        assert protocol and banner
        unescaped = banner.encode("ascii").decode("unicode_escape")
        by_protocol.setdefault(protocol, []).append((unescaped, words(tags), info))
    return {protocol: Zipf(banners, exponent=1.2) for protocol, banners in by_protocol.items()}


ENTITIES = load_entities()
_vocabulary_rng = random.Random(VOCABULARY_SEED)
IPV4_NETWORKS = generate_networks(_vocabulary_rng)
IPV4_NETWORK_RANKS = Zipf(IPV4_NETWORKS)
IPV6_NETWORK_RANKS = Zipf(load_networks(IPV6_NETWORKS))
DOMAINS = Zipf(generate_domains(_vocabulary_rng))
PORT_RANKS = Zipf([(int(p), proto) for p, _, proto in map(str.split, words(PORTS))],
                  weights=[float(weight) for _, weight, _ in map(str.split, words(PORTS))])  # fmt: skip
BANNERS = load_banners()
WEB_PROFILES = Zipf(load_web_profiles(WEB_TABLE), exponent=1.1)
GOOGLE_WEB_PROFILE = next(profile for profile in WEB_PROFILES.values if profile.server == "gws")
IOT_PROFILES = Zipf(load_web_profiles(IOT_TABLE))
TITLE_RANKS = Zipf(TITLES)
CONTENT_TYPE_RANKS = Zipf(CONTENT_TYPES)
EXTRA_HEADERS = [(float(share or 0), name or "", value or "") for share, name, value in table(HEADER_TABLE)]
SUBDOMAIN_RANKS = Zipf(SUBDOMAINS)
EDU_SUBDOMAIN_RANKS = Zipf(EDU_SUBDOMAINS)
ISSUERS = Zipf([(issuer or "", validated == "yes") for issuer, validated in table(ISSUER_TABLE)])
SELF_SIGNED_SUBJECT_RANKS = Zipf(SELF_SIGNED_SUBJECTS)
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
        label = (EDU_SUBDOMAIN_RANKS if entity.kind == "edu" else SUBDOMAIN_RANKS).draw(rng)
        return (f"{label}.{domain}" if label else domain), domain

    def reverse_dns(self, entity: Entity, ip: str) -> str | None:
        if entity.rdns is None or ":" in ip:
            return None
        octets = ip.split(".")
        return entity.rdns.format(dashed="-".join(octets), reversed=".".join(reversed(octets)),
                                  number=self.rng.randint(100000, 999999))  # fmt: skip

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
        head.append(item("http-header", CONTENT_TYPE_RANKS.draw(rng), "Content-Type"))
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
        if entity.titles and rng.random() < 0.5:
            return rng.choice(entity.titles)
        return TITLE_RANKS.draw(rng)

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
                subject = SELF_SIGNED_SUBJECT_RANKS.draw(rng).replace("{ip}", host.ip)
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
            subject += f", O={organisation}, L={CITIES.get(country, 'London')}, C={country}"
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
    date_items = [b',{"context":"Date","is_metadata":false,"type":"http-header","value":"%s' % (
        http_date_prefix(day).encode()) for day in window]  # fmt: skip
    lines: list[bytes] = []
    for day_index, report_id, service, http_time in scans(count, seed, days):
        if service.tail is None:
            parts = (starts[day_index], report_id, b'","items":[', service.head_json, b"]}\n")
        else:
            parts = (starts[day_index], report_id, b'","items":[', service.head_json, date_items[day_index],
                     http_time.encode(), b'"},', service.tail_json, b"]}\n")  # fmt: skip
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
    parser.add_argument("--end-date", type=dt.date.fromisoformat, default=DEFAULT_END_DATE,
                        help=f"newest date of the window (default {DEFAULT_END_DATE})")  # fmt: skip
    parser.add_argument("--days", type=int, default=DEFAULT_DAYS, help=f"days in the window (default {DEFAULT_DAYS})")
    parser.add_argument("--compress-level", type=int, default=1, choices=range(10), metavar="0-9",
                        help="gzip level for .gz outputs (default 1, the fastest)")  # fmt: skip
    args = parser.parse_args(argv)
    if args.count < 0 or args.days < 1:
        parser.error("--count must be >= 0 and --days >= 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    write_jsonl(args.out, args.count, args.seed, end_date=args.end_date, days=args.days,
                compress_level=args.compress_level)  # fmt: skip
    seconds = time.perf_counter() - started
    rate = args.count / seconds if seconds > 0 else float("inf")
    print(f"generated {args.count:,} reports in {seconds:.1f} s ({rate:,.0f} reports/s) -> {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

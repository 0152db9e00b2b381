"""Issue 21's clients, replayed against a real ``shoal serve``: an e-mail header analyser's calls
(``domain/rdns?ip=``, ``domain/fdns?host=``, ``domain/mx?host=``) and favicon look-ups by each hash and by
``field=url:``. The data came in as it does for a user: ``shoal dns`` against unbound (the test zone, with MX,
SPF and DMARC records), ``shoal scan`` of an nginx that serves a favicon, ``shoal import`` of zdns output and of
API-shaped JSON Lines (``--dataset fdns|mx|favicons``). Status, shape and values are checked."""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from shoal.client import Client
from shoal.errors import BadParameter
from shoal.model import FAVICONS, FDNS
from shoal.tokens import TokenStore
from tests.api.serving import running_server
from tests.collect.conftest import BLOCK, DNS_IP, VHOST_NAMES, VHOSTS_IP, ZONE, Target
from tests.collect.daemons import binary, running
from tests.collect.launchers import nginx_command
from tests.collect.test_cli import shoal
from tests.enrich.test_fingerprints import murmur3_32

pytestmark = pytest.mark.daemon

WWW, SHOP = VHOST_NAMES
SITE_IP, SITE_PORT = f"127.{BLOCK}.60.2", 8080
ICON = os.urandom(1500)
ICON_URL = f"http://{SITE_IP}:{SITE_PORT}/favicon.ico"
HASHES = {
    "md5": hashlib.md5(ICON).hexdigest(),
    "sha1": hashlib.sha1(ICON).hexdigest(),
    "sha256": hashlib.sha256(ICON).hexdigest(),
    "murmur3": str(murmur3_32(base64.encodebytes(ICON))),
}
ZDNS = [  # zdns 2.x: a domain's MX and TXT in one line, a host's A answers
    {
        "name": "mailer.test",
        "results": {
            "MX": {
                "status": "NOERROR",
                "timestamp": "2026-11-20T08:00:00Z",
                "data": {
                    "answers": [{"name": "mailer.test", "type": "MX", "preference": 5, "answer": "mx.dns.google."}]
                },
            },
            "TXT": {
                "status": "NOERROR",
                "timestamp": "2026-11-20T08:00:00Z",
                "data": {
                    "answers": [{"name": "mailer.test", "type": "TXT", "answer": "v=spf1 include:_spf.google.com ~all"}]
                },
            },
        },
    },
    {
        "name": "smtp.mailer.test",
        "status": "NOERROR",
        "timestamp": "2026-11-20T08:00:00Z",
        "data": {"answers": [{"name": "smtp.mailer.test", "type": "A", "answer": "198.51.100.25"}]},
    },
]
FDNS_LINES = [
    {
        "date": "2026-11-01",
        "items": [
            {"context": "", "is_metadata": True, "type": "host", "value": "dns.google"},
            {"context": "dns-a", "is_metadata": False, "type": "ip", "value": "8.8.8.8"},
            {"context": "dns-aaaa", "is_metadata": False, "type": "ip", "value": "2001:4860:4860::8888"},
        ],
    }
]
MX_LINES = [
    {
        "date": "2026-11-01",
        "items": [
            {"context": "", "is_metadata": True, "type": "host", "value": "imported.test"},
            {"context": "dns-mx", "is_metadata": False, "type": "host", "value": "mx.dns.google"},
            {"context": "", "is_metadata": False, "type": "dns-mx", "value": "1 mx.dns.google"},
        ],
    }
]
FAVICON_LINES = [
    {
        "date": "2026-11-01",
        "items": [
            {"context": "", "is_metadata": True, "type": "url", "value": "https://dns.google/favicon.ico"},
            {"context": "", "is_metadata": True, "type": "ip", "value": "8.8.8.8"},
            {"context": "", "is_metadata": True, "type": "port-tcp", "value": "443"},
            {"context": "favicon", "is_metadata": False, "type": "obj-murmur3", "value": "-1234"},
        ],
    }
]


@dataclass(frozen=True)
class Api:
    base: str
    token: str
    hosts: dict[str, dict[str, Any]]  # ``shoal host IP --json`` of the data served, by IP

    def get(self, path: str, **params: str) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}"}
        return httpx.get(f"{self.base}{path}", params=params, headers=headers, timeout=30)

    def results(self, path: str, **params: str) -> list[dict[str, Any]]:
        response = self.get(path, **params)
        assert response.status_code == 200, (path, params, response.text)
        body = response.json()
        assert set(body) == {"page", "pages", "result_count", "results"}
        for report in body["results"]:
            assert set(report) == {"date", "id", "items"}
        return body["results"]


def values(report: dict[str, Any], item_type: str, context: str = "") -> list[str]:
    return [item["value"] for item in report["items"] if item["type"] == item_type and item["context"] == context]


def write_lines(path: Path, lines: list[dict[str, Any]]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in lines))
    return path


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    folder = tmp_path_factory.mktemp("favicon-site")
    (folder / "www").mkdir()
    (folder / "www/index.html").write_text("<html><head><title>Icon site</title></head></html>")
    (folder / "www/favicon.ico").write_bytes(ICON)
    blocks = [f"listen {SITE_IP}:{SITE_PORT}; root {folder}/www;"]
    with running(nginx_command(binary("/usr/sbin/nginx"), folder, blocks), SITE_IP, SITE_PORT, folder) as target:
        yield target


@pytest.fixture(scope="module")
def api(unbound: Target, site: Target, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    data = tmp_path_factory.mktemp("lookup-clients")
    names = data / "names.txt"
    names.write_text(f"{WWW}\n{SHOP}\n{ZONE}\nmail.{ZONE}\n")
    write_lines(data / "fdns.jsonl", FDNS_LINES)
    commands = [
        ("dns", VHOSTS_IP, "--names", str(names), "--resolver", DNS_IP),
        ("scan", SITE_IP, "--ports", str(SITE_PORT), "--allow", f"{SITE_IP}/32", "--no-jarm", "--no-dns"),
        ("import", "--dataset", "fdns", str(write_lines(data / "zdns.jsonl", ZDNS)), str(data / "fdns.jsonl")),
        ("import", "--dataset", "mx", str(write_lines(data / "mx.jsonl", MX_LINES))),
        ("import", "--dataset", "favicons", str(write_lines(data / "favicons.jsonl", FAVICON_LINES))),
    ]
    for command in commands:
        result = shoal(*command, data=data)
        assert result.returncode == 0, (command, result.stderr)
    hosts = {}
    for ip in (VHOSTS_IP, SITE_IP):
        result = shoal("host", ip, "--json", data=data)
        assert result.returncode == 0, result.stderr
        hosts[ip] = orjson.loads(result.stdout)
    token = TokenStore(data).create("analyser")
    with running_server(data) as server:
        yield Api(server.base, token, hosts)


def test_an_email_header_analyser_checks_the_sending_host(api: Api) -> None:
    [rdns] = api.results("/v1/domain/rdns", ip=VHOSTS_IP)
    assert values(rdns, "host", "dns-ptr") == [WWW]
    [forward] = api.results("/v1/domain/fdns", host=WWW)
    assert values(forward, "host") == [WWW] and values(forward, "ip", "dns-a") == [VHOSTS_IP]  # forward-confirmed
    [mail] = api.results("/v1/domain/mx", host=ZONE)
    assert values(mail, "host") == [ZONE]
    assert sorted(values(mail, "host", "dns-mx")) == [f"backup-mx.{ZONE}", f"mail.{ZONE}"]  # in the resolver's order
    assert sorted(values(mail, "dns-mx")) == [f"10 mail.{ZONE}", f"20 backup-mx.{ZONE}"]
    assert values(mail, "dns-txt", "spf") == ["v=spf1 mx -all"]
    assert values(mail, "dns-txt", "dmarc") == ["v=DMARC1; p=reject"]
    assert api.get("/v1/domain/mx", host=f"nothing.{ZONE}").status_code == 204


def test_forward_dns_by_name_address_and_name_server(api: Api) -> None:
    names = {values(report, "host")[0] for report in api.results("/v1/domain/fdns", host=ZONE)}
    assert names == {WWW, SHOP, ZONE, f"mail.{ZONE}"}  # right-anchored on labels; backup-mx was never asked
    pointing = {values(report, "host")[0] for report in api.results("/v1/domain/fdns", ip=f"{VHOSTS_IP}/32")}
    assert pointing == {WWW, SHOP, f"mail.{ZONE}"}  # shop through its CNAME
    [google] = api.results("/v1/domain/fdns", ip="2001:4860:4860::/48")  # imported JSON Lines
    assert values(google, "host") == ["dns.google"]
    [zone] = api.results("/v1/domain/fdns", nameserver=f"ns2.{ZONE}")
    assert values(zone, "host") == [ZONE]
    [smtp] = api.results("/v1/domain/fdns", host="mailer.test")  # zdns
    assert values(smtp, "host") == ["smtp.mailer.test"] and values(smtp, "ip", "dns-a") == ["198.51.100.25"]


def test_mail_exchangers_by_domain(api: Api) -> None:
    hosted = api.results("/v1/domain/mx", mx="dns.google")
    assert sorted(values(report, "host")[0] for report in hosted) == ["imported.test", "mailer.test"]
    zdns = next(report for report in hosted if values(report, "host") == ["mailer.test"])
    assert zdns["date"] == "2026-11-20" and values(zdns, "dns-mx") == ["5 mx.dns.google"]
    assert values(zdns, "dns-txt", "spf") == ["v=spf1 include:_spf.google.com ~all"]
    summary = api.get("/v1/domain/mx", summarize="host", summary_context="dns-mx").json()["summary"]
    assert summary["values"] == {f"mail.{ZONE}": 1, f"backup-mx.{ZONE}": 1, "mx.dns.google": 2}


@pytest.mark.parametrize("selector", sorted(HASHES))
def test_a_favicon_by_each_hash(api: Api, selector: str) -> None:
    [icon] = api.results("/v1/scan/favicons", **{selector: HASHES[selector]})
    assert values(icon, "url") == [ICON_URL]
    assert values(icon, "ip") == [SITE_IP] and values(icon, "port-tcp") == [str(SITE_PORT)]
    assert values(icon, f"obj-{selector}", "favicon") == [HASHES[selector]]


def test_favicons_by_url_host_and_the_site_by_shodans_hash(api: Api) -> None:
    [google] = api.results("/v1/scan/favicons", field="url:dns.google")
    assert values(google, "url") == ["https://dns.google/favicon.ico"]
    [local] = api.results("/v1/scan/favicons", field=f"url:{SITE_IP}", most_recent="true")
    assert values(local, "url") == [ICON_URL]
    [page] = api.results("/v1/scan/protocols", expression=f"obj-murmur3={HASHES['murmur3']}")
    assert values(page, "ip") == [SITE_IP] and values(page, "title") == ["Icon site"]
    assert api.get("/v1/scan/favicons", murmur3="1234").status_code == 204  # exact: -1234 is not 1234


@pytest.mark.parametrize(
    ("path", "params", "named"),
    [
        ("/v1/domain/fdns", {"host": "..."}, "host"),
        ("/v1/domain/fdns", {"ip": "not-an-address"}, "ip"),
        ("/v1/domain/mx", {"mx": "..."}, "mx"),
        ("/v1/scan/favicons", {"md5": "not-a-digest"}, "md5"),
        ("/v1/scan/favicons", {"murmur3": "0x4d2"}, "murmur3"),
        ("/v1/scan/favicons", {"murmur3": "-1234", "from": "yesterday"}, "from"),
        ("/v1/scan/favicons", {"expression": "obj-murmur3=("}, "expression"),
    ],
)
def test_bad_input_is_a_400_naming_the_parameter(api: Api, path: str, params: dict[str, str], named: str) -> None:
    response = api.get(path, **params)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error"] and named in {detail.get("parameter") for detail in body["detail"]}, body


def test_shoal_host_lists_the_names_pointing_at_an_ip_the_mail_it_receives_and_its_favicons(api: Api) -> None:
    mail_host = api.hosts[VHOSTS_IP]
    assert mail_host["ptr_names"] == [WWW]
    assert sorted(mail_host["forward_names"]) == sorted([WWW, SHOP, f"mail.{ZONE}"])
    assert mail_host["mail_for"] == [ZONE] and mail_host["favicons"] == []
    assert api.hosts[SITE_IP]["favicons"] == [{"url": ICON_URL, "murmur3": HASHES["murmur3"]}]


def test_the_python_client_has_a_method_per_lookup_endpoint(api: Api) -> None:
    with Client(api.base, api.token) as client:
        [forward] = client.fdns(host=WWW).results
        assert forward.dataset == FDNS and forward.value_of("host") == WWW
        assert sorted(r.value_of("host") for r in client.mx(mx="dns.google").results) == [
            "imported.test",
            "mailer.test",
        ]
        [icon] = client.favicons(sha256=HASHES["sha256"].upper()).results
        assert icon.dataset == FAVICONS and icon.value_of("url") == ICON_URL
        assert client.favicons(field="url:nowhere.example").results == []  # a 204
        with pytest.raises(BadParameter, match="'md5' must be 32 hexadecimal digits"):
            client.favicons(md5="abc")

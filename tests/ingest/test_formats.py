"""Every sample in tests/ingest/samples/ (the tools' real output shapes) imported through the one ingest path,
then searched: each finds exactly what docs/importers.md's tables say, bad records are rejected with their line
and never stop the rest, and importing again adds nothing."""

from __future__ import annotations

import datetime as dt
import gzip
import ipaddress
from pathlib import Path

import orjson
import pytest

from shoal.ingest.detect import Format, detect, detect_head
from shoal.ingest.formats import ChunkedReader, reader_for
from shoal.ingest.inputs import open_input
from shoal.ingest.pipeline import IngestTotals, ingest_chunks, ingest_stream
from shoal.model import CT, DOMAINS, FDNS, MX, PROTOCOLS, RDNS, Report
from shoal.query.check import check
from shoal.query.parser import parse
from shoal.store.base import Filters, PortQuery, Store

SAMPLES = Path(__file__).parent / "samples"
SAMPLE_CERT_SHA256 = "170e9c5b57b637575bf74a3afb25fa16ef386c848ab95a39d55f41c641700528"
Triple = tuple[str, str, str]


def load(store: Store, name: str, workers: int = 0) -> IngestTotals:
    with open_input(SAMPLES / name) as stream:
        reader = reader_for(detect(stream, name), PROTOCOLS)
        if isinstance(reader, ChunkedReader):
            return ingest_chunks(store, reader.chunks(stream, name), reader.decode, workers=workers)
        return ingest_stream(store, reader.read(stream, name))


def search(store: Store, expression: str, dataset: str = PROTOCOLS) -> list[Report]:
    expr = check(parse(expression), store.known_types(dataset), source=expression) if expression else None
    return store.search(Filters(dataset=dataset, expression=expr)).reports


def triples(report: Report) -> set[Triple]:
    return {(item.type, item.context, item.value) for item in report.items}


def rejected(totals: IngestTotals) -> list[tuple[int, str]]:
    return [(record.line, record.reason.split(":")[0]) for record in totals.rejected]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("zgrab2.jsonl", Format.ZGRAB2),
        ("nmap.xml", Format.NMAP_XML),
        ("zdns.jsonl", Format.DNS_JSON),
        ("massdns.ndjson", Format.DNS_JSON),
        ("massdns.txt", Format.MASSDNS_SIMPLE),
        ("certstream.jsonl", Format.CERTSTREAM),
        ("crtsh.json", Format.CRTSH),
    ],
)
def test_each_sample_is_recognised(name: str, expected: Format) -> None:
    with open_input(SAMPLES / name) as stream:
        assert detect(stream, name) is expected


def test_zgrab2(any_store: Store) -> None:
    totals = load(any_store, "zgrab2.jsonl", workers=1)  # in a worker process: the decoder pickles
    assert (totals.imported, totals.duplicates) == (13, 0)
    assert rejected(totals) == [
        (4, "not valid JSON"),
        (7, "'ip' is not an IP address"),
        (8, "'data.ssh.timestamp' must be a date-time such as 2025-11-26T10"),
    ]
    http = search(any_store, "protocol=http")
    assert len(http) == 1 and http[0].date == dt.date(2025, 11, 26)
    assert {
        ("ip", "", "192.0.2.10"),
        ("port-tcp", "", "80"),
        ("server-banner", "http", "HTTP/1.1 200 OK"),
        ("http-header", "Content-Type", "text/html; charset=utf-8"),
        ("http-header", "Set-Cookie", "b=2"),
        ("http-header", "X-Clacks-Overhead", "GNU Terry Pratchett"),
        ("title", "", "Sample & Shop"),
        ("url", "", "http://192.0.2.10/"),
    } <= triples(http[0])
    digest = next(item.value for item in http[0].items if item.type == "body-sha256")
    assert any_store.bodies([digest])[digest].data.startswith(b"<html><head><title>Sample &amp; Shop")
    for protocol, banner in [
        ("ssh", "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3"),
        ("ftp", "220 (vsFTPd 3.0.3)"),
        ("redis", "redis_version:7.0.15"),
        ("mysql", "8.0.36-0ubuntu0.22.04.1"),
        ("mqtt", "MQTT Connection Code: 0"),
        ("modbus", "Unit ID: 0\nDevice: Schneider Electric BMX P34 2020 v2.6"),
        ("generic", "Welcome to the sample service"),
        ("tls", "TLSv1.2 TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
    ]:
        found = search(any_store, f"protocol={protocol}")
        assert len(found) == 1, protocol
        assert ("server-banner", protocol, banner) in triples(found[0])
    assert {r.port for r in search(any_store, "ip:192.0.2.12")} == {21, 22, 23, 25, 502, 1883, 3306, 5432, 6379, 9999}
    tls = search(any_store, "protocol=tls")[0]
    assert ("cert-sha256", "", SAMPLE_CERT_SHA256) in triples(tls) and tls.port == 8443
    assert ("host", "cert-dns-name", "www.shop.sample.example") in triples(tls)
    domains = search(any_store, "host:shop.sample.example", DOMAINS)
    assert len(domains) == 1 and domains[0].date == dt.date(2025, 11, 26)
    visit = triples(domains[0])
    assert {("host", "", "shop.sample.example"), ("port-tcp", "", "443")} <= visit
    assert ("server-banner", "https", "HTTP/1.1 301 Moved Permanently") in visit
    assert ("http-header", "Location", "https://www.shop.sample.example/") in triples(domains[0])
    assert search(any_store, "protocol=https") == []  # a visit by name is a domains report, not a protocols one
    again = load(any_store, "zgrab2.jsonl")
    assert (again.imported, again.duplicates) == (0, 13)


def test_nmap(any_store: Store) -> None:
    totals = load(any_store, "nmap.xml", workers=1)
    assert rejected(totals) == [
        (78, "not a well-formed <host> element"),
        (83, "not a well-formed <host> element"),  # an entity: never expanded, the host is rejected
        (84, "'address' is not an IP address"),
    ]
    assert totals.imported == 6  # 3 reports, 1 rdns report, 1 tcp and 1 udp observation
    https = search(any_store, "protocol=https")
    assert len(https) == 1 and https[0].date == dt.date(2026, 12, 1)
    assert {
        ("ip", "", "192.0.2.20"),
        ("port-tcp", "", "443"),
        ("product-info", "", "nginx 1.22.1"),
        ("cpe", "", "cpe:/a:igor_sysoev:nginx:1.22.1"),
        ("title", "", "Shoal test page"),
        ("http-header", "Server", "nginx/1.22.1"),
        ("subject", "", "CN=shoal-test.example, O=Shoal Tests, C=GB"),
        ("host", "cert-dns-name", "www.shoal-test.example"),
        ("ip", "cert-ip-address", "192.0.2.7"),
    } <= triples(https[0])
    ssh = search(any_store, "protocol=ssh")[0]
    assert ("server-banner", "ssh", "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10") in triples(ssh)
    assert ("ssh-hostkey", "ssh-ed25519", "459f0718ebc7911a5aa0ca57e64cfe88") in triples(ssh)
    assert search(any_store, "port-tcp:8080") == []  # open but not probed: an observation, not a report
    rdns = search(any_store, "host:sample.example", RDNS)
    assert [triples(r) for r in rdns] == [{("ip", "", "192.0.2.20"), ("host", "dns-ptr", "web-20.sample.example")}]
    network = ipaddress.ip_network("192.0.2.20/32")
    tcp = any_store.open_ports(PortQuery(network))
    assert sorted(int(port) for port in tcp.ports) == [80, 443, 8080]
    udp = any_store.open_ports(PortQuery(network, transport="udp"))
    assert [int(port) for port in udp.ports] == [53]  # open|filtered (161) is not open


def test_an_xml_bomb_is_never_expanded(any_store: Store, tmp_path: Path) -> None:
    entities = "".join(f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10))
    bomb = f"""<?xml version="1.0"?>
<!DOCTYPE nmaprun [<!ENTITY lol0 "lol">{entities}]>
<nmaprun scanner="nmap" start="1796112074">
<host starttime="1796112075"><address addr="192.0.2.40" addrtype="ipv4"/>
<hostnames><hostname name="&lol9;" type="PTR"/></hostnames></host>
<host starttime="1796112075"><address addr="192.0.2.41" addrtype="ipv4"/>
<hostnames><hostname name="ok.sample.example" type="PTR"/></hostnames></host>
</nmaprun>
"""
    path = tmp_path / "bomb.xml"
    path.write_text(bomb)
    with open_input(path) as stream:
        reader = reader_for(detect(stream), PROTOCOLS)
        assert isinstance(reader, ChunkedReader)
        totals = ingest_chunks(any_store, reader.chunks(stream, "bomb.xml"), reader.decode, workers=0)
    assert rejected(totals) == [(4, "not a well-formed <host> element")]
    assert [r.ip for r in search(any_store, "", RDNS)] == ["192.0.2.41"]


def test_zdns_and_massdns(any_store: Store) -> None:
    zdns = load(any_store, "zdns.jsonl")
    assert rejected(zdns) == [(7, "not valid JSON"), (8, "'answers' must be a list")]
    massdns = load(any_store, "massdns.ndjson")
    simple = load(any_store, "massdns.txt")
    assert rejected(simple) == [(7, "not a massdns -o S line"), (8, "'answer' is not an IP address")]
    assert (zdns.imported, massdns.imported, simple.imported) == (
        12,
        3,
        7,
    )  # fdns and mx reports among them; zdns gave massdns's MX
    by_ip = {report.ip: report for report in search(any_store, "", RDNS)}
    assert set(by_ip) == {"192.0.2.20", "192.0.2.21", "192.0.2.22", "2001:db8::20"}
    assert {(t, c, v) for t, c, v in triples(by_ip["192.0.2.20"]) if t == "host"} == {
        ("host", "dns-ptr", "web-20.sample.example"),
        ("host", "dns-ptr", "www.sample.example"),
    }
    assert by_ip["192.0.2.21"].date == dt.date(2025, 11, 26)  # massdns rx_ts, in nanoseconds
    assert ("host", "dns-ptr", "smtp.sample.example") in triples(by_ip["192.0.2.22"])  # two -o S lines, one report
    assert ("host", "dns-ptr", "v6.sample.example") in triples(by_ip["2001:db8::20"])
    assert any_store.known_addresses() == {
        "api.sample.example": ["192.0.2.21"],
        "mail.sample.example": ["192.0.2.22", "2001:db8::22"],
        "ns1.sample.example": ["192.0.2.53", "2001:db8::53"],
        "shop.sample.example": ["192.0.2.20"],  # through its CNAME
        "web-20.sample.example": ["192.0.2.20"],
        "www.sample.example": ["192.0.2.20"],  # through its CNAME (massdns -o S)
    }
    again = load(any_store, "zdns.jsonl")
    assert (again.imported, again.duplicates) == (0, 12)


def test_zdns_and_massdns_forward_answers_are_fdns_and_mx_reports(any_store: Store) -> None:
    for sample in ("zdns.jsonl", "massdns.ndjson", "massdns.txt"):
        load(any_store, sample)
    forward = {(r.value_of("host"), tuple(sorted(triples(r)))) for r in search(any_store, "", FDNS)}
    assert forward == {
        (
            "shop.sample.example",
            (
                ("host", "", "shop.sample.example"),
                ("host", "dns-cname", "web-20.sample.example"),
                ("ip", "dns-a", "192.0.2.20"),
            ),
        ),
        ("sample.example", (("host", "", "sample.example"), ("host", "dns-ns", "ns1.sample.example"))),
        ("api.sample.example", (("host", "", "api.sample.example"), ("ip", "dns-a", "192.0.2.21"))),
        (
            "mail.sample.example",
            (("host", "", "mail.sample.example"), ("ip", "dns-a", "192.0.2.22"), ("ip", "dns-aaaa", "2001:db8::22")),
        ),
        ("www.sample.example", (("host", "", "www.sample.example"), ("host", "dns-cname", "web-20.sample.example"))),
    }
    mail = sorted(tuple(sorted(triples(r))) for r in search(any_store, "", MX))
    assert mail == [
        (
            ("dns-mx", "", "10 mail.sample.example"),  # zdns: the preference is a field of the answer
            ("dns-txt", "spf", "v=spf1 mx -all"),
            ("host", "", "sample.example"),
            ("host", "dns-mx", "mail.sample.example"),
        ),
        (
            ("dns-mx", "", "10 mail.sample.example"),
            ("host", "", "sample.example"),
            ("host", "dns-mx", "mail.sample.example"),
        ),
    ]
    assert {r.date for r in search(any_store, "", MX)} == {dt.date(2025, 11, 27), dt.datetime.now(dt.UTC).date()}


def test_certstream_and_crtsh(any_store: Store) -> None:
    stream = load(any_store, "certstream.jsonl")
    assert rejected(stream) == [(4, "not valid JSON"), (5, "a certificate_update needs 'data.leaf_cert'")]
    crtsh = load(any_store, "crtsh.json")
    assert rejected(crtsh) == [(3, "a crt.sh record needs its numeric 'id'"), (4, "not valid JSON")]
    assert (stream.imported, crtsh.imported) == (2, 2)
    logged = search(any_store, "ct-index=1234567", CT)
    assert len(logged) == 1 and logged[0].date == dt.date(2025, 11, 26)
    assert {
        ("subject", "", "CN=shop.sample.example, O=Sample Shop, C=GB"),
        ("issuer", "", "CN=Sample Issuing CA, O=Sample CA, C=GB"),
        ("host", "cert-dns-name", "www.shop.sample.example"),
        ("ip", "cert-ip-address", "192.0.2.10"),
        ("cert-sha256", "", SAMPLE_CERT_SHA256),
        ("cert-serial", "", "1f2e3d4c5b6a"),
        ("cert-not-after", "", "2026-11-01"),
        ("ct-log", "", "https://log.sample.example/"),
        ("ct-entry-type", "", "x509"),
    } <= triples(logged[0])
    precert = search(any_store, "ct-entry-type=precert", CT)[0]
    assert ("cert-sha256", "", SAMPLE_CERT_SHA256) in triples(precert)  # from as_der
    from_crtsh = search(any_store, "ct-log=crt.sh and host:api.sample.example", CT)
    assert len(from_crtsh) == 1 and from_crtsh[0].date == dt.date(2025, 11, 27)
    assert {("ip", "cert-ip-address", "192.0.2.21"), ("crtsh-id", "", "9100000002")} <= triples(from_crtsh[0])
    assert len(search(any_store, "host:shop.sample.example", CT)) == 3


@pytest.mark.parametrize("zipped", [False, True])
def test_a_first_record_longer_than_the_head_is_still_recognised(tmp_path: Path, zipped: bool) -> None:
    body = "x" * 200_000  # zgrab2 keeps bodies up to 256 KiB: the head ends inside the first line
    http = {"status": "success", "protocol": "http", "port": 80, "timestamp": "2026-01-01T00:00:00Z"}
    line = orjson.dumps({"ip": "192.0.2.1", "data": {"http": {**http, "result": {"response": {"body": body}}}}})
    path = tmp_path / "long.jsonl"
    path.write_bytes(gzip.compress(line + b"\n") if zipped else line + b"\n")
    with open_input(path) as stream:
        assert detect(stream, "long.jsonl") is Format.ZGRAB2
    assert detect_head(line[:5000]) is Format.ZGRAB2
    report = b'{"date": "2026-11-01", "id": "x", "items": [{"type": "title", "value": "'
    assert detect_head(report + b"y" * 9000) is Format.REPORTS
    assert detect_head(b'{"some": "thing", "else": "' + b"z" * 9000) is None

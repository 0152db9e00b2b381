"""HTTP depth against nginx: redirects (relative, to another port, to HTTPS, a chain longer than 3, to another
host name, to an address outside the allow-list) and favicons (a ``<link rel=icon>``, ``/favicon.ico``, a
``data:`` URI, one too large), their hashes checked against hashlib and an independent MurmurHash3."""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import os
from collections.abc import Iterator

import pytest

from shoal.collect.policy import ScanPolicy
from shoal.collect.scanner import Collector, ScanSettings, run_event_loop
from shoal.model import FAVICONS, PROTOCOLS, Item, Report
from tests.collect.certificates import subject_of, write_certificate
from tests.collect.conftest import BLOCK, FAST, ListSink, items_of
from tests.collect.daemons import binary, running
from tests.collect.fakes import fake_server, sends
from tests.collect.launchers import nginx_command
from tests.enrich.test_fingerprints import murmur3_32

pytestmark = pytest.mark.daemon

WEB_IP = f"127.{BLOCK}.52.2"
OUTSIDE = f"127.{BLOCK}.53.9"  # a listener the allow-list of these tests does not cover
ALLOWED = ipaddress.ip_network(f"127.{BLOCK}.52.0/24")
ICON, ICO, BIG = os.urandom(3000), os.urandom(1150), os.urandom(100 * 1024)
INLINE = os.urandom(200)
PAGE = "<html><head><title>{title}</title>{link}</head><body>hi</body></html>"


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    nginx_binary = binary("/usr/sbin/nginx")
    folder = tmp_path_factory.mktemp("web-nginx")
    certificate, key, _ = write_certificate(folder, "web", subject_of(WEB_IP))
    files = {
        "linked/landing.html": PAGE.format(
            title="Landing page", link='<link rel="shortcut icon" href="/static/icon.png">'
        ),
        "plain/index.html": PAGE.format(title="Plain page", link=""),
        "inline/index.html": PAGE.format(
            title="Inline", link=f'<link rel="icon" href="data:image/png;base64,{base64.b64encode(INLINE).decode()}">'
        ),
    }
    for path, text in files.items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_text(text)
    (folder / "linked/static").mkdir()
    (folder / "linked/static/icon.png").write_bytes(ICON)
    (folder / "linked/favicon.ico").write_bytes(ICO)  # not used: the page links its icon
    (folder / "plain/favicon.ico").write_bytes(ICO)
    (folder / "big").mkdir()
    (folder / "big/favicon.ico").write_bytes(BIG)
    hops = " ".join(f"location = /r{n} {{ return 302 /r{n + 1}; }}" for n in range(1, 5))
    blocks = [
        f"listen {WEB_IP}:80; location = / {{ return 301 /start; }}"
        f" location = /start {{ return 302 http://{WEB_IP}:8080/landing.html; }}",
        f"listen {WEB_IP}:8080; root {folder}/linked;",
        f"listen {WEB_IP}:8181; root {folder}/plain;",
        f"listen {WEB_IP}:3000; root {folder}/plain;",
        f"listen {WEB_IP}:5000; root {folder}/plain; keepalive_timeout 0;",
        f"listen {WEB_IP}:8000; location = / {{ return 302 /r1; }} {hops}",
        f"listen {WEB_IP}:8008; return 302 http://elsewhere.example/;",
        f"listen {WEB_IP}:8081; return 302 http://{OUTSIDE}/;",
        f"listen {WEB_IP}:8088; root {folder}/big;",
        f"listen {WEB_IP}:8888; return 301 https://{WEB_IP}:8443/;",
        f"listen {WEB_IP}:8443 ssl; root {folder}/plain; ssl_certificate {certificate}; ssl_certificate_key {key};",
        f"listen {WEB_IP}:9000; root {folder}/inline;",
    ]
    with running(nginx_command(nginx_binary, folder, blocks), WEB_IP, 80, folder):
        yield


def collected(port: int, follow_ups: bool = True) -> tuple[Report, int]:
    """The report of WEB_IP:port, scanned with only ALLOWED allowed, and the connections opened for it."""
    settings = ScanSettings(timeouts=FAST, jarm=False, follow_ups=follow_ups)
    collector = Collector(ScanPolicy(allow=(ALLOWED,)), settings, ListSink())
    report = run_event_loop(collector.collect(WEB_IP, port))
    assert report is not None
    return report, collector.connector.connects


def favicon_of(report: Report) -> dict[str, str]:
    return {item.type: item.value for item in report.items if item.context == "favicon"}


def expected_favicon(data: bytes, url: str | None) -> dict[str, str]:
    digest = hashlib.sha256(data).hexdigest()
    return {
        **({"url": url} if url else {}),
        "obj-md5": hashlib.md5(data).hexdigest(),
        "obj-sha1": hashlib.sha1(data).hexdigest(),
        "obj-sha256": digest,
        "obj-murmur3": str(murmur3_32(base64.encodebytes(data))),
        "body-sha256": digest,
    }


def test_redirects_are_followed_to_the_page_and_its_linked_icon(web: None) -> None:
    report, connections = collected(80)
    assert items_of(report, "server-banner") == [("http", "HTTP/1.1 301 Moved Permanently")]
    assert [value for context, value in items_of(report, "url") if context == "redirect"] == [
        f"http://{WEB_IP}/start",
        f"http://{WEB_IP}:8080/landing.html",
    ]
    assert items_of(report, "title") == [("", "Landing page")]
    assert favicon_of(report) == expected_favicon(ICON, f"http://{WEB_IP}:8080/static/icon.png")
    assert ICON in [body.data for body in report.bodies]
    assert connections == 4  # another port: the follow-up starts again from the page, then two redirects, the icon


def test_the_favicon_ico_of_a_page_on_an_unusual_port(web: None) -> None:
    report, _ = collected(8181)
    assert items_of(report, "title") == [("", "Plain page")]
    assert favicon_of(report) == expected_favicon(ICO, f"http://{WEB_IP}:8181/favicon.ico")


def test_the_favicon_is_asked_for_over_the_pages_connection(web: None) -> None:
    report, connections = collected(3000)
    assert favicon_of(report) == expected_favicon(ICO, f"http://{WEB_IP}:3000/favicon.ico")
    assert connections == 1  # HTTP/1.1 keep-alive


def test_no_follow_ups_means_no_favicon_even_over_the_same_connection(web: None) -> None:
    report, connections = collected(3000, follow_ups=False)
    assert favicon_of(report) == {} and connections == 1
    assert items_of(report, "title") == [("", "Plain page")]


def test_a_server_that_closes_after_each_answer_gets_a_connection_for_the_favicon(web: None) -> None:
    report, connections = collected(5000)
    assert favicon_of(report) == expected_favicon(ICO, f"http://{WEB_IP}:5000/favicon.ico")
    assert connections == 2


def test_at_most_three_redirects_are_followed(web: None) -> None:
    report, connections = collected(8000)
    redirects = [value for context, value in items_of(report, "url") if context == "redirect"]
    assert redirects == [f"http://{WEB_IP}:8000/r{n}" for n in range(1, 5)]
    assert connections == 1  # the page, three redirects, /favicon.ico (not found): all on one connection
    assert favicon_of(report) == {}


def test_a_redirect_to_another_name_is_recorded_not_followed(web: None) -> None:
    report, connections = collected(8008)
    assert ("redirect", "http://elsewhere.example/") in items_of(report, "url")
    assert ("redirect", "elsewhere.example") in items_of(report, "host")
    assert connections == 1  # the page and its own /favicon.ico: nothing was resolved or sent elsewhere


def test_a_redirect_outside_the_allow_list_is_never_followed(web: None) -> None:
    with fake_server(OUTSIDE, 80, sends(b"HTTP/1.1 200 OK\r\n\r\n")) as clients:
        report, _ = collected(8081)
    assert ("redirect", f"http://{OUTSIDE}/") in items_of(report, "url")
    assert clients == []


def test_an_https_redirect_and_its_favicon(web: None) -> None:
    report, _ = collected(8888)
    assert items_of(report, "title") == [("", "Plain page")]
    assert favicon_of(report) == expected_favicon(ICO, f"https://{WEB_IP}:8443/favicon.ico")


def test_a_favicon_larger_than_64_kib_is_not_recorded(web: None) -> None:
    report, _ = collected(8088)
    assert favicon_of(report) == {}
    assert all(len(body.data) < len(BIG) for body in report.bodies)


def test_a_data_uri_icon_costs_no_connection(web: None) -> None:
    report, connections = collected(9000)
    assert favicon_of(report) == expected_favicon(INLINE, None)
    assert connections == 1


def test_each_favicon_fetched_is_also_a_favicons_report(web: None) -> None:
    sinks = []
    for port in (8181, 9000):  # a fetched favicon, and a data: URI (no URL: no report of its own)
        sink = ListSink()
        run_event_loop(
            Collector(ScanPolicy(allow=(ALLOWED,)), ScanSettings(timeouts=FAST, jarm=False), sink).collect(WEB_IP, port)
        )
        sinks.append(sink)
    site, icon = sinks[0].reports
    assert (site.dataset, icon.dataset) == (PROTOCOLS, FAVICONS)
    url = f"http://{WEB_IP}:8181/favicon.ico"
    assert icon.items[:3] == (
        Item("url", url, "", True),
        Item("ip", WEB_IP, "", True),
        Item("port-tcp", "8181", "", True),
    )
    hashes = {item.type: item.value for item in icon.items[3:] if item.context == "favicon"}
    assert hashes == {k: v for k, v in expected_favicon(ICO, None).items() if k.startswith("obj-")}
    assert len(icon.items) == 7 and icon.date == site.date and not icon.bodies  # its bytes stay with the site's
    assert [report.dataset for report in sinks[1].reports] == [PROTOCOLS]

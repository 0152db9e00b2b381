"""GET /v1/scan/ports and /v1/scan/ipports: Driftnet's shapes, the default window, caps, the honeypot flag, 400s.

On the embedded engine: what an engine must do for them (observations by CIDR and window, exactly) is pinned for
every engine in tests/store/test_ports.py, and the summaries over them in tests/test_ports.py."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shoal.api.app import create_app
from shoal.api.routes.ports import today
from shoal.model import PortObservation
from shoal.store.embedded import EmbeddedStore
from shoal.tokens import TokenStore
from tests.api.conftest import assert_error

TODAY = dt.date(2026, 11, 30)
PORTS, IPPORTS = "/v1/scan/ports", "/v1/scan/ipports"


def ago(days: int) -> dt.date:
    return TODAY - dt.timedelta(days=days)


def observations() -> list[PortObservation]:
    seen = [PortObservation("8.8.8.8", 443, ago(n)) for n in range(10)]
    seen += [PortObservation("8.8.8.8", 53, ago(n)) for n in range(4)]
    seen += [PortObservation("8.8.8.8", 853, ago(29)), PortObservation("8.8.8.8", 8080, ago(30))]  # 30: outside
    seen += [PortObservation("8.8.4.4", 53, ago(1))]
    seen += [PortObservation("203.0.113.50", port, ago(2)) for port in range(10_000, 11_000)]  # a honeypot
    seen += [PortObservation(f"162.216.{148 + n // 256}.{n % 256}", 9100, ago(3)) for n in range(1100)]
    seen += [PortObservation("162.216.149.102", port, ago(3)) for port in range(1000, 1050)]
    seen += [PortObservation("2001:db8::1", 22, ago(0)), PortObservation("2001:db8::2", 22, ago(0))]
    seen += [PortObservation("198.51.100.1", 80, dt.date(2020, 1, n)) for n in range(1, 6)]
    return seen


@pytest.fixture(scope="module")
def ports_client(
    tmp_path_factory: pytest.TempPathFactory, token_store: TokenStore, normal_token: str
) -> Iterator[TestClient]:
    store = EmbeddedStore(tmp_path_factory.mktemp("ports") / "store")
    store.ingest_observations(observations())
    app = create_app(store, token_store)
    app.dependency_overrides[today] = lambda: TODAY
    with TestClient(app, raise_server_exceptions=False) as test_client:
        test_client.headers["Authorization"] = f"Bearer {normal_token}"
        yield test_client
    store.close()


def test_ports_of_one_ip_in_the_last_30_days(ports_client: TestClient) -> None:
    response = ports_client.get(PORTS, params={"ip": "8.8.8.8"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.content == b'{"other":0,"values":{"443":10,"53":4,"853":1}}'


@pytest.mark.parametrize(
    ("params", "values"),
    [
        ({"from": ago(30).isoformat()}, {"443": 10, "53": 4, "853": 1, "8080": 1}),
        ({"from": ago(3).isoformat(), "to": ago(1).isoformat()}, {"443": 3, "53": 3}),
        ({"to": ago(5).isoformat()}, {"443": 5, "853": 1, "8080": 1}),  # from: 29 days before to
        ({"from": ago(0).isoformat(), "to": ago(0).isoformat()}, {"443": 1, "53": 1}),
        ({"from": "", "to": ""}, {"443": 10, "53": 4, "853": 1}),
    ],
)
def test_from_and_to(ports_client: TestClient, params: dict, values: dict) -> None:
    response = ports_client.get(PORTS, params={"ip": "8.8.8.8", **params})
    assert response.json() == {"other": 0, "values": values}


def test_old_observations_need_a_window(ports_client: TestClient) -> None:
    assert ports_client.get(PORTS, params={"ip": "198.51.100.1"}).status_code == 204
    response = ports_client.get(PORTS, params={"ip": "198.51.100.0/24", "from": "2020-01-02", "to": "2020-01-03"})
    assert response.json() == {"other": 0, "values": {"80": 2}}


def test_a_cidr_sums_its_addresses(ports_client: TestClient) -> None:
    assert ports_client.get(PORTS, params={"ip": "8.8.0.0/16"}).json() == {
        "other": 0,
        "values": {"443": 10, "53": 5, "853": 1},
    }


def test_at_most_100_values_and_the_honeypot_flag(ports_client: TestClient) -> None:
    body = ports_client.get(PORTS, params={"ip": "203.0.113.50"}).json()
    assert body["honeypot"] is True
    assert len(body["values"]) == 100 and body["other"] == 900
    assert list(body["values"])[:2] == ["10000", "10001"]  # ties by port ascending
    assert ports_client.get(PORTS, params={"ip": "203.0.113.0/24"}).json()["honeypot"] is True
    assert "honeypot" not in ports_client.get(PORTS, params={"ip": "8.8.8.8"}).json()
    assert "honeypot" not in ports_client.get(PORTS, params={"ip": "162.216.148.0/22"}).json()


def test_ipports_per_ip(ports_client: TestClient) -> None:
    body = ports_client.get(IPPORTS, params={"ip": "8.8.0.0/16"}).json()
    assert body == {
        "other": 0,
        "values": {
            "8.8.4.4": {"other": 0, "values": {"53": 1}},
            "8.8.8.8": {"other": 0, "values": {"443": 10, "53": 4, "853": 1}},
        },
    }


def test_ipports_caps_ips_and_ports(ports_client: TestClient) -> None:
    body = ports_client.get(IPPORTS, params={"ip": "162.216.144.0/20"}).json()
    assert len(body["values"]) == 1024
    assert body["other"] == 1100 - 1024
    busiest = body["values"]["162.216.149.102"]  # 51 ports: first by observations
    assert busiest["other"] == 0 and len(busiest["values"]) == 51
    assert body["values"]["162.216.148.0"] == {"other": 0, "values": {"9100": 1}}
    assert "162.216.152.75" not in body["values"]  # ties go to the lowest addresses; the last are left out
    honeypot = ports_client.get(IPPORTS, params={"ip": "203.0.113.50"}).json()
    assert honeypot["values"]["203.0.113.50"]["other"] == 900
    assert "honeypot" not in honeypot


def test_ipv6(ports_client: TestClient) -> None:
    assert ports_client.get(PORTS, params={"ip": "2001:db8::/32"}).json() == {"other": 0, "values": {"22": 2}}
    assert list(ports_client.get(IPPORTS, params={"ip": "2001:db8::/64"}).json()["values"]) == [
        "2001:db8::1",
        "2001:db8::2",
    ]


@pytest.mark.parametrize("url", [PORTS, IPPORTS])
def test_nothing_seen_is_204(ports_client: TestClient, url: str) -> None:
    response = ports_client.get(url, params={"ip": "192.0.2.0/24"})
    assert (response.status_code, response.content) == (204, b"")


@pytest.mark.parametrize("url", [PORTS, IPPORTS])
@pytest.mark.parametrize(
    ("params", "parameter", "words"),
    [
        ({}, "ip", "required"),
        ({"ip": ""}, "ip", "required"),
        ({"ip": "8.8.8.256"}, "ip", "IP address or CIDR"),
        ({"ip": "8.8.8.0/33"}, "ip", "IP address or CIDR"),
        ({"ip": "example.com"}, "ip", "IP address or CIDR"),
        ({"ip": "8.0.0.0/7"}, "ip", "split it into /8"),
        ({"ip": "0.0.0.0/0"}, "ip", "split it"),
        ({"ip": "2001::/16"}, "ip", "split it into /32"),
        ({"ip": ["8.8.8.8", "8.8.4.4"]}, "ip", "only once"),
        ({"ip": "8.8.8.8", "from": "2026-13-01"}, "from", "YYYY-MM-DD"),
        ({"ip": "8.8.8.8", "to": "yesterday"}, "to", "YYYY-MM-DD"),
        ({"ip": "8.8.8.8", "from": "2026-11-05", "to": "2026-11-01"}, "from", "after"),
    ],
)
def test_bad_parameters_are_400(ports_client: TestClient, url: str, params: dict, parameter: str, words: str) -> None:
    body = assert_error(ports_client.get(url, params=params), 400, parameter)
    assert words in body["error"]


def test_the_widest_cidrs_are_accepted(ports_client: TestClient) -> None:
    assert ports_client.get(PORTS, params={"ip": "8.0.0.0/8"}).status_code == 200
    assert ports_client.get(IPPORTS, params={"ip": "2001:db8::/32"}).status_code == 200


@pytest.mark.parametrize("url", [PORTS, IPPORTS])
def test_token_required(ports_client: TestClient, url: str) -> None:
    response = ports_client.get(url, params={"ip": "8.8.8.8"}, headers={"Authorization": ""})
    assert_error(response, 401)
    assert response.headers["www-authenticate"] == "Bearer"


VALUES = st.one_of(
    st.text(max_size=24),
    st.sampled_from(["8.8.8.8", "8.8.0.0/16", "::1", "2001:db8::/32", "2026-11-01", "1.2.3.4/0", "", "/"]),
)
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(params=st.dictionaries(st.sampled_from(["ip", "from", "to"]), VALUES, max_size=3), ipports=st.booleans())
def test_any_parameters_are_answered_without_a_500(ports_client: TestClient, params: dict, ipports: bool) -> None:
    response = ports_client.get(IPPORTS if ipports else PORTS, params=params)
    assert response.status_code in (200, 204, 400), response.text
    if response.status_code == 400:
        assert response.json()["detail"][0]["parameter"] in ("ip", "from", "to")

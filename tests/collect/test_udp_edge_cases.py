"""UDP probing at its edges: closed, silent, chatty and hostile ports, answers from elsewhere, the policy, and
every parser against bytes it did not ask for."""

from __future__ import annotations

import ipaddress
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shoal.collect.connection import Connector, Timeouts
from shoal.collect.policy import ScanPolicy
from shoal.collect.ratelimit import ConnectionRate
from shoal.collect.scanner import Collector, ScanSettings, run_event_loop
from shoal.collect.udp import UDP_PROBES, dns
from shoal.collect.udp.base import NONCE_BYTES, Query
from shoal.collect.udp.identify import Outcome, PortState, identify_udp, plan
from shoal.collect.udp.mdns import instances_answer
from tests.collect.conftest import BLOCK, ListSink
from tests.collect.daemons import require_root
from tests.collect.udp_fakes import silent, udp_server

net = ipaddress.ip_network
QUICK = Timeouts(connect=1.0, first_byte=0.2, service=5.0)
BURST = tuple(probe for probe in UDP_PROBES if probe.elsewhere)  # what a port no probe is known for gets
PROBES = len(BURST)
HERE = f"127.{BLOCK}.45"  # the addresses of these tests: 127.B.45.0/24


def probe(ip: str, port: int, retries: int = 1, timeouts: Timeouts = QUICK) -> Outcome:
    async def run() -> Outcome:
        connector = Connector(ScanPolicy(allow=(ipaddress.ip_network(ip),)), ConnectionRate(10_000), 4, timeouts)
        return await identify_udp(connector, ip, port, retries)

    return run_event_loop(run())


def test_a_closed_port_costs_one_datagram() -> None:
    assert probe(f"{HERE}.1", 4501) == Outcome(PortState.CLOSED, None, 1)  # the pilot, and ICMP port unreachable
    assert probe(f"{HERE}.1", 53) == Outcome(PortState.CLOSED, None, 1)  # the DNS query the port is known for


def test_a_silent_port_is_open_filtered_after_the_pilot_and_two_bursts() -> None:
    with udp_server(f"{HERE}.2", 4502, silent) as received:
        assert probe(f"{HERE}.2", 4502) == Outcome(PortState.SILENT, None, 1 + 2 * PROBES)
        assert probe(f"{HERE}.2", 4502, retries=0) == Outcome(PortState.SILENT, None, 1 + PROBES)
    assert len(received) == (1 + 2 * PROBES) + (1 + PROBES)
    require_root("a silent server on port 53")
    with udp_server(f"{HERE}.2", 53, silent):  # the DNS query alone, then the other probes
        assert probe(f"{HERE}.2", 53, retries=0) == Outcome(PortState.SILENT, None, PROBES)


def test_a_silent_port_is_not_stored() -> None:
    policy = ScanPolicy(allow=(net(f"{HERE}.3/32"),))
    sink = ListSink()
    collector = Collector(policy, ScanSettings(timeouts=QUICK, udp_retries=0), sink)
    with udp_server(f"{HERE}.3", 4503, silent):
        assert run_event_loop(collector.collect_udp(f"{HERE}.3", 4503)) is None
    assert (sink.open_udp_ports, sink.reports, collector.stats.udp_silent) == ([], [], 1)
    assert collector.stats.udp_datagrams == 1 + PROBES


def test_an_answer_no_probe_recognises_is_a_generic_report_after_one_burst() -> None:
    with udp_server(f"{HERE}.4", 4504, lambda _: [b"hello\x01"]) as received:
        outcome = probe(f"{HERE}.4", 4504)
    assert outcome.state is PortState.OPEN and outcome.sent == len(received) == 1 + PROBES  # no retries
    assert outcome.service is not None
    assert (outcome.service.protocol, outcome.service.banner) == ("generic", "hello\\x01")


def test_the_right_answer_wins_over_noise_in_the_burst() -> None:
    """A port that answers every datagram, and DNS properly: the DNS answer names it, the noise does not."""

    def noisy_dns(data: bytes) -> list[bytes]:
        if data[2:4] == b"\x00\x00" and b"version" in data:
            return [data[:2] + b"\x84\x00" + data[4:]]  # the query as an answer (QR, AA, no record): REFUSED-like
        return [b"noise"]

    with udp_server(f"{HERE}.5", 4505, noisy_dns):
        outcome = probe(f"{HERE}.5", 4505)
    assert outcome.service is not None and outcome.service.protocol == "dns"
    assert outcome.service.banner == "version.bind: NOERROR"


def test_answers_from_another_address_are_ignored() -> None:
    with udp_server(f"{HERE}.6", 4506, lambda data: [data], reply_from=f"{HERE}.7"):
        assert probe(f"{HERE}.6", 4506, retries=0).state is PortState.SILENT


def test_a_flood_of_answers_is_bounded() -> None:
    with udp_server(f"{HERE}.8", 4508, lambda _: [os.urandom(1400) for _ in range(200)]):
        outcome = probe(f"{HERE}.8", 4508, retries=0)
    assert outcome.state is PortState.OPEN and outcome.service is not None
    assert outcome.service.protocol == "generic" and len(outcome.service.banner) <= 4096


def test_ipv6_loopback() -> None:
    assert probe("::1", 4509).state is PortState.CLOSED
    with udp_server("::1", 4509, lambda _: [b"six"]):
        outcome = probe("::1", 4509, retries=0)
    assert outcome.service is not None and outcome.service.banner == "six"


def test_denied_addresses_get_no_datagram() -> None:
    policy = ScanPolicy(allow=(net(f"{HERE}.10/31"),), deny=(net(f"{HERE}.11/32"),))
    sink = ListSink()
    with (
        udp_server(f"{HERE}.10", 4510, lambda _: [b"ok"]) as allowed,
        udp_server(f"{HERE}.11", 4510, lambda _: [b"ok"]) as denied,
    ):
        collector = Collector(policy, ScanSettings(timeouts=QUICK), sink)
        run_event_loop(collector.scan([net(f"{HERE}.10/31")], [], [4510]))
    assert allowed and denied == []
    assert sink.open_udp_ports == [(f"{HERE}.10", 4510)] and sink.open_ports == []


def test_the_plan_sends_a_port_its_own_probes_first() -> None:
    [known, rest] = plan(53, retries=1)
    assert [probe.name for probe in known.probes] == ["dns"] and known.tries == 2
    assert dns.PROBE not in rest.probes and rest.tries == 2
    [pilot, burst] = plan(4242, retries=2)
    assert pilot.probes == UDP_PROBES[:1] and pilot.tries == 1
    assert burst.probes == BURST and burst.tries == 3
    assert {probe.name for probe in UDP_PROBES} - {probe.name for probe in BURST} == {"mdns", "ssdp"}  # one port
    assert [probe.name for probe in plan(500, retries=0)[0].probes] == ["ike", "ike"]  # IKEv2 and IKEv1


QUERY = Query("192.0.2.1", 4242, bytes(range(1, NONCE_BYTES + 1)))


@pytest.mark.parametrize("udp_probe", UDP_PROBES, ids=lambda p: f"{p.name}-{UDP_PROBES.index(p)}")
def test_an_echo_of_a_request_is_not_its_answer(udp_probe: object) -> None:
    """An echo service sends each request back: no probe may take its own request for the service's answer."""
    request = udp_probe.request(QUERY)  # type: ignore[attr-defined]
    for other in UDP_PROBES:
        assert other.answer(request, QUERY) is None, (udp_probe, other.name)  # type: ignore[attr-defined]


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=600), nonce=st.binary(min_size=NONCE_BYTES, max_size=NONCE_BYTES))
def test_no_parser_raises_on_any_bytes(data: bytes, nonce: bytes) -> None:
    query = Query("192.0.2.1", 4242, nonce)
    for udp_probe in UDP_PROBES:
        udp_probe.answer(data, query)
    instances_answer(data, query, ["_http._tcp.local"])


@settings(max_examples=200, deadline=None)
@given(tail=st.binary(max_size=400))
def test_no_parser_raises_on_a_plausible_answer(tail: bytes) -> None:
    """Bytes that pass each parser's first checks (its ids, its header), then anything."""
    for udp_probe in UDP_PROBES:
        head = udp_probe.request(QUERY)[:28]
        udp_probe.answer(head + tail, QUERY)
        udp_probe.answer(head[:2] + b"\x80\x00" + head[4:] + tail, QUERY)  # DNS-like: the response bit

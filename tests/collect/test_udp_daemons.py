"""The UDP probes against real daemons on loopback (``tests.collect.udp_daemons``, about half of them on a port no
probe is known for): the protocol each is named, the items it must carry, and the datagrams it cost."""

from __future__ import annotations

import re

import pytest

from shoal.collect.udp import UDP_PROBES
from shoal.model import Item, Report
from tests.collect.conftest import UdpDaemons, collect_udp_one, items_of
from tests.collect.lab import UDP_DAEMONS
from tests.collect.udp_daemons import IKE_NAT_T_PORT, NETBIOS_NAME, SSDP_SERVER, SSDP_TYPES, WORKGROUP

pytestmark = pytest.mark.daemon
USUAL = {daemon.protocol: daemon.usual for daemon in UDP_DAEMONS}
BURST = 1 + sum(probe.elsewhere for probe in UDP_PROBES)  # the pilot and one datagram of every probe sent anywhere


def identified(udp_daemons: UdpDaemons, protocol: str, port: int | None = None) -> tuple[str, Report]:
    """The banner and the report of the daemon, after checking its identity and its cost in datagrams."""
    ip, usual_port = udp_daemons.start(protocol)
    port = port or usual_port
    report, collector = collect_udp_one(ip, port)
    assert report is not None, f"nothing identified on {ip}:{port}/udp"
    assert report.items[:2] == (Item("ip", ip, "", True), Item("port-udp", str(port), "", True))
    banner = report.items[2]
    assert (banner.type, banner.context) == ("server-banner", protocol)
    sent = collector.stats.datagrams[f"{protocol}/udp"]
    assert sent <= (3 if port == usual_port and USUAL[protocol] else BURST + 2), sent  # + a follow-up's question
    return banner.value, report


def test_unbound_on_an_unusual_port(udp_daemons: UdpDaemons) -> None:
    banner, report = identified(udp_daemons, "dns")
    assert re.fullmatch(r"version\.bind: unbound \d+\.\d+\.\d+", banner), banner
    assert Item("version", banner.removeprefix("version.bind: "), "dns") in report.items
    assert Item("capability", "recursion", "dns") in report.items


def test_snmpd_engine_discovery(udp_daemons: UdpDaemons) -> None:
    banner, report = identified(udp_daemons, "snmp")
    [engine] = [value for context, value in items_of(report, "guid") if context == "snmp"]
    assert engine.startswith("80001f88")  # net-snmp's enterprise number, 8072, with the RFC 3411 format bit
    assert banner == f"SNMPv3 net-snmp engine {engine}"
    assert Item("snmp-enterprise", "8072") in report.items
    assert {item.type for item in report.items} >= {"snmp-engine-boots", "snmp-engine-time"}


def test_chrony_ntp_on_an_unusual_port(udp_daemons: UdpDaemons) -> None:
    banner, report = identified(udp_daemons, "ntp")
    assert banner == "NTP v4, stratum 8, reference 127.127.1.1"
    expected = [Item("protocol-version", "4", "ntp"), Item("ntp-stratum", "8"), Item("ntp-refid", "127.127.1.1")]
    assert list(report.items[3:6]) == expected


def test_tftpd_error_packet(udp_daemons: UdpDaemons) -> None:
    assert identified(udp_daemons, "tftp")[0] == "error 1: File not found"


def test_memcached_udp_on_an_unusual_port(udp_daemons: UdpDaemons) -> None:
    banner, report = identified(udp_daemons, "memcached")
    assert re.fullmatch(r"VERSION 1\.\d+\.\d+", banner), banner
    assert Item("version", banner.removeprefix("VERSION "), "memcached") in report.items


def test_nmbd_node_status_on_an_unusual_port(udp_daemons: UdpDaemons) -> None:
    banner, report = identified(udp_daemons, "netbios-ns")
    assert banner == f"NetBIOS name {NETBIOS_NAME}, workgroup {WORKGROUP}"
    assert report.items[3] == Item("server-name", NETBIOS_NAME, "netbios-ns")
    assert Item("netbios-name", NETBIOS_NAME, "workstation") in report.items
    assert Item("netbios-name", NETBIOS_NAME, "file-server") in report.items
    assert Item("netbios-name", WORKGROUP, "workgroup") in report.items
    assert Item("mac-address", "00:00:00:00:00:00", "netbios") in report.items  # Samba, on loopback


def test_coturn_stun(udp_daemons: UdpDaemons) -> None:
    banner, report = identified(udp_daemons, "stun")
    [software] = [value for context, value in items_of(report, "product") if context == "stun"]
    assert software.startswith("Coturn-") and banner == f"STUN binding success: {software}"


def test_kamailio_sip_on_an_unusual_port(udp_daemons: UdpDaemons) -> None:
    banner, report = identified(udp_daemons, "sip")
    assert banner == "SIP/2.0 200 OK"
    [server] = [value for context, value in items_of(report, "http-header") if context == "Server"]
    assert server.startswith("kamailio (5.")
    assert not [item for item in report.items if item.context in ("Call-ID", "Via", "From", "To", "CSeq")]  # echoes


def test_openvpn_hard_reset(udp_daemons: UdpDaemons) -> None:
    assert identified(udp_daemons, "openvpn")[0] == "OpenVPN P_CONTROL_HARD_RESET_SERVER_V2, key id 0"


def test_strongswan_ike_on_500_and_nat_traversal_on_4500(udp_daemons: UdpDaemons) -> None:
    _, report = identified(udp_daemons, "ike")
    assert Item("product", "strongSwan", "ike") in report.items
    assert {value for _, value in items_of(report, "protocol-version")} == {"1.0", "2.0"}  # it answers both
    banner, report = identified(udp_daemons, "ike", IKE_NAT_T_PORT)
    assert banner == "IKEv2 AES_CBC_256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048"
    assert Item("ike-vendor-id", "882fe56d6fd20dbc2251613b2ebe5beb") in report.items
    assert Item("ike-notify", "CHILDLESS_IKEV2_SUPPORTED") in report.items


def test_zeroconf_mdns_services_and_instances(udp_daemons: UdpDaemons) -> None:
    banner, report = identified(udp_daemons, "mdns")
    assert banner == "services: _http._tcp.local, _ssh._tcp.local"
    [host] = {value for context, value in items_of(report, "host") if context == "mdns"}
    assert re.fullmatch(r"shoal-test-\d+\.local", host)
    name = host.removesuffix(".local")
    assert Item("mdns-instance", f"{name}._http._tcp.local", "_http._tcp.local") in report.items
    assert Item("mdns-srv", f"{host}:8080", f"{name}._http._tcp.local") in report.items
    assert Item("mdns-srv", f"{host}:22", f"{name}._ssh._tcp.local") in report.items


def test_minissdpd_answers_every_type(udp_daemons: UdpDaemons) -> None:
    banner, report = identified(udp_daemons, "ssdp")
    assert banner == SSDP_SERVER
    assert {value for context, value in items_of(report, "http-header") if context == "ST"} == set(SSDP_TYPES)
    assert [context for context, _ in items_of(report, "url")] == ["ssdp-location"]


def test_aiocoap_resources_on_an_unusual_port(udp_daemons: UdpDaemons) -> None:
    banner, report = identified(udp_daemons, "coap")
    assert banner == "CoAP 2.05 Content"
    resources = {value for _, value in items_of(report, "coap-resource")}
    assert {"/sensors/temperature", "/actuators/valve"} <= resources

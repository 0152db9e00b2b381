"""UDP probes: one module per protocol, and their registry.

``UDP_PROBES`` is the order of the burst on a port none of them is known for, its first one the pilot sent
alone first (a closed port then costs one datagram); ``shoal.collect.udp.identify`` runs the plan. Each module's
``PROBE`` is one row: name, the ports it is tried first on, its request, its answer's parser, its follow-up.
"""

from __future__ import annotations

from shoal.collect.udp import coap, dns, ike, mdns, memcached, netbios, ntp, openvpn, sip, snmp, ssdp, stun, tftp
from shoal.collect.udp.base import DatagramProbe

UDP_PROBES: tuple[DatagramProbe, ...] = (
    dns.PROBE,
    ntp.PROBE,
    snmp.PROBE,
    sip.PROBE,
    ssdp.PROBE,
    stun.PROBE,
    netbios.PROBE,
    mdns.PROBE,
    memcached.PROBE,
    coap.PROBE,
    tftp.PROBE,
    openvpn.PROBE,
    ike.PROBE,
    ike.PROBE_V1,
    ike.PROBE_NAT_T,
)
KNOWN_PORTS: tuple[int, ...] = tuple(sorted({port for probe in UDP_PROBES for port in probe.ports}))

__all__ = ["KNOWN_PORTS", "UDP_PROBES", "DatagramProbe"]

"""An mDNS responder (python-zeroconf) for the collector tests: ``python mdns_server.py IP NAME`` announces a web
page and an SSH server of host ``NAME.local`` on IP (port 5353, all addresses: mDNS has one port)."""

from __future__ import annotations

import socket
import sys
import threading

from zeroconf import IPVersion, ServiceInfo, Zeroconf

SERVICES = (("_http._tcp.local.", 8080), ("_ssh._tcp.local.", 22))


def serve(ip: str, name: str) -> None:
    zeroconf = Zeroconf(interfaces=[ip], ip_version=IPVersion.V4Only)
    for kind, port in SERVICES:
        info = ServiceInfo(kind, f"{name}.{kind}", addresses=[socket.inet_aton(ip)], port=port, server=f"{name}.local.")
        zeroconf.register_service(info, allow_name_change=True)
    print("announced", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    serve(sys.argv[1], sys.argv[2])

"""Configuration for the real DNS server of the tests: Debian's unbound, serving a test zone and its reverse
zones from ``local-data`` on its own loopback address (no recursion: it never asks anyone else)."""

from __future__ import annotations

from pathlib import Path

ZONE = "shoal-test.example"


def unbound_config(folder: Path, ip: str, port: int, forward: dict[str, list[str]], ptr: dict[str, str]) -> Path:
    """Write unbound.conf: ``forward`` maps a name to its records (``"A 127.0.0.1"``, ``"CNAME x."``,
    ``'TXT "v=spf1 -all"'``…),
    ``ptr`` an address to its name; every name is under ZONE, whose NS are ns1/ns2.ZONE."""
    zone_lines = [
        f'local-zone: "{ZONE}." static',
        f'local-data: "{ZONE}. 300 IN SOA ns1.{ZONE}. hostmaster.{ZONE}. 1 3600 600 86400 300"',
        f'local-data: "{ZONE}. 300 IN NS ns1.{ZONE}."',
        f'local-data: "{ZONE}. 300 IN NS ns2.{ZONE}."',
    ]
    for name, records in forward.items():  # a record holding quotes (TXT) is single-quoted, as unbound's manual does
        zone_lines += [quoted("local-data: ", f"{name}. 300 IN {record}") for record in records]
    reverse_zones = sorted({".".join(reversed(address.split(".")[:3])) + ".in-addr.arpa" for address in ptr})
    for zone in reverse_zones:
        zone_lines += [
            f'local-zone: "{zone}." static',
            f'local-data: "{zone}. 300 IN SOA ns1.{ZONE}. hostmaster.{ZONE}. 1 3600 600 86400 300"',
            f'local-data: "{zone}. 300 IN NS ns1.{ZONE}."',
        ]
    zone_lines += [f'local-data-ptr: "{address} {name}"' for address, name in ptr.items()]
    server = "\n".join(f"    {line}" for line in zone_lines)
    path = folder / "unbound.conf"
    path.write_text(f"""server:
    interface: {ip}
    port: {port}
    do-daemonize: no
    username: ""
    chroot: ""
    directory: "{folder}"
    pidfile: "{folder}/unbound.pid"
    use-syslog: no
    logfile: ""
    verbosity: 0
    do-ip6: no
    access-control: 127.0.0.0/8 allow
    module-config: "iterator"
    num-threads: 1
    ratelimit: 0
    ip-ratelimit: 0
{server}
remote-control:
    control-enable: no
""")
    return path


def quoted(key: str, value: str) -> str:
    return f"{key}'{value}'" if '"' in value else f'{key}"{value}"'

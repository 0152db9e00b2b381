"""``shoal scan`` against a server (after ``shoal login``, or with ``$SHOAL_URL``): the server collects, this
side only asks and follows. ``shoal scan IP:PORT…`` (or ``IP… --ports 22,443``) submits each ip:port to
``GET /v1/scan/protocols/prioritize`` (``IP:PORT/udp``, ``--udp-ports`` and ``--ports U:…`` UDP ones, with Shoal's
``transport=udp``) and notes it beside the login's config (``submitted.jsonl``); ``shoal
scan list`` lists what was submitted to that server, ``shoal scan status`` says for each whether a report of
it dated on or after the submission is searchable yet. Nothing is written to any store: a server that does not
collect refuses, and the message says how to scan locally (``--data DIR``).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from pathlib import Path
from typing import TYPE_CHECKING

import orjson

from shoal.cli.common import console, fail
from shoal.cli.remote import Server
from shoal.collect.queue import Target, target_text
from shoal.collect.targets import split_host_port
from shoal.config import config_path
from shoal.errors import BadParameter, Forbidden, ShoalError
from shoal.model import decimal_text, port_number
from shoal.request.answers import plural

if TYPE_CHECKING:
    from shoal.client import Client

FOLLOWING = ("status", "list")
MAX_SUBMISSIONS = 1024  # ip:ports one command submits (each costs a unit of the token's priority quota)
PREFIXES = {"T:": "tcp", "U:": "udp"}  # nmap's, as 'shoal scan --ports' reads them
LOCALLY = "to scan from this machine instead: shoal scan --data DIR --allow CIDR TARGETS"


def journal_path() -> Path:
    return config_path().with_name("submitted.jsonl")


def port_list(text: str | None, transport: str = "tcp") -> list[tuple[int, str]]:
    """``22,443,8000-8010`` → (port, transport) pairs, each of ``transport``; nmap's ``U:`` makes the ports after it
    UDP ones, ``T:`` TCP again (``22,U:53,161``). A server collects ports named one by one: no top100 here."""
    if not text:
        return []
    ports: list[tuple[int, str]] = []
    for part in text.split(","):
        word = part.strip()
        if word[:2].upper() in PREFIXES:
            transport, word = PREFIXES[word[:2].upper()], word[2:].strip()
        low, _, high = word.partition("-")
        if not low.isdigit() or (high and not high.isdigit()):
            raise BadParameter(
                "ports", f"a server is asked for ports by number, e.g. 22,443,8000-8010 or U:53,161, not {part!r}"
            )
        first, last = int(low), int(high or low)
        if not 1 <= first <= last <= 65535:
            raise BadParameter("ports", f"ports are 1 to 65535, low to high, not {part!r}")
        ports.extend((port, transport) for port in range(first, last + 1))
    return ports


def targets_of(texts: list[str], ports_text: str | None, udp_ports_text: str | None = None) -> list[Target]:
    """Each ``IP:PORT`` (``[v6]:PORT``; ``IP:PORT/udp`` a UDP port), or ``IP`` with every port of ``--ports`` and
    ``--udp-ports``."""
    ports = port_list(ports_text) + port_list(udp_ports_text, "udp")
    found: list[Target] = []
    for text in texts:
        address, port = split_target(text.strip())
        if port is None and not ports:
            raise BadParameter("targets", f"{text!r} has no port: give IP:PORT, or --ports 22,443")
        found.extend((address, *one) for one in ([port] if port is not None else ports))
    if not found:
        raise BadParameter("targets", "give IP:PORT targets (or IPs and --ports) for the server to collect")
    if len(found) > MAX_SUBMISSIONS:
        raise BadParameter("targets", f"{len(found):,} ip:ports is more than {MAX_SUBMISSIONS:,} submissions at once")
    return list(dict.fromkeys(found))


def split_target(text: str) -> tuple[str, tuple[int, str] | None]:
    """(address, (port, transport) or None) of ``IP``, ``IP:PORT``, ``[v6]:PORT`` or ``IP:PORT/udp``."""
    body, slash, suffix = text.rpartition("/")
    transport = "tcp"
    if slash and suffix.lower() in PREFIXES.values():
        text, transport = body, suffix.lower()
    host, port = split_host_port(text)
    try:
        address = str(ipaddress.ip_address(host))
    except ValueError:
        raise BadParameter(
            "targets", f"a server collects one address at a time (no CIDR, no name): {text!r} is not IP or IP:PORT"
        ) from None
    number = port_number(decimal_text(port)) if port is not None and port.isdecimal() else None
    if port is not None and (number is None or number < 1):
        raise BadParameter("targets", f"a port is 1 to 65535, not {port!r} in {text!r}")
    return address, (number, transport) if number is not None else None


def scan_remotely(server: Server, texts: list[str], ports_text: str | None, udp_ports_text: str | None = None) -> None:
    """Submit, list or follow, as the module says; a refusal is one line and exit 2."""
    from shoal.client import Client

    with Client(server.url, server.token) as client:
        try:
            if texts in (["list"], ["status"]):
                follow(client, server.url, with_status=texts == ["status"])
                return
            targets = targets_of(texts, ports_text, udp_ports_text)
            for ip, port, transport in targets:
                answer = client.prioritize(ip, port, transport)
                note_submission(server.url, (ip, port, transport))
                shown = target_text((ip, port, transport))
                console.print(f"{answer.get('status', 'queued')} {shown} at {server.url}", highlight=False)
        except Forbidden as exc:
            fail(ShoalError(f"{server.url} refused: {exc.message}; {LOCALLY}"))
        except ShoalError as exc:
            fail(exc)
    console.print(
        f"submitted {plural(len(targets), 'ip:port')}: 'shoal scan status' says when each is searchable",
        highlight=False,
    )


def note_submission(url: str, target: Target) -> None:
    path = journal_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    ip, port, transport = target
    line = {"server": url, "ip": ip, "port": port, "submitted": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    if transport != "tcp":
        line["transport"] = transport
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(descriptor, "ab") as out:
        out.write(orjson.dumps(line) + b"\n")


def submissions(url: str) -> list[dict[str, object]]:
    """What was submitted to ``url``, oldest first (unreadable lines are skipped: the file is only a note)."""
    try:
        lines = journal_path().read_bytes().splitlines()
    except FileNotFoundError:
        return []
    noted = []
    for line in lines:
        try:
            entry = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if isinstance(entry, dict) and entry.get("server") == url:
            noted.append(entry)
    return noted


def follow(client: Client, url: str, with_status: bool) -> None:
    """One line per submission: when, and (``with_status``) whether a report of it is searchable yet."""
    noted = submissions(url)
    if not noted:
        console.print(f"nothing submitted to {url} from here yet ('shoal scan IP:PORT' submits)", highlight=False)
        return
    for entry in noted:
        transport = "udp" if entry.get("transport") == "udp" else "tcp"
        line = f"{target_text((str(entry['ip']), int(str(entry['port'])), transport))}\tsubmitted {entry['submitted']}"
        if with_status:
            since = dt.datetime.fromisoformat(str(entry["submitted"])).date()
            expression = f"port-{transport}:{entry['port']}"
            found = client.search(ip=str(entry["ip"]), expression=expression, date_from=since)
            newest = found.results[0] if found.results else None
            line += f"\tcollected: report {newest.id} of {newest.date}" if newest else "\tqueued: no report yet"
        print(line)

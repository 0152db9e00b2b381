"""SSH depth against OpenSSH with three host keys (RSA, ECDSA, Ed25519) the fixture generates: every key's
fingerprint and size as ``ssh-keygen -lf`` prints them, the KEXINIT lists and HASSH as OpenSSH's own client
(``ssh-keyscan -vvv``) reads them, each key exchange method the probe knows, one connection per key type, and
no authentication attempt in the server's log."""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from shoal.collect.policy import ScanPolicy
from shoal.collect.scanner import Collector, ScanSettings, run_event_loop
from shoal.model import Report
from tests.collect.conftest import BLOCK, FAST, TEST_NETWORK, ListSink, Target, items_of
from tests.collect.daemons import binary, running

pytestmark = pytest.mark.daemon

KEY_TYPES = {"rsa": "ssh-rsa", "ecdsa": "ecdsa-sha2-nistp256", "ed25519": "ssh-ed25519"}
USUAL = (f"127.{BLOCK}.50.2", 22)
# Servers on an unusual port, each restricted to one key exchange method (or to one host key).
RESTRICTED = {
    "ecdh-sha2-nistp384": (f"127.{BLOCK}.50.3", ["-o", "KexAlgorithms=ecdh-sha2-nistp384"]),
    "diffie-hellman-group14-sha256": (f"127.{BLOCK}.50.4", ["-o", "KexAlgorithms=diffie-hellman-group14-sha256"]),
    "diffie-hellman-group-exchange-sha256": (
        f"127.{BLOCK}.50.5",
        ["-o", "KexAlgorithms=diffie-hellman-group-exchange-sha256"],
    ),
    "ed25519-only": (f"127.{BLOCK}.50.6", ["-o", "HostKeyAlgorithms=ssh-ed25519"]),
}
UNUSUAL_PORT = 2200


@pytest.fixture(scope="module")
def sshd_keys(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """OpenSSH on USUAL and on each RESTRICTED address, with three host keys; yields each key's public file."""
    sshd = binary("/usr/sbin/sshd")
    folder = tmp_path_factory.mktemp("sshd-keys")
    keys = {}
    for kind in KEY_TYPES:
        size = ["-b", "2048"] if kind == "rsa" else []
        subprocess.run(["ssh-keygen", "-q", "-t", kind, *size, "-N", "", "-f", str(folder / kind)], check=True)
        keys[kind] = folder / f"{kind}.pub"
    host_keys = "".join(f"HostKey {folder / kind}\n" for kind in KEY_TYPES)
    (folder / "sshd_config").write_text(f"{host_keys}UsePAM no\nStrictModes no\nLogLevel VERBOSE\n")
    Path("/run/sshd").mkdir(exist_ok=True)
    servers = [(USUAL, []), *(((ip, UNUSUAL_PORT), options) for ip, options in RESTRICTED.values())]
    with ExitStack() as stack:
        for (ip, port), options in servers:
            command = [sshd, "-D", "-f", str(folder / "sshd_config"), "-E", str(folder / f"{ip}.log")]
            command += ["-o", f"ListenAddress={ip}", "-p", str(port), "-o", f"PidFile={folder / ip}.pid", *options]
            stack.enter_context(running(command, ip, port, folder))
        yield keys


def collected(target: Target) -> tuple[Report, int]:
    """The report of target, and the connections the collector opened for it (discovery's included)."""
    collector = Collector(ScanPolicy(allow=(TEST_NETWORK,)), ScanSettings(timeouts=FAST, jarm=False), ListSink())
    report = run_event_loop(collector.collect(*target))
    assert report is not None
    return report, collector.connector.connects


def keygen_fingerprints(keys: dict[str, Path]) -> dict[str, tuple[str, str]]:
    """{key type: (bits, base64 SHA-256)} as ``ssh-keygen -lf`` prints them for the public key files."""
    found = {}
    for kind, path in keys.items():
        bits, fingerprint, *_ = subprocess.run(
            ["ssh-keygen", "-lf", str(path)], check=True, capture_output=True, text=True
        ).stdout.split()
        assert fingerprint.startswith("SHA256:")
        found[KEY_TYPES[kind]] = (bits, fingerprint.removeprefix("SHA256:"))
    return found


def keyscan_lists(target: Target) -> dict[str, str]:
    """The server's KEXINIT lists as OpenSSH's client logs them (``ssh-keyscan -vvv``): an independent reading."""
    ip, port = target
    output = subprocess.run(
        ["ssh-keyscan", "-vvv", "-t", "ed25519", "-p", str(port), ip], capture_output=True, text=True, timeout=20
    ).stderr
    proposal = output.split("peer server KEXINIT proposal", 1)[1].splitlines()
    names = {
        "KEX algorithms": "kex_algorithms",
        "host key algorithms": "server_host_key_algorithms",
        "ciphers stoc": "encryption_algorithms",
        "MACs stoc": "mac_algorithms",
        "compression stoc": "compression_algorithms",
    }
    lists = {}
    for line in proposal:
        label, _, value = line.removeprefix("debug2: ").partition(": ")
        if label in names and names[label] not in lists:
            lists[names[label]] = value.strip()
    return lists


def host_keys(report: Report) -> dict[str, tuple[str, str]]:
    bits = dict(items_of(report, "ssh-hostkey-bits"))
    return {key_type: (bits[key_type], value) for key_type, value in items_of(report, "ssh-hostkey-sha256")}


def test_every_host_key_as_ssh_keygen_prints_it(sshd_keys: dict[str, Path]) -> None:
    report, connections = collected(USUAL)
    assert items_of(report, "server-banner")[0][0] == "ssh"
    assert host_keys(report) == keygen_fingerprints(sshd_keys)
    assert connections == len(KEY_TYPES)  # one per key type, the first being discovery's own connection


def test_kexinit_lists_and_hassh_match_openssh_reading_them(sshd_keys: dict[str, Path]) -> None:
    report, _ = collected(USUAL)
    lists = keyscan_lists(USUAL)
    assert dict((context, value) for context, value in items_of(report, "ssh-kex")) == lists
    order = ("kex_algorithms", "encryption_algorithms", "mac_algorithms", "compression_algorithms")
    expected = hashlib.md5(";".join(lists[name] for name in order).encode()).hexdigest()
    assert items_of(report, "hassh-server") == [("", expected)]


@pytest.mark.parametrize("method", [name for name in RESTRICTED if name != "ed25519-only"])
def test_each_key_exchange_method_gets_the_keys(sshd_keys: dict[str, Path], method: str) -> None:
    ip, _ = RESTRICTED[method]
    report, _ = collected((ip, UNUSUAL_PORT))
    assert items_of(report, "ssh-kex")[0] == ("kex_algorithms", f"{method},kex-strict-s-v00@openssh.com")
    assert host_keys(report) == keygen_fingerprints(sshd_keys)


def test_one_host_key_type_costs_one_connection(sshd_keys: dict[str, Path]) -> None:
    report, connections = collected((RESTRICTED["ed25519-only"][0], UNUSUAL_PORT))
    assert host_keys(report) == {"ssh-ed25519": keygen_fingerprints(sshd_keys)["ssh-ed25519"]}
    assert connections == 1


def test_no_authentication_is_ever_attempted(sshd_keys: dict[str, Path]) -> None:
    collected(USUAL)
    log = (sshd_keys["rsa"].parent / f"{USUAL[0]}.log").read_text()
    assert "Connection closed by" in log or "Connection reset by" in log
    assert not any(word in log for word in ("Failed", "Accepted", "Invalid user", "authenticating user"))

"""Real daemons on their own loopback addresses, for the collector tests.

Each starts in a temporary folder, listens on its own loopback address only, and is killed at the end of the session. A
daemon whose binary is missing (or that needs root when we are not) skips its tests, except in CI
(CI=true), where it fails them: CI must prove every probe against the real thing.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"
START_TIMEOUT = 20.0


def unavailable(why: str) -> None:
    if IN_CI:
        pytest.fail(f"{why} (CI must run every daemon: scripts/install-test-daemons.sh installs them)")
    pytest.skip(why)


def require_root(what: str) -> None:
    if os.geteuid() != 0:
        unavailable(f"{what} needs root (daemons run on their usual ports, on their own loopback addresses)")


def binary(*candidates: str) -> str:
    """The first of the candidate binaries that exists, or skip/fail; root is needed to run them here."""
    for candidate in candidates:
        found = shutil.which(candidate) or (candidate if os.access(candidate, os.X_OK) else None)
        if found:
            require_root(found)
            return found
    unavailable(f"{candidates[0]} is not installed (scripts/install-test-daemons.sh)")
    raise AssertionError("unreachable")


def installed(path: str) -> str:
    """A file a daemon needs (a jar, a module), or skip/fail as ``binary`` does."""
    if not Path(path).exists():
        unavailable(f"{path} is not installed (scripts/install-test-daemons.sh)")
    return path


def tcp_accepts(ip: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.2)
        return probe.connect_ex((ip, port)) == 0


def udp_bound(ip: str, port: int) -> bool:
    """Whether a UDP socket is bound to ip:port, or to the wildcard address and port (read from /proc/net: no
    packet is sent, so a daemon never sees a probe before its test)."""
    address = ipaddress.ip_address(ip)
    wanted = {(address, port), (ipaddress.ip_address("0.0.0.0"), port), (ipaddress.ip_address("::"), port)}
    for table in ("/proc/net/udp", "/proc/net/udp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local = line.split()[1]
            raw, port_hex = local.split(":")
            packed = bytes.fromhex(raw)
            # /proc writes each 32-bit word of the address in host (little-endian) order
            packed = b"".join(packed[i : i + 4][::-1] for i in range(0, len(packed), 4))
            bound = ipaddress.ip_address(packed)
            if isinstance(bound, ipaddress.IPv6Address) and bound.ipv4_mapped is not None:
                bound = bound.ipv4_mapped
            if (bound, int(port_hex, 16)) in wanted:
                return True
    return False


def wait_until(ready: Callable[[], bool], what: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Until ``ready()``; RuntimeError (with the end of the daemon's log) if it exits first or takes too long."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{process.args} exited with {process.returncode}: {output}")
        if ready():
            return
        time.sleep(0.05)
    raise RuntimeError(f"{process.args} did not {what} within {START_TIMEOUT} s")


@contextmanager
def running(
    command: Sequence[str],
    ip: str,
    port: int,
    folder: Path,
    user: str | None = None,
    env: dict[str, str] | None = None,
    udp: bool = False,
) -> Iterator[tuple[str, int]]:
    """Run ``command`` until the block ends; yields (ip, port) once it accepts connections (``udp``: once a UDP
    socket is bound to the port)."""
    log = folder / "daemon.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            list(command),
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=folder,
            user=user,
            env=env,
            start_new_session=True,
        )
    try:
        if udp:
            wait_until(lambda: udp_bound(ip, port), f"bind UDP {ip}:{port}", process, log)
        else:
            wait_until(lambda: tcp_accepts(ip, port), f"listen on {ip}:{port}", process, log)
        yield ip, port
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def python_module(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]


def python_env() -> dict[str, str]:
    """The environment for a Python daemon run from the repository (so ``tests.collect`` imports)."""
    return {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}


def folder_for(user: str) -> Path:
    """A fresh folder the daemon's user owns (pytest's own folders are root-only)."""
    folder = Path(tempfile.mkdtemp(prefix=f"shoal-{user}-"))
    shutil.chown(folder, user, user)
    return folder

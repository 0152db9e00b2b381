"""SSH servers that misbehave after their identification line: the service is still identified, in time, with
whatever the server did show."""

from __future__ import annotations

import asyncio
import time

import pytest

from shoal.collect.connection import Timeouts
from shoal.collect.probes.ssh import KEXINIT_LISTS, MSG_DISCONNECT, MSG_KEXINIT, packet, string
from tests.collect.conftest import BLOCK, collect_one, items_of
from tests.collect.fakes import fake_server

SHORT = Timeouts(connect=1.0, first_byte=0.5, service=3.0)
LINE = b"SSH-2.0-Fake_1.0\r\n"


def kexinit(host_keys: str) -> bytes:
    lists = {name: "none" for name in KEXINIT_LISTS[2:8]}
    names = ["curve25519-sha256", host_keys, *lists.values(), "", ""]
    return bytes((MSG_KEXINIT,)) + bytes(16) + b"".join(string(n.encode()) for n in names) + bytes(5)


def server(*answers: bytes, then_wait: float = 2.0):
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(LINE)
        await reader.readline()  # the client's identification
        for answer in answers:
            writer.write(answer)
            await writer.drain()
            await reader.read(4096)
        await asyncio.sleep(then_wait)

    return handler


@pytest.mark.parametrize(
    ("host", "answers", "kex_items"),
    [
        (2, (b"\xff\xff\xff\xff" + bytes(64),), 0),  # an endless packet
        (3, (packet(bytes((MSG_DISCONNECT,)) + bytes(4) + string(b"go away") + string(b"")),), 0),
        (4, (), 0),  # silence
        (5, (packet(b"\x14\x00"),), 0),  # a KEXINIT cut short
        (6, (packet(kexinit("ssh-ed25519,ssh-rsa")), b""), 6),  # a KEXINIT, then a hang-up at the key exchange
    ],
)
def test_a_misbehaving_server_is_still_ssh(host: int, answers: tuple[bytes, ...], kex_items: int) -> None:
    ip = f"127.{BLOCK}.54.{host}"
    with fake_server(ip, 2201, server(*answers)):
        started = time.monotonic()
        report = collect_one(ip, 2201, SHORT)
        elapsed = time.monotonic() - started
    assert report is not None
    assert items_of(report, "server-banner") == [("ssh", "SSH-2.0-Fake_1.0")]
    assert len(items_of(report, "ssh-kex")) + len(items_of(report, "hassh-server")) == kex_items
    assert items_of(report, "ssh-hostkey-sha256") == []
    assert elapsed < SHORT.service + 1

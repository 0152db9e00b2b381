"""The Docker Engine API: ``GET /version`` (engine version, API version, OS, kernel) on a daemon that listens
on TCP without TLS — which gives anyone its host."""

from __future__ import annotations

from shoal.collect.connection import Connection
from shoal.collect.probes import web
from shoal.collect.probes.base import Service
from shoal.model import Item

NOT_FOUND = b'{"message":"page not found"}'  # the engine's answer to a path it has no route for (``GET /``)


def recognizes(answer: bytes, usual_port: bool) -> bool:
    """The engine's headers (its API routes send them), or the JSON it answers a path it does not know with."""
    head, body = web.answer_of(answer)
    if b"\r\napi-version:" in head or b"\r\nserver: docker/" in head or b"\r\ndocker-experimental:" in head:
        return True
    return body.startswith(NOT_FOUND) and b"\r\ncontent-type: application/json" in head


async def run(connection: Connection) -> Service | None:
    answer = await web.fetch_json(connection, "/version", "ApiVersion")
    if answer is None:
        return None
    service, document = answer
    version, api = web.field(document, "Version"), web.field(document, "ApiVersion")
    items = [Item("version", version, "docker")] if version else []
    items.append(Item("protocol-version", f"API {api}", "docker"))
    for key in ("Os", "Arch", "KernelVersion"):
        value = web.field(document, key)
        if value:
            items.append(Item("capability", f"{key}: {value}", "docker"))
    return web.named(service, "docker", f"Docker {version or ''} (API {api})", items)

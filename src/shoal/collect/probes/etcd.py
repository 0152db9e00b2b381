"""etcd: ``GET /version`` (``{"etcdserver": "3.4.23", "etcdcluster": "3.4.0"}``) on its client port."""

from __future__ import annotations

from shoal.collect.connection import Connection
from shoal.collect.probes import web
from shoal.collect.probes.base import Service
from shoal.model import Item

GO_NOT_FOUND = b"404 page not found"


def recognizes(answer: bytes, usual_port: bool) -> bool:
    """etcd answers ``GET /`` with Go's plain 404 and its CORS headers."""
    head, body = web.answer_of(answer)
    return (
        body.startswith(GO_NOT_FOUND) and b"access-control-allow-headers: accept, content-type, authorization" in head
    )


async def run(connection: Connection) -> Service | None:
    answer = await web.fetch_json(connection, "/version", "etcdserver")
    if answer is None:
        return None
    service, document = answer
    server, cluster = web.field(document, "etcdserver"), web.field(document, "etcdcluster")
    items = [Item("version", server or "", "etcd")]
    if cluster:
        items.append(Item("protocol-version", f"cluster {cluster}", "etcd"))
    return web.named(service, "etcd", f"etcd {server}", items)

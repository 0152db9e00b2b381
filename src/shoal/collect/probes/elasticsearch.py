"""Elasticsearch and OpenSearch: ``GET /``, whose JSON names the node, the cluster, the version and the
distribution (``opensearch``), ending with the tagline ("You Know, for Search")."""

from __future__ import annotations

from shoal.collect.connection import Connection
from shoal.collect.probes import web
from shoal.collect.probes.base import Service
from shoal.model import Item

TAGLINES = (b"You Know, for Search", b"The OpenSearch Project")


def recognizes(answer: bytes, usual_port: bool) -> bool:
    head, body = web.answer_of(answer)
    return any(tagline in body for tagline in TAGLINES) or b"\r\nx-elastic-product:" in head


def root_service(service: Service) -> Service | None:
    document = web.json_body(service)
    if document is None or not (web.field(document, "tagline") or web.field(document, "cluster_name")):
        return None
    version = web.field(document, "version", "number")
    product = web.field(document, "version", "distribution") or "elasticsearch"
    items = [Item("product", product, "elasticsearch")]
    items += [Item("version", version, "elasticsearch")] if version else []
    for key in ("cluster_name", "name"):
        value = web.field(document, key)
        if value:
            items.append(Item("server-name", value, "elasticsearch"))
    return web.named(service, "elasticsearch", f"{product} {version or ''}".strip(), items)


async def run(connection: Connection) -> Service | None:
    service = await web.fetch(connection, "GET", "/")
    if service is None:
        return None
    found = root_service(service)
    if found is None and web.header(service, "x-elastic-product"):  # a cluster that wants a login first
        return web.named(service, "elasticsearch", f"Elasticsearch: {service.banner}")
    return found

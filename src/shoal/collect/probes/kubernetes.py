"""The Kubernetes API server: ``GET /version`` (its git version and platform), readable anonymously on most
clusters; a cluster that refuses anonymous users still answers with a Kubernetes ``Status`` object."""

from __future__ import annotations

from shoal.collect.connection import Connection
from shoal.collect.probes import web
from shoal.collect.probes.base import Service
from shoal.model import Item


def recognizes(answer: bytes, usual_port: bool) -> bool:
    head, body = web.answer_of(answer)
    status = b'"kind": "Status"' in body or b'"kind":"Status"' in body
    return b"\r\nx-kubernetes-pf-" in head or (status and b'"apiVersion"' in body)


async def run(connection: Connection) -> Service | None:
    service = await web.fetch(connection, "GET", "/version")
    document = web.json_body(service) if service else None
    if service is None or document is None:
        return None
    version = web.field(document, "gitVersion")
    if version is None:
        if web.field(document, "kind") != "Status":
            return None
        return web.named(service, "kubernetes", f"Kubernetes API: {web.field(document, 'message') or service.banner}")
    items = [Item("version", version, "kubernetes")]
    platform = web.field(document, "platform")
    if platform:
        items.append(Item("capability", f"platform: {platform}", "kubernetes"))
    return web.named(service, "kubernetes", f"Kubernetes {version}", items)

"""A CoAP device (aiocoap) for the collector tests: ``python coap_server.py IP PORT``; it lists its resources at
``/.well-known/core``."""

from __future__ import annotations

import asyncio
import sys

import aiocoap
from aiocoap import resource

RESOURCES = ("/sensors/temperature", "/actuators/valve")


class Reading(resource.Resource):
    async def render_get(self, request: aiocoap.Message) -> aiocoap.Message:
        return aiocoap.Message(payload=b"21.5")


async def serve(ip: str, port: int) -> None:
    site = resource.Site()
    site.add_resource([".well-known", "core"], resource.WKCResource(site.get_resources_as_linkheader))
    for path in RESOURCES:
        site.add_resource(path.strip("/").split("/"), Reading())
    await aiocoap.Context.create_server_context(site, bind=(ip, port))
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1], int(sys.argv[2])))

"""Kafka: an ApiVersions request (version 0, which every broker since 0.10 answers before any
authentication); the answer lists the APIs and the versions the broker speaks, which date it."""

from __future__ import annotations

from shoal.collect.connection import Connection
from shoal.collect.probes.base import Service
from shoal.model import Item

API_VERSIONS = 18
CORRELATION_ID = 0x53484F41
CLIENT_ID = b"shoal"
BODY = API_VERSIONS.to_bytes(2, "big") + bytes(2) + CORRELATION_ID.to_bytes(4, "big")
BODY += len(CLIENT_ID).to_bytes(2, "big") + CLIENT_ID
REQUEST = len(BODY).to_bytes(4, "big") + BODY
MAX_APIS = 200


def response_complete(data: bytes) -> bool:
    return len(data) >= 4 and len(data) >= 4 + int.from_bytes(data[:4], "big")


def api_versions(response: bytes) -> tuple[int, dict[int, tuple[int, int]]] | None:
    """(error code, {api key: (min, max)}) of an ApiVersions v0 response; None if it is not one."""
    if len(response) < 14 or int.from_bytes(response[4:8], "big") != CORRELATION_ID:
        return None
    error = int.from_bytes(response[8:10], "big", signed=True)
    count = int.from_bytes(response[10:14], "big")
    if count > MAX_APIS or 14 + 6 * count > len(response):
        return None
    apis = {}
    for index in range(count):
        start = 14 + 6 * index
        key, low, high = (int.from_bytes(response[start + 2 * n : start + 2 * n + 2], "big") for n in range(3))
        apis[key] = (low, high)
    return error, apis


def versions_service(response: bytes) -> Service | None:
    found = api_versions(response)
    if found is None:
        return None
    error, apis = found
    items = [Item("capability", f"api {key} v{low}-{high}", "kafka") for key, (low, high) in sorted(apis.items())]
    if API_VERSIONS in apis:
        items.insert(0, Item("protocol-version", f"ApiVersions v{apis[API_VERSIONS][1]}", "kafka"))
    return Service("kafka", f"Kafka ApiVersions: error {error}, {len(apis)} APIs", items)


async def run(connection: Connection) -> Service | None:
    await connection.send(REQUEST)
    return versions_service(await connection.receive(response_complete))

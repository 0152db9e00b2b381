"""Send a request to the ASGI app exactly as given: raw query-string bytes and header bytes no HTTP client
would let through (TestClient normalises URLs; a server's parser may refuse such bytes before the app)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import orjson
from fastapi import FastAPI

LOOP = asyncio.new_event_loop()  # one loop for every call: cheaper than asyncio.run each time


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict:
        return orjson.loads(self.body)


def raw_get(
    app: FastAPI,
    path: str,
    query: bytes = b"",
    headers: list[tuple[bytes, bytes]] | None = None,
    client: tuple[str, int] = ("192.0.2.10", 50000),
) -> RawResponse:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode("utf-8", "surrogateescape"),
        "query_string": query,
        "root_path": "",
        "headers": [(b"host", b"testserver"), *(headers or [])],
        "client": client,
        "server": ("testserver", 80),
    }
    messages: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        messages.append(message)

    try:
        LOOP.run_until_complete(app(scope, receive, send))
    except Exception:
        if not messages:
            raise  # the error handler re-raises after sending its 500: that 500 is what is checked
    start = next(message for message in messages if message["type"] == "http.response.start")
    body = b"".join(message.get("body", b"") for message in messages if message["type"] == "http.response.body")
    decoded = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in start["headers"]}
    return RawResponse(start["status"], decoded, body)

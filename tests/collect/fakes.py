"""Small fake servers, each on its own thread and event loop, for the collector's edge cases."""

from __future__ import annotations

import asyncio
import ssl
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@contextmanager
def fake_server(
    ip: str, port: int, handler: Handler, tls: ssl.SSLContext | None = None
) -> Iterator[list[tuple[str, int]]]:
    """Serve ``handler`` on ip:port until the block ends; yields the list of client addresses seen."""
    clients: list[tuple[str, int]] = []
    ready = threading.Event()
    loop = asyncio.new_event_loop()
    stopping: asyncio.Event | None = None

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        clients.append(writer.get_extra_info("peername"))
        try:
            await handler(reader, writer)
        except (OSError, asyncio.IncompleteReadError, ssl.SSLError, asyncio.CancelledError):
            pass  # a client that hangs up, or the server stopping: both are normal here
        finally:
            writer.transport.abort()

    async def main() -> None:
        nonlocal stopping
        stopping = asyncio.Event()
        server = await asyncio.start_server(handle, ip, port, ssl=tls, reuse_address=True)
        ready.set()
        async with server:
            await stopping.wait()
        handlers = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in handlers:
            task.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    if not ready.wait(5):
        raise RuntimeError(f"fake server on {ip}:{port} did not start")
    try:
        yield clients
    finally:
        assert stopping is not None
        loop.call_soon_threadsafe(stopping.set)
        thread.join(5)
        loop.close()


def sends(data: bytes, then_wait: float = 1.0) -> Handler:
    """A server that sends ``data`` on connect, then keeps the connection open a while."""

    async def handler(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(data)
        await writer.drain()
        await asyncio.sleep(then_wait)

    return handler


def answers(request_end: bytes, response: bytes) -> Handler:
    """A server that reads up to ``request_end`` and answers ``response``."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(request_end)
        writer.write(response)
        await writer.drain()
        await asyncio.sleep(0.5)

    return handler

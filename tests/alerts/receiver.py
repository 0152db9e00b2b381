"""A webhook receiver for tests and the benchmark: a real HTTP server on 127.0.0.1 that keeps every POST
(headers, body, arrival time) and answers 204; it can be stopped and started again on its port."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson

from tests.api.serving import free_port


@dataclass(frozen=True)
class Post:
    headers: dict[str, str]
    body: bytes
    arrived: float  # time.time()


class Receiver:
    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.posts: list[Post] = []
        self.server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> Receiver:
        posts = self.posts

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                posts.append(Post(dict(self.headers), body, time.time()))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *_: Any) -> None: ...

        ThreadingHTTPServer.allow_reuse_address = True
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def events(self) -> list[dict[str, Any]]:
        """Each event once (duplicates dropped by id, as a receiver would), in order of arrival."""
        unique = {orjson.loads(post.body)["id"]: orjson.loads(post.body) for post in self.posts}
        return list(unique.values())

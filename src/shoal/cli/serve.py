"""``shoal serve``: the HTTP API."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from shoal.api.app import create_app
from shoal.cli.common import DataOption, errors, open_store
from shoal.config import data_dir
from shoal.tokens import TokenStore


def serve_command(
    data: DataOption = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port to listen on.")] = 8080,
) -> None:
    """Serve the Driftnet-compatible API (reports imported meanwhile become searchable within seconds)."""
    store = open_store(data)
    app = create_app(store, TokenStore(data_dir(data)))
    errors.print(f"shoal: {store.count()} reports in {data_dir(data)}; listening on http://{host}:{port}/v1/")
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)

"""``shoal serve``: the HTTP API (one process, or ``--workers N`` processes sharing the port)."""

from __future__ import annotations

import dataclasses
import os
from typing import Annotated

import orjson
import typer
import uvicorn
from fastapi import FastAPI

from shoal.api.app import create_app
from shoal.api.limits import DEFAULT_QUERY_TIMEOUT, MAX_QUERY_TIMEOUT, MIN_TIMEOUT, ServerSettings
from shoal.api.protocol import JsonErrorProtocol
from shoal.cli.common import DataOption, errors, fail, open_store
from shoal.cli.scan import start_collection_worker
from shoal.config import DATA_VARIABLE, data_dir
from shoal.errors import BadParameter
from shoal.tokens import TokenStore

# How the parent hands its ServerSettings (as JSON) to its worker processes; they find the data directory in
# $SHOAL_DATA and the store in $SHOAL_STORE, as every command does.
SETTINGS_VARIABLE = "SHOAL_SERVE_SETTINGS"


def serve_command(
    data: DataOption = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port to listen on.")] = 8080,
    query_timeout: Annotated[
        float,
        typer.Option(
            min=MIN_TIMEOUT,
            max=MAX_QUERY_TIMEOUT,
            help="Seconds a query may run before the answer is 504; also the most a request's 'timeout' may ask.",
        ),
    ] = DEFAULT_QUERY_TIMEOUT,
    allow_anon: Annotated[
        bool, typer.Option("--allow-anon", help="Accept 'Authorization: Bearer anon' (tight limits per address).")
    ] = False,
    workers: Annotated[
        int,
        typer.Option(min=1, max=64, help="Server processes, each with its own reader of the index (≈ cores)."),
    ] = 1,
    query_threads: Annotated[
        int, typer.Option(min=0, max=256, help="Threads per process running queries (0: 2 per core, at least 4).")
    ] = 0,
    allow: Annotated[
        list[str] | None,
        typer.Option(
            "--allow", help="Let prioritize and rescans collect this address or CIDR (repeatable).", show_default=False
        ),
    ] = None,
    rescan_every: Annotated[
        str | None,
        typer.Option(help="Rescan every known open ip:port in the allow-list this often, e.g. 6h (default: never)."),
    ] = None,
    init: Annotated[bool, typer.Option("--init", help="Create the data directory if it does not exist.")] = False,
) -> None:
    """Serve the Driftnet-compatible API (reports imported meanwhile become searchable within seconds)."""
    if workers > 1 and (allow or rescan_every):
        fail(BadParameter("workers", "the collector (--allow, --rescan-every) runs in one process: use --workers 1"))
    folder = data_dir(data)
    store = open_store(data, server=True, create=init)
    settings = ServerSettings(query_timeout=query_timeout, allow_anon=allow_anon, query_threads=query_threads)
    errors.print(
        f"shoal: {store.count()} reports in {folder}; listening on http://{host}:{port}/v1/"
        + (f" with {workers} processes" if workers > 1 else "")
    )
    options = {"host": host, "port": port, "log_level": "warning", "access_log": False, "http": JsonErrorProtocol}
    if workers == 1:
        collector = start_collection_worker(store, folder, allow, rescan_every)
        try:
            uvicorn.run(create_app(store, TokenStore(folder), settings, collector), **options)
        finally:
            collector.stop()
        return
    store.close()
    os.environ[DATA_VARIABLE] = str(folder.resolve())
    os.environ[SETTINGS_VARIABLE] = orjson.dumps(dataclasses.asdict(settings)).decode()
    uvicorn.run("shoal.cli.serve:worker_app", factory=True, workers=workers, **options)


def worker_app() -> FastAPI:
    """The app of one worker process (``--workers``), from the settings its parent left in the environment."""
    settings = ServerSettings(**orjson.loads(os.environ[SETTINGS_VARIABLE]))
    folder = data_dir()
    return create_app(open_store(folder, server=True), TokenStore(folder), settings)

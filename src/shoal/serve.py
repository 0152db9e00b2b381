"""``shoal serve``: the HTTP API (one process, or ``--workers N`` processes sharing the port).

The one command that joins the command line (its checks, the store, the collector) and the API (the app, its
HTTP protocol): it stands above both, and ``shoal.cli.main`` loads it by name like every command.

Before it says "listening", everything that could stop it has been tried: the data directory's state files
are checked (``shoal.check``), the app is built and the port is bound. Connection limits (``--head-timeout``,
``--max-connections``…) are enforced by ``shoal.api.protocol``; forwarded-for headers are believed only from
``--trusted-proxy`` networks. With ``--workers``, a worker never outlives its master: when the master dies, even
by ``kill -9``, each worker stops within ``WORKER_GRACE`` seconds, so the port is free for the next
``shoal serve``.
"""

from __future__ import annotations

import dataclasses
import errno
import ipaddress
import multiprocessing
import os
import resource
import signal
import socket
import threading
import time
from pathlib import Path
from typing import Annotated

import orjson
import typer
import uvicorn
from fastapi import FastAPI
from uvicorn.supervisors import Multiprocess

from shoal.alerts.deliver import Deliverer
from shoal.api.app import create_app
from shoal.api.limits import (
    DEFAULT_ALERTS_CATCH_UP,
    DEFAULT_QUERY_TIMEOUT,
    MAX_QUERY_TIMEOUT,
    MIN_TIMEOUT,
    ServerSettings,
)
from shoal.api.protocol import DEFAULT_LIMITS, ConnectionLimits, JsonErrorProtocol
from shoal.cli.check import show
from shoal.cli.common import DataOption, errors, fail, open_store
from shoal.cli.scan import start_collection_worker
from shoal.config import DATA_VARIABLE, data_dir
from shoal.errors import BadParameter, ShoalError
from shoal.integrity import check_data
from shoal.store.base import IPNetwork
from shoal.tokens import TokenStore

# How the parent hands its ServerSettings (as JSON) to its worker processes; they find the data directory in
# $SHOAL_DATA and the store in $SHOAL_STORE, as every command does.
SETTINGS_VARIABLE = "SHOAL_SERVE_SETTINGS"
WEBHOOK_VARIABLE = "SHOAL_SERVE_WEBHOOK_ALLOW"  # --webhook-allow, for the worker processes
RESERVED_FILES = 256  # descriptors kept for the index, the databases and the query threads
BACKLOG = 2048
WORKER_GRACE = 3.0  # seconds a worker whose master died has to finish its requests before it exits


class ListenError(ShoalError):
    """The address cannot be listened on (in use, not local, not permitted)."""


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
    alerts_catch_up: Annotated[
        float,
        typer.Option(
            min=1,
            max=86400,
            help="Seconds between evaluations, for the alerts, of commits no process evaluated (one killed after"
            " its commit).",
        ),
    ] = DEFAULT_ALERTS_CATCH_UP,
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
    head_timeout: Annotated[
        float, typer.Option(min=0.1, max=600, help="Seconds a client has to send a whole request.")
    ] = DEFAULT_LIMITS.head_timeout,
    send_timeout: Annotated[
        float, typer.Option(min=0.1, max=3600, help="Seconds a client may leave a response unread before it is cut.")
    ] = DEFAULT_LIMITS.send_timeout,
    max_connections: Annotated[
        int, typer.Option(min=16, help="Open connections per process (capped by the open-file limit).")
    ] = DEFAULT_LIMITS.max_connections,
    max_connections_per_client: Annotated[
        int, typer.Option(min=1, help="Open connections per client address (an IPv6 client is its /64).")
    ] = DEFAULT_LIMITS.max_per_client,
    trusted_proxy: Annotated[
        list[str] | None,
        typer.Option(
            "--trusted-proxy",
            help="Believe X-Forwarded-For from this address or CIDR (repeatable; default: from nobody).",
            show_default=False,
        ),
    ] = None,
    init: Annotated[bool, typer.Option("--init", help="Create the data directory if it does not exist.")] = False,
    webhook_allow: Annotated[
        list[str] | None,
        typer.Option(
            "--webhook-allow",
            help="Let alerts made over the API post to this address or CIDR too (repeatable; default: public only).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Serve the Driftnet-compatible API (reports imported meanwhile become searchable within seconds)."""
    if workers > 1 and (allow or rescan_every):
        fail(BadParameter("workers", "the collector (--allow, --rescan-every) runs in one process: use --workers 1"))
    folder = data_dir(data)
    preflight(folder)
    trusted = proxies(trusted_proxy or [])
    webhook_networks = networks("webhook-allow", webhook_allow or [])
    limits = ConnectionLimits(
        head_timeout=head_timeout,
        send_timeout=send_timeout,
        max_connections=min(max_connections, open_file_budget()),
        max_per_client=max_connections_per_client,
        trusted=trusted,
    )
    store = open_store(data, server=True, create=init)
    if store.watcher is not None and (caught_up := store.watcher.catch_up(store)):
        errors.print(f"shoal: {caught_up} alert events queued for commits of reports no process had evaluated")
    settings = ServerSettings(
        query_timeout=query_timeout,
        allow_anon=allow_anon,
        query_threads=query_threads,
        alerts_catch_up=alerts_catch_up,
    )
    collector = start_collection_worker(store, folder, allow, rescan_every) if workers == 1 else None
    app = create_app(store, TokenStore(folder), settings, collector, webhook_networks) if workers == 1 else None
    try:
        listener = listen(host, port)
    except ListenError as exc:
        if collector is not None:
            collector.stop()
        fail(exc)
    deliverer = Deliverer(folder, webhook_networks)
    deliverer.start()
    config = uvicorn.Config(
        app or "shoal.serve:worker_app",
        factory=app is None,
        workers=workers,
        log_level="warning",
        access_log=False,
        http=JsonErrorProtocol,
        proxy_headers=bool(trusted),
        forwarded_allow_ips=[str(network) for network in trusted] or None,
        backlog=BACKLOG,
    )
    config.connection_limits = limits  # type: ignore[attr-defined]  # read by JsonErrorProtocol
    errors.print(
        f"shoal: {store.count()} reports in {folder}; listening on http://{display(host)}:{port}/v1/"
        + (f" with {workers} processes" if workers > 1 else "")
    )
    try:
        if collector is not None:
            try:
                uvicorn.Server(config).run(sockets=[listener])
            finally:
                collector.stop()
            return
        store.close()
        os.environ[DATA_VARIABLE] = str(folder.resolve())
        os.environ[SETTINGS_VARIABLE] = orjson.dumps(dataclasses.asdict(settings)).decode()
        os.environ[WEBHOOK_VARIABLE] = ",".join(str(network) for network in webhook_networks)
        Multiprocess(config, sockets=[listener]).run()
    finally:
        deliverer.stop()


def preflight(folder: Path) -> None:
    """Stop with one line per problem (and how to recover) if a state file is damaged; warnings go on."""
    problems = check_data(folder)
    show(problems, folder)
    if any(problem.blocking for problem in problems):
        errors.print(
            f"shoal: not starting; 'shoal check --data {folder}' checks again after a fix",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(2)


def worker_app() -> FastAPI:
    """The app of one worker process (``--workers``), from the settings its parent left in the environment."""
    settings = ServerSettings(**orjson.loads(os.environ[SETTINGS_VARIABLE]))
    folder = data_dir()
    exit_with_master()
    allowed = networks("webhook-allow", [text for text in os.environ.get(WEBHOOK_VARIABLE, "").split(",") if text])
    return create_app(open_store(folder, server=True), TokenStore(folder), settings, webhook_allow=allowed)


def exit_with_master(grace: float = WORKER_GRACE) -> None:
    """In a worker: when the master process dies (even by SIGKILL: its end of the spawn pipe closes), stop
    gracefully (SIGTERM, as the master would have sent), and exit after ``grace`` seconds whatever still runs."""
    master = multiprocessing.parent_process()
    if master is None:
        return

    def watch() -> None:
        master.join()
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(grace)
        os._exit(1)

    threading.Thread(target=watch, name="shoal-master-watch", daemon=True).start()


def proxies(values: list[str]) -> tuple[IPNetwork, ...]:
    return networks("trusted-proxy", values)


def networks(option: str, values: list[str]) -> tuple[IPNetwork, ...]:
    try:
        return tuple(ipaddress.ip_network(value.strip(), strict=False) for value in values)
    except ValueError as exc:
        fail(BadParameter(option, f"--{option} takes an address or CIDR: {exc}"))


def open_file_budget() -> int:
    """Connections this process may hold: its open-file limit (raised to the hard limit) less a reserve."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        wanted = 1_048_576 if hard == resource.RLIM_INFINITY else hard
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            soft = wanted
        except (ValueError, OSError):
            pass
    return max(16, soft - RESERVED_FILES)


def listen(host: str, port: int) -> socket.socket:
    """A listening socket on host:port, or ListenError saying in one line why not."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
        listener.listen(BACKLOG)
    except OSError as exc:
        listener.close()
        where = f"{display(host)}:{port}"
        if exc.errno == errno.EADDRINUSE:
            raise ListenError(
                f"cannot listen on {where}: the port is in use by another program (another shoal serve?);"
                " stop it or choose another --port"
            ) from None
        if exc.errno == errno.EADDRNOTAVAIL:
            raise ListenError(f"cannot listen on {where}: {host} is not an address of this machine") from None
        if exc.errno == errno.EACCES:
            raise ListenError(f"cannot listen on {where}: ports below 1024 need root; choose another --port") from None
        raise ListenError(f"cannot listen on {where}: {exc.strerror or exc}") from None
    except (socket.gaierror, OverflowError) as exc:
        listener.close()
        raise ListenError(f"cannot listen on {display(host)}:{port}: {exc}") from None
    listener.set_inheritable(True)
    return listener


def display(host: str) -> str:
    return f"[{host}]" if ":" in host else host

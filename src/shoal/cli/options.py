"""The options that select reports, shared by search, count, stats, export and host, and the one way they
reach a backend (local store or server) and fail: a bad expression is printed with a caret under it."""

from __future__ import annotations

from collections.abc import Callable, Collection
from pathlib import Path
from typing import Annotated, NoReturn, TypeVar

import typer

from shoal.cli.backend import Backend
from shoal.cli.common import DatasetName, UnknownName, did_you_mean, errors, fail
from shoal.errors import ShoalError
from shoal.results import Selection

T = TypeVar("T")
UNSUMMARISABLE = ("search-term",)


def complete_type(incomplete: str) -> list[tuple[str, str]]:
    """Shell completion for --summarize and --facets: the built-in types and what they hold."""
    from shoal.query.check import BUILTIN_TYPES

    last = incomplete.rpartition(",")[2]
    done = incomplete[: len(incomplete) - len(last)]
    return [
        (done + name, help_text)
        for name, help_text in BUILTIN_TYPES.items()
        if name.startswith(last) and name not in UNSUMMARISABLE
    ]


ExpressionArgument = Annotated[str, typer.Argument(help="Expression, e.g. 'title:\"university london\"'.")]
IpOption = Annotated[str | None, typer.Option(help="IP address or CIDR.")]
IndirectOption = Annotated[bool, typer.Option(help="Also match IPs seen in any context (e.g. certificates).")]
FromOption = Annotated[str | None, typer.Option("--from", help="First day, YYYY-MM-DD.")]
ToOption = Annotated[str | None, typer.Option("--to", help="Last day, YYYY-MM-DD.")]
SlopOption = Annotated[int, typer.Option(help="Extra word positions allowed in phrases.")]
MostRecentOption = Annotated[bool, typer.Option(help="Only the newest report per ip:port.")]
HostInUrlOption = Annotated[bool, typer.Option(help="host: also matches the host part of URLs.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the API's JSON.")]
DatasetOption = Annotated[
    DatasetName,
    typer.Option(
        help="Which reports: protocols (scan/protocols), domains (scan/domains), ct (ct/log) or rdns (domain/rdns)."
    ),
]


def selection_of(
    ip: str | None = None,
    indirect: bool = False,
    date_from: str | None = None,
    date_to: str | None = None,
    slop: int = 0,
    most_recent: bool = False,
    host_in_url: bool = False,
) -> Selection:
    """The command's options as the API's parameters (so both check and mean the same)."""
    selection = Selection(slop=slop)
    if ip:
        selection["ip"] = ip
    if date_from:
        selection["date_from"] = date_from
    if date_to:
        selection["date_to"] = date_to
    for name, flag in (("indirect", indirect), ("most_recent", most_recent), ("host_in_url", host_in_url)):
        if flag:
            selection[name] = True  # type: ignore[literal-required]
    return selection


def open_backend(data: Path | None, reading_reports: bool = True) -> Backend:
    """The server (``shoal login``, $SHOAL_URL) or the local store that read commands ask; an empty local
    store is said to be empty (on stderr), so that "no results" is never a mystery."""
    from shoal.cli.remote import server_of

    server = server_of(data)
    if server is not None:
        from shoal.cli.backend import RemoteBackend
        from shoal.client import Client

        return RemoteBackend(Client(server.url, server.token))
    from shoal.cli.backend import LocalBackend
    from shoal.cli.common import open_store
    from shoal.config import data_dir

    backend = LocalBackend(open_store(data), f"the store in {data_dir(data)}")
    if reading_reports and backend.is_empty():
        errors.print(
            f"note: {backend.where} holds no reports yet: add some with 'shoal import FILE' or 'shoal scan'",
            highlight=False,
        )
    return backend


def asked(expression: str, call: Callable[[], T]) -> T:
    """``call()``; an error is printed (with a caret under a bad expression) and exits 2 (the caller's
    ``finally`` closes its backend)."""
    try:
        return call()
    except ShoalError as exc:
        failed(exc, expression)


def failed(error: ShoalError, expression: str) -> NoReturn:
    fail(error, expression if getattr(error, "parameter", "") == "expression" else None)


def check_summary_type(name: str, known_types: Collection[str], parameter: str = "summarize") -> None:
    """A type not known here but close to one that is, is a typo: say which type was meant. Other unknown
    names go to the store or server, which decides (a server may hold types this side has never seen)."""
    from shoal.query.check import CONTEXT_KEYWORDS  # summarisable without being item types

    candidates = {*known_types, *CONTEXT_KEYWORDS} - set(UNSUMMARISABLE)
    if name in candidates:
        return
    hint = did_you_mean(name, candidates)
    if hint:
        raise UnknownName(parameter, f"unknown type {name!r} for '{parameter}'", hint)

"""The options that select reports, shared by search, count, stats, export and host, and the one way they
reach a backend (local store or server) and fail: a bad expression is printed with a caret under it.

Each option is made from its parameter's record (``shoal.request.params``: its flag, help and default), and
``selecting`` gives a command all of them at once, handing it one ``Selection``: the option blocks are not
written out per command, and a value is read as the API reads it, so it fails the same way in both modes.
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer

from shoal.cli.backend import Backend
from shoal.cli.common import DatasetName, UnknownName, did_you_mean, errors, fail
from shoal.errors import ShoalError
from shoal.model import DATASET_TABLE
from shoal.request.params import (
    DATASET,
    FROM,
    MOST_RECENT,
    PAGE,
    QUERY,
    SELECTION,
    SELECTORS,
    SUMMARY_LIMIT,
    TO,
    Param,
)
from shoal.request.selection import Selection
from shoal.store.base import MAX_PAGES

T = TypeVar("T")
UNSUMMARISABLE = ("search-term",)
# the command line's selection options: the API's (the free-text query is the commands' argument, not an
# option), and each dataset's own selectors (--host for rdns, fdns, mx)
SELECTING = (*(param for param in SELECTION if param.flag and param is not QUERY), *SELECTORS.values())


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


def option_of(param: Param[Any], default: Any = None) -> Any:
    """A typer option made from a parameter: its flag (``--x/--no-x`` for a boolean unless it names its own
    opposite, ``--most-recent/--history``), its type, its help (the API's less its ``true:``)."""
    assert param.flag is not None, param.name
    kind = param.schema.get("type")
    described = param.help.removeprefix("true: ")
    described = described[:1].upper() + described[1:]
    if kind == "boolean":
        on, _, off = param.flag.partition("/")
        if off and (param.asked_default if default is None else default):
            described += f" On unless {off} is given."
        return Annotated[bool, typer.Option(f"{on}/{off or '--no-' + on[2:]}", help=described)]
    if kind in ("integer", "number"):
        bounds = {"min": param.schema.get("minimum"), "max": param.schema.get("maximum")}
        number: type = int if kind == "integer" else float
        return Annotated[number, typer.Option(param.flag, help=described, **bounds)]  # type: ignore[valid-type]
    return Annotated[str | None, typer.Option(param.flag, help=described, show_default=False)]


def asked_default(param: Param[Any]) -> Any:
    """A parameter's default on the command line: where a person asks it may differ from the API's
    (``most_recent``: services, not report-days)."""
    return param.default if param.asked_default is None else param.asked_default


def selecting(
    *params: Param[Any], defaults: dict[str, Any] | None = None
) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """A command declaring ``selection: Selection`` gets an option for each of ``params`` (default: all of
    SELECTING) in its place, and their values as one Selection (with its free-text ``query`` argument, if it
    has one); a value the API would refuse fails here, with the API's message. ``defaults``: this command's
    own, by attribute (``shoal export`` exports every dated report unless told otherwise)."""
    own = defaults or {}

    def default(param: Param[Any]) -> tuple[Any, Any]:
        chosen = own.get(param.attribute, asked_default(param))
        return chosen, chosen

    def selection(raw: dict[str, Any], values: dict[str, Any]) -> Selection:
        return Selection.of(query=values.get("query"), **raw)

    return functools.partial(replacing, "selection", params or SELECTING, default, selection)


def taking(*params: Param[Any]) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """A command declaring ``options: Options`` gets an option for each of ``params`` in its place (flag, help,
    default and bounds from its record), and their values, each read as its parameter reads one (a bad one
    fails with the parameter's message, exit 2), as one mapping by attribute."""

    def default(param: Param[Any]) -> tuple[Any, Any]:
        return asked_default(param), option_default(param)

    def options(raw: dict[str, Any], values: dict[str, Any]) -> Options:
        return {param.attribute: taken(param, raw[param.attribute]) for param in params}

    return functools.partial(replacing, "options", params, default, options)


def replacing(
    placeholder: str,
    params: Sequence[Param[Any]],
    default: Callable[[Param[Any]], tuple[Any, Any]],
    made: Callable[[dict[str, Any], dict[str, Any]], Any],
    command: Callable[..., T],
) -> Callable[..., T]:
    """``command`` with its ``placeholder`` parameter replaced by an option for each of ``params`` (``default``:
    the value its help states and the value it starts as); it is called with ``made(raw, values)`` in the
    placeholder's place, ``raw`` the options' values by attribute and ``values`` the command's own. A
    ShoalError from ``made`` fails the command with its message (exit 2)."""
    hints = typing.get_type_hints(command, include_extras=True)
    parameters: list[inspect.Parameter] = []
    for parameter in inspect.signature(command).parameters.values():
        if parameter.name != placeholder:
            parameters.append(parameter.replace(kind=inspect.Parameter.KEYWORD_ONLY, annotation=hints[parameter.name]))
            continue
        for param in params:
            stated, starting = default(param)
            annotation = option_of(param, stated)
            parameters.append(
                inspect.Parameter(
                    param.attribute, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=starting
                )
            )

    @functools.wraps(command)
    def run(**values: Any) -> T:
        raw = {param.attribute: values.pop(param.attribute) for param in params}
        try:
            handed = made(raw, values)
        except ShoalError as exc:
            fail(exc)
        return command(**{placeholder: handed}, **values)

    run.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    run.__annotations__ = {parameter.name: parameter.annotation for parameter in parameters}
    return run


Options = dict[str, Any]  # what ``taking`` hands a command: each parameter's value, by attribute


def option_default(param: Param[Any]) -> Any:
    """What the command line's option starts as: the value itself where its option is typed (a number, a
    boolean), else None (a text option: the parameter's own default, which its help states)."""
    return asked_default(param) if param.schema.get("type") in ("boolean", "integer", "number") else None


def taken(param: Param[Any], value: Any) -> Any:
    return asked_default(param) if value is None else param.take(value)


QueryArgument = Annotated[
    str,
    typer.Argument(
        help="What to find: words search every type, type:value terms and and/or/not work as in expressions,"
        " e.g. nginx, 'title:\"university london\"' or 'apache port-tcp:8080' (--expression: strict syntax).",
        show_default=False,
    ),
]
FromOption = option_of(FROM)
ToOption = option_of(TO)
MostRecentOption = Annotated[
    bool, typer.Option(MOST_RECENT.flag.partition("/")[0] if MOST_RECENT.flag else "", help=MOST_RECENT.help)
]
PageOption = Annotated[
    int,
    typer.Option(
        PAGE.flag,
        min=1,
        max=MAX_PAGES,
        help=f"Page number from 1, 100 results a page (at most {MAX_PAGES}; the API counts pages from 0).",
    ),
]
SummaryLimitOption = option_of(SUMMARY_LIMIT)
JsonOption = Annotated[bool, typer.Option("--json", help="Print the API's JSON.")]
DatasetOption = Annotated[
    DatasetName,
    typer.Option(
        DATASET.flag,
        help="Which reports: "
        + ", ".join(f"{row.name} ({row.path.removeprefix('/v1/')})" for row in DATASET_TABLE.values())
        + ".",
    ),
]


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

    backend = LocalBackend(open_store(data), f"the store in {data_dir(data)}", data_dir(data))
    if reading_reports and backend.is_empty():
        errors.print(
            f"note: {backend.where} holds no reports yet: add some with 'shoal import FILE' or 'shoal scan'",
            highlight=False,
        )
    return backend


def asked(selection: Selection | None, call: Callable[[], T]) -> T:
    """``call()``; an error is printed (with a caret under the bad part of the query or ``--expression``)
    and exits 2 (the caller's ``finally`` closes its backend)."""
    try:
        return call()
    except ShoalError as exc:
        failed(exc, selection)


def failed(error: ShoalError, selection: Selection | None) -> NoReturn:
    """Print ``error`` (with a caret under the text it names) and exit 2."""
    parameter = getattr(error, "parameter", "")
    texts = {"query": selection.query, "expression": selection.expression} if selection else {}
    fail(error, texts.get(parameter))


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

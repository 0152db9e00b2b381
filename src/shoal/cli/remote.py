"""``shoal login`` / ``logout`` / ``config``: use a Shoal server instead of a local store.

Which one a read command (search, count, stats, host, export, ports) uses, first match wins:

1. ``--data DIR``: that local store.
2. ``$SHOAL_URL``: that server (token: ``$SHOAL_TOKEN``, else the saved one).
3. ``$SHOAL_DATA``: that local store.
4. the server saved by ``shoal login`` (in ``$SHOAL_CONFIG``, default ``~/.config/shoal/config.toml``).
5. the local store in ``./shoal-data``.

The saved file holds the token: it is written with mode 0600 and its token is never printed whole.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from shoal.cli.common import console, errors, fail
from shoal.config import SAVED_KEYS as KEYS
from shoal.config import config_path, read_saved
from shoal.errors import BadParameter, ShoalError

app = typer.Typer(help="Show or change the saved server and token.", no_args_is_help=True)


def read_config() -> dict[str, str]:
    try:
        return read_saved()
    except ShoalError as exc:
        fail(exc)


def write_config(settings: dict[str, str]) -> Path:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(f"{key} = {json.dumps(settings[key])}\n" for key in KEYS if settings.get(key))
    partial = path.with_name(path.name + ".partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as out:
        out.write(text)
    os.replace(partial, path)
    return path


@dataclass(frozen=True, slots=True)
class Server:
    url: str
    token: str
    source: str  # where the url came from, for messages


def server_of(data: Path | None) -> Server | None:
    """The server the read commands should ask, or None for a local store (see the module docstring)."""
    if data is not None:
        return None
    url = os.environ.get("SHOAL_URL", "").strip()
    source = "$SHOAL_URL"
    saved: dict[str, str] | None = None
    if not url:
        if os.environ.get("SHOAL_DATA"):
            return None
        saved = read_config()
        url, source = saved.get("server", ""), str(config_path())
        if not url:
            return None
    token = os.environ.get("SHOAL_TOKEN", "").strip()
    if not token:
        token = (saved if saved is not None else read_config()).get("token", "")
    if not token:
        fail(ShoalError(f"no token for {url} (from {source}): set SHOAL_TOKEN, or run 'shoal login {url}'"))
    return Server(url.rstrip("/"), token, source)


def checked_url(url: str) -> str:
    text = url.strip().rstrip("/")
    if not text.startswith(("http://", "https://")) or len(text) <= len("https://"):
        fail(BadParameter("server", f"a server is an http:// or https:// URL, e.g. http://127.0.0.1:8080, not {url!r}"))
    return text


def masked(token: str) -> str:
    return f"{token[:4]}… ({len(token)} characters)" if len(token) > 8 else "… (set)"


def login_command(
    url: Annotated[str, typer.Argument(help="The server, e.g. http://127.0.0.1:8080.")],
    token: Annotated[
        str | None,
        typer.Argument(
            help="An API token (default: asked for, or read from stdin; after '--' if it starts with '-').",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Check URL and TOKEN against the server, then save them: search, count, stats, host, export and ports
    ask that server from now on (--data DIR still reads a local store)."""
    from shoal.client import Client

    server = checked_url(url)
    if token is None:
        token = typer.prompt("token", hide_input=True) if sys.stdin.isatty() else sys.stdin.readline()
    token = token.strip()
    if not token:
        fail(BadParameter("token", "the token is empty"))
    try:
        with Client(server, token) as client:
            user = client.user()
    except ShoalError as exc:
        fail(ShoalError(f"not saved: {server} refused the login: {exc.message}"))
    path = write_config({**read_config(), "server": server, "token": token})
    name, token_class = user.get("name", "?"), user.get("class", "?")
    console.print(f"logged in to {server} as {name} ({token_class} token); saved in {path}", highlight=False)
    if os.environ.get("SHOAL_URL") or os.environ.get("SHOAL_DATA"):
        errors.print("note: $SHOAL_URL or $SHOAL_DATA is set and takes precedence over the saved server")


def logout_command() -> None:
    """Forget the saved server and token (read commands use the local store again)."""
    path = config_path()
    if not read_config():
        errors.print(f"nothing saved in {path}", highlight=False)
        return
    path.unlink()
    console.print(f"forgot the server and token saved in {path}", highlight=False)


@app.command("show")
def show_command() -> None:
    """Where read commands go now, and the saved server and token (the token masked)."""
    saved = read_config()
    console.print(f"config file: {config_path()}", highlight=False)
    for key in KEYS:
        value = saved.get(key)
        shown = "(not set)" if not value else masked(value) if key == "token" else value
        console.print(f"{key}: {shown}", highlight=False)
    server = server_of(None)
    if server is None:
        console.print(f"read commands use the local store ({os.environ.get('SHOAL_DATA') or './shoal-data'})")
    else:
        console.print(f"read commands ask {server.url} (from {server.source})", highlight=False)


@app.command("set")
def set_command(
    key: Annotated[str, typer.Argument(help="server or token.")],
    value: Annotated[str, typer.Argument(help="The server's URL, or a token (after '--' if it starts with '-').")],
) -> None:
    """Save one setting without checking it against the server (``shoal login`` checks)."""
    if key not in KEYS:
        fail(BadParameter("key", f"the settings are {' and '.join(KEYS)}, not {key!r}"))
    value = checked_url(value) if key == "server" else value.strip()
    path = write_config({**read_config(), key: value})
    console.print(f"{key} saved in {path}", highlight=False)


@app.command("unset")
def unset_command(key: Annotated[str, typer.Argument(help="server or token.")]) -> None:
    """Remove one saved setting."""
    if key not in KEYS:
        fail(BadParameter("key", f"the settings are {' and '.join(KEYS)}, not {key!r}"))
    saved = read_config()
    saved.pop(key, None)
    path = write_config(saved)
    console.print(f"{key} removed from {path}", highlight=False)

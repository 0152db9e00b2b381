"""Where the data lives (``--data DIR``, else ``$SHOAL_DATA``, else ``./shoal-data``), and which server the
command line and ``Client()`` ask (``$SHOAL_URL``/``$SHOAL_TOKEN``, else what ``shoal login`` saved)."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from shoal.errors import ShoalError

DEFAULT_DATA_DIR = "shoal-data"
DATA_VARIABLE = "SHOAL_DATA"


def data_dir(explicit: str | Path | None = None) -> Path:
    return Path(explicit or os.environ.get(DATA_VARIABLE) or DEFAULT_DATA_DIR)


SAVED_KEYS = ("server", "token")


def config_path() -> Path:
    """Where ``shoal login`` saves the server and token: ``$SHOAL_CONFIG``, else ``~/.config/shoal/config.toml``."""
    explicit = os.environ.get("SHOAL_CONFIG")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "shoal" / "config.toml"


def read_saved() -> dict[str, str]:
    """The saved server and token (empty when nothing is saved); an unreadable file is a ShoalError."""
    path = config_path()
    try:
        loaded = tomllib.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ShoalError(f"cannot read {path}: {exc}") from None
    return {key: str(loaded[key]) for key in SAVED_KEYS if isinstance(loaded.get(key), str) and loaded[key]}


def saved_server() -> tuple[str, str]:
    """The server and token a client with no arguments uses: ``$SHOAL_URL`` (token ``$SHOAL_TOKEN``, else the
    saved one), else the server ``shoal login`` saved; a ShoalError saying what to set when there is none."""
    url = os.environ.get("SHOAL_URL", "").strip()
    saved = {} if url and os.environ.get("SHOAL_TOKEN", "").strip() else read_saved()
    source = "$SHOAL_URL" if url else str(config_path())
    url = url or saved.get("server", "")
    if not url:
        raise ShoalError("no server: give Client(url, token), set SHOAL_URL and SHOAL_TOKEN, or run 'shoal login URL'")
    token = os.environ.get("SHOAL_TOKEN", "").strip() or saved.get("token", "")
    if not token:
        raise ShoalError(f"no token for {url} (from {source}): set SHOAL_TOKEN, or run 'shoal login {url}'")
    return url, token

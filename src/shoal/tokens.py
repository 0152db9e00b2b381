"""API tokens: created once, shown once, stored only as SHA-256 hashes in ``DATA/tokens.json``."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import secrets
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

import orjson


@dataclass(frozen=True, slots=True)
class Token:
    name: str
    enterprise: bool
    created: str


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class TokenStore:
    def __init__(self, data_dir: Path | str) -> None:
        self.path = Path(data_dir) / "tokens.json"
        self._lock = threading.Lock()
        self._cache: tuple[float, dict[str, Token]] | None = None

    def create(self, name: str, enterprise: bool = False) -> str:
        secret = secrets.token_urlsafe(32)
        with self._lock:
            tokens = self._read()
            tokens[hash_token(secret)] = Token(name, enterprise, dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
            self._write(tokens)
        return secret

    def lookup(self, secret: str) -> Token | None:
        return self._current().get(hash_token(secret))

    def _current(self) -> dict[str, Token]:
        """Tokens, re-read when the file changes (tokens created while ``shoal serve`` runs work at once)."""
        try:
            mtime = self.path.stat().st_mtime
        except FileNotFoundError:
            return {}
        if self._cache is None or self._cache[0] != mtime:
            self._cache = (mtime, self._read())
        return self._cache[1]

    def _read(self) -> dict[str, Token]:
        try:
            raw = orjson.loads(self.path.read_bytes())
        except FileNotFoundError:
            return {}
        return {digest: Token(**fields) for digest, fields in raw.items()}

    def _write(self, tokens: dict[str, Token]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_bytes(orjson.dumps({digest: asdict(token) for digest, token in tokens.items()}))
        os.chmod(temporary, 0o600)
        os.replace(temporary, self.path)

"""API tokens: created once, shown once, stored only as SHA-256 hashes in ``DATA/tokens.json``.

The file maps each token's SHA-256 hex digest to its fields (name, class, creation time, optional quota
overrides, revocation time). A token is named in the CLI and in the usage book by its ``id``: the first
12 hex digits of the digest, which reveal nothing usable about the secret. Writers take ``tokens.lock``
(an flock) and replace the file atomically; readers reload it when it changes, so tokens created or
revoked while ``shoal serve`` runs take effect at once.
"""

from __future__ import annotations

import datetime as dt
import errno
import fcntl
import hashlib
import logging
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Literal

import orjson

from shoal.errors import DiskFull, StoreError
from shoal.filesystem import replace_durably

log = logging.getLogger("shoal.tokens")
ID_LENGTH = 12
MAX_SECRET_LENGTH = 512  # longer Authorization values are rejected before hashing
QuotaKind = Literal["api", "priority"]


@dataclass(frozen=True, slots=True)
class ClassLimits:
    """What a class of token may do: monthly quotas (units) and concurrent queries."""

    api_limit: int
    priority_limit: int
    concurrency: int


CLASS_LIMITS: dict[str, ClassLimits] = {
    "normal": ClassLimits(api_limit=100_000, priority_limit=1_000, concurrency=5),
    "enterprise": ClassLimits(api_limit=10_000_000, priority_limit=100_000, concurrency=5),
    # ``Authorization: Bearer anon`` when the server allows it; counted per client address.
    "anon": ClassLimits(api_limit=1_000, priority_limit=0, concurrency=1),
}
TOKEN_CLASSES = ("normal", "enterprise")


@dataclass(frozen=True, slots=True)
class Token:
    name: str
    enterprise: bool = False
    created: str = ""
    api_limit: int | None = None  # None: the class default
    priority_limit: int | None = None
    revoked: str | None = None
    # Not stored in the file:
    id: str = ""  # the digest's first ID_LENGTH hex digits, or "anon-…" for an anonymous client address
    anonymous: bool = False

    @property
    def token_class(self) -> str:
        if self.anonymous:
            return "anon"
        return "enterprise" if self.enterprise else "normal"

    @property
    def limits(self) -> ClassLimits:
        return CLASS_LIMITS[self.token_class]

    def quota_limit(self, kind: QuotaKind) -> int:
        override = self.api_limit if kind == "api" else self.priority_limit
        if override is not None:
            return override
        return self.limits.api_limit if kind == "api" else self.limits.priority_limit

    def stored(self) -> dict[str, object]:
        """The fields written to ``tokens.json``."""
        return {key: value for key, value in asdict(self).items() if key not in ("id", "anonymous")}


STORED_FIELDS = frozenset(field.name for field in fields(Token)) - {"id", "anonymous"}


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class TokenNotFound(LookupError):
    pass


class TokenStore:
    def __init__(self, data_dir: Path | str) -> None:
        self.path = Path(data_dir) / "tokens.json"
        self._lock = threading.Lock()
        self._cache: tuple[tuple[int, int, int], dict[str, Token]] | None = None

    # -- writing (CLI) ------------------------------------------------------------------------------------

    def create(self, name: str, enterprise: bool = False) -> str:
        while True:
            secret = secrets.token_urlsafe(32)
            digest = hash_token(secret)
            with self._locked() as tokens:
                if any(other[:ID_LENGTH] == digest[:ID_LENGTH] for other in tokens):
                    continue  # an id must name one token; a 48-bit clash is astronomically rare
                tokens[digest] = Token(name, enterprise, now_iso(), id=digest[:ID_LENGTH])
                return secret

    def revoke(self, selector: str) -> Token:
        with self._locked() as tokens:
            digest = self._select(tokens, selector)
            tokens[digest] = replace(tokens[digest], revoked=tokens[digest].revoked or now_iso())
            return tokens[digest]

    def set_quota(self, selector: str, api_limit: int | None = None, priority_limit: int | None = None) -> Token:
        """Override the class quotas of one token (None keeps the current value; -1 restores the class default)."""
        with self._locked() as tokens:
            digest = self._select(tokens, selector)
            token = tokens[digest]
            if api_limit is not None:
                token = replace(token, api_limit=None if api_limit < 0 else api_limit)
            if priority_limit is not None:
                token = replace(token, priority_limit=None if priority_limit < 0 else priority_limit)
            tokens[digest] = token
            return token

    def all(self) -> list[Token]:
        return sorted(self._read().values(), key=lambda token: (token.created, token.id))

    @staticmethod
    def _select(tokens: dict[str, Token], selector: str) -> str:
        """The one token whose id starts with ``selector`` (at least 4 digits) or whose name is ``selector``."""
        by_id = [d for d in tokens if len(selector) >= 4 and d.startswith(selector.lower())]
        by_name = [d for d, token in tokens.items() if token.name == selector]
        matches = by_id or by_name
        if not matches:
            raise TokenNotFound(f"no token has the id or name {selector!r}")
        if len(matches) > 1:
            ids = ", ".join(tokens[d].id for d in matches)
            raise TokenNotFound(f"{selector!r} names {len(matches)} tokens ({ids}): give the id")
        return matches[0]

    @contextmanager
    def _locked(self) -> Iterator[dict[str, Token]]:
        """Read-modify-write under an flock, so concurrent ``shoal token`` commands never lose a change."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock, open(self.path.with_suffix(".lock"), "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            tokens = self._read()
            yield tokens
            self._write(tokens)

    # -- reading (server) ---------------------------------------------------------------------------------

    def lookup(self, secret: str) -> Token | None:
        if len(secret) > MAX_SECRET_LENGTH:
            return None
        token = self._current().get(hash_token(secret))
        if token is None or token.revoked:
            return None
        return token

    def by_id(self, token_id: str) -> Token | None:
        """The current token with this id (None if it is unknown or revoked since)."""
        for token in self._current().values():
            if token.id == token_id:
                return None if token.revoked else token
        return None

    def _current(self) -> dict[str, Token]:
        """Tokens, re-read when the file changes (tokens created while ``shoal serve`` runs work at once)."""
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return {}
        version = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        cache = self._cache
        if cache is None or cache[0] != version:
            try:
                cache = (version, self._read())
            except (orjson.JSONDecodeError, OSError, TypeError, AttributeError) as exc:
                if cache is None:
                    raise StoreError(f"cannot read {self.path.name}: {exc}; run 'shoal check'") from exc
                log.error("%s cannot be read (%s): the tokens read before stay in use", self.path.name, exc)
                return cache[1]
            self._cache = cache
        return cache[1]

    def _read(self) -> dict[str, Token]:
        try:
            raw = orjson.loads(self.path.read_bytes())
        except FileNotFoundError:
            return {}
        return {
            digest: Token(**{k: v for k, v in entry.items() if k in STORED_FIELDS}, id=digest[:ID_LENGTH])
            for digest, entry in raw.items()
        }

    def _write(self, tokens: dict[str, Token]) -> None:
        body = orjson.dumps({digest: token.stored() for digest, token in tokens.items()})
        try:
            replace_durably(self.path, body, mode=0o600)
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise DiskFull(f"no room to write {self.path.name}: nothing was changed", self.path) from exc
            raise

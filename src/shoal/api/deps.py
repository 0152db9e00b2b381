"""Request dependencies: the store, the checked token, the known types."""

from __future__ import annotations

from fastapi import Request

from shoal.errors import Unauthorized
from shoal.query.check import BUILTIN_TYPES
from shoal.store.base import Store
from shoal.tokens import Token, TokenStore


def get_store(request: Request) -> Store:
    return request.app.state.store


def known_types(store: Store) -> frozenset[str]:
    return frozenset(BUILTIN_TYPES) | store.known_types()


def require_token(request: Request) -> Token:
    header = request.headers.get("authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthorized("missing token: send 'Authorization: Bearer <token>' (create one with 'shoal token create')")
    tokens: TokenStore = request.app.state.tokens
    token = tokens.lookup(secret.strip())
    if token is None:
        raise Unauthorized("unknown or revoked token")
    return token

"""Request dependencies: the store, the checked token."""

from __future__ import annotations

from fastapi import Request

from shoal.errors import Unauthorized
from shoal.store.base import Store
from shoal.tokens import Token


def get_store(request: Request) -> Store:
    return request.app.state.store


def require_token(request: Request) -> Token:
    """The token ``shoal.api.guard.Guard`` checked for this ``/v1/`` request (cheap: a dictionary lookup)."""
    token = request.scope.get("state", {}).get("token")
    if not isinstance(token, Token):
        raise Unauthorized("missing token: send 'Authorization: Bearer <token>' (create one with 'shoal token create')")
    return token

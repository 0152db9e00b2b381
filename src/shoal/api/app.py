"""The FastAPI application: routes, one error handler, the store and tokens in ``app.state``."""

from __future__ import annotations

from fastapi import FastAPI

from shoal import __version__
from shoal.api.errors import install_error_handlers
from shoal.api.routes import protocols
from shoal.store.base import Store
from shoal.tokens import TokenStore


def create_app(store: Store, tokens: TokenStore) -> FastAPI:
    app = FastAPI(title="Shoal", version=__version__, description="Driftnet-compatible internet-scan search")
    app.state.store = store
    app.state.tokens = tokens
    install_error_handlers(app)
    app.include_router(protocols.router)
    return app

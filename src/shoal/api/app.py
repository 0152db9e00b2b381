"""The FastAPI application: routes, one error handler, the store and tokens in ``app.state``."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from shoal import __version__
from shoal.alerts.evaluate import PeriodicCatchUp
from shoal.api.errors import install_error_handlers
from shoal.api.guard import Guard
from shoal.api.limits import ServerSettings, Slots
from shoal.api.routes import admin, alerts, body, diff, export, ip, multi, ports, prioritize, search
from shoal.api.tickets import ExportTickets
from shoal.collect.worker import CollectionWorker
from shoal.enrich.network import bundled_table
from shoal.model import IPNetwork
from shoal.registration.book import RegistrationBook
from shoal.registration.summary import Registrations
from shoal.store.base import Store
from shoal.tokens import TokenStore
from shoal.usage import UsageBook
from shoal.web import install_web
from shoal.web.docs import install_docs

SECURITY_SCHEMES = {"bearer": {"type": "http", "scheme": "bearer"}}


def create_app(
    store: Store,
    tokens: TokenStore,
    settings: ServerSettings | None = None,
    collector: CollectionWorker | None = None,
    webhook_allow: Sequence[IPNetwork] = (),
) -> FastAPI:
    """The API over ``store``; usage (``usage.sqlite3``) and concurrency slots live next to ``tokens.json``.
    ``webhook_allow``: where alerts made over the API may post beside public addresses."""
    app = FastAPI(
        title="Shoal",
        version=__version__,
        description="Driftnet-compatible internet-scan search",
        lifespan=lifespan,
        docs_url=None,  # served by shoal.web.docs, without a CDN
        redoc_url=None,
    )
    app.state.store = store
    app.state.tokens = tokens
    app.state.settings = settings or ServerSettings()
    app.state.usage = UsageBook(tokens.path.parent)
    app.state.executor = None  # the query thread pool, started on first use (shoal.api.limits.run_query)
    app.state.slots = Slots(tokens.path.parent / "slots")
    app.add_middleware(Guard, tokens=tokens, usage=app.state.usage, slots=app.state.slots, settings=app.state.settings)
    install_error_handlers(app)
    app.include_router(admin.router)
    app.include_router(search.router)
    app.include_router(multi.router)
    app.include_router(body.router)
    app.state.collector = collector  # None: prioritize answers 403 (this server does not collect)
    app.state.prioritize_limit = prioritize.per_token_limit()
    app.include_router(prioritize.router)
    app.include_router(ports.router)
    app.state.registrations = Registrations(RegistrationBook(tokens.path.parent), store, bundled_table)
    app.include_router(ip.router)
    app.state.export_tickets = ExportTickets(tokens.path.parent, tokens)
    app.state.export_gate = export.ExportGate()
    app.include_router(export.router)
    app.include_router(diff.router)
    app.state.alerts = None  # the alert book, opened on first use (shoal.api.routes.alerts)
    app.state.webhook_allow = tuple(webhook_allow)
    app.include_router(alerts.router)
    install_web(app)
    install_docs(app)
    app.openapi = lambda: openapi_document(app)  # type: ignore[method-assign]
    return app


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Everything made so far (modules, the app, the store) lives as long as the server: keep it out of the
    # garbage collector's full passes, which the allocations of every request trigger.
    gc.freeze()
    catching_up = PeriodicCatchUp(app.state.store, app.state.settings.alerts_catch_up).start()
    yield
    catching_up.stop()
    executor, app.state.executor = app.state.executor, None  # a new one starts if the app is served again
    if executor is not None:
        executor.shutdown(wait=False, cancel_futures=True)
    # Served and stopped (tests, an embedding program): what was frozen may be garbage now, such as an earlier
    # app's SQLite connections, whose files stay open until the collector sees them.
    gc.unfreeze()


def openapi_document(app: FastAPI) -> dict[str, object]:
    """FastAPI's document (each route's parameters come from ``shoal.request.params``, its answers from
    ``shoal.request.responses``) plus the bearer scheme."""
    if app.openapi_schema is None:
        document = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        document.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
        app.openapi_schema = document
    return app.openapi_schema

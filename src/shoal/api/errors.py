"""One JSON error shape for every failure: ``{"error": message, "code": code, "detail": [...]}``."""

from __future__ import annotations

import logging
import re

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from shoal.errors import NoResults, ShoalError

log = logging.getLogger("shoal.api")
API_PREFIX = "/v1/"


def error_body(
    status: int, code: str, message: str, detail: list[dict[str, object]], headers: dict[str, str] | None = None
) -> Response:
    body = {"error": message, "code": code, "detail": detail}
    if status == 401:
        headers = {"WWW-Authenticate": "Bearer", **(headers or {})}
    return Response(orjson.dumps(body), status_code=status, media_type="application/json", headers=headers)


def error_bytes(error: ShoalError) -> bytes:
    """The JSON body of ``error``, for the places below the app (``shoal.api.protocol``) that write raw bytes."""
    return orjson.dumps({"error": error.message, "code": error.code, "detail": error.details()})


def render_error(error: ShoalError) -> Response:
    if isinstance(error, NoResults):
        return Response(status_code=204)
    if error.status >= 500:  # a server-side failure: its message may name files; a client learns no paths
        message = without_paths(error.message)
        details = [{**entry, "message": without_paths(str(entry.get("message", "")))} for entry in error.details()]
        return error_body(error.status, error.code, message, details, error.headers())
    return error_body(error.status, error.code, error.message, error.details(), error.headers())


ABSOLUTE_PATH = re.compile(r"(?<![\w.:/])/(?:[^\s/'\":]+/)+([^\s/'\":]+)")


def without_paths(message: str) -> str:
    """``message`` with every absolute path cut to its last part (``/srv/shoal/usage.sqlite3`` → ``usage.sqlite3``)."""
    return ABSOLUTE_PATH.sub(r"\1", message)


def api_endpoints(app: FastAPI) -> list[str]:
    """The API's paths, from the OpenAPI document FastAPI builds from the route table (so a new route is listed
    without anyone copying it here; built once, then cached by the app)."""
    return sorted(path for path in app.openapi()["paths"] if path.startswith(API_PREFIX))


def unknown_endpoint(request: Request) -> Response:
    """An unknown ``/v1/`` path: a 404 whose body lists the endpoints there are (``endpoints``)."""
    path = request.url.path.encode("utf-8", "replace").decode("utf-8")  # a %-escape may decode to a lone surrogate
    message = f"no endpoint {path}; the endpoints are listed in 'endpoints'"
    body = {
        "error": message,
        "code": "unknown_endpoint",
        "detail": [{"message": message, "path": path}],
        "endpoints": api_endpoints(request.app),
    }
    return Response(orjson.dumps(body), status_code=404, media_type="application/json")


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ShoalError)
    async def shoal_error(_: Request, error: ShoalError) -> Response:
        if error.status >= 500 and error.status != 504:
            log.error("store failure: %s", error.message)
        return render_error(error)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        message = str(error.detail) if error.detail else "error"
        if error.status_code == 404 and request.url.path.startswith(API_PREFIX):
            return unknown_endpoint(request)
        return error_body(error.status_code, "http", message, [{"message": message}], error.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, error: RequestValidationError) -> Response:
        detail = [{"message": str(e.get("msg")), "parameter": str(e.get("loc", ["", ""])[-1])} for e in error.errors()]
        return error_body(400, "bad_parameter", detail[0]["message"] if detail else "bad request", detail)

    @app.exception_handler(Exception)
    async def unexpected(_: Request, error: Exception) -> Response:
        log.exception("unexpected error", exc_info=error)
        return error_body(500, "internal", "internal error", [{"message": type(error).__name__}])

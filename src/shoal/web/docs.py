"""The API's own documentation pages: ``/docs`` (Swagger UI) and ``/redoc`` (ReDoc), over ``/openapi.json``.

FastAPI's defaults load their scripts from a public CDN; here every asset comes from this server (the
scripts ship in the ``fastapi-offline`` package, served at ``/docs-assets/``; their start-up code is a static
file, so the content security policy forbids inline scripts as on every other page). ReDoc writes its styles
into ``<style>`` elements, so its page alone allows inline styles (never inline scripts).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter, FastAPI
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

from shoal import __version__
from shoal.web.pages import SECURITY_HEADERS

ASSETS = Path(str(files("fastapi_offline") / "static"))
ASSETS_PATH = "/docs-assets"
REDOC_HEADERS = {
    **SECURITY_HEADERS,
    "Content-Security-Policy": SECURITY_HEADERS["Content-Security-Policy"].replace(
        "style-src 'self'", "style-src 'self' 'unsafe-inline'"
    )
    + "; worker-src 'self' blob:",
}
SWAGGER_PAGE = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Shoal API · Swagger UI</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{ASSETS_PATH}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{ASSETS_PATH}/swagger-ui-bundle.js"></script>
<script src="/static/api-docs.js?v={__version__}"></script>
</body>
</html>
"""
REDOC_PAGE = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Shoal API · ReDoc</title>
<link rel="icon" href="data:,">
</head>
<body>
<redoc spec-url="/openapi.json"></redoc>
<script src="{ASSETS_PATH}/redoc.standalone.js"></script>
</body>
</html>
"""

router = APIRouter(include_in_schema=False)


@router.get("/docs")
def swagger_page() -> HTMLResponse:
    return HTMLResponse(SWAGGER_PAGE, headers=SECURITY_HEADERS)


@router.get("/redoc")
def redoc_page() -> HTMLResponse:
    return HTMLResponse(REDOC_PAGE, headers=REDOC_HEADERS)


def install_docs(app: FastAPI) -> None:
    app.include_router(router)
    app.mount(ASSETS_PATH, StaticFiles(directory=ASSETS), name="docs-assets")

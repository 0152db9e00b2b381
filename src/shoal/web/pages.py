"""The pages: search (``/``), a host (``/host/<ip>``), a network (``/cidr/<cidr>``), the token's alerts
(``/alerts``), and their static assets.

Every page carries the table of datasets (``shoal.model.DATASET_TABLE``: endpoint, label, facets, selectors) and
the selection parameters the search form shows (``shoal.request.params``, those with a ``label``) as a JSON data
block that ``static/shoal.js`` reads; the form's inputs are rendered from the same records. The scripts hold no
copy of either.
"""

from __future__ import annotations

import html
import ipaddress
from functools import cache
from pathlib import Path
from string import Template

import orjson
from fastapi import APIRouter, FastAPI, Request
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles

from shoal import __version__
from shoal.model import DATASET_TABLE
from shoal.query.check import BUILTIN_TYPES
from shoal.query.foreign import BY_NAME
from shoal.request.answers import has_hosts, plural_of
from shoal.request.params import SELECTION, Param

WEB_DIR = Path(__file__).parent
# Everything comes from this server: no inline script, no third-party origin, no framing.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self';"
        " base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
UNSUMMARISABLE = {"search-term"}
SHOWN_FOREIGN_NAMES = ("org", "net", "hostname", "port", "country", "http.title")  # in the syntax help

router = APIRouter(include_in_schema=False)


@cache
def template(name: str) -> Template:
    return Template((WEB_DIR / "templates" / name).read_text())


def render(page: str, title: str, status: int = 200, **fields: str) -> HTMLResponse:
    """``templates/<page>.html`` inside the layout; ``fields`` are escaped, the layout loads ``static/<page>.js``."""
    escaped = {name: html.escape(value) for name, value in fields.items()}
    body = template(f"{page}.html").substitute(
        escaped,
        types=type_options(),
        type_list=type_list(),
        foreign_names=foreign_names(),
        datasets=dataset_options(),
        selecting=selection_inputs(),
    )
    document = template("layout.html").substitute(
        title=html.escape(title), body=body, page=page, version=html.escape(__version__), data=page_data()
    )
    return HTMLResponse(document, status_code=status, headers=SECURITY_HEADERS)


@cache
def type_options() -> str:
    """The types a summary can be drawn for, as <option>s of the ``types`` datalist."""
    return "".join(
        f'<option value="{html.escape(name)}">{html.escape(description)}</option>'
        for name, description in sorted(BUILTIN_TYPES.items())
        if name not in UNSUMMARISABLE
    )


@cache
def dataset_options() -> str:
    """The search page's dataset switch: one <option> per dataset (the value is the dataset's name, the title
    what one report of it is)."""
    return "".join(
        f'<option value="{html.escape(row.name)}" title="{html.escape(row.a_report_is)}">'
        f"{html.escape(row.label)}</option>"
        for row in DATASET_TABLE.values()
    )


FORM = tuple(param for param in SELECTION if param.label)  # the search form's selection inputs


@cache
def page_data() -> str:
    """What the scripts read, safe inside a <script> block: the table of datasets (the first is the default),
    ``{name: {"path", "label", "unit", "units", "hosts", "facets": [[type, context, title]…], "selectors":
    [name…]}}`` (``unit``: what ``most_recent`` keeps one report of; ``hosts``: whether its reports are about
    scanned addresses), and the search form's selection parameters, ``[[name, JSON schema type, default on the
    form or null]…]`` (a person's default may differ from the API's: ``most_recent`` is ticked, so counts are
    services)."""
    datasets = {
        row.name: {
            "path": row.path,
            "label": row.label,
            "unit": row.unit,
            "units": plural_of(row.unit),
            "hosts": has_hosts(row.name),
            "facets": [[facet.type, facet.context, facet.title] for facet in row.facets],
            "selectors": [selector.name for selector in row.selectors],
        }
        for row in DATASET_TABLE.values()
    }
    selecting = [[param.name, param.schema["type"], param.asked_default] for param in FORM]
    return orjson.dumps({"datasets": datasets, "selecting": selecting}).decode().replace("<", "\\u003c")


@cache
def selection_inputs() -> str:
    """The search form's selection inputs, one per parameter with a label: fields first, then checkboxes."""
    fields = "\n".join(field_input(param) for param in FORM if param.schema["type"] != "boolean")
    checkboxes = "\n".join(
        f'<label><input id="{param.name}" name="{param.name}" type="checkbox"> {html.escape(param.label)}</label>'
        for param in FORM
        if param.schema["type"] == "boolean"
    )
    return f"\n{fields}\n{checkboxes}\n"


def field_input(param: Param[object]) -> str:
    schema = param.schema
    if schema.get("format") == "date":
        kind = 'type="date"'
    elif schema["type"] == "integer":
        kind = f'type="number" min="{schema["minimum"]}" max="{schema["maximum"]}" size="3"'
    else:
        kind = 'spellcheck="false" size="18"'
    return f'<label>{html.escape(param.label)} <input id="{param.name}" name="{param.name}" {kind}></label>'


@cache
def type_list() -> str:
    """Every built-in type with what it holds, for the syntax help."""
    return "".join(
        f"<dt><code>{html.escape(name)}</code></dt><dd>{html.escape(description)}</dd>"
        for name, description in BUILTIN_TYPES.items()
    )


@cache
def foreign_names() -> str:
    """A few of Shodan's filter names and their Shoal types, from the checker's table: ``org:`` → ``entity:``."""
    return ", ".join(
        f"<code>{html.escape(name)}:</code> → <code>{html.escape(BY_NAME[name][0].shoal[0])}:</code>"
        for name in SHOWN_FOREIGN_NAMES
    )


@router.get("/")
def search_page() -> HTMLResponse:
    return render("search", "Search")


@router.get("/alerts")
def alerts_page() -> HTMLResponse:
    return render("alerts", "Alerts")


@router.get("/host/{ip}")
def host_page(ip: str) -> HTMLResponse:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return render("message", "Not an IP address", 404, message=f"{ip!r} is not an IP address.")
    return render("host", str(address), ip=str(address))


@router.get("/cidr")
@router.get("/cidr/{network:path}")
def cidr_page(network: str = "") -> HTMLResponse:
    if not network:
        return render("cidr", "Networks", network="")
    try:
        parsed = ipaddress.ip_network(network, strict=False)
    except ValueError:
        return render("message", "Not a network", 404, message=f"{network!r} is not an IP address or CIDR.")
    return render("cidr", str(parsed), network=str(parsed))


def is_api_path(path: str) -> bool:
    """The API's paths (Driftnet's, under ``/v1``, and the OpenAPI document) answer in JSON, even a 404."""
    return path == "/v1" or path.startswith("/v1/") or path == "/openapi.json"


def not_found_page(path: str) -> HTMLResponse:
    return render("message", "Not found", 404, message=f"Nothing at {path}.")


def install_web(app: FastAPI) -> None:
    """The pages and their assets; a 404 outside the API becomes the HTML "not found" page (the API's own error
    handler, installed before, answers everything else)."""
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=WEB_DIR / "static"), name="static")
    api_error = app.exception_handlers[StarletteHTTPException]

    async def http_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, StarletteHTTPException)
        if error.status_code == 404 and not is_api_path(request.url.path):
            return not_found_page(request.url.path)
        return await api_error(request, error)  # type: ignore[no-any-return]

    app.add_exception_handler(StarletteHTTPException, http_error)

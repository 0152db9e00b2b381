"""Every query parameter of the API as data: ``Param(name, kind, default, help)``, and named sets of them.

A route declares what it takes in one line, and the OpenAPI document (``/openapi.json``) then lists each
parameter with its type, limits and meaning, so clients and schema-driven fuzzers can reach all of them::

    @router.get("/v1/scan/protocols", openapi_extra=declare(*SCAN_PROTOCOLS))

The sets are named after what they select, so a new route takes scan/protocols' parameters plus its own:
``declare(*SCAN_PROTOCOLS, HOST)``. The values are still read by ``shoal.api.params`` (each malformed one a
400 naming it); ``tests/api/test_openapi.py`` checks that every parameter the code reads is declared, and
``tests/test_docs.py`` that every declared one is documented in docs/api.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from shoal.api.limits import DEFAULT_QUERY_TIMEOUT, MIN_TIMEOUT
from shoal.api.params import (
    BODY_DATASETS,
    MAX_PARAMETER_LENGTH,
    MAX_REPORT_ID_LENGTH,
    MULTI_SUMMARY_LIMIT_DEFAULT,
    SUMMARY_LIMIT_DEFAULT,
    SUMMARY_LIMIT_MAX_ENTERPRISE,
)
from shoal.model import DATASETS, PROTOCOLS
from shoal.store.base import MAX_PAGES, MAX_SLOP

Schema = dict[str, object]
TEXT: Schema = {"type": "string", "maxLength": MAX_PARAMETER_LENGTH}
BOOLEAN: Schema = {"type": "boolean"}
DATE: Schema = {"type": "string", "format": "date"}
NETWORK: Schema = {"type": "string", "maxLength": 64, "examples": ["8.8.8.8", "8.8.8.0/24", "2001:db8::/32"]}
ADDRESS: Schema = {"type": "string", "maxLength": 64, "examples": ["192.0.2.1", "2001:db8::1"]}
SECONDS: Schema = {"type": "number", "minimum": MIN_TIMEOUT}


def integer(low: int, high: int) -> Schema:
    return {"type": "integer", "minimum": low, "maximum": high}


def one_of(*words: str) -> Schema:
    return {"type": "string", "enum": list(words)}


@dataclass(frozen=True, slots=True)
class Param:
    """One query parameter: its name, the JSON schema of a value, its default, what it means."""

    name: str
    kind: Schema
    default: object = None
    help: str = ""
    repeatable: bool = False
    required: bool = False

    def openapi(self) -> dict[str, object]:
        schema: Schema = dict(self.kind)
        if self.default is not None:
            schema["default"] = self.default
        if self.repeatable:
            schema = {"type": "array", "items": schema}
        entry: dict[str, object] = {
            "name": self.name,
            "in": "query",
            "required": self.required,
            "description": self.help,
            "schema": schema,
        }
        if self.repeatable:
            entry |= {"style": "form", "explode": True}
        return entry


def declare(*params: Param, authenticated: bool = True) -> dict[str, object]:
    """A route's ``openapi_extra``: its parameters (and the bearer token every ``/v1/`` route needs)."""
    names = [param.name for param in params]
    if len(set(names)) != len(names):
        raise ValueError(f"a parameter is declared twice: {names}")
    extra: dict[str, object] = {"parameters": [param.openapi() for param in params]}
    if authenticated:
        extra["security"] = [{"bearer": []}]
    return extra


SECURITY_SCHEMES = {"bearer": {"type": "http", "scheme": "bearer"}}

# -- the selection of reports (scan/protocols, its export, and every report-searching route) -----------------
IP = Param("ip", NETWORK, help="An address or CIDR: reports whose scanned address is in it.")
INDIRECT = Param("indirect", BOOLEAN, False, "true: `ip` also matches ip items in any context (certificates).")
EXPRESSION = Param("expression", TEXT, help="An expression in the query language, e.g. port-tcp:443.")
FIELD = Param("field", TEXT, help="Legacy: an expression, ANDed with `expression`.")
QUERY = Param("query", TEXT, help="Legacy: an expression, ANDed with `expression`.")
KEYWORD = Param("keyword", TEXT, help="Legacy: words searched in every type, ANDed with `expression`.")
FILTER = Param("filter", TEXT, help="An expression; several are ORed, then ANDed with the rest.", repeatable=True)
SLOP = Param("slop", integer(0, MAX_SLOP), 0, "Extra word positions a phrase may use.")
FROM = Param("from", DATE, help="First day (inclusive), YYYY-MM-DD.")
TO = Param("to", DATE, help="Last day (inclusive), YYYY-MM-DD.")
MOST_RECENT = Param("most_recent", BOOLEAN, False, "true: only the newest matching report per {ip, port}.")
HOST_IN_URL = Param("host_in_url", BOOLEAN, False, "true: host terms also match the host of url items.")
ID = Param("id", {"type": "string", "maxLength": MAX_REPORT_ID_LENGTH}, help="One report by its id (history too).")
HISTORY = Param("history", BOOLEAN, False, "true: reports a successor supersedes match too.")
SELECTION = (
    *(IP, INDIRECT, EXPRESSION, FIELD, QUERY, KEYWORD, FILTER, SLOP, FROM, TO, MOST_RECENT, HOST_IN_URL),
    *(ID, HISTORY),
)

PAGE = Param("page", integer(0, MAX_PAGES - 1), 0, "Page number from 0, 100 results a page.")
SUMMARIZE = Param("summarize", TEXT, help="A type: summarise its values instead of returning reports.")
SUMMARY_CONTEXT = Param("summary_context", TEXT, help="Only values with one of these contexts.", repeatable=True)
SUMMARY_NOCONTEXT = Param("summary_nocontext", TEXT, help="Never values with these contexts.", repeatable=True)
SUMMARY_LIMIT = Param(
    "summary_limit",
    integer(1, SUMMARY_LIMIT_MAX_ENTERPRISE),
    SUMMARY_LIMIT_DEFAULT,
    "Most values returned: up to 10,000 (1,000,000 for enterprise tokens).",
)
SUMMARY_CARDINALITY = Param("summary_cardinality", BOOLEAN, False, "true: add the number of distinct values.")
SUMMARY = (SUMMARIZE, SUMMARY_CONTEXT, SUMMARY_NOCONTEXT, SUMMARY_LIMIT, SUMMARY_CARDINALITY)
TIMEOUT = Param(
    "timeout", SECONDS, help=f"Seconds the query may run (default the server's limit, {DEFAULT_QUERY_TIMEOUT:g})."
)

SCAN_PROTOCOLS = (*SELECTION, PAGE, *SUMMARY, TIMEOUT)  # also scan/domains and ct/log

# -- domain/rdns's own selectors -----------------------------------------------------------------------------
HOST = Param("host", TEXT, help="domain/rdns: reports with a host name under this domain (right-anchored).")
NAMESERVER = Param("nameserver", TEXT, help="domain/rdns: reports whose name server is under this domain.")
RDNS_SELECTORS = (HOST, NAMESERVER)
DOMAIN_RDNS = (*SCAN_PROTOCOLS, *RDNS_SELECTORS)

# -- multi/summary and scan/protocols/body -------------------------------------------------------------------
MULTI_SUMMARY_LIMIT = Param(
    "summary_limit",
    integer(1, SUMMARY_LIMIT_MAX_ENTERPRISE),
    MULTI_SUMMARY_LIMIT_DEFAULT,
    "Most values per type and dataset.",
)
MULTI_SUMMARY = (*SELECTION, MULTI_SUMMARY_LIMIT, TIMEOUT)
BODY_DATASET = Param("dataset", one_of(*BODY_DATASETS), PROTOCOLS, "The dataset whose bodies are searched.")
BODY = (*SELECTION, BODY_DATASET, PAGE, TIMEOUT)

# -- export --------------------------------------------------------------------------------------------------
FORMAT = Param("format", one_of("ndjson", "csv"), "ndjson", "ndjson (lossless, one report a line) or csv.")
TICKET = Param("ticket", TEXT, help="Instead of Authorization: a one-use ticket from export/link.")
DATASET = Param("dataset", one_of(*DATASETS), PROTOCOLS, "The dataset exported.")
EXPORT = (*SELECTION, DATASET, *RDNS_SELECTORS, FORMAT, TIMEOUT)

# -- open ports and prioritize -------------------------------------------------------------------------------
PORTS_IP = Param("ip", NETWORK, help="An address or CIDR (at most a /8 or a /32).", required=True)
PORTS = (PORTS_IP, FROM, TO, TIMEOUT)
TARGET_IP = Param("ip", ADDRESS, help="The one address to collect (inside the allow-list).", required=True)
TARGET_PORT = Param("port", integer(1, 65535), help="The TCP port to collect.", required=True)
PRIORITIZE = (TARGET_IP, TARGET_PORT)

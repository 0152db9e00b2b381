"""Turn Driftnet query parameters into store requests. Every malformed value raises BadParameter naming it."""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Callable, Collection
from dataclasses import replace

from starlette.datastructures import QueryParams

from shoal.collect.policy import ipv4_of_mapped
from shoal.errors import BadParameter, QueryError
from shoal.model import DATASETS, DOMAINS, PROTOCOLS, RDNS
from shoal.ports import WIDEST_PREFIX, window
from shoal.query.ast import And, Expr, Match, Or, Term
from shoal.query.check import CONTEXT_KEYWORDS, check
from shoal.query.parser import parse
from shoal.store.base import MAX_PAGES, MAX_SLOP, Filters, IPNetwork, PortQuery, SummaryRequest

TRUE_WORDS = {"true", "1", "yes"}
FALSE_WORDS = {"false", "0", "no", ""}
SUMMARY_LIMIT_DEFAULT = 100
MULTI_SUMMARY_LIMIT_DEFAULT = 10  # multi/summary's summary_limit
BODY_DATASETS = (PROTOCOLS, DOMAINS)  # the datasets whose reports have bodies (scan/protocols/body)
SUMMARY_LIMIT_MAX = 10_000
SUMMARY_LIMIT_MAX_ENTERPRISE = 1_000_000
MAX_PARAMETER_LENGTH = 4096
MAX_REPORT_ID_LENGTH = 128  # as Report.from_dict accepts


def single(params: QueryParams, name: str) -> str | None:
    """The parameter's value; a repeated single-valued parameter is an error rather than a silent pick."""
    values = params.getlist(name)
    if not values:
        return None
    if len(values) > 1:
        raise BadParameter(name, f"'{name}' may be given only once")
    if len(values[0]) > MAX_PARAMETER_LENGTH:
        raise BadParameter(name, f"'{name}' is longer than {MAX_PARAMETER_LENGTH} characters")
    return values[0]


def boolean(params: QueryParams, name: str) -> bool:
    value = single(params, name)
    if value is None:
        return False
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise BadParameter(name, f"'{name}' must be true or false, not {value!r}")


def integer(params: QueryParams, name: str, default: int, low: int, high: int, why: str = "") -> int:
    value = single(params, name)
    if value is None or value == "":
        return default
    stripped = value.strip()
    if not stripped.isascii() or not stripped.lstrip("-").isdigit() or len(stripped) > 12:
        raise BadParameter(name, f"'{name}' must be a whole number, not {value!r}")
    number = int(stripped)
    if not low <= number <= high:
        raise BadParameter(name, f"'{name}' must be between {low} and {high}{why}, not {number}")
    return number


def date(params: QueryParams, name: str) -> dt.date | None:
    value = single(params, name)
    if value is None or value == "":
        return None
    try:
        if len(value) != 10:
            raise ValueError(value)
        return dt.date.fromisoformat(value)
    except ValueError:
        raise BadParameter(name, f"'{name}' must be a date YYYY-MM-DD, not {value!r}") from None


def network(params: QueryParams, name: str) -> IPNetwork | None:
    """An address or CIDR; an IPv4-mapped one (``::ffff:8.8.8.8``) is its IPv4 network; no zone id."""
    value = single(params, name)
    if value is None or value == "":
        return None
    if "%" in value:
        raise BadParameter(
            name, f"'{name}' must not carry a zone id (%…): it names an interface of one machine, {value!r}"
        )
    try:
        parsed = ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        raise BadParameter(
            name, f"'{name}' must be an IP address or CIDR, e.g. 8.8.8.8 or 8.8.8.0/24, not {value!r}"
        ) from None
    return ipv4_of_mapped(parsed)


def expression_of(params: QueryParams, known_types: Collection[str]) -> Expr | None:
    """expression, field, query and keyword are ANDed; the filter values are ORed, then ANDed with the rest.

    ``query`` is free text: bare words search every type, as ``search-term:`` does (``query=nginx``), beside
    ordinary terms; ``expression`` keeps its strict syntax."""
    clauses: list[Expr] = []
    for name in ("expression", "field", "query"):
        text = single(params, name)
        if text is not None and text.strip():
            clauses.append(parsed(text, name, known_types, free_text=name == "query"))
    keyword = single(params, "keyword")
    if keyword is not None and keyword.strip():
        clauses.append(Term("search-term", Match.WORDS, keyword))
    filters = [parsed(text, "filter", known_types) for text in params.getlist("filter") if text.strip()]
    if filters:
        clauses.append(filters[0] if len(filters) == 1 else Or(tuple(filters)))
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else And(tuple(clauses))


def parsed(text: str, parameter: str, known_types: Collection[str], free_text: bool = False) -> Expr:
    try:
        return check(parse(text, free_text), known_types, source=text, free_text=free_text)
    except QueryError as exc:
        exc.parameter = parameter
        raise


def filters_of(params: QueryParams, known_types: Collection[str], dataset: str = PROTOCOLS) -> Filters:
    date_from, date_to = dates_of(params)
    return Filters(
        dataset=dataset,
        expression=expression_of(params, known_types),
        ip=network(params, "ip"),
        indirect=boolean(params, "indirect"),
        date_from=date_from,
        date_to=date_to,
        slop=integer(params, "slop", 0, 0, MAX_SLOP),
        host_in_url=boolean(params, "host_in_url"),
        most_recent=boolean(params, "most_recent"),
        report_id=report_id_of(params),
        history=boolean(params, "history"),
    )


def dataset_of(params: QueryParams, allowed: Collection[str] = DATASETS) -> str:
    """``dataset`` (Shoal, where one route serves several datasets): one of ``allowed``, default protocols."""
    value = (single(params, "dataset") or PROTOCOLS).strip()
    if value not in allowed:
        raise BadParameter("dataset", f"'dataset' must be one of {', '.join(allowed)}, not {value!r}")
    return value


def report_id_of(params: QueryParams) -> str | None:
    """``id`` (Shoal): one report by its id, even one a successor superseded (history)."""
    value = single(params, "id")
    if value is None or not value.strip():
        return None
    if len(value) > MAX_REPORT_ID_LENGTH:
        raise BadParameter("id", f"'id' is at most {MAX_REPORT_ID_LENGTH} characters long")
    return value.strip()


def with_terms(filters: Filters, terms: list[Expr]) -> Filters:
    """``filters`` with more terms ANDed to its expression."""
    if not terms:
        return filters
    clauses = ([filters.expression] if filters.expression is not None else []) + terms
    return replace(filters, expression=clauses[0] if len(clauses) == 1 else And(tuple(clauses)))


def host_selector(params: QueryParams, name: str, context: str | None) -> Expr | None:
    """A domain-name parameter (``host``, ``nameserver`` on domain/rdns) as a right-anchored ``host:`` term."""
    value = single(params, name)
    if value is None or not value.strip():
        return None
    term = Term("host", Match.WORDS, value.strip(), context)
    try:
        return check(term, ())
    except QueryError as exc:
        raise BadParameter(name, f"'{name}' must be a domain name, e.g. example.com: {exc.message}") from None


def rdns_selectors(params: QueryParams) -> list[Expr]:
    """domain/rdns: ``host`` (any host item under the domain) and ``nameserver`` (a host;dns-ns under it)."""
    selectors = [host_selector(params, "host", None), host_selector(params, "nameserver", "dns-ns")]
    return [selector for selector in selectors if selector is not None]


SELECTORS: dict[str, Callable[[QueryParams], list[Expr]]] = {RDNS: rdns_selectors}


def dataset_filters(params: QueryParams, known_types: Collection[str], dataset: str) -> Filters:
    """The request's selection of ``dataset``: the scan/protocols parameters plus the dataset's own selectors."""
    filters = filters_of(params, known_types, dataset)
    selectors = SELECTORS.get(dataset)
    return with_terms(filters, selectors(params)) if selectors else filters


def port_query_of(params: QueryParams, today: dt.date) -> PortQuery:
    """scan/ports and scan/ipports: ``ip`` (required, at most WIDEST_PREFIX wide), ``from``, ``to``."""
    ip = network(params, "ip")
    if ip is None:
        raise BadParameter("ip", "'ip' is required: an IP address or CIDR, e.g. 8.8.8.8 or 8.8.8.0/24")
    widest = WIDEST_PREFIX[ip.version]
    if ip.prefixlen < widest:
        raise BadParameter(
            "ip",
            f"'ip' {ip} is wider than /{widest}, the widest CIDR searched for open ports: "
            f"split it into /{widest} ranges (or smaller) and make one request for each",
        )
    date_from, date_to = dates_of(params)
    date_from, date_to = window(date_from, date_to, today)
    return PortQuery(ip, date_from, date_to)


def dates_of(params: QueryParams) -> tuple[dt.date | None, dt.date | None]:
    date_from, date_to = date(params, "from"), date(params, "to")
    if date_from and date_to and date_from > date_to:
        raise BadParameter("from", f"'from' ({date_from}) is after 'to' ({date_to})")
    return date_from, date_to


def page_of(params: QueryParams) -> int:
    return integer(params, "page", 0, 0, MAX_PAGES - 1, " (at most 100 pages of 100 results)")


def summary_of(params: QueryParams, known_types: Collection[str], enterprise: bool) -> SummaryRequest | None:
    summary_type = single(params, "summarize")
    if summary_type is None or summary_type == "":
        return None
    if summary_type not in known_types and summary_type not in CONTEXT_KEYWORDS:
        raise BadParameter("summarize", f"unknown type {summary_type!r} for 'summarize'")
    return SummaryRequest(
        type=summary_type,
        contexts=tuple(params.getlist("summary_context")),
        excluded_contexts=tuple(params.getlist("summary_nocontext")),
        limit=summary_limit_of(params, enterprise, SUMMARY_LIMIT_DEFAULT),
    )


def summary_limit_of(params: QueryParams, enterprise: bool, default: int) -> int:
    """``summary_limit``: 1 to 10,000 values, or to 1,000,000 for enterprise tokens."""
    ceiling = SUMMARY_LIMIT_MAX_ENTERPRISE if enterprise else SUMMARY_LIMIT_MAX
    why = "" if enterprise else " (up to 1,000,000 for enterprise tokens)"
    return integer(params, "summary_limit", default, 1, ceiling, why)

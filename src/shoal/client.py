"""A typed client for Shoal's HTTP API, and for Driftnet's: the paths, parameters and JSON are the same.

    from shoal.client import Client

    with Client("http://127.0.0.1:8080", token) as client:         # Client(): $SHOAL_URL/$SHOAL_TOKEN, or login's
        page = client.search("nginx", ip="8.8.8.0/24")                  # one page of 100 reports
        client.search(expression="product-tag:nginx")                    # strict syntax, as the API's expression=
        client.count("port-tcp:22")                                      # 2,375 hosts · 2,614 services
        client.count("port-tcp:22", history=True)                        # 11,926 reports (every dated one)
        client.host("8.8.8.8")                                           # country, org, AS, ports, services
        for report in client.iter_search("protocol=ssh"): ...            # every page (at most 10,000)
        summary = client.summarize("port-tcp", "product-tag:nginx", limit=10)
        client.ports("8.8.8.8"), client.ipports("8.8.8.0/24"), client.prioritize("8.8.8.8", 443), client.user()
        client.ip_summary("8.8.8.8", restrict="bgp")["entity"]["name"]  # who holds an address
        client.ip_reverse("example networks").results[0].cidr          # the networks a name holds
        for report in client.export("title:london"): ...                 # Shoal only: every match, streamed
        client.search("host:example.org", dataset="domains")             # scan/domains (also ct, rdns)
        client.summarize("host", dataset="rdns", host="example.org", contexts=["dns-ptr"])  # domain/rdns
        client.fdns(host="example.org"), client.mx(host="example.org"), client.favicons(murmur3="-1234")
        client.multi_summary("host:example.org").counts("port-tcp", "domains")  # many types in one call
        client.bodies(report_id=report.id).results[0].bodies[0].data    # the raw response behind a report

The first argument of a search, count, summary or export is free text, as a person types it (the API's
``query=``: bare words search every type, ``type:value`` terms as in expressions); ``expression=`` is the
strict query language. A 204 (nothing matched) is an empty result, never an error. Errors are raised as the
server's own exception classes (``shoal.errors``), rebuilt from the JSON error body, so a caller catches what
the server raised:

    ShoalError
    ├── BadParameter (400)              .parameter
    ├── QueryError (400)                .start, .end, .hint, .parameter
    │   └── QueryTooComplex (400)
    ├── Unauthorized (401), Forbidden (403), RequestTooLong (414)
    ├── TooManyRequests (429)           .retry_after
    │   └── QuotaExceeded (429)         .quota, .limit, .usage, .cost, .next_reset
    ├── QueryTimeout (504)              .seconds
    └── ApiError                        any other answer (404, 5xx, a body that is not Shoal's): .status, .code
        └── ConnectionFailed            no answer at all (refused, DNS, timeout): .status 0

Transport errors are translated in one place (``Client._send``), ``raise … from`` the httpx error.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from types import TracebackType
from typing import Any

import httpx
import orjson

from shoal.config import saved_server
from shoal.errors import (
    BadParameter,
    Forbidden,
    QueryError,
    QueryTimeout,
    QueryTooComplex,
    QuotaExceeded,
    RequestTooLong,
    ShoalError,
    TooManyRequests,
    Unauthorized,
)
from shoal.model import DATASET_TABLE, FAVICONS, FDNS, MX, PROTOCOLS, RDNS, Report
from shoal.request.answers import (
    NO_VALUES,
    BodyPage,
    Count,
    IpPortCounts,
    MultiSummary,
    NetworkMatch,
    NetworkPage,
    PeriodCounts,
    PortCounts,
    RawBody,
    ReportBodies,
    SearchPage,
    ValueCounts,
    by_count,
    has_hosts,
)
from shoal.request.export import ExportFormat
from shoal.request.hosts import Host, host_of, ptr_names_of
from shoal.request.params import (
    BODY_DATASET,
    DATASET,
    DIFF_IP,
    FORMAT,
    HOST_COUNT,
    MOST_RECENT,
    MULTI_SUMMARY_LIMIT,
    PAGE,
    PHRASE,
    PORTS_FROM,
    PORTS_IP,
    PORTS_TO,
    PORTS_TRANSPORT,
    RESTRICT,
    SINCE,
    SUMMARIZE,
    SUMMARY_CARDINALITY,
    SUMMARY_CONTEXT,
    SUMMARY_INTERVAL,
    SUMMARY_IP,
    SUMMARY_LIMIT,
    SUMMARY_NOCONTEXT,
    TARGET_IP,
    TARGET_PORT,
    TARGET_TRANSPORT,
    UNTIL,
    Param,
)
from shoal.request.selection import Selection, selectors_elsewhere

DEFAULT_TIMEOUT = 60.0
__all__ = [
    "NO_VALUES",
    "ApiError",
    "BodyPage",
    "Client",
    "ConnectionFailed",
    "Count",
    "ExportStream",
    "Host",
    "IpPortCounts",
    "MultiSummary",
    "NetworkMatch",
    "NetworkPage",
    "PortCounts",
    "RawBody",
    "ReportBodies",
    "SearchPage",
    "Selection",
    "ValueCounts",
    "error_of",
]


class ApiError(ShoalError):
    """An answer that is neither a result nor one of Shoal's known errors."""

    def __init__(self, status: int, message: str, code: str = "http") -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class ConnectionFailed(ApiError):
    def __init__(self, message: str) -> None:
        super().__init__(0, message, "connection")


def raw_body(item: dict[str, Any]) -> RawBody:
    text = str(item["data"])
    data = base64.b64decode(text) if item.get("encoding") == "base64" else text.encode()
    return RawBody(
        str(item.get("context", "")),
        str(item["sha256"]),
        int(item["length"]),
        bool(item.get("truncated", False)),
        str(item.get("content_type", "")),
        data,
    )


def endpoint(dataset: str, selection: Selection) -> str:
    """The search endpoint of ``dataset`` (its row's path); a dataset's own selectors are sent to it alone, never
    silently ignored elsewhere."""
    row = DATASET_TABLE.get(dataset)
    if row is None:
        raise ValueError(f"unknown dataset {dataset!r}: one of {', '.join(DATASET_TABLE)}")
    misplaced = selectors_elsewhere(row, selection)
    if misplaced:
        raise TypeError(misplaced)
    return row.path


def selected(query: str, selection: Selection | None, options: dict[str, Any]) -> Selection:
    """The selection of a call: ``selection=``, or the free-text query and keyword arguments (``Selection.of``:
    ``expression=`` is the strict syntax)."""
    if selection is None:
        return Selection.of(query=query or None, **options)
    if query or options:
        raise TypeError("give a selection= or a query and search options, not both")
    return selection


def given(*pairs: tuple[Param[Any], Any]) -> list[tuple[str, str]]:
    """Query parameters from (parameter, value) pairs, each written as the API reads it (defaults left out)."""
    return [(param.name, text) for param, value in pairs for text in param.format(value)]


def port_params(
    ip: str, date_from: dt.date | str | None, date_to: dt.date | str | None, transport: str
) -> list[tuple[str, str]]:
    """scan/ports' and scan/ipports' query parameters."""
    return given((PORTS_IP, ip), (PORTS_FROM, date_from), (PORTS_TO, date_to), (PORTS_TRANSPORT, transport))


def period_counts(body: dict[str, Any]) -> PeriodCounts:
    summary = body.get("summary")
    counts = None if summary is None else ValueCounts(by_count(summary["values"]), int(summary.get("other", 0)))
    first, last = dt.date.fromisoformat(body["from"]), dt.date.fromisoformat(body["to"])
    return PeriodCounts(first, last, int(body["result_count"]), counts)


def port_counts(body: dict[str, Any]) -> PortCounts:
    values = {int(port): int(n) for port, n in body.get("values", {}).items()}
    return PortCounts(by_count(values), int(body.get("other", 0)), bool(body.get("honeypot", False)))


# -- errors: one builder per Shoal error code, then by status for anything else --------------------------------

Detail = dict[str, Any]


def _retry_after(response: httpx.Response) -> int:
    value = response.headers.get("retry-after", "1")
    return int(value) if value.isdigit() else 1


def _query_error(kind: type[QueryError]) -> Callable[[str, Detail, httpx.Response], ShoalError]:
    def build(message: str, detail: Detail, _: httpx.Response) -> ShoalError:
        start, end = int(detail.get("start", 0)), int(detail.get("end", 0))
        return kind(message, start, end, str(detail.get("hint", "")), parameter=str(detail.get("parameter", "")))

    return build


def _quota(message: str, detail: Detail, response: httpx.Response) -> ShoalError:
    quota = str(detail.get("quota", "api_limit")).removesuffix("_limit")
    return QuotaExceeded(
        quota,
        int(detail.get("limit", 0)),
        int(detail.get("usage", 0)),
        int(detail.get("cost", 0)),
        str(detail.get("next_reset", "")),
        _retry_after(response),
    )


ERRORS_BY_CODE: dict[str, Callable[[str, Detail, httpx.Response], ShoalError]] = {
    "bad_parameter": lambda message, detail, _: BadParameter(str(detail.get("parameter", "")), message),
    "query_syntax": _query_error(QueryError),
    "query_too_complex": _query_error(QueryTooComplex),
    "unauthorized": lambda message, _, __: Unauthorized(message),
    "forbidden": lambda message, _, __: Forbidden(message),
    "request_too_long": lambda message, _, __: RequestTooLong(message),
    "too_many_requests": lambda message, _, response: TooManyRequests(message, _retry_after(response)),
    "quota_exceeded": _quota,
    "query_timeout": lambda _, detail, __: QueryTimeout(float(detail.get("timeout", 0))),
}
ERRORS_BY_STATUS: dict[int, Callable[[str, Detail, httpx.Response], ShoalError]] = {
    400: lambda message, detail, _: BadParameter(str(detail.get("parameter", "")), message),
    401: ERRORS_BY_CODE["unauthorized"],
    403: ERRORS_BY_CODE["forbidden"],
    414: ERRORS_BY_CODE["request_too_long"],
    429: ERRORS_BY_CODE["too_many_requests"],
}


def error_of(response: httpx.Response) -> ShoalError:
    """The exception an error answer stands for (Shoal's JSON error shape, or any other body)."""
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        body = None
    if not isinstance(body, dict):
        body = {}
    details = body.get("detail")
    detail: Detail = details[0] if isinstance(details, list) and details and isinstance(details[0], dict) else {}
    message = str(body.get("error") or detail.get("message") or response.text[:200] or response.reason_phrase)
    build = ERRORS_BY_CODE.get(str(body.get("code"))) or ERRORS_BY_STATUS.get(response.status_code)
    if build is None:
        return ApiError(response.status_code, message, str(body.get("code") or "http"))
    return build(message, detail, response)


class ExportStream:
    """An export under way: ``result_count`` (None if the server did not say), then ``chunks()`` once."""

    def __init__(self, response: httpx.Response, base_url: str) -> None:
        self.response = response
        self.base_url = base_url
        counted = response.headers.get("x-result-count", "")
        self.result_count: int | None = (
            0 if response.status_code == 204 else int(counted) if counted.isdigit() else None
        )

    def chunks(self) -> Iterator[bytes]:
        try:
            if self.response.status_code != 204:
                yield from self.response.iter_bytes()
        except httpx.TransportError as exc:
            raise ConnectionFailed(f"the export from {self.base_url} broke off: {exc}") from exc
        finally:
            self.response.close()

    def close(self) -> None:
        self.response.close()


class Client:
    def __init__(
        self,
        base_url: str | None = None,
        token: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        """A client of the server at ``base_url`` with ``token``; without them, ``$SHOAL_URL`` and
        ``$SHOAL_TOKEN``, else what ``shoal login`` saved (a ShoalError says what to set when nothing is)."""
        if base_url is None or token is None:
            saved_url, saved_token = saved_server()
            base_url, token = base_url or saved_url, token or saved_token
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {token}", "User-Agent": "shoal-client"},
            timeout=timeout,
            transport=transport,
        )

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # -- transport ----------------------------------------------------------------------------------------

    def _send(self, method: str, path: str, params: Sequence[tuple[str, str]], stream: bool = False) -> httpx.Response:
        """The answer to one call; an error answer or no answer raises (the one place httpx errors are seen)."""
        request = self._http.build_request(method, path, params=list(params))
        try:
            response = self._http.send(request, stream=stream)
        except httpx.TransportError as exc:
            raise ConnectionFailed(f"no answer from {self.base_url}: {exc}") from exc
        if response.is_success:
            return response
        if stream:
            response.read()
            response.close()
        raise error_of(response)

    def _json(self, path: str, params: Sequence[tuple[str, str]]) -> Any:
        """The JSON body, or None for 204 (nothing matched)."""
        response = self._send("GET", path, params)
        return None if response.status_code == 204 or not response.content else orjson.loads(response.content)

    # -- endpoints ----------------------------------------------------------------------------------------
    # A search's first argument is free text (``query=``); the rest of its selection comes as keyword arguments
    # named as ``Selection``'s fields (``ip=``, ``date_from=``, ``most_recent=``, ``filters=``, ``expression=``,
    # ``report_id=``, ``history=``…) or a dataset's own selectors (``host=``, ``nameserver=`` on rdns; ``mx=`` on
    # mx; ``murmur3=`` on favicons…), read as the API reads them; or as one ``selection=Selection(...)``.

    def search(
        self,
        query: str = "",
        *,
        page: int = 0,
        dataset: str = PROTOCOLS,
        host_count: bool = False,
        selection: Selection | None = None,
        **options: Any,
    ) -> SearchPage:
        """One page (100 reports, newest first) of a dataset's search endpoint: ``GET /v1/scan/protocols``,
        ``/v1/scan/domains``, ``/v1/ct/log``, ``/v1/domain/rdns`` (``host=``, ``nameserver=``) or another
        dataset's (``shoal.model.DATASET_TABLE``), with its own selectors. ``host_count=True`` (Shoal): the page
        says on how many distinct hosts the matches are (``.host_count``; None from a server without it)."""
        chosen = selected(query, selection, options)
        asked = given((PAGE, page), (HOST_COUNT, host_count))
        body = self._json(endpoint(dataset, chosen), [*chosen.params(), *asked])
        if body is None:
            return SearchPage(page, 0, 0, [], 0 if host_count else None)
        results = [Report.from_dict(raw, dataset) for raw in body["results"]]
        hosts = body.get("host_count")
        counted = SearchPage(int(body["page"]), int(body["pages"]), int(body["result_count"]), results)
        return counted if hosts is None else replace(counted, host_count=int(hosts))

    def favicons(self, query: str = "", *, page: int = 0, **options: Any) -> SearchPage:
        """``GET /v1/scan/favicons``: favicons by ``md5=``, ``sha1=``, ``sha256=``, ``murmur3=`` (each exact) and
        anything ``search`` takes (``field="url:example.org"``, ``most_recent=True``…)."""
        return self.search(query, page=page, dataset=FAVICONS, **options)

    def fdns(self, query: str = "", *, page: int = 0, **options: Any) -> SearchPage:
        """``GET /v1/domain/fdns``: names' A, AAAA, CNAME and NS answers by ``host=`` (the name and its
        subdomains), ``ip=`` (an address or CIDR they point to), ``nameserver=``, and anything ``search`` takes."""
        return self.search(query, page=page, dataset=FDNS, **options)

    def mx(self, query: str = "", *, page: int = 0, **options: Any) -> SearchPage:
        """``GET /v1/domain/mx``: names' MX and TXT records (SPF, DMARC) by ``host=`` (the name and its
        subdomains), ``mx=`` (an exchange under a domain), and anything ``search`` takes."""
        return self.search(query, page=page, dataset=MX, **options)

    def iter_search(
        self, query: str = "", *, dataset: str = PROTOCOLS, selection: Selection | None = None, **options: Any
    ) -> Iterator[Report]:
        """Every report the API pages through (at most 100 pages of 100): newest first."""
        chosen = selected(query, selection, options)
        page = 0
        while True:
            found = self.search(page=page, dataset=dataset, selection=chosen)
            yield from found.results
            page += 1
            if page >= found.pages:
                return

    def summarize(
        self,
        summary_type: str,
        query: str = "",
        *,
        dataset: str = PROTOCOLS,
        limit: int | None = None,
        contexts: Sequence[str] = (),
        excluded_contexts: Sequence[str] = (),
        cardinality: bool = False,
        selection: Selection | None = None,
        **options: Any,
    ) -> ValueCounts:
        """``summarize=TYPE``: values of that type over the matching reports of ``dataset``, highest first."""
        chosen = selected(query, selection, options)
        summary = given(
            (SUMMARIZE, summary_type),
            (SUMMARY_LIMIT, limit),
            (SUMMARY_CONTEXT, tuple(contexts)),
            (SUMMARY_NOCONTEXT, tuple(excluded_contexts)),
            (SUMMARY_CARDINALITY, cardinality),
        )
        body = self._json(endpoint(dataset, chosen), [*chosen.params(), *summary])
        if body is None:
            return NO_VALUES
        summary_body = body["summary"]
        values = by_count(summary_body["values"])
        return ValueCounts(values, int(summary_body.get("other", 0)), summary_body.get("cardinality"))

    def trend(
        self,
        interval: str,
        summary_type: str | None = None,
        query: str = "",
        *,
        dataset: str = PROTOCOLS,
        limit: int | None = None,
        selection: Selection | None = None,
        **options: Any,
    ) -> list[PeriodCounts]:
        """``summary_interval`` (Shoal): the matching reports counted per day, week or month of ``date_from`` to
        ``date_to`` (and, with ``summary_type``, that type's top ``limit`` values in each)."""
        chosen = selected(query, selection, options)
        asked = given((SUMMARY_INTERVAL, interval), (SUMMARIZE, summary_type), (SUMMARY_LIMIT, limit))
        body = self._json(endpoint(dataset, chosen), [*chosen.params(), *asked]) or {"intervals": []}
        return [period_counts(entry) for entry in body["intervals"]]

    def count(
        self,
        query: str = "",
        *,
        history: bool = False,
        dataset: str = PROTOCOLS,
        selection: Selection | None = None,
        **options: Any,
    ) -> Count:
        """How many services match (the newest report of each, ``most_recent``) and on how many hosts, as
        ``shoal count`` says it (``str(count)``: "2,375 hosts · 2,614 services"; ``int(count)``: the services);
        ``history=True``: every dated report instead. One call, costing two units: the page's ``host_count``
        (Shoal, any token; ``hosts`` is None from a server without it, such as Driftnet)."""
        if selection is None:
            options.setdefault(MOST_RECENT.attribute, not history)
        chosen = selected(query, selection, options)
        hosts = has_hosts(dataset)
        found = self.search(page=0, dataset=dataset, host_count=hosts, selection=chosen)
        unit = DATASET_TABLE[dataset].unit if chosen.most_recent else "report"
        return Count(found.result_count, unit, found.host_count)

    def host(self, ip: str) -> Host:
        """What is known about one address, as ``shoal host`` shows it: country, organisation, AS, tags, PTR
        names, first and last seen (over at most the newest 10,000 reports), open ports, and the newest
        report of each port."""
        services = list(self.iter_search(ip=ip, most_recent=True))
        every = self.search(ip=ip)
        last_seen = every.results[0].date if every.results else None
        oldest = self.search(ip=ip, page=every.pages - 1) if every.pages > 1 else every
        first_seen = oldest.results[-1].date if oldest.results else None
        ptr_names = ptr_names_of(self.search(dataset=RDNS, ip=ip).results)
        return host_of(ip, services, ptr_names, first_seen, last_seen)

    def multi_summary(
        self, query: str = "", *, limit: int | None = None, selection: Selection | None = None, **options: Any
    ) -> MultiSummary:
        """``GET /v1/multi/summary``: every type's top ``limit`` values (default 10) over the matching reports
        of the protocols and domains datasets, in one call. Nothing matched: both sections empty."""
        chosen = selected(query, selection, options)
        body = self._json("/v1/multi/summary", [*chosen.params(), *given((MULTI_SUMMARY_LIMIT, limit))]) or {}

        def section(name: str) -> dict[str, dict[str, ValueCounts]]:
            return {
                item_type: {
                    dataset: ValueCounts(
                        by_count(values), int(counts["other"][dataset]), counts["cardinality"][dataset]
                    )
                    for dataset, values in counts["values"].items()
                }
                for item_type, counts in body.get(name, {}).items()
            }

        return MultiSummary(section("observations"), section("enrichments"))

    def bodies(
        self,
        query: str = "",
        *,
        page: int = 0,
        dataset: str = PROTOCOLS,
        selection: Selection | None = None,
        **options: Any,
    ) -> BodyPage:
        """``GET /v1/scan/protocols/body``: the raw responses behind matching reports of ``protocols`` or
        ``domains`` (``report_id=`` for one report's), a page of reports at a time."""
        chosen = selected(query, selection, options)
        params = [*chosen.params(), *given((PAGE, page)), (BODY_DATASET.name, dataset)]
        body = self._json("/v1/scan/protocols/body", params)
        if body is None:
            return BodyPage(page, 0, 0, [])
        results = [
            ReportBodies(
                dt.date.fromisoformat(raw["date"]),
                raw["id"],
                raw.get("ip"),
                raw.get("port"),
                [raw_body(item) for item in raw["bodies"]],
            )
            for raw in body["results"]
        ]
        return BodyPage(int(body["page"]), int(body["pages"]), int(body["result_count"]), results)

    def ports(
        self,
        ip: str,
        date_from: dt.date | str | None = None,
        date_to: dt.date | str | None = None,
        transport: str = "tcp",
    ) -> PortCounts:
        """``GET /v1/scan/ports``: open-port observations over an address or CIDR (``transport="udp"``: Shoal's UDP
        observations)."""
        body = self._json("/v1/scan/ports", port_params(ip, date_from, date_to, transport))
        return port_counts(body) if body is not None else PortCounts({}, 0)

    def ipports(
        self,
        ip: str,
        date_from: dt.date | str | None = None,
        date_to: dt.date | str | None = None,
        transport: str = "tcp",
    ) -> IpPortCounts:
        """``GET /v1/scan/ipports``: open-port observations per IP of a CIDR."""
        body = self._json("/v1/scan/ipports", port_params(ip, date_from, date_to, transport))
        if body is None:
            return IpPortCounts({}, 0)
        return IpPortCounts({ip: port_counts(ports) for ip, ports in body["values"].items()}, int(body["other"]))

    def diff(self, ip: str, since: dt.date | str, until: dt.date | str | None = None) -> dict[str, Any]:
        """``GET /v1/scan/protocols/diff`` (Shoal): services opened, closed and changed on an address or network
        since a day (``shoal.diffs``); nothing changed: empty lists."""
        body = self._json("/v1/scan/protocols/diff", given((DIFF_IP, ip), (SINCE, since), (UNTIL, until)))
        if body is None:
            end = None if until is None else str(until)
            return {"ip": ip, "since": str(since), "until": end, "opened": [], "closed": [], "changed": []}
        return body

    def prioritize(self, ip: str, port: int, transport: str = "tcp") -> dict[str, Any]:
        """``GET /v1/scan/protocols/prioritize``: ask for a collection of ip:port soon (``transport="udp"``: of a
        UDP port, Shoal's extension)."""
        query = given((TARGET_IP, ip), (TARGET_PORT, port), (TARGET_TRANSPORT, transport))
        return self._json("/v1/scan/protocols/prioritize", query) or {}

    def ip_summary(self, ip: str, restrict: str | None = None) -> dict[str, dict[str, str]]:
        """``GET /v1/ip/summary``: ``{"domain": {...}, "entity": {...}}`` for one address (``restrict``: whois,
        bgp, rwhois or rdns); a key is absent when nothing is known for it, and nothing known is ``{}``."""
        return self._json("/v1/ip/summary", given((SUMMARY_IP, ip), (RESTRICT, restrict))) or {}

    def ip_reverse(self, phrase: str, page: int = 0) -> NetworkPage:
        """``GET /v1/ip/reverse``: one page (100) of the networks whose registered names hold every word."""
        body = self._json("/v1/ip/reverse", given((PHRASE, phrase), (PAGE, page)))
        if body is None:
            return NetworkPage(page, 0, 0, [])
        results = [NetworkMatch(raw["cidr"], list(raw["contexts"]), list(raw["matches"])) for raw in body["results"]]
        return NetworkPage(int(body["page"]), int(body["pages"]), int(body["result_count"]), results)

    def user(self) -> dict[str, Any]:
        """``GET /v1/admin/user``: the token's class and quota."""
        return self._json("/v1/admin/user", []) or {}

    def open_export(
        self,
        query: str = "",
        *,
        export_format: ExportFormat = "ndjson",
        dataset: str = PROTOCOLS,
        selection: Selection | None = None,
        **options: Any,
    ) -> ExportStream:
        """Start Shoal's ``GET /v1/scan/protocols/export`` (of any ``dataset``): the answer's ``result_count``
        (from its ``X-Result-Count``; 0 for 204) is known at once, its ``chunks()`` as they arrive. Read or
        close it."""
        chosen = selected(query, selection, options)
        endpoint(dataset, chosen)  # a known dataset, and its own selectors only
        params = [*chosen.params(), (FORMAT.name, export_format), (DATASET.name, dataset)]
        return ExportStream(self._send("GET", "/v1/scan/protocols/export", params, stream=True), self.base_url)

    def export_bytes(
        self,
        query: str = "",
        *,
        export_format: ExportFormat = "ndjson",
        dataset: str = PROTOCOLS,
        selection: Selection | None = None,
        **options: Any,
    ) -> Iterator[bytes]:
        """Shoal's ``GET /v1/scan/protocols/export``: every match as NDJSON or CSV, in chunks as they arrive."""
        chosen = selected(query, selection, options)
        yield from self.open_export(export_format=export_format, dataset=dataset, selection=chosen).chunks()

    def export(
        self, query: str = "", *, dataset: str = PROTOCOLS, selection: Selection | None = None, **options: Any
    ) -> Iterator[Report]:
        """Every matching report, newest first, with no 10,000 cap (constant memory on both sides)."""
        pending = b""
        for chunk in self.export_bytes(query, dataset=dataset, selection=selection, **options):
            lines = (pending + chunk).split(b"\n")
            pending = lines.pop()
            for line in lines:
                if line:
                    yield Report.from_dict(orjson.loads(line), dataset)
        if pending.strip():
            yield Report.from_dict(orjson.loads(pending), dataset)

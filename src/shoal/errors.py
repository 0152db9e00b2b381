"""The one exception tree of Shoal.

    ShoalError                     root; ``status`` is the HTTP status the API answers with
    ├── BadParameter (400)         a request parameter is malformed; names the parameter
    ├── UnknownFormat (400)        an import whose format no reader recognises; names the ones that are
    ├── QueryError (400)           an expression is malformed; carries start/end offsets and a hint
    │   └── QueryTooComplex (400)  length or nesting caps exceeded
    ├── RequestTooLong (414)       the query string or the request line is longer than the server accepts
    ├── RequestTimeout (408)       a request did not arrive whole in time (slow or stalled client)
    ├── HeadersTooLarge (431)      the request line and headers are over the server's limit
    ├── MalformedRequest (400)     bytes the HTTP parser refuses (answered before the app runs)
    ├── Unauthorized (401)         missing or unknown token
    ├── Forbidden (403)            the token may not do this (e.g. an enterprise-only option)
    │   └── TargetNotAllowed (403) a scan target outside the collector's allow-list, or on its deny-list
    ├── TooManyRequests (429)      more concurrent queries than the token may run; carries retry_after
    │   ├── QuotaExceeded (429)    a monthly quota is used up; names it, its limit and when it resets
    │   └── TooManyConnections (429)  more open connections from one client address than allowed
    ├── ServerBusy (503)           every connection the process may hold is serving a request
    ├── QueryTimeout (504)         the query ran longer than its time limit
    ├── NoResults (204)            nothing matched; rendered as an empty body
    └── StoreError (503)           the engine failed or is unreachable; never caused by user input
        └── DiskFull (507)         the file system holding the data is full; nothing was half-written

Every subclass carries structured fields; ``shoal.api.errors`` renders them in one JSON shape (plus the
headers ``headers()`` asks for, e.g. ``Retry-After``) and the CLI prints them with a caret under the
offending span.
"""

from __future__ import annotations

from dataclasses import dataclass


class ShoalError(Exception):
    status: int = 500
    code: str = "internal"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def details(self) -> list[dict[str, object]]:
        return [{"message": self.message}]

    def headers(self) -> dict[str, str]:
        return {}


class BadParameter(ShoalError):
    status = 400
    code = "bad_parameter"

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter

    def details(self) -> list[dict[str, object]]:
        return [{"message": self.message, "parameter": self.parameter}]


class UnknownFormat(ShoalError):
    status = 400
    code = "unknown_format"

    def __init__(self, source: str, known: list[str]) -> None:
        super().__init__(f"{source}: not a format shoal import reads (it reads: {'; '.join(known)})")
        self.source = source


@dataclass(frozen=True)
class QueryProblem:
    """One thing wrong with an expression, located by character offsets [start, end)."""

    message: str
    start: int
    end: int
    hint: str = ""

    def as_dict(self) -> dict[str, object]:
        return {"message": self.message, "start": self.start, "end": self.end, "hint": self.hint}


class QueryError(ShoalError):
    status = 400
    code = "query_syntax"

    def __init__(self, message: str, start: int, end: int, hint: str = "", *, parameter: str = "expression") -> None:
        super().__init__(message)
        self.problem = QueryProblem(message, start, end, hint)
        self.parameter = parameter

    @property
    def start(self) -> int:
        return self.problem.start

    @property
    def end(self) -> int:
        return self.problem.end

    @property
    def hint(self) -> str:
        return self.problem.hint

    def details(self) -> list[dict[str, object]]:
        return [{**self.problem.as_dict(), "parameter": self.parameter}]


class QueryTooComplex(QueryError):
    code = "query_too_complex"


class RequestTooLong(ShoalError):
    status = 414
    code = "request_too_long"


class RequestTimeout(ShoalError):
    status = 408
    code = "request_timeout"


class HeadersTooLarge(ShoalError):
    status = 431
    code = "headers_too_large"


class MalformedRequest(ShoalError):
    status = 400
    code = "malformed_request"


class Unauthorized(ShoalError):
    status = 401
    code = "unauthorized"

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": "Bearer"}


class Forbidden(ShoalError):
    status = 403
    code = "forbidden"


class TargetNotAllowed(Forbidden):
    code = "target_not_allowed"

    def __init__(self, target: str, message: str) -> None:
        super().__init__(message)
        self.target = target

    def details(self) -> list[dict[str, object]]:
        return [{"message": self.message, "parameter": "ip", "target": self.target}]


class TooManyRequests(ShoalError):
    status = 429
    code = "too_many_requests"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, retry_after)

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class QuotaExceeded(TooManyRequests):
    code = "quota_exceeded"

    def __init__(self, quota: str, limit: int, usage: int, cost: int, next_reset: str, retry_after: int) -> None:
        super().__init__(
            f"the monthly {quota}_limit of {limit:,} units is used up ({usage:,} used, this call costs {cost:,});"
            f" it resets at {next_reset}",
            retry_after,
        )
        self.quota, self.limit, self.usage, self.cost, self.next_reset = quota, limit, usage, cost, next_reset

    def details(self) -> list[dict[str, object]]:
        return [
            {
                "message": self.message,
                "quota": f"{self.quota}_limit",
                "limit": self.limit,
                "usage": self.usage,
                "cost": self.cost,
                "next_reset": self.next_reset,
            }
        ]


class TooManyConnections(TooManyRequests):
    code = "too_many_connections"

    def __init__(self, message: str) -> None:
        super().__init__(f"{message}; close some, or retry in a moment", 1)


class ServerBusy(ShoalError):
    status = 503
    code = "server_busy"

    def headers(self) -> dict[str, str]:
        return {"Retry-After": "1"}


class QueryTimeout(ShoalError):
    status = 504
    code = "query_timeout"

    def __init__(self, seconds: float, estimate: float | None = None) -> None:
        if estimate is None:
            said = f"the query did not finish within its time limit of {seconds:g} s"
        else:  # refused before a step that could not have been stopped in time
            said = f"the query would take about {estimate:.2g} s, more than its time limit of {seconds:g} s leaves"
        super().__init__(f"{said}; narrow it, or raise 'timeout'")
        self.seconds = seconds

    def details(self) -> list[dict[str, object]]:
        return [{"message": self.message, "parameter": "timeout", "timeout": self.seconds}]


class NoResults(ShoalError):
    status = 204
    code = "no_results"

    def __init__(self) -> None:
        super().__init__("no results")


class StoreError(ShoalError):
    status = 503
    code = "store"


class DiskFull(StoreError):
    status = 507
    code = "disk_full"

    def __init__(self, message: str, path: object = None) -> None:
        super().__init__(message)
        self.path = path  # where the write was going (for the CLI's description of the file system)

"""The one exception tree of Shoal.

    ShoalError                     root; ``status`` is the HTTP status the API answers with
    ├── BadParameter (400)         a request parameter is malformed; names the parameter
    ├── QueryError (400)           an expression is malformed; carries start/end offsets and a hint
    │   └── QueryTooComplex (400)  length or nesting caps exceeded
    ├── Unauthorized (401)         missing or unknown token
    ├── Forbidden (403)            the token may not do this (e.g. an enterprise-only option)
    ├── NoResults (204)            nothing matched; rendered as an empty body
    └── StoreError (500)           the engine failed; never caused by user input

Every subclass carries structured fields; ``shoal.api.errors`` renders them in one JSON shape
and the CLI prints them with a caret under the offending span.
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


class BadParameter(ShoalError):
    status = 400
    code = "bad_parameter"

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter

    def details(self) -> list[dict[str, object]]:
        return [{"message": self.message, "parameter": self.parameter}]


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


class Unauthorized(ShoalError):
    status = 401
    code = "unauthorized"


class Forbidden(ShoalError):
    status = 403
    code = "forbidden"


class NoResults(ShoalError):
    status = 204
    code = "no_results"

    def __init__(self) -> None:
        super().__init__("no results")


class StoreError(ShoalError):
    status = 500
    code = "store"

"""What selects reports, typed: a ``Selection`` holds every parameter of ``SELECTION`` (and a dataset's own
selectors) as the API reads it. The API reads one from a request (``Selection.read``), the client and the command
line make one from keyword arguments (``Selection.of``); each becomes the store's ``Filters`` directly
(``Selection.as_filters``), or query parameters again on its way to a server (``Selection.params``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection
from dataclasses import dataclass, replace
from typing import Any

from shoal.errors import BadParameter, QueryError
from shoal.model import DATASET_TABLE, PROTOCOLS, Dataset, IPNetwork, Selector
from shoal.query.ast import And, Expr, Match, Or, Term
from shoal.query.check import check
from shoal.query.parser import parse
from shoal.request.params import DATASET, SELECTION, SELECTORS, Values
from shoal.store.base import Filters

BY_ATTRIBUTE = {param.attribute: param for param in SELECTION}


@dataclass(frozen=True, slots=True)
class Selection:
    ip: IPNetwork | None = None  # the scanned address is in it
    indirect: bool = False  # ``ip`` also matches ip items in any context (a certificate's)
    expression: str | None = None  # the query language, strict
    field: str | None = None  # legacy: an expression
    query: str | None = None  # free text: bare words search every type
    keyword: str | None = None  # legacy: words searched in every type
    filters: tuple[str, ...] = ()  # expressions, ORed together
    slop: int = 0
    date_from: dt.date | None = None  # inclusive
    date_to: dt.date | None = None  # inclusive
    most_recent: bool = False  # the newest matching report of each identity (the dataset's)
    host_in_url: bool = False
    report_id: str | None = None  # one report by its id, even a superseded one
    history: bool = False  # superseded reports match too
    selectors: tuple[tuple[str, str], ...] = ()  # (name, value) of a dataset's own parameters (domain/rdns's host)

    def __post_init__(self) -> None:
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise BadParameter("from", f"'from' ({self.date_from}) is after 'to' ({self.date_to})")

    @classmethod
    def read(cls, values: Values, dataset: str | None = None, every_selector: bool = False) -> Selection:
        """A request's selection; ``dataset``: with that dataset's own selectors (other parameters are ignored,
        as unknown ones are). ``every_selector``: with the selectors of every dataset, for a route that declares
        them all (the export): one that is not ``dataset``'s is then refused by ``as_filters``, never ignored."""
        fields = {param.attribute: param.read(values) for param in SELECTION}
        own = DATASET_TABLE[dataset].selectors if dataset is not None else ()
        names = SELECTORS if every_selector else [selector.name for selector in own]
        given = ((name, SELECTORS[name].read(values)) for name in names)
        return cls(**fields, selectors=tuple((name, value) for name, value in given if value is not None))

    @classmethod
    def of(cls, **options: Any) -> Selection:
        """A selection from keyword arguments named as its fields (``date_from=``, ``report_id=``, ``filters=``)
        or as a dataset's selectors (``host=``). Text is read as the API reads it, so it fails the same way;
        None is the default."""
        unknown = sorted(set(options) - set(BY_ATTRIBUTE) - set(SELECTORS))
        if unknown:
            raise TypeError(f"unknown search option(s): {', '.join(unknown)}")
        fields = {name: BY_ATTRIBUTE[name].take(value) for name, value in options.items() if name in BY_ATTRIBUTE}
        given = [(name, SELECTORS[name].take(value)) for name, value in options.items() if name in SELECTORS]
        chosen = {name: value for name, value in fields.items() if value is not None}
        return cls(**chosen, selectors=tuple((name, value) for name, value in given if value is not None))

    def params(self) -> list[tuple[str, str]]:
        """The selection as query parameters, as the API names them (defaults left out)."""
        pairs = [(param.name, text) for param in SELECTION for text in param.format(getattr(self, param.attribute))]
        return pairs + list(self.selectors)

    def as_filters(self, known_types: Collection[str], dataset: str = PROTOCOLS) -> Filters:
        """The store's filters for this selection of ``dataset``: its expressions parsed and checked against
        ``known_types``, its dataset's selectors ANDed."""
        row = checked_dataset(dataset, self)
        selected = Filters(
            dataset=dataset,
            expression=expression_of(self, known_types),
            ip=self.ip,
            indirect=self.indirect or row.ip_in_any_context,
            date_from=self.date_from,
            date_to=self.date_to,
            slop=self.slop,
            host_in_url=self.host_in_url,
            most_recent=self.most_recent,
            report_id=self.report_id,
            history=self.history,
        )
        own = {selector.name: selector for selector in row.selectors}
        return with_terms(selected, [selector_term(own[name], value) for name, value in self.selectors])


def checked_dataset(dataset: str, selection: Selection) -> Dataset:
    """The dataset's row; a selector of another dataset is an error naming it (never silently ignored)."""
    row = DATASET_TABLE.get(dataset)
    if row is None:
        raise BadParameter(DATASET.name, f"unknown dataset {dataset!r}: one of {', '.join(DATASET_TABLE)}")
    misplaced = selectors_elsewhere(row, selection)
    if misplaced:
        own = {selector.name for selector in row.selectors}
        raise BadParameter(next(name for name, _ in selection.selectors if name not in own), misplaced)
    return row


def selectors_elsewhere(row: Dataset, selection: Selection) -> str:
    """What is wrong when ``selection`` holds selectors of other datasets than ``row``'s ("" when nothing is)."""
    own = {selector.name for selector in row.selectors}
    misplaced = [name for name, _ in selection.selectors if name not in own]
    if not misplaced:
        return ""
    holders = [other.name for other in DATASET_TABLE.values() if {s.name for s in other.selectors} & {*misplaced}]
    datasets = f"{', '.join(holders[:-1])} and {holders[-1]} datasets" if len(holders) > 1 else f"{holders[0]} dataset"
    return f"{' and '.join(misplaced)} select reports of the {datasets} only, not {row.name!r}"


def expression_of(selection: Selection, known_types: Collection[str]) -> Expr | None:
    """expression, field, query and keyword are ANDed; the filter values are ORed, then ANDed with the rest.

    ``query`` is free text: bare words search every type, as ``search-term:`` does (``query=nginx``), beside
    ordinary terms; ``expression`` keeps its strict syntax."""
    clauses: list[Expr] = []
    for name, text in (("expression", selection.expression), ("field", selection.field), ("query", selection.query)):
        if text is not None and text.strip():
            clauses.append(parsed(text, name, known_types, free_text=name == "query"))
    if selection.keyword is not None and selection.keyword.strip():
        clauses.append(Term("search-term", Match.WORDS, selection.keyword))
    filters = [parsed(text, "filter", known_types) for text in selection.filters if text.strip()]
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


def with_terms(filters: Filters, terms: list[Expr]) -> Filters:
    """``filters`` with more terms ANDed to its expression."""
    if not terms:
        return filters
    clauses = ([filters.expression] if filters.expression is not None else []) + terms
    return replace(filters, expression=clauses[0] if len(clauses) == 1 else And(tuple(clauses)))


def selector_term(selector: Selector, value: str) -> Expr:
    """A dataset's selector as a term: a host name right-anchored (``host:``), any other value exactly (a
    value of a selector with a pattern: lower case, once it matches)."""
    is_host = selector.type == "host"
    value = value.strip()
    if selector.pattern:
        if re.fullmatch(selector.pattern, value) is None:
            raise BadParameter(selector.name, f"'{selector.name}' must be {selector.expects}, not {value[:80]!r}")
        value = value.lower()
    term = Term(selector.type, Match.WORDS if is_host else Match.EXACT, value, selector.context)
    try:
        return check(term, (selector.type,))
    except QueryError as exc:
        expected = "a domain name, e.g. example.com" if is_host else f"a {selector.type} value"
        raise BadParameter(selector.name, f"'{selector.name}' must be {expected}: {exc.message}") from None

"""The request room: a parameter is read one way wherever it comes from (a query string, a keyword argument, a
command-line option), a Selection goes to a server and back unchanged, and becomes the store's Filters directly."""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.datastructures import QueryParams

from shoal.errors import BadParameter
from shoal.model import DATASET_TABLE, RDNS
from shoal.query.ast import And, Match, Term
from shoal.query.check import BUILTIN_TYPES
from shoal.request import params
from shoal.request.params import DATASET, MOST_RECENT, SELECTION, SUMMARY_LIMIT, Param, declare
from shoal.request.selection import BY_ATTRIBUTE, Selection
from shoal.store.base import Filters

SOURCE = Path(params.__file__).parents[1]


def test_the_selection_holds_every_selection_parameter() -> None:
    fields = set(Selection.__dataclass_fields__) - {"selectors"}
    assert fields == {param.attribute for param in SELECTION} == set(BY_ATTRIBUTE)


@pytest.mark.parametrize("param", [MOST_RECENT, SUMMARY_LIMIT, DATASET])
def test_a_parameter_is_declared_in_one_place(param: Param[object]) -> None:
    """Its name is written once in the code (its record); every other record of that name is made from it (a
    route's default or range), and every other module reads it through them."""
    written = re.compile(rf'(?<!\[)"{param.name}"')  # not a column of a row, row["dataset"]
    naming = [path.name for path in SOURCE.rglob("*.py") if written.search(path.read_text())]
    assert naming == ["params.py"]
    variants = [value for value in vars(params).values() if isinstance(value, Param) and value.name == param.name]
    assert all((variant.flag, variant.attribute) == (param.flag, param.attribute) for variant in variants)


@pytest.mark.parametrize(
    ("text", "value"),
    [("true", True), ("YES", True), ("1", True), ("false", False), ("0", False), ("", False), (" ", False)],
)
def test_a_value_reads_the_same_from_a_url_and_from_python(text: str, value: bool) -> None:
    assert MOST_RECENT.read(QueryParams({"most_recent": text})) is value
    assert MOST_RECENT.take(text) is value


@pytest.mark.parametrize(
    ("options", "parameter"),
    [
        ({"ip": "8.8.8.256"}, "ip"),
        ({"slop": 11}, "slop"),
        ({"slop": "x"}, "slop"),
        ({"date_from": "2026-13-01"}, "from"),
    ],
)
def test_a_bad_value_is_the_apis_error_wherever_it_comes_from(options: dict[str, object], parameter: str) -> None:
    with pytest.raises(BadParameter) as raised:
        Selection.of(**options)
    assert raised.value.parameter == parameter
    query = {BY_ATTRIBUTE[name].name: str(value) for name, value in options.items()}
    with pytest.raises(BadParameter) as again:
        Selection.read(QueryParams(query))
    assert (again.value.parameter, again.value.message) == (parameter, raised.value.message)


def test_unknown_options_and_misplaced_selectors() -> None:
    with pytest.raises(TypeError, match="colour"):
        Selection.of(colour="blue")
    with pytest.raises(BadParameter, match="rdns, fdns and mx datasets only"):
        Selection.of(host="example.org").as_filters(BUILTIN_TYPES, "protocols")
    with pytest.raises(BadParameter, match="after"):
        Selection.of(date_from="2026-11-05", date_to="2026-11-01")


def test_a_selection_becomes_filters_directly() -> None:
    selection = Selection.of(
        expression="port-tcp:443", ip="::ffff:8.8.8.0/120", most_recent=True, date_from=dt.date(2026, 11, 1)
    )
    filters = selection.as_filters(BUILTIN_TYPES)
    assert filters == Filters(
        expression=Term("port-tcp", Match.WORDS, "443"),
        ip=ipaddress.ip_network("8.8.8.0/24"),
        most_recent=True,
        date_from=dt.date(2026, 11, 1),
    )
    rdns = Selection.of(host="Example.ORG.", keyword="ns").as_filters(BUILTIN_TYPES, RDNS)
    assert isinstance(rdns.expression, And) and rdns.dataset == RDNS
    assert {selector.name for selector in DATASET_TABLE[RDNS].selectors} == {"host", "nameserver"}


def test_each_route_declares_a_parameter_once() -> None:
    with pytest.raises(ValueError, match="twice"):
        declare(MOST_RECENT, MOST_RECENT)


TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)
SELECTIONS = st.builds(
    Selection.of,
    ip=st.none() | st.sampled_from(["8.8.8.8", "10.0.0.0/8", "2001:db8::/32", "::1"]),
    indirect=st.booleans(),
    expression=st.none() | TEXT,
    query=st.none() | TEXT,
    filters=st.lists(TEXT, max_size=3),
    slop=st.integers(0, 10),
    date_from=st.none() | st.dates(dt.date(2000, 1, 1), dt.date(2026, 12, 31)),
    most_recent=st.booleans(),
    host_in_url=st.booleans(),
    report_id=st.none() | st.text(alphabet="abcdefXYZ09_-", min_size=1, max_size=22),
    history=st.booleans(),
)


@settings(max_examples=300)
@given(selection=SELECTIONS)
def test_a_selection_sent_to_a_server_is_read_back_unchanged(selection: Selection) -> None:
    """What the client and the command line send (``Selection.params``) is what the API reads (``read``)."""
    assert Selection.read(QueryParams(selection.params())) == Selection.of(
        **{name: getattr(selection, name) for name in BY_ATTRIBUTE}
    )

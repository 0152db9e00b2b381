"""The switchers' table (``shoal.query.foreign``): sound data, the docs' copy of it, and the checker's use of it."""

from __future__ import annotations

from pathlib import Path

import pytest

from shoal.errors import QueryError
from shoal.query.check import BUILTIN_TYPES, CONTEXT_KEYWORDS, check
from shoal.query.foreign import FOREIGN_FILTERS, foreign_hint, markdown_table
from shoal.query.parser import parse

DOCS = Path(__file__).parents[2] / "docs" / "query-language.md"
START, END = "<!-- foreign-filters:start -->\n", "<!-- foreign-filters:end -->"


def test_the_docs_show_the_table_as_it_is() -> None:
    text = DOCS.read_text()
    shown = text[text.index(START) + len(START) : text.index(END)]
    assert shown == markdown_table(), "docs/query-language.md: paste shoal.query.foreign.markdown_table() in"


def test_every_row_names_shoal_types_and_no_shoal_type_is_foreign() -> None:
    names = [(row.engine, row.name.lower()) for row in FOREIGN_FILTERS]
    assert len(names) == len(set(names))
    for row in FOREIGN_FILTERS:
        assert row.engine in ("Shodan", "Censys")
        assert row.name.lower() not in BUILTIN_TYPES
        assert row.shoal or row.note, f"{row.name}: say where the information is, or that Shoal has none"
        for shoal in row.shoal:
            item_type, _, context = shoal.partition(";")
            assert item_type in BUILTIN_TYPES, shoal
            assert not (context and item_type in CONTEXT_KEYWORDS)


@pytest.mark.parametrize("row", FOREIGN_FILTERS, ids=lambda row: row.name)
def test_every_name_is_a_400_at_the_name_whose_advice_checks(row: object) -> None:
    name, shoal = row.name, row.shoal  # type: ignore[attr-defined]
    value = "10.0.0.0/8" if shoal[:1] == ("ip",) else "443"
    text = f"title:x and {name}:{value}"
    with pytest.raises(QueryError) as caught:
        check(parse(text), (), source=text)
    assert (caught.value.start, caught.value.end) == (12, 12 + len(name))
    assert caught.value.message == foreign_hint(name, value)[0]  # type: ignore[index]
    advice = caught.value.hint.partition("; ")[0]
    if advice.startswith("write "):
        written = advice.removeprefix("write ")
        check(parse(written), (), source=written)  # the advice is itself a valid term


def test_names_are_matched_in_any_case() -> None:
    assert foreign_hint("ORG") == ("'ORG' is Shodan's name; in Shoal it is 'entity'", "")
    assert foreign_hint("title") is None

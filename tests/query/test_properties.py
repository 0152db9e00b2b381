from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from shoal.errors import QueryError
from shoal.query.ast import And, Expr, Match, Not, Or, Range, Term
from shoal.query.check import BUILTIN_TYPES, check
from shoal.query.lexer import BOUND
from shoal.query.parser import parse

ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=200)  # includes lone surrogates and NUL
# Characters and fragments that matter to the lexer, glued together: mostly lexer errors.
CHARACTER_SOUP = st.lists(
    st.sampled_from(
        [
            "a",
            "x",
            ":",
            "=",
            ";",
            "(",
            ")",
            '"',
            "\\",
            "*",
            " ",
            "\t",
            "é",
            "\x00",
            "a:x",
            "and",
            "not",
            "<",
            ">",
            ">=",
            "[",
            "]",
            "{",
            "}",
            "TO",
            "1",
            "2027-01-01",
        ]
    ),
    max_size=40,
).map("".join)
# Whole tokens separated by spaces: parser successes and parser errors.
TOKEN_SOUP = st.lists(
    st.sampled_from(
        [
            "a:x",
            "b=y*",
            'c;d:"e f"',
            "ip;:1.2.3.4",
            "(",
            ")",
            "and",
            "or",
            "not",
            "NOT",
            "p:[1 TO 9]",
            "p:{* TO 5]",
            "p>8000",
            "q;c<=2027-01-01",
            "p:[1",
            "TO",
            "5]",
        ]
    ),
    max_size=40,
).map(" ".join)


def assert_parses_or_raises_query_error(text: str) -> None:
    try:
        tree = parse(text)
    except QueryError as error:
        assert 0 <= error.start <= error.end <= len(text)
        assert error.message
        return
    assert parse(str(tree)) == tree
    assert 0 <= tree.span.start < tree.span.end <= len(text)


@settings(max_examples=500, deadline=None)
@given(ANY_TEXT)
def test_arbitrary_text_parses_or_raises_query_error(text: str) -> None:
    assert_parses_or_raises_query_error(text)


@settings(max_examples=500, deadline=None)
@given(CHARACTER_SOUP | TOKEN_SOUP)
def test_syntax_soup_parses_or_raises_query_error(text: str) -> None:
    assert_parses_or_raises_query_error(text)


NAMES = st.text(st.characters(exclude_categories=()), min_size=1, max_size=12)
TERMS = st.builds(
    Term,
    type=NAMES,
    match=st.sampled_from(Match),
    value=st.text(st.characters(exclude_categories=()), max_size=12),
    context=st.none() | st.text(st.characters(exclude_categories=()), max_size=8),
    prefix=st.booleans(),
)


def operators(children: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
    operands = st.lists(children, min_size=2, max_size=4).map(tuple)
    return st.builds(Not, children) | st.builds(And, operands) | st.builds(Or, operands)


BOUNDS = st.none() | st.from_regex(r'[^ \t\r\n()\[\]{}"\\*][^ \t\r\n()\[\]{}"\\]*', fullmatch=True)
RANGES = st.builds(
    lambda item_type, low, high, include_low, include_high, context: Range(
        item_type, low, high, include_low or low is None, include_high or high is None, context
    ),
    NAMES,
    BOUNDS,
    BOUNDS,
    st.booleans(),
    st.booleans(),
    st.none() | st.text(st.characters(exclude_categories=()), max_size=8),
)
TREES = st.recursive(TERMS | RANGES, operators, max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(TREES)
def test_printed_trees_parse_back_equal(tree: Expr) -> None:
    text = str(tree)
    assert parse(text) == tree
    assert str(parse(text)) == text


VALUES = (
    st.text(st.characters(exclude_categories=()), max_size=12)
    | st.ip_addresses().map(str)
    | st.from_regex(r"[0-9]{1,6}(/[0-9]{1,3})?", fullmatch=True)
)
BUILTIN_TERMS = st.builds(
    Term,
    type=st.sampled_from(sorted(BUILTIN_TYPES)),
    match=st.sampled_from(Match),
    value=VALUES,
    context=st.none() | st.sampled_from(["", "Server", "cert-dns-name"]),
    prefix=st.booleans(),
)


BOUND_VALUES = st.none() | VALUES.filter(lambda text: BOUND.fullmatch(text) is not None) | st.dates().map(str)
BUILTIN_RANGES = st.builds(
    lambda item_type, low, high, include_low, include_high, context: Range(
        item_type, low, high, include_low or low is None, include_high or high is None, context
    ),
    st.sampled_from(sorted(BUILTIN_TYPES)),
    BOUND_VALUES,
    BOUND_VALUES,
    st.booleans(),
    st.booleans(),
    st.none() | st.sampled_from(["", "ssh-rsa"]),
)


@settings(max_examples=300, deadline=None)
@given(BUILTIN_TERMS | BUILTIN_RANGES)
def test_check_raises_only_query_errors_and_its_output_checks_to_itself(term: Term | Range) -> None:
    text = str(term)
    try:
        result = check(parse(text), (), source=text)
    except QueryError as error:
        assert 0 <= error.start <= error.end <= len(text)
        return
    assert check(result, ()) == result
    assert parse(str(result)) == result


@settings(max_examples=500, deadline=None)
@given(ANY_TEXT | CHARACTER_SOUP | TOKEN_SOUP)
def test_free_text_parses_or_raises_query_error_and_accepts_every_expression(text: str) -> None:
    """Free text (``query=``) accepts a superset of expressions: what parses strictly parses the same."""
    try:
        strict: Expr | None = parse(text)
    except QueryError:
        strict = None
    try:
        free = check(parse(text, free_text=True), BUILTIN_TYPES, source=text, free_text=True)
    except QueryError as error:
        assert strict is None or error.start >= 0  # a strict expression may still fail the checker
        assert 0 <= error.start <= error.end <= len(text)
        return
    if strict is not None:
        assert parse(text, free_text=True) == strict
    assert check(parse(str(free)), BUILTIN_TYPES) == free  # free text always means an ordinary expression

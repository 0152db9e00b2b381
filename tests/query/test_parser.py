from __future__ import annotations

from pathlib import Path

import pytest

from shoal.errors import QueryError, QueryTooComplex
from shoal.query.ast import And, Expr, Match, Not, Or, Range, Span, Term
from shoal.query.parser import MAX_DEPTH, MAX_LENGTH, MAX_TERMS, parse

GOLDEN = Path(__file__).parent / "golden" / "roundtrip.txt"


def golden_cases() -> list[tuple[str, str]]:
    """(expression, its canonical text) for each expression in the golden file."""
    cases: list[tuple[str, str]] = []
    for line in GOLDEN.read_text(encoding="utf-8").split("\n"):
        if not line.strip() or line.startswith("# "):
            continue
        if line.startswith("=> "):
            cases[-1] = (cases[-1][0], line.removeprefix("=> "))
        else:
            cases.append((line, line))
    return cases


@pytest.mark.parametrize(("text", "canonical"), golden_cases())
def test_golden_roundtrip(text: str, canonical: str) -> None:
    tree = parse(text)
    assert str(tree) == canonical
    assert parse(canonical) == tree
    assert str(parse(canonical)) == canonical


def t(name: str, value: str = "x", match: Match = Match.WORDS) -> Term:
    return Term(name, match, value)


PRECEDENCE_CASES: list[tuple[str, Expr]] = [
    ("a:x and b:x or c:x", Or((And((t("a"), t("b"))), t("c")))),
    ("a:x or b:x and c:x", Or((t("a"), And((t("b"), t("c")))))),
    ("a:x or b:x or c:x", Or((t("a"), t("b"), t("c")))),
    ("a:x and b:x and c:x", And((t("a"), t("b"), t("c")))),
    ("not a:x and b:x", And((Not(t("a")), t("b")))),
    ("not a:x or b:x", Or((Not(t("a")), t("b")))),
    ("a:x or not b:x", Or((t("a"), Not(t("b"))))),
    ("not not a:x", Not(Not(t("a")))),
    ("not (a:x or b:x)", Not(Or((t("a"), t("b"))))),
    ("a:x not b:x", And((t("a"), Not(t("b"))))),
    ("a:x not b:x and not c:x", And((t("a"), Not(t("b")), Not(t("c"))))),
    ("a:x not b:x or c:x", Or((And((t("a"), Not(t("b")))), t("c")))),
    ("(a:x) not b:x", And((t("a"), Not(t("b"))))),
    ("a:x not not b:x", And((t("a"), Not(Not(t("b")))))),
    ("a:x and (b:x and c:x)", And((t("a"), And((t("b"), t("c")))))),
    ("(a:x or b:x) and c:x", And((Or((t("a"), t("b"))), t("c")))),
    ("((a:x))", t("a")),
    ("a:x AND b:x Or NOT c:x", Or((And((t("a"), t("b"))), Not(t("c"))))),
]


@pytest.mark.parametrize(("text", "expected"), PRECEDENCE_CASES)
def test_precedence(text: str, expected: Expr) -> None:
    assert parse(text) == expected


def test_and_binds_tighter_than_or_as_in_the_spec() -> None:
    assert parse("a:x and b:x or c:x") == parse("(a:x and b:x) or c:x")
    assert parse("product-tag:dahua and geo-country=RU or geo-country=IR") == parse(
        "(product-tag:dahua and geo-country=RU) or geo-country=IR"
    )


def test_not_after_an_operand_means_and_not() -> None:
    assert parse("a:x not b:x and not c:x") == parse("a:x and not b:x and not c:x")


def test_terms_keep_their_pieces() -> None:
    assert parse('http-header;Server="NimPlant C2 Server"') == Term(
        "http-header", Match.EXACT, "NimPlant C2 Server", context="Server"
    )
    assert parse("ip;:8.8.8.8") == Term("ip", Match.WORDS, "8.8.8.8", context="")
    assert parse("title:univ*") == Term("title", Match.WORDS, "univ", prefix=True)


def test_spans_cover_each_node_source() -> None:
    text = "(a:x or b:x) and not c:x"
    tree = parse(text)
    assert isinstance(tree, And)
    assert tree.span == Span(0, len(text))
    group, negation = tree.children
    assert isinstance(group, Or) and isinstance(negation, Not)
    assert group.span == Span(1, 11)  # the node inside the parentheses keeps its own span
    assert [child.span for child in group.children] == [Span(1, 4), Span(8, 11)]
    assert negation.span == Span(17, 24)
    assert negation.child.span == Span(21, 24)


def test_span_of_a_chain_starting_with_a_group_includes_the_parenthesis() -> None:
    text = "  (a:x)   or b:x  "
    tree = parse(text)
    assert tree.span == Span(2, 16)


ERROR_CASES: list[tuple[str, int, int, str, str]] = [
    # text, start, end, in the message, in the hint
    ("", 0, 0, "empty expression", "type:value"),
    ("  \t ", 0, 4, "empty expression", ""),
    ("a:x and", 4, 7, "'and' needs a term after it", ""),
    ("a:x OR", 4, 6, "'OR' needs a term after it", ""),
    ("not", 0, 3, "'not' needs a term after it", ""),
    ("not not", 4, 7, "'not' needs a term after it", ""),
    ("a:x not", 4, 7, "'not' needs a term after it", ""),
    ("a:x and or b:x", 8, 10, "expected a term after 'and', found 'or'", ""),
    ("a:x not and b:x", 8, 11, "expected a term after 'not', found 'and'", ""),
    ("(a:x and )", 9, 10, "expected a term after 'and', found ')'", ""),
    ("and a:x", 0, 3, "'and' needs a term before it", "between two terms"),
    ("(or a:x)", 1, 3, "'or' needs a term before it", ""),
    ("a:x b:x", 4, 7, "missing operator before 'b:x'", "add 'and' or 'or'"),
    ("a:x (b:x)", 4, 5, "missing operator before '('", "add 'and' or 'or'"),
    ("(a:x) b:x", 6, 9, "missing operator", ""),
    ("a:x or b:x c:x", 11, 14, "missing operator", ""),
    ("(a:x", 0, 1, "'(' is never closed", "')'"),
    ("((a:x)", 0, 1, "'(' is never closed", ""),
    ("(", 0, 1, "'(' is never closed", ""),
    ("title:london and (port-tcp:80", 17, 18, "'(' is never closed", ""),
    ("a:x)", 3, 4, "unmatched ')'", ""),
    (")", 0, 1, "unmatched ')'", ""),
    ("(a:x))", 5, 6, "unmatched ')'", ""),
    ("()", 0, 2, "empty parentheses", ""),
    ("a:x and ( )", 8, 11, "empty parentheses", ""),
    ("nginx", 0, 5, "expected type:value", "search-term:nginx"),
    ("product-info=(Fedora)", 13, 14, "unexpected '('", ""),
    # ranges and comparisons (a Shoal extension)
    ("port-tcp:>", 9, 10, "missing value after '>'", "port-tcp>8000"),
    ("port-tcp>= and a:x", 8, 10, "missing value after '>='", ""),
    ("port-tcp:>*", 9, 10, "missing value after '>'", ""),
    ('title:>"x"', 6, 7, "missing value after '>'", 'quote it: title:">…"'),
    ("port-tcp:<5]", 11, 12, "unexpected ']' in the value after '<'", ""),
    ("port-tcp:[1 TO 1024] b:x", 21, 24, "missing operator", ""),
    ("<b>", 0, 3, "expected type:value, found '<b>'", 'search-term:"<b>"'),
    ("port-tcp;x", 0, 10, "expected ':' or '=' after the context", ""),
]


@pytest.mark.parametrize(("text", "start", "end", "message", "hint"), ERROR_CASES)
def test_errors(text: str, start: int, end: int, message: str, hint: str) -> None:
    with pytest.raises(QueryError) as caught:
        parse(text)
    assert type(caught.value) is QueryError
    assert (caught.value.start, caught.value.end) == (start, end)
    assert message in caught.value.message
    assert hint in caught.value.hint


def chain(count: int) -> str:
    return " or ".join(f"a:{i}" for i in range(count))


def test_length_cap() -> None:
    longest = "title:" + "x" * (MAX_LENGTH - len("title:"))
    assert parse(longest) == Term("title", Match.WORDS, "x" * (MAX_LENGTH - 6))
    with pytest.raises(QueryTooComplex) as caught:
        parse(longest + "x")
    assert (caught.value.start, caught.value.end) == (MAX_LENGTH, MAX_LENGTH + 1)


def test_depth_cap_on_parentheses() -> None:
    assert parse("(" * MAX_DEPTH + "a:x" + ")" * MAX_DEPTH) == t("a")
    with pytest.raises(QueryTooComplex) as caught:
        parse("(" * (MAX_DEPTH + 1) + "a:x" + ")" * (MAX_DEPTH + 1))
    assert (caught.value.start, caught.value.end) == (MAX_DEPTH, MAX_DEPTH + 1)


def test_depth_cap_on_not() -> None:
    assert isinstance(parse("not " * MAX_DEPTH + "a:x"), Not)
    with pytest.raises(QueryTooComplex) as caught:
        parse("not " * (MAX_DEPTH + 1) + "a:x")
    assert (caught.value.start, caught.value.end) == (4 * MAX_DEPTH, 4 * MAX_DEPTH + 3)


def test_depth_counts_parentheses_and_not_together() -> None:
    half = MAX_DEPTH // 2
    assert parse("(not " * half + "a:x" + ")" * half)
    with pytest.raises(QueryTooComplex):
        parse("(not " * half + "not a:x" + ")" * half)


def test_depth_is_nesting_not_count() -> None:
    wide = " and ".join(["(not a:x)"] * (MAX_DEPTH * 2))
    assert isinstance(parse(wide), And)


def test_term_cap() -> None:
    tree = parse(chain(MAX_TERMS))
    assert isinstance(tree, Or)
    assert len(tree.children) == MAX_TERMS
    text = chain(MAX_TERMS + 1)
    with pytest.raises(QueryTooComplex) as caught:
        parse(text)
    last = f"a:{MAX_TERMS}"
    assert (caught.value.start, caught.value.end) == (len(text) - len(last), len(text))


@pytest.mark.parametrize("text", ["(" * 5000, "not " * 2000, "(" * 4000, "not " * 1000 + "a:x", ")" * 4096])
def test_pathological_inputs_raise_query_errors(text: str) -> None:
    with pytest.raises(QueryError):
        parse(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("nginx", "search-term:nginx"),
        ("apache tomcat", "search-term:apache and search-term:tomcat"),
        ('"apache tomcat"', 'search-term:"apache tomcat"'),
        ("nginx port-tcp:443", "search-term:nginx and port-tcp:443"),
        ("jira or confluence not title:login", "search-term:jira or search-term:confluence and not title:login"),
        ("ngin*", "search-term:ngin*"),
        ("http://example.com/x", "search-term:http://example.com/x"),  # an unknown type: the words themselves
        ("(a b) or c", "search-term:a and search-term:b or search-term:c"),
        ("nginx port-tcp:[1 TO 1024]", "search-term:nginx and port-tcp:[1 TO 1024]"),
        ("<b>bold</b> cert-not-after<2027-01-01", 'search-term:"<b>bold</b>" and cert-not-after:<2027-01-01'),
        ("draft [a TO b]", 'search-term:draft and search-term:"[a" and search-term:TO and search-term:b]'),
    ],
)
def test_free_text_makes_bare_words_search_terms(text: str, expected: str) -> None:
    from shoal.query.check import BUILTIN_TYPES, check

    assert str(check(parse(text, free_text=True), BUILTIN_TYPES, source=text, free_text=True)) == expected


@pytest.mark.parametrize(("text", "start"), [("nginx (", 6), ('"open', 0), ("a:", 1), ("foo(bar", 3)])
def test_free_text_still_reports_syntax_errors_with_offsets(text: str, start: int) -> None:
    with pytest.raises(QueryError) as raised:
        parse(text, free_text=True)
    assert raised.value.start == start


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("port-tcp:[1 TO 1024]", Range("port-tcp", "1", "1024")),
        ("port-tcp=[1 to 1024]", Range("port-tcp", "1", "1024")),
        ("port-tcp:[ 1  TO\t1024 ]", Range("port-tcp", "1", "1024")),
        ("port-tcp:{1 TO 1024]", Range("port-tcp", "1", "1024", include_low=False)),
        ("port-tcp:[1 TO *}", Range("port-tcp", "1", None)),
        ("port-tcp:{* TO *}", Range("port-tcp", None, None)),
        ("port-tcp:>8000", Range("port-tcp", "8000", None, include_low=False)),
        ("port-tcp>=8000", Range("port-tcp", "8000", None)),
        ("port-tcp=<8000", Range("port-tcp", None, "8000", include_high=False)),
        ("x;y<=2", Range("x", None, "2", context="y")),
        ('x;"a b">1', Range("x", "1", None, include_low=False, context="a b")),
        ("cert-not-after<2027-01-01", Range("cert-not-after", None, "2027-01-01", include_high=False)),
        # not whole ranges: ordinary values, as before ranges existed
        ("title:[draft]", Term("title", Match.WORDS, "[draft]")),
        ("title:{a}", Term("title", Match.WORDS, "{a}")),
        ("title:a>b", Term("title", Match.WORDS, "a>b")),
        ("title:[1TO2]", Term("title", Match.WORDS, "[1TO2]")),
        ('title:"[1 TO 2]"', Term("title", Match.WORDS, "[1 TO 2]")),
        ('title:"<b>"', Term("title", Match.WORDS, "<b>")),
    ],
)
def test_ranges(text: str, expected: Expr) -> None:
    tree = parse(text)
    assert tree == expected
    assert tree.span == Span(0, len(text))
    assert parse(str(tree)) == tree


def test_a_range_within_an_expression_keeps_its_span() -> None:
    tree = parse("(port-tcp:[1 TO 9] or port-tcp>100) and not title:x")
    assert isinstance(tree, And) and isinstance(tree.children[0], Or)
    low, high = tree.children[0].children
    assert (low.span, high.span) == (Span(1, 18), Span(22, 34))

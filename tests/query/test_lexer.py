from __future__ import annotations

import pytest

from shoal.errors import QueryError
from shoal.query.ast import UNQUOTED_SPECIALS, Span
from shoal.query.lexer import WHITESPACE, Token, TokenKind, tokenize

# A TERM token as (type, context, operator, value, prefix, quoted); any other token as its kind's name.
Summary = str | tuple[str, str | None, str, str, bool, bool]


def summarise(token: Token) -> Summary:
    if token.term is None:
        return token.kind.name
    parts = token.term
    return (parts.type, parts.context, parts.match.value, parts.value, parts.prefix, parts.quoted)


TOKEN_CASES: list[tuple[str, list[Summary]]] = [
    ("title:nginx", [("title", None, ":", "nginx", False, False)]),
    ("title=nginx", [("title", None, "=", "nginx", False, False)]),
    ('title:"a b"', [("title", None, ":", "a b", False, True)]),
    ('title:"a b"*', [("title", None, ":", "a b", True, True)]),
    ('title:""', [("title", None, ":", "", False, True)]),
    ("title:ngin*", [("title", None, ":", "ngin", True, False)]),
    ("title:*", [("title", None, ":", "", True, False)]),
    (r"title:ngin\*", [("title", None, ":", "ngin*", False, False)]),
    (r"title:a\ b", [("title", None, ":", "a b", False, False)]),
    (r"product-info=\(Fedora\)", [("product-info", None, "=", "(Fedora)", False, False)]),
    (r"title:a\"b", [("title", None, ":", 'a"b', False, False)]),
    ("title:a\\\\", [("title", None, ":", "a\\", False, False)]),
    (r"title:\q", [("title", None, ":", "q", False, False)]),
    (r'title:"a\"b\\c\d"', [("title", None, ":", 'a"b\\cd', False, True)]),
    ('title:"a(b)c*"', [("title", None, ":", "a(b)c*", False, True)]),
    ("ip;:8.8.8.8", [("ip", "", ":", "8.8.8.8", False, False)]),
    ("host;=example.com", [("host", "", "=", "example.com", False, False)]),
    ('http-header;Server="NimPlant C2 Server"', [("http-header", "Server", "=", "NimPlant C2 Server", False, True)]),
    ('http-header;"Content Type"=x', [("http-header", "Content Type", "=", "x", False, False)]),
    (r"http-header;Content\ Type=x", [("http-header", "Content Type", "=", "x", False, False)]),
    (r"we\:ird\;type:x", [("we:ird;type", None, ":", "x", False, False)]),
    ("url:http://a.b/c?d=e;f", [("url", None, ":", "http://a.b/c?d=e;f", False, False)]),
    ("a:b=c:d", [("a", None, ":", "b=c:d", False, False)]),
    ("ip:2001:db8::1", [("ip", None, ":", "2001:db8::1", False, False)]),
    ("title:and", [("title", None, ":", "and", False, False)]),
    ("and:x", [("and", None, ":", "x", False, False)]),
    ("title:a\x0cb", [("title", None, ":", "a\x0cb", False, False)]),  # only space, tab, CR, LF separate
    ("title:a\x00\ud800", [("title", None, ":", "a\x00\ud800", False, False)]),
    ("AND Or nOt", ["AND", "OR", "NOT"]),
    ("(title:a)", ["LPAREN", ("title", None, ":", "a", False, False), "RPAREN"]),
    ('(title:"a")', ["LPAREN", ("title", None, ":", "a", False, True), "RPAREN"]),
    ("title:a*)", [("title", None, ":", "a", True, False), "RPAREN"]),
    (
        "not(a:b)and(c:d)",
        [
            "NOT",
            "LPAREN",
            ("a", None, ":", "b", False, False),
            "RPAREN",
            "AND",
            "LPAREN",
            ("c", None, ":", "d", False, False),
            "RPAREN",
        ],
    ),
    (
        "a:1\tb:2\r\nc:3",
        [("a", None, ":", "1", False, False), ("b", None, ":", "2", False, False), ("c", None, ":", "3", False, False)],
    ),
    ("", []),
    (" \t\r\n", []),
]


@pytest.mark.parametrize(("text", "expected"), TOKEN_CASES)
def test_tokens(text: str, expected: list[Summary]) -> None:
    tokens = tokenize(text)
    assert [summarise(token) for token in tokens] == [*expected, "EOF"]
    assert tokens[-1].span == Span(len(text), len(text))


def test_spans_are_string_offsets_of_each_part() -> None:
    text = '  tïtle;ctx:"v"*  or (x:y)'
    term, operator, lparen, inner, rparen, eof = tokenize(text)
    assert term.term is not None
    assert term.span == Span(2, 16)
    assert term.text == 'tïtle;ctx:"v"*'
    assert term.term.type_span == Span(2, 7)
    assert term.term.context_span == Span(8, 11)
    assert term.term.value_span == Span(12, 16)
    assert (operator.kind, operator.span, operator.text) == (TokenKind.OR, Span(18, 20), "or")
    assert (lparen.span, inner.span, rparen.span, eof.span) == (Span(21, 22), Span(22, 25), Span(25, 26), Span(26, 26))


def test_term_without_context_has_no_context_span() -> None:
    (token, _) = tokenize("title:x")
    assert token.term is not None
    assert token.term.context_span is None


def test_to_term_keeps_the_parts() -> None:
    (token, _) = tokenize("http-header;Server:nginx*")
    assert token.term is not None
    term = token.term.to_term(token.span)
    assert str(term) == "http-header;Server:nginx*"
    assert term.span == Span(0, 25)


def test_whitespace_is_what_the_renderer_escapes() -> None:
    assert WHITESPACE <= UNQUOTED_SPECIALS


ERROR_CASES: list[tuple[str, int, int, str, str]] = [
    # text, start, end, in the message, in the hint
    ("nginx", 0, 5, "expected type:value, found 'nginx'", "search-term:nginx"),
    ("title:a nginx", 8, 13, "expected type:value", "search-term:nginx"),
    ("nginx(", 0, 5, "expected type:value", "search-term:nginx"),
    ("title:", 5, 6, "missing value after ':'", 'title:"two words"'),
    ("title= x", 5, 6, "missing value after '='", ""),
    ("(title:)", 6, 7, "missing value", ""),
    (":x", 0, 1, "missing type before ':'", "type:value"),
    (";c=x", 0, 1, "missing type before ';'", ""),
    ('title:"abc', 6, 10, "unterminated quote", 'close it with "'),
    ('title:"abc\\"', 6, 12, "unterminated quote", ""),
    ('title:"abc\\', 6, 11, "unterminated quote", ""),
    ("title:a(b", 7, 8, "unexpected '(' in an unquoted value", "escape it as \\("),
    ("title:(a or b)", 6, 7, "unexpected '('", "around whole terms"),
    ('title:a"b"', 7, 8, "unexpected '\"'", 'escape it as \\"'),
    ("title:a*b", 7, 8, "unexpected '*'", "escape it as \\*"),
    ("title:**", 6, 7, "unexpected '*'", ""),
    ('title:"a"b', 9, 10, "unexpected 'b' after the quoted value", "space"),
    ('title:"a"**', 10, 11, "unexpected '*' after the quoted value", ""),
    ('title:"a"(', 9, 10, "unexpected '(' after the quoted value", ""),
    ("title:a\\", 7, 8, "backslash at the end", "\\\\"),
    ("ti\\", 2, 3, "backslash at the end", ""),
    ('"hello world"', 0, 13, "a quoted value needs a type", 'search-term:"hello world"'),
    ('title:a "b"', 8, 11, "a quoted value needs a type", ""),
    ('title"x"', 5, 6, "expected ':' or '=' before the quoted value", 'title:"'),
    ("http-header;Server", 0, 18, "expected ':' or '=' after the context", "type;context=value"),
    ("http-header;Server x:y", 0, 18, "expected ':' or '=' after the context", ""),
    ('a;"b"c:x', 0, 5, "expected ':' or '=' after the context", ""),
    ("a;b;c:x", 3, 4, "unexpected ';' in the context", "escape it as \\;"),
    ('a;b"c":x', 3, 4, "unexpected '\"' in the context", ""),
    ('a;"b', 2, 4, "unterminated quote", ""),
]


@pytest.mark.parametrize(("text", "start", "end", "message", "hint"), ERROR_CASES)
def test_errors(text: str, start: int, end: int, message: str, hint: str) -> None:
    with pytest.raises(QueryError) as caught:
        tokenize(text)
    assert (caught.value.start, caught.value.end) == (start, end)
    assert message in caught.value.message
    assert hint in caught.value.hint

"""Expression text → tokens.

    term      := type [";" context] (":" | "=") value
               | type [";" context] [":" | "="] comparison
               | type [";" context] (":" | "=") range
    type      := name                      name: any characters but whitespace and ( ) ; : = " < >
    context   := name | quoted | (empty)               a backslash escapes the next character
    value     := quoted ["*"] | unquoted               unquoted: up to whitespace or an unescaped ")"
    comparison:= (">" | ">=" | "<" | "<=") bound       bound: characters but whitespace and ( ) [ ] { } " \
    range     := ("[" | "{") bound "TO" bound ("]" | "}")    TO in any case, whitespace around it; [ ] include
                                                       the bound, { } exclude it, a bound * is open
    operators := and | or | not                        case-insensitive, standing alone

A range or a comparison is a Shoal extension. An unquoted value that starts with ``[`` or ``{`` but is not a
whole range is an ordinary value, as before; one that starts with ``<`` or ``>`` is a comparison (quote it to
search its text).

Whitespace is exactly the four characters the AST's renderer escapes (space, tab, CR, LF); any
other character, however it looks, is part of the word it touches. Offsets are ``str`` indices
into the source text, ``end`` exclusive.

Free text (``free_text=True``, for the legacy ``query=`` parameter): a value standing alone, bare or
quoted, is a term of ``FREE_TEXT_TYPE`` (``search-term``), as words typed into a search box are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from shoal.errors import QueryError
from shoal.query.ast import Match, Range, Span, Term, quote_value

WHITESPACE = frozenset(" \t\r\n")
_NAME_STOPS = WHITESPACE | frozenset('();:="<>')  # end a type or context name
_VALUE_STOPS = WHITESPACE | frozenset(")")  # end an unquoted value
_ESCAPE_HINTS = {
    "(": "escape it as \\( or quote the value",
    '"': 'escape it as \\" or quote the whole value',
    "*": "only a trailing * makes a prefix; escape it as \\* to match a literal *",
}
FREE_TEXT_TYPE = "search-term"
_GROUPING_HINT = "escape a literal ( as \\(; to group, put parentheses around whole terms: (title:a or title:b)"


_BOUND = r'[^ \t\r\n()\[\]{}"\\]+'
BOUND = re.compile(_BOUND)
RANGE = re.compile(rf"([\[{{])[ \t\r\n]*({_BOUND})[ \t\r\n]+TO[ \t\r\n]+({_BOUND})[ \t\r\n]*([\]}}])", re.IGNORECASE)
OPEN_BOUND = "*"


class TokenKind(Enum):
    LPAREN = "("
    RPAREN = ")"
    AND = "and"
    OR = "or"
    NOT = "not"
    TERM = "term"
    EOF = "end of expression"


_OPERATOR_WORDS = {"and": TokenKind.AND, "or": TokenKind.OR, "not": TokenKind.NOT}


@dataclass(frozen=True, slots=True)
class RangeParts:
    """The bounds of a range or comparison as written (None: open) and where each sits (None: open)."""

    low: str | None
    high: str | None
    include_low: bool
    include_high: bool
    low_span: Span | None
    high_span: Span | None


@dataclass(frozen=True, slots=True)
class TermParts:
    """The unescaped pieces of one ``type[;context](:|=)value`` term and where each one sits."""

    type: str
    context: str | None
    match: Match
    value: str
    prefix: bool
    quoted: bool
    type_span: Span
    context_span: Span | None  # the context's text, quotes included; ``;`` excluded
    value_span: Span  # the value's text, quotes and trailing ``*`` included (a range's: all of it)
    range: RangeParts | None = None  # set for a range or comparison; ``value`` is then its text

    def to_term(self, span: Span) -> Term | Range:
        if self.range is not None:
            bounds = self.range
            return Range(
                self.type, bounds.low, bounds.high, bounds.include_low, bounds.include_high, self.context, span
            )
        return Term(self.type, self.match, self.value, self.context, self.prefix, span)


@dataclass(frozen=True, slots=True)
class Token:
    kind: TokenKind
    span: Span
    text: str  # the source text the token was read from
    term: TermParts | None = None  # set for TERM tokens only


def tokenize(text: str, free_text: bool = False) -> list[Token]:
    """Split expression text into tokens, ending with one EOF token; raise QueryError on bad syntax."""
    return _Scanner(text, free_text).tokens()


class _Scanner:
    def __init__(self, text: str, free_text: bool) -> None:
        self.text = text
        self.free_text = free_text
        self.pos = 0

    def tokens(self) -> list[Token]:
        tokens: list[Token] = []
        while True:
            self._skip_whitespace()
            start = self.pos
            if start == len(self.text):
                tokens.append(Token(TokenKind.EOF, Span(start, start), ""))
                return tokens
            char = self.text[start]
            if char in "()":
                self.pos += 1
                kind = TokenKind.LPAREN if char == "(" else TokenKind.RPAREN
                tokens.append(Token(kind, Span(start, self.pos), char))
            elif char == '"' and self.free_text:
                tokens.append(self._free_word(start))
            elif char == '"':
                self._quoted()
                raise QueryError(
                    "a quoted value needs a type",
                    start,
                    self.pos,
                    f"write type:value, e.g. search-term:{self.text[start : self.pos]}",
                )
            else:
                tokens.append(self._word())

    def _skip_whitespace(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in WHITESPACE:
            self.pos += 1

    def _peek(self) -> str:
        """The character at the current position, or "" at the end."""
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def _word(self) -> Token:
        """An operator word or a term."""
        start = self.pos
        type_name = self._name()
        type_span = Span(start, self.pos)
        separator = self._peek()
        if separator not in (";", ":", "=", "<", ">") or (separator in "<>" and type_span.start == type_span.end):
            return self._operator_or_bare_word(start, separator)
        if type_span.start == type_span.end:
            raise QueryError(
                f"missing type before '{separator}'", self.pos, self.pos + 1, "write type:value, e.g. title:nginx"
            )
        context: str | None = None
        context_span: Span | None = None
        if separator == ";":
            self.pos += 1
            context_start = self.pos
            context = self._quoted() if self._peek() == '"' else self._name()
            context_span = Span(context_start, self.pos)
            self._expect_operator_after_context(start)
        match = Match.WORDS
        if self._peek() not in "<>":
            match = Match(self._peek())
            self.pos += 1
        value_start = self.pos
        bounds = self._range(start)
        if bounds is not None:
            value, prefix, quoted = self.text[value_start : self.pos], False, False
        else:
            value, prefix, quoted = self._value(start)
        parts = TermParts(
            type_name,
            context,
            match,
            value,
            prefix,
            quoted,
            type_span,
            context_span,
            Span(value_start, self.pos),
            bounds,
        )
        return Token(TokenKind.TERM, Span(start, self.pos), self.text[start : self.pos], parts)

    def _range(self, term_start: int) -> RangeParts | None:
        """The range or comparison at the current position, if the value is one (the lexer's docstring)."""
        char = self._peek()
        if char in ("<", ">"):
            return self._comparison(term_start)
        if char not in ("[", "{") or (found := RANGE.match(self.text, self.pos)) is None:
            return None
        if found.end() < len(self.text) and self.text[found.end()] not in _VALUE_STOPS:
            return None  # not a whole range: an ordinary value, as before ranges existed
        self.pos = found.end()
        low, high = found.group(2), found.group(3)
        return RangeParts(
            None if low == OPEN_BOUND else low,
            None if high == OPEN_BOUND else high,
            found.group(1) == "[" or low == OPEN_BOUND,
            found.group(4) == "]" or high == OPEN_BOUND,
            None if low == OPEN_BOUND else Span(found.start(2), found.end(2)),
            None if high == OPEN_BOUND else Span(found.start(3), found.end(3)),
        )

    def _comparison(self, term_start: int) -> RangeParts:
        operator_start = self.pos
        self.pos += 2 if self.text.startswith(("<=", ">="), self.pos) else 1
        operator = self.text[operator_start : self.pos]
        found = BOUND.match(self.text, self.pos)
        name = self.text[term_start:operator_start].rstrip(":=")
        if found is None or found.group() == OPEN_BOUND:
            raise QueryError(
                f"missing value after '{operator}'",
                operator_start,
                self.pos,
                f"put a number or a day right after it, e.g. {name}{operator}8000; "
                f'to search the text, quote it: {name}:"{operator}…"',
            )
        self.pos = found.end()
        if (after := self._peek()) and after not in _VALUE_STOPS:
            raise QueryError(
                f"unexpected '{after}' in the value after '{operator}'",
                self.pos,
                self.pos + 1,
                f'a comparison takes a number or a day; to search the text, quote it: {name}:"{operator}…"',
            )
        bound, span = found.group(), Span(found.start(), found.end())
        if operator[0] == ">":
            return RangeParts(bound, None, operator == ">=", True, span, None)
        return RangeParts(None, bound, True, operator == "<=", None, span)

    def _operator_or_bare_word(self, start: int, stop: str) -> Token:
        word = self.text[start : self.pos]
        if stop == '"':
            raise QueryError(
                "expected ':' or '=' before the quoted value",
                self.pos,
                self.pos + 1,
                f'write type:"value", e.g. {word}:"…"',
            )
        kind = _OPERATOR_WORDS.get(word.lower()) if word else None
        if kind is None and self.free_text:
            return self._free_word(start)
        if kind is None:
            while stop in ("<", ">") and (char := self._peek()) and char not in _VALUE_STOPS:
                self.pos += 1  # a word that starts with a comparison: quote the whole of it
            word = self.text[start : self.pos]
            raise QueryError(
                f"expected type:value, found '{word}'",
                start,
                self.pos,
                f"write type:value, e.g. search-term:{quote_value(word)}",
            )
        return Token(kind, Span(start, self.pos), word)

    def _free_word(self, start: int) -> Token:
        """A bare or quoted value standing alone, as a FREE_TEXT_TYPE term (free text only)."""
        self.pos = start
        value, prefix, quoted = self._value(start)
        span = Span(start, self.pos)
        parts = TermParts(FREE_TEXT_TYPE, None, Match.WORDS, value, prefix, quoted, Span(start, start), None, span)
        return Token(TokenKind.TERM, span, self.text[start : self.pos], parts)

    def _expect_operator_after_context(self, term_start: int) -> None:
        char = self._peek()
        if char in (":", "=", "<", ">"):
            return
        if char in (";", '"'):
            raise QueryError(f"unexpected '{char}' in the context", self.pos, self.pos + 1, f"escape it as \\{char}")
        raise QueryError(
            "expected ':' or '=' after the context",
            term_start,
            self.pos,
            "write type;context=value, e.g. http-header;Server=nginx",
        )

    def _name(self) -> str:
        """A type or context name: up to a name stop, with backslash escapes."""
        chars: list[str] = []
        while (char := self._peek()) and char not in _NAME_STOPS:
            chars.append(self._escaped() if char == "\\" else char)
            self.pos += 1
        return "".join(chars)

    def _escaped(self) -> str:
        """The character after the backslash at the current position; leaves pos on that character."""
        if self.pos + 1 == len(self.text):
            raise QueryError(
                "a backslash at the end of the expression escapes nothing",
                self.pos,
                self.pos + 1,
                "write \\\\ for a literal backslash",
            )
        self.pos += 1
        return self.text[self.pos]

    def _quoted(self) -> str:
        """A double-quoted string starting at the current position; returns it unescaped."""
        start = self.pos
        chars: list[str] = []
        self.pos += 1
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == '"':
                self.pos += 1
                return "".join(chars)
            if char == "\\" and self.pos + 1 < len(self.text):
                self.pos += 1
                char = self.text[self.pos]
            chars.append(char)
            self.pos += 1
        raise QueryError("unterminated quote", start, len(self.text), 'close it with "')

    def _value(self, term_start: int) -> tuple[str, bool, bool]:
        """(value, prefix, quoted) of the value starting at the current position."""
        char = self._peek()
        if char == "" or char in _VALUE_STOPS:
            operator = self.text[self.pos - 1]
            example = self.text[term_start : self.pos]
            raise QueryError(
                f"missing value after '{operator}'",
                self.pos - 1,
                self.pos,
                f"put the value right after '{operator}', quoting it if it has spaces: {example}\"two words\"",
            )
        if char == '"':
            value = self._quoted()
            prefix = self._peek() == "*"
            if prefix:
                self.pos += 1
            if (after := self._peek()) and after not in _VALUE_STOPS:
                raise QueryError(
                    f"unexpected '{after}' after the quoted value",
                    self.pos,
                    self.pos + 1,
                    "separate terms with a space",
                )
            return value, prefix, True
        return *self._unquoted_value(), False

    def _unquoted_value(self) -> tuple[str, bool]:
        chars: list[str] = []
        prefix = False
        while (char := self._peek()) and char not in _VALUE_STOPS:
            if char == "\\":
                chars.append(self._escaped())
            elif char == "*" and self._ends_value(self.pos + 1):
                prefix = True
            elif char in _ESCAPE_HINTS:
                hint = _GROUPING_HINT if char == "(" and not chars else _ESCAPE_HINTS[char]
                raise QueryError(f"unexpected '{char}' in an unquoted value", self.pos, self.pos + 1, hint)
            else:
                chars.append(char)
            self.pos += 1
        return "".join(chars), prefix

    def _ends_value(self, index: int) -> bool:
        return index == len(self.text) or self.text[index] in _VALUE_STOPS

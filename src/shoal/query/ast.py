"""AST of the expression language. Every node keeps its character span in the source text.

    Expr  := Term | Range | And | Or | Not

``Term`` is one ``type[;context](:|=)value`` clause; ``Range`` one ``type[;context]:[low TO high]`` or
``type[;context]:>value`` clause (also ``>=``, ``<``, ``<=``; a Shoal extension, docs/query-language.md).
Operators hold their operands in source order. ``str(node)`` renders canonical expression text that parses
back to an equal tree (spans aside).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int


class Match(Enum):
    WORDS = ":"  # the words of value appear, in order, in one item (phrase; slop applies)
    EXACT = "="  # the whole item value equals value


_NO_SPAN = Span(0, 0)

# Characters that must be escaped with a backslash in an unquoted value.
UNQUOTED_SPECIALS = frozenset(' \t\r\n()"\\*')
# Characters that end a type or context name besides the specials: a comparison (``port-tcp>8000``).
COMPARISON_CHARACTERS = frozenset("<>")
# An unquoted value starting with one of these may read as a range (``[1 TO 9]``, ``{…}``) or a comparison.
RANGE_STARTS = frozenset("[{<>")


def quote_value(value: str, prefix: bool = False) -> str:
    """Canonical rendering of a value: bare when safe, otherwise double-quoted with escapes."""
    needs_quotes = (
        value == ""
        or any(ch in UNQUOTED_SPECIALS for ch in value)
        or value.lower() in {"and", "or", "not"}
        or value[0] in RANGE_STARTS
    )
    body = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"' if needs_quotes else value
    return body + ("*" if prefix else "")


def quote_name(name: str) -> str:
    """Render a type or context name; specials (including ``;:=``) are backslash-escaped."""
    return "".join(
        "\\" + ch if ch in UNQUOTED_SPECIALS or ch in ";:=" or ch in COMPARISON_CHARACTERS else ch for ch in name
    )


@dataclass(frozen=True, slots=True)
class Term:
    type: str
    match: Match
    value: str
    context: str | None = None  # None: any context; "" means the empty context (``ip;:8.8.8.8``)
    prefix: bool = False  # value ended in an unescaped ``*``: the last word (or the value, for EXACT) is a prefix
    span: Span = field(default=_NO_SPAN, compare=False)

    def __str__(self) -> str:
        name = quote_name(self.type)
        if self.context is not None:
            name += ";" + quote_name(self.context)
        return f"{name}{self.match.value}{quote_value(self.value, self.prefix)}"


@dataclass(frozen=True, slots=True)
class Range:
    """The values of ``type`` from ``low`` to ``high`` (None: unbounded), each bound included unless its flag says
    otherwise; an unbounded side is always "included", so that one range has one tree. The bounds are as written
    (the checker makes them canonical numbers or days)."""

    type: str
    low: str | None
    high: str | None
    include_low: bool = True
    include_high: bool = True
    context: str | None = None
    span: Span = field(default=_NO_SPAN, compare=False)

    def __str__(self) -> str:
        name = quote_name(self.type)
        if self.context is not None:
            name += ";" + quote_name(self.context)
        # one bound as a comparison, unless it starts with '=' (then '<' and it would read as '<=')
        if self.high is None and self.low is not None and not self.low.startswith("="):
            return f"{name}:{'>=' if self.include_low else '>'}{self.low}"
        if self.low is None and self.high is not None and not self.high.startswith("="):
            return f"{name}:{'<=' if self.include_high else '<'}{self.high}"
        opening, closing = "[" if self.include_low else "{", "]" if self.include_high else "}"
        return f"{name}:{opening}{self.low or '*'} TO {self.high or '*'}{closing}"


@dataclass(frozen=True, slots=True)
class Not:
    child: Expr
    span: Span = field(default=_NO_SPAN, compare=False)

    def __str__(self) -> str:
        return f"not {_wrap(self.child, Not)}"


@dataclass(frozen=True, slots=True)
class And:
    children: tuple[Expr, ...]
    span: Span = field(default=_NO_SPAN, compare=False)

    def __str__(self) -> str:
        return " and ".join(_wrap(child, And) for child in self.children)


@dataclass(frozen=True, slots=True)
class Or:
    children: tuple[Expr, ...]
    span: Span = field(default=_NO_SPAN, compare=False)

    def __str__(self) -> str:
        return " or ".join(_wrap(child, Or) for child in self.children)


Expr = Term | Range | And | Or | Not

_BINDING = {Or: 1, And: 2, Not: 3, Term: 4, Range: 4}


def _wrap(child: Expr, parent: type) -> str:
    text = str(child)
    return f"({text})" if _BINDING[type(child)] <= _BINDING[parent] and not isinstance(child, Not) else text

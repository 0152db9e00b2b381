"""Tokens → AST, by recursive descent over this grammar (``not`` binds tighter than ``and``, ``and`` than ``or``):

    expression := or_expr EOF
    or_expr    := and_expr ("or" and_expr)*
    and_expr   := unary (("and" unary) | unary_starting_with_not)*      "a not b" means "a and not b"
    unary      := "not" unary | primary
    primary    := TERM | "(" or_expr ")"

In free text (``free_text=True``: bare words are ``search-term`` terms, see the lexer) two operands with no
operator between them are ANDed, as in a search box.

Chains of one operator become one n-ary node (``a and b and c`` is ``And(a, b, c)``); a parenthesised
group stays a node of its own. Caps keep every input cheap: MAX_LENGTH characters, MAX_DEPTH nested
parentheses and ``not``s (which also bounds the recursion), MAX_TERMS terms. Any input string either
parses or raises QueryError (QueryTooComplex for the caps).
"""

from __future__ import annotations

from shoal.errors import QueryError, QueryTooComplex
from shoal.query.ast import And, Expr, Not, Or, Span
from shoal.query.lexer import TermParts, Token, TokenKind, tokenize

MAX_LENGTH = 4096
MAX_DEPTH = 32
MAX_TERMS = 256

_OPERAND_STARTS = frozenset({TokenKind.TERM, TokenKind.LPAREN, TokenKind.NOT})


def parse(text: str, free_text: bool = False) -> Expr:
    """Parse expression text into an AST whose nodes carry their source spans."""
    if len(text) > MAX_LENGTH:
        raise QueryTooComplex(
            f"the expression is longer than {MAX_LENGTH} characters",
            MAX_LENGTH,
            len(text),
            "shorten it, or split the search into several queries",
        )
    return _Parser(tokenize(text, free_text), text, free_text).expression()


class _Parser:
    """One parse: a cursor over the tokens plus the nesting depth and term count so far."""

    def __init__(self, tokens: list[Token], text: str, free_text: bool = False) -> None:
        self.tokens = tokens
        self.text = text
        self.free_text = free_text
        self.index = 0
        self.depth = 0
        self.terms = 0

    def expression(self) -> Expr:
        if self._peek().kind is TokenKind.EOF:
            raise QueryError("empty expression", 0, len(self.text), "write type:value, e.g. host:example.com")
        expr, _ = self._or_expr()
        token = self._peek()
        if token.kind is TokenKind.RPAREN:
            raise QueryError("unmatched ')'", token.span.start, token.span.end, "remove it, or add the '(' it closes")
        return expr

    # Each rule returns the node and the span of its source text, parentheses included.

    def _or_expr(self) -> tuple[Expr, Span]:
        operands = [self._and_expr()]
        while (token := self._peek()).kind is TokenKind.OR:
            self._advance()
            self._expect_operand_after(token)
            operands.append(self._and_expr())
        return _combine(Or, operands)

    def _and_expr(self) -> tuple[Expr, Span]:
        operands = [self._unary()]
        while True:
            token = self._peek()
            if token.kind is TokenKind.AND:
                self._advance()
                self._expect_operand_after(token)
            elif token.kind in (TokenKind.TERM, TokenKind.LPAREN) and self.free_text:
                pass  # free text: side by side means "and"
            elif token.kind in (TokenKind.TERM, TokenKind.LPAREN):
                raise QueryError(
                    f"missing operator before '{token.text}'",
                    token.span.start,
                    token.span.end,
                    "add 'and' or 'or' between the two",
                )
            elif token.kind is not TokenKind.NOT:  # a NOT right after an operand means "and not"
                return _combine(And, operands)
            operands.append(self._unary())

    def _unary(self) -> tuple[Expr, Span]:
        token = self._peek()
        if token.kind is not TokenKind.NOT:
            return self._primary()
        self._advance()
        self._enter(token)
        self._expect_operand_after(token)
        child, child_span = self._unary()
        self.depth -= 1
        span = Span(token.span.start, child_span.end)
        return Not(child, span), span

    def _primary(self) -> tuple[Expr, Span]:
        token = self._advance()
        if token.term is not None:
            return self._term(token.term, token.span)
        if token.kind is TokenKind.LPAREN:
            return self._group(token)
        if token.kind is TokenKind.RPAREN:
            raise QueryError("unmatched ')'", token.span.start, token.span.end, "remove it, or add the '(' it closes")
        raise QueryError(
            f"'{token.text}' needs a term before it",
            token.span.start,
            token.span.end,
            f"'{token.text}' goes between two terms, e.g. title:a {token.text.lower()} title:b",
        )

    def _term(self, parts: TermParts, span: Span) -> tuple[Expr, Span]:
        self.terms += 1
        if self.terms > MAX_TERMS:
            raise QueryTooComplex(
                f"the expression has more than {MAX_TERMS} terms",
                span.start,
                span.end,
                "split the search into several queries",
            )
        return parts.to_term(span), span

    def _group(self, opening: Token) -> tuple[Expr, Span]:
        self._enter(opening)
        if (token := self._peek()).kind is TokenKind.RPAREN:
            raise QueryError(
                "empty parentheses", opening.span.start, token.span.end, "put a term inside, or remove them"
            )
        if token.kind is TokenKind.EOF:
            raise QueryError("'(' is never closed", opening.span.start, opening.span.end, "add a term and a ')'")
        inner, _ = self._or_expr()
        closing = self._advance()
        if closing.kind is not TokenKind.RPAREN:  # _or_expr stops only at ')' or the end
            raise QueryError("'(' is never closed", opening.span.start, opening.span.end, "add the missing ')'")
        self.depth -= 1
        return inner, Span(opening.span.start, closing.span.end)

    def _expect_operand_after(self, operator: Token) -> None:
        token = self._peek()
        if token.kind in _OPERAND_STARTS:
            return
        if token.kind is TokenKind.EOF:
            raise QueryError(
                f"'{operator.text}' needs a term after it",
                operator.span.start,
                operator.span.end,
                "add a term after it, or remove it",
            )
        raise QueryError(
            f"expected a term after '{operator.text}', found '{token.text}'",
            token.span.start,
            token.span.end,
            "a term looks like type:value, e.g. port-tcp:443",
        )

    def _enter(self, token: Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise QueryTooComplex(
                f"the expression nests parentheses and 'not' more than {MAX_DEPTH} deep",
                token.span.start,
                token.span.end,
                "remove redundant parentheses and double negations",
            )

    def _peek(self) -> Token:
        return self.tokens[self.index]

    def _advance(self) -> Token:
        token = self.tokens[self.index]
        if token.kind is not TokenKind.EOF:
            self.index += 1
        return token


def _combine(node: type[And] | type[Or], operands: list[tuple[Expr, Span]]) -> tuple[Expr, Span]:
    if len(operands) == 1:
        return operands[0]
    span = Span(operands[0][1].start, operands[-1][1].end)
    return node(tuple(expr for expr, _ in operands), span), span

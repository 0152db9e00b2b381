"""Tokens: what a report row's text index holds, so that term and value conditions are answered on the row.

On servers with text indexes (ClickHouse ≥ 26.2) ``reports`` has ``tokens``, computed by the server from the
row's item arrays (``TOKENS``) as each row is written (a MATERIALIZED column), and a ``text(tokenizer = array)``
index over it: ``has(tokens, t)`` then reads the index's posting list instead of the rows. (An ALIAS column would
store nothing, but ClickHouse 26.9 matches an index over so complex an expression to no query.) A token states
one fact about the report's items, exactly: the report holds the token **iff** it has an item with that fact. The
compiler (``compile.py``) spells the same strings from a plan node with the functions below; the tests check
that both spell every fact alike.

    kind  fact                                              for
    w     an item of type T has word W                      every item (``search-term:`` asks for the word
    W     an item of type T in context C has word W         under every type the dataset has)
    v     an item of type T has the value V                 every item but ip and host (whose terms are
    V     an item of type T in context C has the value V    address ranges and host names)
    h, H  as v, V for a value longer than VALUE_BYTES: its MD5 instead of the value
    c     an item of type T has the context C               every item with a context
    n, N  an item of type T [in context C] names host H     host items, and the host of url items
    s, S  … names a host under H by whole labels
    i     an ip item besides the scanned address            reports that have one

A kind in capitals names the context and is written only for items whose context is not empty: a condition on
the empty context is answered by its lower-case token, as a necessary condition, then checked on the item
arrays. Types and contexts are prefixed with their length in bytes (``5:title``), so no two facts share a token.
A value is compared as stored, but a port without its leading zeros (``plan.port_value``).
"""

from __future__ import annotations

import hashlib

from shoal.model import PORT_TYPES

VALUE_BYTES = 64  # values up to this long are their own token; longer ones are written as their MD5
VALUELESS_TYPES = ("host", "ip")  # their terms are lowered to host names and address ranges
OTHER_ADDRESS = "i"


def utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def field(text: str) -> str:
    return f"{len(utf8(text))}:{text}"


def head(kind: str, item_type: str, context: str | None) -> str:
    """The token's kind, type and (for a context kind) context; ``context=None``: the any-context kind."""
    if context is None:
        return kind + field(item_type)
    return kind.upper() + field(item_type) + field(context)


def word(item_type: str, context: str | None, text: str) -> str:
    return head("w", item_type, context) + text


def value(item_type: str, context: str | None, text: str) -> str:
    if len(utf8(text)) <= VALUE_BYTES:
        return head("v", item_type, context) + text
    return head("h", item_type, context) + hashlib.md5(utf8(text)).hexdigest()


def has_context(item_type: str, context: str) -> str:
    return "c" + field(item_type) + field(context)


def host_name(item_type: str, context: str | None, name: str) -> str:
    return head("n", item_type, context) + name


def host_suffix(item_type: str, context: str | None, name: str) -> str:
    return head("s", item_type, context) + name


# -- the same facts in SQL, over the row's item arrays ------------------------------------------------------------


def sql_unless(*conditions: str) -> str:
    """1 unless one of ``conditions`` holds."""
    return "multiIf(" + ", ".join(f"{condition}, 0" for condition in conditions) + ", 1)"


def sql_field(name: str) -> str:
    return f"concat(toString(length({name})), ':', {name})"


# An item's value as compared: a port without its leading zeros (``plan.port_value``; ports are ASCII digits).
PORTS = ", ".join(f"'{name}'" for name in PORT_TYPES)
KEY = f"if(multiIf(NOT has([{PORTS}], t), 0, match(v, '^[0-9]+$')), replaceRegexpOne(v, '^0+([0-9])', '\\\\1'), v)"


def sql_value(kind: str, scope: str) -> str:
    digest = kind.replace("v", "h").replace("V", "H")
    return (
        f"if(length(k) <= {VALUE_BYTES}, concat('{kind}', {scope}, k), concat('{digest}', {scope}, lower(hex(MD5(k)))))"
    )


SUFFIXES = "arrayMap(p -> substring(h, p + 1), arrayFilter(p -> substring(h, p, 1) = '.', range(1, length(h) + 1)))"
TYPED, SCOPED = sql_field("t"), f"{sql_field('t')}, {sql_field('c')}"
VALUELESS = [f"t = '{name}'" for name in VALUELESS_TYPES]
ITEM_TOKENS = f"""arrayConcat(
    arrayFilter(x -> c != '', [concat('c', {SCOPED})]),
    arrayMap(w -> concat('w', {TYPED}, w), ws),
    arrayMap(w -> concat('W', {SCOPED}, w), arrayFilter(w -> c != '', ws)),
    arrayFilter(x -> {sql_unless(*VALUELESS)}, [{sql_value("v", TYPED)}]),
    arrayFilter(x -> {sql_unless("c = ''", *VALUELESS)}, [{sql_value("V", SCOPED)}]),
    arrayFilter(x -> h != '',
                arrayConcat([concat('n', {TYPED}, h)], arrayMap(x -> concat('s', {TYPED}, x), {SUFFIXES}))),
    arrayFilter(x -> {sql_unless("h = ''", "c = ''")},
                arrayConcat([concat('N', {SCOPED}, h)], arrayMap(x -> concat('S', {SCOPED}, x), {SUFFIXES})))
)"""
IS_SCANNED = sql_unless("t != 'ip'", "c != ''")
SCANNED = f"arrayFirstIndex((t, c) -> {IS_SCANNED}, item_type, item_context)"
IS_OTHER = sql_unless("t != 'ip'", f"i = {SCANNED}")
OTHERS = f"arrayFilter((t, i) -> {IS_OTHER}, item_type, arrayEnumerate(item_type))"
KEYS = f"arrayMap((t, v) -> {KEY}, item_type, item_value)"
TOKENS = " ".join(
    f"""arrayConcat(
    arrayFlatten(arrayMap((t, c, k, ws, h) -> {ITEM_TOKENS}, item_type, item_context, {KEYS}, item_words, item_host)),
    arrayMap(t -> '{OTHER_ADDRESS}', {OTHERS})
)""".split()
)

"""Tokens: what a report row holds so that term and value conditions are answered on the row itself.

Every report row carries ``tokens Array(String)``, and on servers with text indexes (ClickHouse ≥ 26.2) a
``text(tokenizer = array)`` index over them, so ``has(tokens, t)`` reads the index's posting list instead of
the rows. A token states one fact about the report's items, exactly: the report holds the token **iff** it has
an item with that fact. The compiler (``compile.py``) builds the same strings from a plan node; nothing else
reads them.

    kind  fact                                              written for
    w     an item of type T has word W                      every item whose type the query language
    W     an item of type T in context C has word W         searches by words (not ip, host, port-tcp)
    v     an item of type T has the value V                 every item but ip and host (whose terms are
    V     an item of type T in context C has the value V    address ranges and host names)
    h, H  as v, V for a value longer than VALUE_BYTES: its digest instead of the value
    c     an item of type T has the context C               every item with a context
    n, N  an item of type T [in context C] names host H     host items, and the host of url items
    s, S  … names a host under H by whole labels
    x     an item of any type has word W                    every item (``search-term:``)
    i     an ip item besides the scanned address            reports that have one

A kind in capitals names the context and is written only for items whose context is not empty: a condition on
the empty context is answered by its lower-case token as a necessary condition, then checked on the items.
Types and contexts are length-prefixed (``5:title``), so no two facts share a token.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from shoal.model import Item
from shoal.query.words import split_words
from shoal.store.plan import item_host, port_value

VALUE_BYTES = 64  # values up to this long are their own token; longer ones are written as a digest
WORDLESS_TYPES = frozenset({"ip", "host", "port-tcp"})  # lowered to ranges, host names and port numbers
VALUELESS_TYPES = frozenset({"ip", "host"})
OTHER_ADDRESS = "i"


def field(text: str) -> str:
    return f"{len(text)}:{text}"


def head(kind: str, item_type: str, context: str | None) -> str:
    """The token's kind, type and (for a context kind) context; ``context=None``: the any-context kind."""
    if context is None:
        return kind + field(item_type)
    return kind.upper() + field(item_type) + field(context)


def word(item_type: str, context: str | None, text: str) -> str:
    return head("w", item_type, context) + text


def value(item_type: str, context: str | None, text: str) -> str:
    if len(text.encode("utf-8", "surrogatepass")) <= VALUE_BYTES:
        return head("v", item_type, context) + text
    digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()
    return head("h", item_type, context) + digest


def has_context(item_type: str, context: str) -> str:
    return "c" + field(item_type) + field(context)


def host_name(item_type: str, context: str | None, name: str) -> str:
    return head("n", item_type, context) + name


def host_suffix(item_type: str, context: str | None, name: str) -> str:
    return head("s", item_type, context) + name


def any_word(text: str) -> str:
    return "x" + text


def suffixes(host: str) -> list[str]:
    """The names ``host`` is under by whole labels: ``a.b.example`` → ``b.example``, ``example``."""
    return [host[index + 1 :] for index, char in enumerate(host) if char == "."]


def report_tokens(items: Iterable[Item], scanned_ip: int | None) -> list[str]:
    """The distinct tokens of a report's items; ``scanned_ip`` is the index of the report's scanned address
    (its first ``ip`` item with an empty context), None if it has none."""
    tokens: dict[str, None] = {}
    for index, (item_type, text, context, _) in enumerate(items):
        contexts: tuple[str | None, ...] = (None, context) if context else (None,)
        if context:
            tokens[has_context(item_type, context)] = None
        words = split_words(text)
        for found in words:
            tokens[any_word(found)] = None
        if item_type not in WORDLESS_TYPES:
            for found in words:
                for scope in contexts:
                    tokens[word(item_type, scope, found)] = None
        if item_type not in VALUELESS_TYPES:
            exact = port_value(text) if item_type == "port-tcp" else text
            for scope in contexts:
                tokens[value(item_type, scope, exact)] = None
        host = item_host(item_type, text)
        if host:
            for scope in contexts:
                tokens[host_name(item_type, scope, host)] = None
                for name in suffixes(host):
                    tokens[host_suffix(item_type, scope, name)] = None
        if item_type == "ip" and index != scanned_ip:
            tokens[OTHER_ADDRESS] = None
    return list(tokens)


def scanned_ip_index(items: Iterable[Item]) -> int | None:
    for index, item in enumerate(items):
        if item.type == "ip" and item.context == "":
            return index
    return None

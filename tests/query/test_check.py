from __future__ import annotations

import pytest

from shoal.errors import QueryError
from shoal.query.ast import And, Match, Not, Span, Term
from shoal.query.check import BUILTIN_TYPES, TYPE_RULES, check
from shoal.query.parser import parse

DRIFTNET_TYPES = {
    "ip",
    "port-tcp",
    "server-banner",
    "http-header",
    "title",
    "url",
    "host",
    "subject",
    "issuer",
    "cert-dns-name",
    "entity",
    "asn",
    "geo-country",
    "product-tag",
    "product-info",
    "jarm",
    "cert-sha256",
    "obj-murmur3",
    "ja4x-hash",
    "search-term",
    "protocol",
    "http-header-name",
}


def checked(text: str, known_types: frozenset[str] = frozenset()) -> str:
    return str(check(parse(text), known_types, source=text))


def test_registry_covers_the_driftnet_types() -> None:
    assert BUILTIN_TYPES.keys() >= DRIFTNET_TYPES
    assert all(description for description in BUILTIN_TYPES.values())
    assert TYPE_RULES.keys() <= BUILTIN_TYPES.keys()


VALID_CASES: list[tuple[str, str]] = [
    # text, canonical text after checking
    ("title:nginx", "title:nginx"),
    ("title:univ*", "title:univ*"),
    ('title:"university of"*', 'title:"university of"*'),
    ('title="--"', "title=--"),
    ('title=""', 'title=""'),
    ("product-tag=hikvision*", "product-tag=hikvision*"),
    ("ip:8.8.8.8", "ip:8.8.8.8"),
    ("ip;:8.8.8.8", "ip;:8.8.8.8"),
    ("ip=8.8.8.8", "ip=8.8.8.8"),
    ("ip:2001:DB8:0:0::1", "ip:2001:db8::1"),
    ("ip:8.8.8.1/24", "ip:8.8.8.0/24"),
    ("ip:2001:db8::/32", "ip:2001:db8::/32"),
    ("ip;cert-ip-address:8.8.4.0/24", "ip;cert-ip-address:8.8.4.0/24"),
    ("port-tcp:443", "port-tcp:443"),
    ("port-tcp=0443", "port-tcp=443"),
    ("port-tcp:0", "port-tcp:0"),
    ("port-tcp:000", "port-tcp:0"),
    ("port-tcp:65535", "port-tcp:65535"),
    ("protocol=modbus", "protocol=modbus"),
    ("protocol=mod*", "protocol=mod*"),
    ("http-header-name=X-Clacks-Overhead", "http-header-name=X-Clacks-Overhead"),
    ("search-term:cherrypy", "search-term:cherrypy"),
    ("search-term=cherrypy", "search-term=cherrypy"),
    ("host:example.com", "host:example.com"),
    ("host;=example.com", "host;=example.com"),
    ("geo-country=GB", "geo-country=GB"),
    ("title:a and not (ip:10.1.1.1/8 or port-tcp:080)", "title:a and not (ip:10.0.0.0/8 or port-tcp:80)"),
]


@pytest.mark.parametrize(("text", "canonical"), VALID_CASES)
def test_valid(text: str, canonical: str) -> None:
    assert checked(text) == canonical


def test_types_the_store_knows_are_valid() -> None:
    assert checked("ssh-hostkey:abc", frozenset({"ssh-hostkey"})) == "ssh-hostkey:abc"


def test_check_returns_a_new_tree_with_the_original_spans() -> None:
    text = "port-tcp:0443 and not ip:10.0.0.1/8"
    tree = parse(text)
    result = check(tree, ())
    assert result is not tree
    assert result == And((Term("port-tcp", Match.WORDS, "443"), Not(Term("ip", Match.WORDS, "10.0.0.0/8"))))
    assert isinstance(result, And)
    assert result.span == tree.span
    port, negation = result.children
    assert isinstance(negation, Not)
    assert (port.span, negation.span, negation.child.span) == (Span(0, 13), Span(18, 35), Span(22, 35))


ERROR_CASES: list[tuple[str, int, int, str, str]] = [
    # text, start, end, in the message, in the hint; spans narrowed using the source
    ("titel:nginx", 0, 5, "unknown type 'titel'", "did you mean 'title'?"),
    ("Title:nginx", 0, 5, "unknown type 'Title'", "did you mean 'title'?"),
    ("host:a.com and prot-tcp:22", 15, 23, "unknown type 'prot-tcp'", "did you mean 'port-tcp'?"),
    ("zzzzzzzz:x", 0, 8, "unknown type 'zzzzzzzz'", "search-term"),
    ("protocol:modbus", 0, 15, "protocol must be searched with '='", "write protocol=modbus"),
    ("protocol;x:modbus", 0, 17, "protocol must be searched with '='", "write protocol=modbus"),
    ("http-header-name:Server", 0, 23, "must be searched with '='", "write http-header-name=Server"),
    ("protocol;ssh=modbus", 8, 12, "protocol takes no context", "write protocol=modbus"),
    ('http-header-name;"a b"=Server', 16, 22, "takes no context", "write http-header-name=Server"),
    ("search-term;x:foo", 11, 13, "search-term takes no context", "write search-term:foo"),
    ("search-term;:foo", 11, 12, "search-term takes no context", "write search-term:foo"),
    ("ip:8.8.8.*", 3, 10, "ip values cannot be prefixes", "CIDR"),
    ("ip:8.8.8", 3, 8, "ip needs an IP address or CIDR range", "ip:8.8.8.8"),
    ("ip=8.8.8.8/33", 3, 13, "ip needs an IP address or CIDR range", ""),
    ("ip:example.com", 3, 14, "ip needs an IP address", ""),
    ("ip:fe80::1%eth0", 3, 15, "ip needs an IP address", ""),
    ('ip:" 8.8.8.8"', 3, 13, "ip needs an IP address", ""),
    ("port-tcp:65536", 9, 14, "port-tcp needs a port number from 0 to 65535", "port-tcp:443"),
    ("port-tcp:99999999999999999999", 9, 29, "port-tcp needs a port number", ""),
    ("port-tcp:-1", 9, 11, "port-tcp needs a port number", ""),
    ("port-tcp:4_43", 9, 13, "port-tcp needs a port number", ""),
    ("port-tcp:\u0664\u0664\u0663", 9, 12, "port-tcp needs a port number", ""),  # Arabic-Indic digits
    ('port-tcp:" 443"', 9, 15, "port-tcp needs a port number", ""),
    ("port-tcp:44*", 9, 12, "port-tcp values cannot be prefixes", "whole port number"),
    ("host:example*", 5, 13, "host values cannot be prefixes", "subdomains"),
    ("host=www.example*", 5, 17, "host values cannot be prefixes", "subdomains"),
    ('title:"--"', 6, 10, "the value has no words to search for", "use = for an exact match: title=--"),
    ('title:""', 6, 8, "no words", 'title=""'),
    ("title:*", 6, 7, "'*' needs a word before it", "title:abc*"),
    ("title:-*", 6, 8, "'*' needs a word before it", "use = for a prefix of the whole value: title=-*"),
    ("title=*", 6, 7, "'*' needs at least one character before it", "title=abc*"),
]


@pytest.mark.parametrize(("text", "start", "end", "message", "hint"), ERROR_CASES)
def test_errors(text: str, start: int, end: int, message: str, hint: str) -> None:
    with pytest.raises(QueryError) as caught:
        checked(text)
    assert (caught.value.start, caught.value.end) == (start, end)
    assert message in caught.value.message
    assert hint in caught.value.hint


def test_without_source_errors_span_the_whole_term() -> None:
    with pytest.raises(QueryError) as caught:
        check(parse("title:x and port-tcp:99999"), ())
    assert (caught.value.start, caught.value.end) == (12, 26)


def test_a_source_that_does_not_match_the_tree_is_ignored() -> None:
    with pytest.raises(QueryError) as caught:
        check(parse("titel:x"), (), source="something else")
    assert (caught.value.start, caught.value.end) == (0, 7)

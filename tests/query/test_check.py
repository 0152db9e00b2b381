from __future__ import annotations

import datetime as dt

import pytest

from shoal.errors import QueryError
from shoal.query.ast import And, Match, Not, Range, Span, Term
from shoal.query.check import BUILTIN_TYPES, TYPE_RULES, check, inclusive_bounds
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
    # one-case types: the value is put in the case the type is stored in
    ("geo-country=us", "geo-country=US"),
    ("product-tag=NGINX", "product-tag=nginx"),
    ("product-tag=Hikvision*", "product-tag=hikvision*"),
    ("cert-sha256=ABCDEF", "cert-sha256=abcdef"),
    # asn: an AS number as Shodan and whois write it is the number asn items hold
    ("asn:AS15169", "asn:15169"),
    ("asn=as15169", "asn=15169"),
    ("asn:AS151*", "asn:151*"),
    ("asn:ASN", "asn:ASN"),
    # ranges: bounds canonical, printed in one form
    ("port-tcp:[1 TO 1024]", "port-tcp:[1 TO 1024]"),
    ("port-tcp=[0001 to 01024]", "port-tcp:[1 TO 1024]"),
    ("port-tcp:{1 TO 1024}", "port-tcp:{1 TO 1024}"),
    ("port-tcp:[1024 TO *]", "port-tcp:>=1024"),
    ("port-tcp:{* TO 1024}", "port-tcp:<1024"),
    ("port-tcp:[* TO *]", "port-tcp:[* TO *]"),
    ("port-tcp>8000", "port-tcp:>8000"),
    ("port-tcp:>=8000", "port-tcp:>=8000"),
    ("port-udp=<53", "port-udp:<53"),
    ("cert-not-after<2027-01-01", "cert-not-after:<2027-01-01"),
    ("cert-not-before:[2026-01-01 TO 2026-12-31]", "cert-not-before:[2026-01-01 TO 2026-12-31]"),
    ("ssh-hostkey-bits;ssh-rsa>=2048", "ssh-hostkey-bits;ssh-rsa:>=2048"),
    ("asn:[13335 TO 15169]", "asn:[13335 TO 15169]"),
    ("asn:[AS13335 TO as15169]", "asn:[13335 TO 15169]"),
    ("asn>AS64511", "asn:>64511"),
    ("port-tcp:[5 TO 5]", "port-tcp:[5 TO 5]"),
    # what looks like a range but is not a whole one stays an ordinary value
    ("title:[draft]", 'title:"[draft]"'),
    ('title:">5"', 'title:">5"'),
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
    ("port-tcp:1-1024", 9, 15, "port-tcp needs a port number", "for a range, port-tcp:[1 TO 1024]"),
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
    # another engine's filter names: what they are in Shoal, at the name
    ("org:Google", 0, 3, "'org' is Shodan's name; in Shoal it is 'entity'", "write entity:Google"),
    ("port-tcp:1 and port:22", 15, 19, "in Shoal it is 'port-tcp' or 'port-udp'", "write port-tcp:22"),
    ("net:10.0.0.0/8", 0, 3, "in Shoal it is 'ip'", "write ip:10.0.0.0/8"),
    ("hostname:example.com", 0, 8, "in Shoal it is 'host'", "write host:example.com"),
    ("product:nginx", None, None, "", ""),  # product is a Shoal type too: valid
    ('ssl.cert.subject.cn:"a b"', 0, 19, "'subject' or 'host;cert-dns-name'", 'write subject:"a b"'),
    ("http.favicon.hash:-1", 0, 17, "'obj-murmur3;favicon'", "write obj-murmur3;favicon:-1"),
    ("services.port=22", 0, 13, "'services.port' is Censys's name", "write port-tcp:22"),
    ("services.service_name=SSH", 0, 21, "'protocol'", "write protocol=SSH"),
    ("city:Paris", 0, 4, "'city' is Shodan's name; Shoal has no type for it", "geo-country"),
    ("port:>1024", 0, 4, "in Shoal it is 'port-tcp'", ""),
    # ranges: on number and day types, with valid bounds, holding at least one value
    ("title:>5", 6, 8, "title takes no range", 'to search the text, quote it: title:">5"'),
    ("title:[a TO b]", 6, 14, "title takes no range", 'title:"[a TO b]"'),
    ("http-header;X=<b>", 14, 17, "http-header takes no range", ""),
    ("port-tcp:[10 TO 1]", 9, 18, "the range [10 TO 1] holds no value", "port-tcp:[1 TO 1024]"),
    ("port-tcp:{5 TO 6}", 9, 17, "holds no value", ""),
    ("port-tcp:>65535", 9, 15, "holds no value", ""),
    ("port-tcp:<0", 9, 11, "holds no value", ""),
    ("asn:{* TO 0}", 4, 12, "holds no value", ""),
    ("port-tcp:[1 TO 70000]", 15, 20, "port-tcp ranges need a port number from 0 to 65535", ""),
    ("port-tcp:[x TO 5]", 10, 11, "port-tcp ranges need a port number", ""),
    ("port-tcp:>-1", 10, 12, "port-tcp ranges need a port number", ""),
    ("cert-not-after<2027-13-01", 15, 25, "cert-not-after ranges need a day, YYYY-MM-DD", "cert-not-after:[2026-01-01"),
    ("cert-not-after<2027", 15, 19, "need a day", ""),
    ("cert-not-after:>9999-12-31", 15, 26, "holds no value", ""),
    ("asn:>99999999999999999999", 5, 25, "asn ranges need a whole number", ""),
    ("protocol>5", 8, 10, "protocol takes no range", ""),
    ("search-term:>5", 12, 14, "search-term takes no range", ""),
]


@pytest.mark.parametrize(("text", "start", "end", "message", "hint"), ERROR_CASES)
def test_errors(text: str, start: int | None, end: int | None, message: str, hint: str) -> None:
    if start is None:
        checked(text)
        return
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


def test_a_foreign_name_in_free_text_gets_the_hint_but_an_unknown_one_is_words() -> None:
    with pytest.raises(QueryError) as caught:
        check(parse("nginx org:Google", free_text=True), BUILTIN_TYPES, source="nginx org:Google", free_text=True)
    assert (caught.value.start, caught.value.end, caught.value.hint) == (6, 9, "write entity:Google")
    text = "http://example.com a<b"
    assert str(check(parse(text, free_text=True), BUILTIN_TYPES, source=text, free_text=True)) == (
        "search-term:http://example.com and search-term:a<b"
    )


def test_a_range_keeps_its_spans_and_checks_to_itself() -> None:
    text = "title:a and port-tcp:[0022 TO 443]"
    result = check(parse(text), (), source=text)
    assert result == And((Term("title", Match.WORDS, "a"), Range("port-tcp", "22", "443")))
    assert isinstance(result, And) and result.children[1].span == Span(12, 34)
    assert check(result, ()) == result


@pytest.mark.parametrize(
    ("text", "bounds"),
    [
        ("port-tcp:[1 TO 1024]", (1, 1024)),
        ("port-tcp:{1 TO 1024}", (2, 1023)),
        ("port-tcp:>8000", (8001, None)),
        ("port-tcp:<=53", (None, 53)),
        ("cert-not-after:<2027-01-01", (None, dt.date(2026, 12, 31))),
        ("cert-not-after:>2026-02-28", (dt.date(2026, 3, 1), None)),
    ],
)
def test_inclusive_bounds(text: str, bounds: tuple[object, object]) -> None:
    node = check(parse(text), ())
    assert isinstance(node, Range)
    assert inclusive_bounds(node) == bounds

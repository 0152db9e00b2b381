"""``url_host`` reads a URL's host exactly as ``urlsplit`` does, whatever the URL (its plain form is read directly)."""

from __future__ import annotations

from urllib.parse import urlsplit

from hypothesis import given, settings
from hypothesis import strategies as st

from shoal.store.plan import url_host


def split_host(url: str) -> str | None:
    text = url.strip()
    try:
        host = urlsplit(text if "://" in text else "//" + text).hostname
    except ValueError:
        return None
    return host or None


PIECES = ["http", "HTTPS", "a+b", "1x", "://", ":", "/", "?", "#", "@", "[", "]", "::1", "8080", "Ex.COM", "-", "_"]
URL_SOUP = st.lists(st.sampled_from([*PIECES, ".", " ", "\t", "\n", "é", "x"]), max_size=12).map("".join)


@settings(max_examples=3_000, deadline=None)
@given(URL_SOUP)
def test_url_host_reads_what_urlsplit_reads(url: str) -> None:
    assert url_host(url) == split_host(url)


def test_plain_urls() -> None:
    assert url_host("https://A.Example.com:8443/x?y#z") == "a.example.com"
    assert url_host("http://192.0.2.1/") == "192.0.2.1"
    assert url_host("http://[2001:db8::1]:80/") == "2001:db8::1"
    assert url_host("1http://x/") is None

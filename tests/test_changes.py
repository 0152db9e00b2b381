"""``changes_between``: each field a person cares about, old → new, in the API's report shape."""

from __future__ import annotations

from typing import Any

import pytest

from shoal.changes import changes_between


def report(*items: tuple[str, str, str]) -> dict[str, Any]:
    return {
        "date": "2026-11-01",
        "id": "x",
        "items": [{"type": t, "value": v, "context": c, "is_metadata": False} for t, v, c in items],
    }


BASE = (("ip", "192.0.2.1", ""), ("port-tcp", "443", ""), ("server-banner", "HTTP/1.1 200 OK", "https"))


@pytest.mark.parametrize(
    "old, new, expected",
    [
        ((), (), []),
        ((("title", "a", ""),), (("title", "a", ""),), []),
        ((("title", "a", ""),), (("title", "b", ""),), [("title", "a", "b")]),
        ((), (("product-tag", "nginx", ""), ("product-tag", "php", "")), [("product-tag", None, "nginx | php")]),
        ((("cert-sha256", "aa", ""),), (("cert-sha256", "bb", ""),), [("certificate", "aa", "bb")]),
        ((("jarm", "j1", ""),), (), [("jarm", "j1", None)]),
        ((("ja4s-hash", "s1", ""),), (("ja4s-hash", "s2", ""),), [("ja4s", "s1", "s2")]),
        ((("ja4x-hash", "x1", ""),), (("ja4x-hash", "x2", ""),), [("ja4x", "x1", "x2")]),
        ((("http-header", "nginx", "Server"),), (("http-header", "apache", "Server"),), []),  # not compared
    ],
)
def test_fields(old: tuple, new: tuple, expected: list[tuple[str, str | None, str | None]]) -> None:
    got = changes_between(report(*BASE, *old), report(*BASE, *new))
    assert [(c["field"], c["old"], c["new"]) for c in got] == expected


def test_a_banner_change_names_the_http_status_too() -> None:
    old = report(("server-banner", "HTTP/1.1 200 OK", "https"))
    new = report(("server-banner", "HTTP/1.1 503 Service Unavailable", "https"))
    assert changes_between(old, new) == [
        {"field": "banner", "old": "https: HTTP/1.1 200 OK", "new": "https: HTTP/1.1 503 Service Unavailable"},
        {"field": "http-status", "old": "200", "new": "503"},
    ]
    ssh = changes_between(report(("server-banner", "SSH-2.0-a", "ssh")), report(("server-banner", "SSH-2.0-b", "ssh")))
    assert ssh == [{"field": "banner", "old": "ssh: SSH-2.0-a", "new": "ssh: SSH-2.0-b"}]


def test_dates_and_ids_are_no_change() -> None:
    assert changes_between(report(*BASE), {**report(*BASE), "date": "2026-12-01", "id": "y"}) == []

"""The native builder of usual report lines (native/src/lib.rs) against ``documents.build``, the definition: for every
line it takes, the same document, latest-index entry, observation and kinds; every other line is left to ``build``."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shoal.model import PROTOCOLS, InvalidReport
from shoal.store.embedded import documents
from shoal.store.embedded.documents import Built, build, build_line
from shoal.store.embedded.schema import CUT_CHARACTERS, stored_form
from tests.corpus import CORPUS
from tests.engines import missing
from tests.generated import generator

CAP = 1_000


@pytest.fixture(autouse=True)
def native() -> None:
    if documents.NATIVE is None:
        missing("shoal_native (scripts/build-native.sh)")


def comparable(built: Built) -> dict[str, Any]:
    """A built document with its lists as sets (tantivy reads their terms in any order)."""
    document = orjson.loads(built.document)
    for name, value in document.items():
        if isinstance(value, list):
            document[name] = sorted(value)
    return {"id": built.id, "document": document, "latest": built.latest, "observation": built.observation}


def native_agrees(line: bytes, batch: int = 7) -> bool:
    """Whether the native builder took ``line``; if it did, what it built is what ``build`` builds."""
    native_kinds: set[str] = set()
    native = build_line(line, PROTOCOLS, batch, native_kinds, CAP)
    if native is None:
        return False
    python_kinds: set[str] = set()
    python = build(orjson.loads(line), PROTOCOLS, batch, python_kinds, cap=CAP)
    assert comparable(native) == comparable(python)
    assert native.supersedes == python.supersedes == ()
    assert native_kinds == python_kinds
    return True


def test_the_corpus_of_the_tests_builds_the_same() -> None:
    lines = [stored_form(report) for report in CORPUS if report.dataset == PROTOCOLS]
    taken = sum(native_agrees(line) for line in lines)
    assert taken >= len(lines) // 2  # most are usual; the others (IPv6, successors…) are build's


def test_generated_reports_build_the_same_and_nearly_all_natively() -> None:
    lines = [orjson.dumps(raw) for raw in generator().generate(3_000, 5)]
    taken = sum(native_agrees(line) for line in lines)
    assert taken >= 0.95 * len(lines)


def usual(**changes: Any) -> dict[str, Any]:
    report = {
        "date": "2026-08-23",
        "id": "udF54GwP1PX4EwxCN3MO3w",
        "items": [
            {"context": "", "is_metadata": True, "type": "ip", "value": "115.133.130.31"},
            {"context": "", "is_metadata": True, "type": "port-tcp", "value": "080"},
            {"context": "http", "is_metadata": False, "type": "server-banner", "value": 'HTTP/1.1 200 "OK"\x00\x1b\n'},
            {"context": "Server", "is_metadata": False, "type": "http-header", "value": "Microsoft-IIS/8.5"},
            {"context": "X.Y", "is_metadata": False, "type": "http-header", "value": "é \\ ☃ 𝄞"},
            {"context": "", "is_metadata": False, "type": "url", "value": " HTTP://Remote.SolarHost.ru:8080/x?y "},
            {"context": "", "is_metadata": False, "type": "host", "value": "Remote.SolarHost.ru."},
            {"context": "cert-dns-name", "is_metadata": False, "type": "host", "value": "remote.solarhost.ru"},
            {"context": "rdns", "is_metadata": True, "type": "ip", "value": "10.0.0.1"},
            {"context": "", "is_metadata": True, "type": "product-tag", "value": "iis"},
            {"context": "", "is_metadata": True, "type": "product-tag", "value": "iis"},
        ],
    }
    report.update(changes)
    return report


def with_item(item_type: str, value: str, context: str = "") -> dict[str, Any]:
    report = usual()
    report["items"] = [*report["items"], {"context": context, "is_metadata": False, "type": item_type, "value": value}]
    return report


def test_a_usual_report_with_every_special_item_builds_the_same() -> None:
    assert native_agrees(orjson.dumps(usual()))
    assert native_agrees(orjson.dumps(usual(), option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2))
    assert native_agrees(orjson.dumps(usual(extra={"ignored": [1, 2]})))
    # open types under the empty context and a named one: their empty context's own terms
    assert native_agrees(orjson.dumps(with_item("http-header", "nginx")))
    assert native_agrees(orjson.dumps(with_item("url", "http://a.example/", "redirect")))
    assert native_agrees(orjson.dumps(with_item("port-tcp", "0080", "alt")))


@pytest.mark.parametrize(
    "report",
    [
        usual(date="2026-08-23T10:00:00Z"),  # build reads the first ten characters
        usual(date="1880-01-01"),  # before the first day a sort key holds
        usual(date="2026-02-30"),
        usual(id=None),  # build gives it its content id
        usual(id=""),
        usual(id="x" * 129),
        usual(items=[]),
        usual(items=usual()["items"][1:]),  # no scanned address
        usual(items=[item for item in usual()["items"] if item["type"] != "port-tcp"]),
        with_item("ip", "2001:db8::1", "rdns"),
        with_item("ip", "010.0.0.1", "rdns"),
        with_item("supersedes", "abc"),
        with_item("port-tcp", "٣", "alt"),  # a Unicode digit: build reads it as 3
        with_item("port-tcp", "99999999999", "alt"),
        with_item("url", "https://user@example.com/"),  # read by urlsplit
        with_item("url", "no scheme"),
        with_item("host", "Ünicode.example"),
        with_item("http-header", "x" * (CUT_CHARACTERS + 1), "Server"),  # a term build cuts
        with_item("title", "x", "ctx\x00"),
        with_item("Ünicode-type", "x"),
    ],
)
def test_unusual_lines_are_left_to_build(report: dict[str, Any]) -> None:
    assert build_line(orjson.dumps(report), PROTOCOLS, 1, set(), CAP) is None


@pytest.mark.parametrize(
    "line",
    [
        b'{"date":"2026-08-23","id":"a","id":"b","items":[]}',
        b'{"date":"2026-08-23","id":"a","items":[{"context":"","is_metadata":1,"type":"ip","value":"1.2.3.4"}]}',
        b'{"date":"2026-08-23","id":"a","items":[{"context":"","is_metadata":true,"type":"ip","value":"1.2.3.4","x":1}]}',
        b'{"date":"2026-08-23","id":"a","items":[{"context":"","is_metadata":true,"type":"ip","value":"\\ud800"}]}',
        b"not json",
        b"[]",
    ],
)
def test_lines_not_in_a_report_s_exact_shape_are_left_to_build(line: bytes) -> None:
    assert build_line(line, PROTOCOLS, 1, set(), CAP) is None


def test_an_address_with_a_nul_is_an_invalid_report_not_a_crash() -> None:
    line = orjson.dumps(with_item("ip", "10.0.0.1\x00", "rdns"))
    assert build_line(line, PROTOCOLS, 1, set(), CAP) is None
    with pytest.raises(InvalidReport):
        build(orjson.loads(line), PROTOCOLS, 1, set(), cap=CAP)


def test_long_port_texts_are_rejected_or_normalised_not_a_crash() -> None:
    """Python's int() refuses texts of over 4,300 digits: a port of 5,000 is an invalid report (the scanned port)
    or a value without its leading zeros (a port under a named context), never a failed import."""
    scanned = usual()["items"][:1]
    too_long = orjson.dumps(
        usual(items=[*scanned, {"context": "", "is_metadata": True, "type": "port-tcp", "value": "1" * 5_000}])
    )
    assert build_line(too_long, PROTOCOLS, 1, set(), CAP) is None
    with pytest.raises(InvalidReport, match="not a port number"):
        build(orjson.loads(too_long), PROTOCOLS, 1, set(), cap=CAP)
    assert native_agrees(orjson.dumps(with_item("port-tcp", "0" * 5_000 + "80")))
    named = orjson.dumps(with_item("port-tcp", "0" * 5_000 + "7" * 5_000, "alt"))
    document = orjson.loads(build(orjson.loads(named), PROTOCOLS, 1, set(), cap=CAP).document)
    assert document["words"]["port-tcp\x1ealt"] == "7" * 5_000


def test_other_datasets_and_long_reports_are_left_to_build() -> None:
    line = orjson.dumps(usual())
    assert build_line(line, "domains", 1, set(), CAP) is None
    assert build_line(line, PROTOCOLS, 1, set(), len(usual()["items"]) - 1) is None


text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12) | st.sampled_from(
    ["", "80", "0443", "nginx", "a.b", "http://a.example:80/", "Example.COM.", "1.2.3.4", "::1", "x y"]
)
items = st.lists(
    st.fixed_dictionaries(
        {
            "context": st.sampled_from(["", "", "http", "Server", "rdns", "cert-dns-name", "a.b"]) | text,
            "is_metadata": st.booleans(),
            "type": st.sampled_from(
                ["ip", "port-tcp", "port-udp", "host", "url", "title", "http-header", "server-banner", "cert-sha256"]
            ),
            "value": text,
        }
    ),
    max_size=8,
)


@settings(max_examples=1000, suppress_health_check=[HealthCheck.too_slow])
@given(items)
def test_any_report_the_native_builder_takes_builds_the_same(extra: list[dict[str, Any]]) -> None:
    report = usual(items=usual()["items"][:2] + extra)
    line = orjson.dumps(report)
    try:
        build(orjson.loads(line), PROTOCOLS, 1, set(), cap=CAP)
    except InvalidReport:
        assert build_line(line, PROTOCOLS, 1, set(), CAP) is None
        return
    native_agrees(line)

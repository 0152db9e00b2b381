"""The protocol registry as data, and the pure parts of the probes on bytes nobody planned for."""

from __future__ import annotations

import contextlib
import pkgutil

from hypothesis import given, settings
from hypothesis import strategies as st

from shoal.collect import probes
from shoal.collect.identify import BANNER_WAIT, plan
from shoal.collect.probes import amqp, cassandra, dns, git, ldap, mssql, rdp, smb, vnc, x11
from shoal.collect.probes.base import ClientFirst, ServerFirst
from shoal.collect.protocols import CLIENT_FIRST, SERVER_FIRST, TCP_PROTOCOLS

PROBE_ITEM_TYPES = (
    *("version", "product", "protocol-version", "capability", "auth-method", "starttls"),
    *("signing", "guid", "naming-context", "server-name", "share"),
)
HELPERS = {"base", "banner", "ber", "replies", "starttls", "web"}  # modules shared by probes, not protocols


def test_at_least_forty_tcp_protocols_each_named_once() -> None:
    names = [row.name for row in TCP_PROTOCOLS]
    assert len(names) >= 40
    assert len(set(names)) == len(names)


def test_every_probe_module_is_a_row_of_the_registry() -> None:
    modules = {module.name for module in pkgutil.iter_modules(probes.__path__)} - HELPERS
    probe_modules = {row.probe.__module__.rsplit(".", 1)[1] for row in TCP_PROTOCOLS}
    assert modules == probe_modules


def test_a_port_plans_its_own_probes_first_then_the_banner_then_the_rest() -> None:
    [tls] = [row for row in CLIENT_FIRST if row.name == "tls"]
    assert plan(443)[:2] == [tls, BANNER_WAIT]
    assert plan(22)[0] == BANNER_WAIT  # SSH speaks first: its port only moves the banner wait first
    assert plan(40000)[0] == BANNER_WAIT and len(plan(40000)) == len(CLIENT_FIRST) + 1
    assert all(isinstance(row, ServerFirst) for row in SERVER_FIRST)
    assert all(isinstance(row, ClientFirst) for row in CLIENT_FIRST)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_recognisers_never_raise(data: bytes) -> None:
    for row in TCP_PROTOCOLS:
        if row.recognizes is not None:
            assert row.recognizes(data, False) in (True, False)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_answer_parsers_fail_only_the_way_their_probe_expects(data: bytes) -> None:
    """Each parser returns None (or raises the error its probe catches) on bytes that are not its answer."""
    ldap.root_dse_service(data)
    with contextlib.suppress(ValueError, IndexError):
        dns.version_answer(data)
    for parse, errors in (
        (smb.negotiate_items, (ValueError, IndexError)),
        (rdp.confirm_items, (ValueError, IndexError)),
        (mssql.prelogin_service, (ValueError, IndexError)),
        (amqp.connection_start, (amqp.FieldTableError, IndexError)),
        (cassandra.frame_service, (IndexError,)),
    ):
        with contextlib.suppress(*errors):
            parse(data)
    x11.setup_service(data)
    vnc.security_items(3, 8, data)
    git.first_packet(data)


def test_every_protocol_and_item_type_is_documented() -> None:
    from pathlib import Path

    from shoal.query.check import BUILTIN_TYPES

    text = (Path(__file__).parents[2] / "docs/collector.md").read_text()
    for row in TCP_PROTOCOLS:
        assert f"| `{row.name}` |" in text, f"{row.name} is not in docs/collector.md's protocol table"
    for item_type in PROBE_ITEM_TYPES:
        assert item_type in BUILTIN_TYPES and f"| `{item_type}` |" in text, item_type

"""The plan's logic on listeners that say nothing: which steps run alone, how many overlap, what TLS tries first."""

from __future__ import annotations

import asyncio

from shoal.collect.connection import Timeouts
from shoal.collect.identify import BANNER_WAIT, CATCH_ALL, MAX_OVERLAP, planned, planned_inside_tls
from shoal.collect.protocols import CLIENT_FIRST, TLS_NAMES, TLS_PORTS
from tests.collect.conftest import BLOCK, collect_one
from tests.collect.fakes import Handler, fake_server

ROW = {row.name: row for row in CLIENT_FIRST}
PATIENT = Timeouts(connect=1.0, first_byte=2.0, service=4.0)  # a wait long enough for the quick one to matter


def test_the_tls_ports_are_those_of_what_runs_inside_tls() -> None:
    assert {443, 993, 995, 465, 636, 990, 6697, 5223, 2376, 6443, 8883} <= TLS_PORTS
    steps, own = planned(993)
    assert steps[:2] == (ROW["tls"], BANNER_WAIT) and own == 1  # TLS alone first, then the rest may overlap
    assert planned(2379)[0][:2] == (ROW["tls"], ROW["etcd"])  # etcd's port: over TLS or not
    assert TLS_NAMES["imap"] == "imaps" and TLS_NAMES["http"] == "https" and "docker" not in TLS_NAMES


def test_inside_tls_the_port_says_what_to_try_first() -> None:
    steps, own = planned_inside_tls(993)  # IMAP greets first: the banner wait, alone
    assert steps[0] == BANNER_WAIT and own == 1
    steps, own = planned_inside_tls(2376)
    assert steps[:2] == (ROW["docker"], BANNER_WAIT) and own == 1
    steps, own = planned_inside_tls(4433)  # a port that says nothing: HTTP first, and it may overlap
    assert steps[:2] == (CATCH_ALL, BANNER_WAIT) and own == 0
    assert ROW["tls"] not in steps  # no TLS inside TLS
    assert len(steps) == len(CLIENT_FIRST)  # every other client-first protocol, and the banner wait


def counting(events: list[tuple[str, int]]) -> Handler:
    """A listener that says nothing until the client hangs up; ``events``: ("open"/"close", connections open)."""
    open_now = [0]

    async def handle(reader: asyncio.StreamReader, _: asyncio.StreamWriter) -> None:
        open_now[0] += 1
        events.append(("open", open_now[0]))
        try:
            while await reader.read(1024):
                pass
        finally:
            open_now[0] -= 1
            events.append(("close", open_now[0]))

    return handle


def test_steps_overlap_on_a_silent_port_but_never_more_than_the_limit() -> None:
    events: list[tuple[str, int]] = []
    with fake_server(f"127.{BLOCK}.3.1", 4011, counting(events)):
        report = collect_one(f"127.{BLOCK}.3.1", 4011, PATIENT)
    assert report is None
    opened = [count for what, count in events if what == "open"]
    assert max(opened) == MAX_OVERLAP  # the quick wait let them overlap, up to the limit
    assert len(opened) > PATIENT.service / PATIENT.first_byte + 1  # more steps than one full wait each allows


def test_the_ports_own_step_runs_alone_for_its_full_wait() -> None:
    events: list[tuple[str, int]] = []
    with fake_server(f"127.{BLOCK}.3.2", 443, counting(events)):  # 443: TLS first, alone
        collect_one(f"127.{BLOCK}.3.2", 443, PATIENT)
    assert events[:2] == [("open", 1), ("close", 0)]  # the TLS step was over before any other began
    assert max(count for what, count in events if what == "open") > 1  # the others overlapped after it

"""Scan schedules: ``shoal schedule add|list|remove`` keep them in the data directory (bad input exits 2 and is
never stored), and the collector of ``shoal serve`` runs them inside the allow-list only, against servers this
test opens on loopback, counting the services found, new, changed and gone."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from shoal.cli.main import app
from shoal.collect.connection import Connector, Timeouts
from shoal.collect.policy import ScanPolicy
from shoal.collect.ratelimit import ConnectionRate
from shoal.collect.scanner import ScanSettings, run_event_loop
from shoal.collect.schedules import STOPPED, ScheduleBook, run_schedule
from shoal.collect.storing import StoreWriter
from shoal.collect.worker import KILLED, CollectionWorker
from shoal.store.base import Store
from tests.api.serving import free_port
from tests.collect.conftest import BLOCK
from tests.collect.fakes import answers, fake_server

net = ipaddress.ip_network
INSIDE, OUTSIDE = f"127.{BLOCK}.9.1", f"127.{BLOCK}.9.2"
PORT = 18081
POLICY = ScanPolicy(allow=(net(f"{INSIDE}/32"),))
SETTINGS = ScanSettings(timeouts=Timeouts(connect=1, first_byte=0.3, service=2), jarm=False, follow_ups=False)


def http(status: bytes) -> Any:
    return answers(b"\r\n\r\n", b"HTTP/1.1 " + status + b"\r\nContent-Length: 0\r\n\r\n")


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (["127.0.0.1", "--every", "0"], "a duration is a positive number"),
        (["127.0.0.1", "--every", "soon"], "a duration is a positive number"),
        (["300.1.2.3/8", "--every", "1d"], "not an address or CIDR: '300.1.2.3/8'"),
        (["127.0.0.1", "--every", "1d", "--ports", "22,http"], "--ports: not a port"),
        (["127.0.0.1", "--every", "1d", "--udp-ports", "99999"], "--udp-ports: ports must be 1–65535"),
    ],
)
def test_bad_schedules_exit_2_and_are_not_stored(tmp_path: Path, args: list[str], message: str) -> None:
    code, _, err = run("schedule", "add", *args, "--data", str(tmp_path))
    assert code == 2
    assert message in " ".join(err.split())
    assert run("schedule", "list", "--json", "--data", str(tmp_path))[1] == "[]\n"


def test_add_list_remove(tmp_path: Path) -> None:
    data = ["--data", str(tmp_path)]
    assert run("schedule", "add", "192.0.2.0/24", "198.51.100.7", "--every", "1d", "--ports", "22,80", *data)[0] == 0
    assert run("schedule", "add", "192.0.2.0/28", "--every", "6h", "--udp-ports", "53", *data)[0] == 0
    code, out, _ = run("schedule", "list", "--json", *data)
    listed = orjson.loads(out)
    assert [(s["id"], s["networks"], s["every"], s["ports"], s["udp_ports"], s["last_run"]) for s in listed] == [
        (1, ["192.0.2.0/24", "198.51.100.7/32"], 86400.0, "22,80", None, None),
        (2, ["192.0.2.0/28"], 21600.0, None, "53", None),
    ]
    lines = [line.split("\t") for line in run("schedule", "list", *data)[1].splitlines()]
    assert lines[0][:6] == ["schedule", "1", "192.0.2.0/24 198.51.100.7/32", "1d", "22,80", "never"]
    assert run("schedule", "remove", "1", *data)[0] == 0
    assert [s["id"] for s in orjson.loads(run("schedule", "list", "--json", *data)[1])] == [2]
    code, _, err = run("schedule", "remove", "1", *data)
    assert code == 2 and "no schedule 1" in err


def wait_for_runs(book: ScheduleBook, count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 20
    while True:
        runs = [schedule.run for schedule in book.all()]
        if all(run.get("finished") for run in runs) and len(runs) == count:
            return runs
        assert time.monotonic() < deadline, f"the schedules did not run: {runs}"
        time.sleep(0.1)


def test_the_collector_runs_schedules_inside_the_allow_list_only(empty_store: Store, tmp_path: Path) -> None:
    book = ScheduleBook(tmp_path)
    book.add([INSIDE], 3600, str(PORT), None)
    book.add([f"127.{BLOCK}.9.0/30"], 3600, str(PORT), None)  # wider than the allow-list: refused whole
    worker = CollectionWorker(empty_store, POLICY, SETTINGS, transform=None, schedules=book)
    with fake_server(INSIDE, PORT, http(b"200 OK")) as inside, fake_server(OUTSIDE, PORT, http(b"200 OK")) as outside:
        worker.start()
        try:
            allowed, refused = wait_for_runs(book, 2)
        finally:
            worker.stop()
    assert (allowed["tried"], allowed["services"], allowed["new"], allowed["changed"], allowed["gone"]) == (
        1,
        1,
        1,
        0,
        0,
    )
    assert "allow" in refused["error"] and "services" not in refused
    assert len(inside) >= 1 and outside == []
    first, second = book.all()
    assert first.next_run == pytest.approx(allowed["started"] + 3600)
    assert second.next_run == pytest.approx(refused["started"] + 3600)
    book.close()


def one_run(store: Store, book: ScheduleBook, connector: Connector | None = None) -> dict[str, Any]:
    async def main() -> dict[str, Any]:
        writer = StoreWriter(store, None)
        return await run_schedule(book.all()[0], book, store, POLICY, SETTINGS, writer, connector)

    return run_event_loop(main())


def counted(run: dict[str, Any]) -> list[int]:
    return [run[name] for name in ("services", "new", "changed", "gone")]


def test_runs_count_new_changed_and_gone_services(empty_store: Store, tmp_path: Path) -> None:
    book = ScheduleBook(tmp_path)
    book.add([INSIDE], 60, str(PORT), None)
    with fake_server(INSIDE, PORT, http(b"200 OK")):
        assert counted(one_run(empty_store, book)) == [1, 1, 0, 0]
    with fake_server(INSIDE, PORT, http(b"200 OK")):
        assert counted(one_run(empty_store, book)) == [1, 0, 0, 0]
    with fake_server(INSIDE, PORT, http(b"403 Forbidden")):
        assert counted(one_run(empty_store, book)) == [1, 0, 1, 0]
    assert counted(one_run(empty_store, book)) == [0, 0, 0, 1]
    assert book.all()[0].open == []
    book.close()


def test_a_run_connects_through_the_servers_connector_so_they_share_one_rate(
    empty_store: Store, tmp_path: Path
) -> None:
    """A server's collector hands its connector to the schedules it runs: a run's connects wait for the same
    rate limit (and per-host slots) as the queued collections and rescans, so together they keep max_rate."""
    shared = Connector(POLICY, ConnectionRate(1000), SETTINGS.per_host, SETTINGS.timeouts)
    book = ScheduleBook(tmp_path)
    book.add([INSIDE], 60, str(PORT), None)
    with fake_server(INSIDE, PORT, http(b"200 OK")):
        assert counted(one_run(empty_store, book, shared)) == [1, 1, 0, 0]
    assert shared.connects > 0  # the run connected through it (its own connector would have left it at 0)
    book.close()


def test_a_schedule_removed_meanwhile_is_not_written_back(empty_store: Store, tmp_path: Path) -> None:
    book = ScheduleBook(tmp_path)
    book.add([INSIDE], 60, str(PORT), None)
    schedule = book.all()[0]
    book.remove(schedule.id)

    async def main() -> dict[str, Any]:
        return await run_schedule(schedule, book, empty_store, POLICY, SETTINGS, StoreWriter(empty_store, None))

    assert asyncio.run(main())["services"] == 0
    assert book.all() == []
    book.close()


@pytest.mark.slow
def test_shoal_serve_runs_a_schedule_added_on_the_command_line(tmp_path: Path) -> None:
    data = ["--data", str(tmp_path)]
    assert run("schedule", "add", INSIDE, "--every", "1h", "--ports", str(PORT), *data)[0] == 0
    port = free_port()
    command = [sys.executable, "-m", "shoal", "serve", *data, "--port", str(port), "--allow", f"{INSIDE}/32"]
    with fake_server(INSIDE, PORT, http(b"200 OK")) as clients:
        server = subprocess.Popen(command, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 60
            while True:
                listed = orjson.loads(run("schedule", "list", "--json", *data)[1])
                if (listed[0]["last_run"] or {}).get("finished"):
                    break
                assert server.poll() is None and time.monotonic() < deadline, "the schedule did not run"
                time.sleep(0.3)
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(30)
    last = listed[0]["last_run"]
    assert (last["services"], last["new"], last["tried"]) == (1, 1, 1) and clients
    assert listed[0]["next_run"] == pytest.approx(last["started"] + 3600)


def test_a_run_cut_by_a_stopping_server_is_recorded_as_interrupted_and_stays_due(
    empty_store: Store, tmp_path: Path
) -> None:
    book = ScheduleBook(tmp_path)
    book.add([INSIDE], 60, str(PORT), None)

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(30)  # the collector waits for a banner, then for its probes' answers

    async def main() -> None:
        writer = StoreWriter(empty_store, None)
        running = asyncio.create_task(run_schedule(book.all()[0], book, empty_store, POLICY, SETTINGS, writer))
        while not book.all()[0].run.get("running"):
            await asyncio.sleep(0.02)
        running.cancel()  # what stopping the server's collector does
        with contextlib.suppress(asyncio.CancelledError):
            await running

    with fake_server(INSIDE, PORT, silent):
        run_event_loop(main())
    (schedule,) = book.all()
    assert schedule.run["interrupted"] == STOPPED and not schedule.run["running"]
    assert schedule.next_run <= time.time()  # due again at once
    listed = run("schedule", "list", "--data", str(tmp_path))[1]
    assert f"interrupted after 0 of 1 tried ({STOPPED})" in listed
    book.close()


def test_runs_a_killed_server_left_running_are_ended_before_the_next_server_runs_any(tmp_path: Path) -> None:
    book = ScheduleBook(tmp_path)
    book.add([INSIDE], 60, str(PORT), None)
    book.record(1, {"started": time.time(), "running": True, "tried": 3, "targets": 10})
    assert book.interrupted(KILLED) == 1 and book.interrupted(KILLED) == 0
    run_state = book.all()[0].run
    assert (run_state["running"], run_state["interrupted"], run_state["tried"]) == (False, KILLED, 3)
    book.close()

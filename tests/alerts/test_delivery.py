"""Alerts delivered for real: ``shoal serve`` running, a webhook receiver (a real HTTP server) on loopback,
``shoal alert create``, then ``shoal import`` in another process: one ``new`` event with exactly the new
services; the same reports again, nothing; one banner changed, one ``changed`` event naming old and new; the
receiver down for a while, the events arrive once it is back, each event id once after de-duplication, signed.
The retry waits are shortened through ``SHOAL_ALERT_BACKOFF``."""

from __future__ import annotations

import hashlib
import hmac
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from shoal.alerts import deliver
from shoal.alerts.book import OPERATOR, Alert, AlertBook
from shoal.alerts.deliver import BACKOFF_VARIABLE, EVENT_HEADER, SIGNATURE_HEADER
from shoal.cli.main import app
from tests.alerts.receiver import Receiver
from tests.api.serving import running_server

SECRET = "s3cret"
WAIT = 30.0  # seconds an expected event may take (the server posts within about a second)


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def report(ip: str, banner: str, day: str = "2026-12-01") -> bytes:
    items = [
        {"type": "ip", "context": "", "value": ip, "is_metadata": True},
        {"type": "port-tcp", "context": "", "value": "80", "is_metadata": True},
        {"type": "server-banner", "context": "http", "value": banner, "is_metadata": False},
    ]
    return orjson.dumps({"date": day, "items": items})


@dataclass(frozen=True)
class Ran:
    returncode: int
    stdout: bytes
    stderr: bytes


def shoal(data: Path, *args: str) -> Ran:
    """A ``shoal`` command in this process (``shoal serve`` runs in its own)."""
    result = CliRunner().invoke(app, [*args, "--data", str(data)], env={"COLUMNS": "200"})
    return Ran(result.exit_code, result.stdout_bytes, result.stderr_bytes)


def imported(data: Path, *reports: bytes) -> bool:
    """``shoal import`` of these reports (parsed in this process), as a file beside the data directory."""
    source = data.parent / "reports.jsonl"
    source.write_bytes(b"\n".join(reports) + b"\n")
    return shoal(data, "import", str(source), "--workers", "0").returncode == 0


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver().start()
    yield running
    running.stop()


def test_events_reach_a_webhook_once_each_even_across_an_outage(
    tmp_path: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    assert imported(data, report("192.0.2.1", "SSH-2.0-OpenSSH_9.6"))
    made = shoal(data, "alert", "create", "web", "server-banner:nginx", "--webhook", receiver.url, "--secret", SECRET)
    assert made.returncode == 0, made.stderr
    alert_id = made.stdout.decode().strip()
    monkeypatch.setenv(BACKOFF_VARIABLE, "0.3,1")
    with running_server(data):
        batch = [report("192.0.2.10", "HTTP/1.1 200 OK nginx"), report("192.0.2.11", "nginx/1.24")]
        assert imported(data, *batch, report("192.0.2.12", "Apache"))
        wait_for(lambda: len(receiver.posts) >= 1, "the new event")
        (new,) = receiver.events()
        assert new["event"] == "new" and new["alert"]["id"] == alert_id
        assert sorted(service["ip"] for service in new["services"]) == ["192.0.2.10", "192.0.2.11"]

        assert imported(data, *batch, report("192.0.2.12", "Apache"))  # the same reports: no event
        assert len(orjson.loads(shoal(data, "alert", "show", alert_id, "--json").stdout)["deliveries"]) == 1
        changed = report("192.0.2.11", "nginx/1.25", day="2026-12-02")
        assert imported(data, changed)
        wait_for(lambda: len(receiver.events()) >= 2, "the changed event")
        assert [event["event"] for event in receiver.events()] == ["new", "changed"]
        (service,) = receiver.events()[1]["services"]
        assert service["ip"] == "192.0.2.11"
        assert service["changes"] == [{"field": "banner", "old": "nginx/1.24", "new": "nginx/1.25"}]

        receiver.stop()
        later = [report("192.0.2.20", "nginx"), report("192.0.2.10", "nginx 2", day="2026-12-03")]
        assert imported(data, *later)
        wait_for(lambda: '"attempts":2' in shoal(data, "alert", "show", alert_id, "--json").stdout.decode(), "retries")
        receiver.start()
        wait_for(lambda: len(receiver.events()) >= 4, "the events queued while the receiver was down")

    kinds = sorted(event["event"] for event in receiver.events())
    assert kinds == ["changed", "changed", "new", "new"]
    for post in receiver.posts:
        assert post.headers[EVENT_HEADER] == orjson.loads(post.body)["id"]
        signature = hmac.new(SECRET.encode(), post.body, hashlib.sha256).hexdigest()
        assert post.headers[SIGNATURE_HEADER] == f"sha256={signature}"
    shown = orjson.loads(shoal(data, "alert", "show", alert_id, "--json").stdout)
    assert {delivery["status"] for delivery in shown["deliveries"]} == {"delivered"}
    assert sorted(delivery["id"] for delivery in shown["deliveries"]) == sorted(e["id"] for e in receiver.events())


@pytest.mark.parametrize(
    ("arguments", "reason"),
    [
        (("web", "server-banner:(", "--webhook", "http://127.0.0.1:9/"), "error"),
        (("web", "port-tcp:80", "--webhook", "ftp://127.0.0.1/"), "http:// or https://"),
        (("web", "port-tcp:80", "--webhook", "http://169.254.169.254/"), "cloud-metadata"),
        (("web", "port-tcp:80", "--webhook", "http://127.0.0.1:9/", "--trigger", "new,born"), "trigger"),
    ],
)
def test_bad_alerts_exit_2_with_the_reason_and_nothing_stored(
    tmp_path: Path, arguments: tuple[str, ...], reason: str
) -> None:
    data = tmp_path / "data"
    assert imported(data, report("192.0.2.1", "x"))
    made = shoal(data, "alert", "create", *arguments)
    assert made.returncode == 2 and reason in made.stderr.decode()
    assert shoal(data, "alert", "list", "--json").stdout == b""


def test_alert_test_posts_at_once(tmp_path: Path, receiver: Receiver) -> None:
    data = tmp_path / "data"
    assert imported(data, report("192.0.2.1", "x"))
    alert_id = shoal(data, "alert", "create", "t", "port-tcp:80", "--webhook", receiver.url).stdout.decode().strip()
    tested = shoal(data, "alert", "test", alert_id)
    assert tested.returncode == 0 and b"HTTP 204" in tested.stderr
    assert [event["event"] for event in receiver.events()] == ["test"]
    assert shoal(data, "alert", "delete", alert_id).returncode == 0
    assert shoal(data, "alert", "show", alert_id).returncode == 2


def test_a_receiver_that_hangs_holds_back_only_its_own_alerts_events(
    tmp_path: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two alerts' events due at once, the first alert's webhook accepting the connection and never answering:
    the second alert's event arrives while the first POST still waits for its (long) time-out."""
    monkeypatch.setattr(deliver, "POST_TIMEOUT", 120.0)
    hanging = socket.create_server(("127.0.0.1", 0))  # the kernel accepts; nobody reads or answers
    book = AlertBook(tmp_path)
    alerts = [
        Alert(name, name, "port-tcp:80", "protocols", "", ("new",), url, "", OPERATOR, time.time())
        for name, url in (("hangs", f"http://127.0.0.1:{hanging.getsockname()[1]}/hook"), ("answers", receiver.url))
    ]
    for alert in alerts:
        book.add(alert, [])
        with book.transaction() as db:
            AlertBook.queue(db, alert, "new", [])
    deliverer = deliver.Deliverer(tmp_path, ())
    deliverer.start()
    try:
        wait_for(lambda: len(receiver.posts) == 1, "the answering alert's event, beside the hanging one")
        assert receiver.events()[0]["alert"]["id"] == "answers"
        assert [event.alert for event in book.due(time.time() + 1, 10)] == ["hangs"]  # still being posted
    finally:
        hanging.close()
        deliverer.stop()

"""``shoal alert``: the operator's alerts on the data directory (create, list, show, delete, test; docs/alerts.md).

An alert made here belongs to the operator: its webhook may be any http(s) URL but a link-local or
cloud-metadata address. ``shoal serve`` delivers the events; ``alert test`` posts one test event at once.
"""

from __future__ import annotations

import time
from typing import Annotated

import orjson
import typer
from rich.markup import escape
from rich.table import Table

from shoal.alerts.book import TRIGGERS, Alert, AlertBook
from shoal.alerts.deliver import Backoff, deliver
from shoal.alerts.making import AlertRequest, create_alert
from shoal.cli.common import DataOption, DatasetName, console, errors, existing_data_dir, fail, open_store
from shoal.errors import QueryError, ShoalError
from shoal.request.params import ALERT_DATASET, ALERT_IP, ALERT_TRIGGER, SECRET, WEBHOOK

app = typer.Typer(help="Alerts: saved searches whose new, changed and gone services are posted to a webhook.")

IdArgument = Annotated[str, typer.Argument(help="The alert's id (see 'shoal alert list').")]
LABELS = ("id", "name", "query", ALERT_DATASET.name, "ip", "triggers", "webhook", "owner")
JsonOption = Annotated[bool, typer.Option("--json", help="JSON instead of a table.")]


@app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="The alert's name.")],
    query: Annotated[str, typer.Argument(help="The search watched, e.g. 'port-tcp:443 and product-tag:nginx'.")],
    webhook: Annotated[str, typer.Option(WEBHOOK.flag, help="The http(s) URL each event is posted to.")],
    dataset: Annotated[DatasetName, typer.Option("--dataset", help="The dataset watched.")] = "protocols",  # type: ignore[assignment]
    ip: Annotated[str | None, typer.Option(ALERT_IP.flag, help=ALERT_IP.help, show_default=False)] = None,
    trigger: Annotated[str, typer.Option(ALERT_TRIGGER.flag, help=ALERT_TRIGGER.help)] = ",".join(TRIGGERS),
    secret: Annotated[str, typer.Option(SECRET.flag, help=SECRET.help, show_default=False)] = "",
    data: DataOption = None,
) -> None:
    """Make an alert; print its id. The services its query matches now are watched from here on."""
    store = open_store(data)
    book = AlertBook(existing_data_dir(data))
    try:
        wanted = AlertRequest(
            name=name,
            query=query,
            webhook=webhook,
            dataset=getattr(dataset, "value", dataset),
            ip=ip,
            triggers=ALERT_TRIGGER.take(trigger),
            secret=secret,
        )
        alert = create_alert(book, store, wanted)
    except QueryError as exc:
        fail(exc, query)
    except ShoalError as exc:
        fail(exc)
    finally:
        store.close()
    errors.print(f"alert {alert.id} watches {book.watched_count(alert.id):,} services now", highlight=False)
    print(alert.id)


@app.command("list")
def list_alerts(json_output: JsonOption = False, data: DataOption = None) -> None:
    """Every alert: id, name, query, triggers, webhook, owner."""
    alerts = AlertBook(existing_data_dir(data)).alerts()
    if json_output:
        for alert in alerts:
            print(orjson.dumps(alert.public() | {"owner": alert.owner or "operator"}).decode())
        return
    if not alerts:
        errors.print("no alerts: make one with 'shoal alert create NAME QUERY --webhook URL'")
        return
    table = Table(title=f"{len(alerts)} alerts", title_justify="left")
    for column in LABELS:
        table.add_column(column, overflow="fold")
    for alert in alerts:
        table.add_row(*row_of(alert))
    console.print(table)


def row_of(alert: Alert) -> tuple[str, ...]:
    owner = f"token {alert.owner}" if alert.owner else "operator"
    triggers = ",".join(alert.triggers)
    return alert.id, alert.name, alert.query, alert.dataset, alert.ip, triggers, alert.webhook, owner


@app.command("show")
def show(alert_id: IdArgument, json_output: JsonOption = False, data: DataOption = None) -> None:
    """One alert, the number of services it watches and its last deliveries (status, attempts)."""
    book = AlertBook(existing_data_dir(data))
    try:
        alert = book.get(alert_id)
    except ShoalError as exc:
        fail(exc)
    history = book.history(alert.id)
    if json_output:
        deliveries = [
            {"id": e.id, "event": e.event, "services": e.services, "status": e.status, "attempts": e.attempts}
            | {"outcome": e.outcome, "created": stamp(e.created)}
            for e in history
        ]
        shown = alert.public() | {"watched": book.watched_count(alert.id), "deliveries": deliveries}
        print(orjson.dumps(shown).decode())
        return
    for label, value in zip(LABELS, row_of(alert), strict=True):
        console.print(f"[bold]{label}:[/] {escape(value)}", highlight=False)
    console.print(f"[bold]watched:[/] {book.watched_count(alert.id):,} services", highlight=False)
    table = Table(title=f"{len(history)} deliveries (newest first)", title_justify="left")
    for column in ("made", "event", "id", "services", "status", "attempts", "last outcome"):
        table.add_column(column, overflow="fold")
    for event in history:
        table.add_row(
            stamp(event.created),
            event.event,
            event.id,
            str(event.services),
            event.status,
            str(event.attempts),
            event.outcome,
        )
    console.print(table)


def stamp(seconds: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(seconds))


@app.command("delete")
def delete(alert_id: IdArgument, data: DataOption = None) -> None:
    """Remove an alert, what it watches and its queued events."""
    try:
        AlertBook(existing_data_dir(data)).delete(alert_id)
    except ShoalError as exc:
        fail(exc)
    errors.print(f"deleted alert {alert_id}", highlight=False)


@app.command("test")
def test(alert_id: IdArgument, data: DataOption = None) -> None:
    """Post a test event (no services) to the alert's webhook now; say how it went (exit 1 if not taken)."""
    book = AlertBook(existing_data_dir(data))
    try:
        alert = book.get(alert_id)
    except ShoalError as exc:
        fail(exc)
    with book.transaction() as db:
        event_id = book.queue(db, alert, "test", [])
    event = next(event for event in book.history(alert.id) if event.id == event_id)
    taken = deliver(book, event, (), Backoff())
    outcome = next(event for event in book.history(alert.id) if event.id == event_id).outcome
    errors.print(f"test event {event_id}: {outcome}" + ("" if taken else " (shoal serve retries it)"), highlight=False)
    if not taken:
        raise typer.Exit(1)

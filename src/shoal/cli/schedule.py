"""``shoal schedule add|list|remove``: scans that ``shoal serve``'s collector repeats (``shoal.collect.schedules``).

A schedule is kept in the data directory; a running server picks it up within a second, scans it inside the
allow-list (collector.toml and ``serve --allow``), and again every ``--every``. ``schedule list`` shows each
one's last run (while it runs: ip:ports tried of how many), its next run, the services found open, and how
many were new, changed or gone.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import orjson
import typer

from shoal.cli.common import DataOption, console, errors, existing_data_dir, fail, make_data_dir
from shoal.cli.output import DEFAULT_SEPARATOR, LayoutOption, SeparatorOption, emit, layout_of
from shoal.cli.scan import parse_duration
from shoal.collect.schedules import Schedule, ScheduleBook
from shoal.config import data_dir
from shoal.errors import BadParameter

app = typer.Typer(no_args_is_help=True, help="Scans that 'shoal serve' repeats, inside the allow-list.")


@app.command("add")
def add_command(
    networks: Annotated[list[str], typer.Argument(help="Addresses or CIDRs to scan.", show_default=False)],
    every: Annotated[str, typer.Option("--every", help="How often, e.g. 6h, 1d or 1w.", show_default=False)],
    ports: Annotated[
        str | None, typer.Option(help="TCP ports as 'shoal scan' takes them (default top100).", show_default=False)
    ] = None,
    udp_ports: Annotated[
        str | None, typer.Option(help="UDP ports, e.g. 53,161 or known (UDP is off unless asked).", show_default=False)
    ] = None,
    data: DataOption = None,
) -> None:
    """Scan NETWORKS every --every from now on (the first run as soon as 'shoal serve' runs)."""
    try:
        seconds = parse_duration(every)
    except ValueError as exc:
        fail(BadParameter("every", f"--every: {exc}"))
    folder = data_dir(data)
    if not folder.is_dir():
        make_data_dir(folder)
    book = ScheduleBook(folder)
    try:
        schedule = book.add(networks, seconds, ports, udp_ports)
    except BadParameter as exc:
        fail(exc)
    finally:
        book.close()
    console.print(f"schedule {schedule.id}: {' '.join(schedule.networks)} every {every}", highlight=False)


@app.command("list")
def list_command(
    separator: SeparatorOption = DEFAULT_SEPARATOR,
    table: LayoutOption = None,
    json_output: Annotated[bool, typer.Option("--json", help="The schedules as JSON.")] = False,
    data: DataOption = None,
) -> None:
    """Each schedule: what it scans, its last run and its totals, its next run."""
    book = ScheduleBook(existing_data_dir(data))
    try:
        schedules = book.all()
    finally:
        book.close()
    if json_output:
        print(orjson.dumps([schedule.body() for schedule in schedules], option=orjson.OPT_SORT_KEYS).decode())
        return
    if not schedules:
        errors.print("no schedules: add one with 'shoal schedule add CIDR --every 1d'", highlight=False)
        return
    columns = ["id", "networks", "every", "ports", "last run", "next run", "services", "new", "changed", "gone"]
    emit(layout_of(table, separator), "schedules", columns, [row(s) for s in schedules], prefix="schedule")


def row(schedule: Schedule) -> list[object]:
    run = schedule.run
    ports = " ".join(part for part in (schedule.ports, schedule.udp_ports and f"U:{schedule.udp_ports}") if part)
    totals = [run.get(name, "") for name in ("services", "new", "changed", "gone")]
    return [
        schedule.id,
        " ".join(schedule.networks),
        duration_text(schedule.every),
        ports or "top100",
        run_text(schedule),
        "running" if run.get("running") else moment(schedule.next_run),
        *totals,
    ]


def run_text(schedule: Schedule) -> str:
    run = schedule.run
    if not run:
        return "never"
    if run.get("running"):
        return f"running since {moment(run['started'])}: {run.get('tried', 0):,} of {run.get('targets', 0):,} tried"
    if run.get("interrupted"):
        tried = f"{run.get('tried', 0):,} of {run.get('targets', 0):,} tried"
        return f"{moment(run['started'])}: interrupted after {tried} ({run['interrupted']})"
    if run.get("error"):
        return f"{moment(run['started'])}: not run: {run['error']}"
    return f"{moment(run['started'])}: {run.get('tried', 0):,} ip:ports tried"


def moment(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def duration_text(seconds: float) -> str:
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


@app.command("remove")
def remove_command(
    schedule_id: Annotated[int, typer.Argument(metavar="ID", help="The schedule's id ('shoal schedule list').")],
    data: DataOption = None,
) -> None:
    """Stop repeating a schedule (a run in progress finishes)."""
    book = ScheduleBook(existing_data_dir(data))
    try:
        removed = book.remove(schedule_id)
    finally:
        book.close()
    if not removed:
        fail(BadParameter("id", f"no schedule {schedule_id}: 'shoal schedule list' shows them"))
    console.print(f"removed schedule {schedule_id}", highlight=False)

"""``shoal ct follow``: a Certificate Transparency log into the ``ct`` dataset, resumable, with progress."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from shoal.cli.common import DataOption, console, errors, fail, open_store
from shoal.cli.dns import checked
from shoal.cli.scan import parse_duration
from shoal.config import data_dir
from shoal.ct.follow import DEFAULT_BATCH, REQUEST_SECONDS, FollowProgress, LogClient, LogError, follow, log_base
from shoal.request.params import RATE

app = typer.Typer(help="Certificate Transparency logs.", no_args_is_help=True)
SHOWN_REJECTIONS = 20


@app.command("follow")
def follow_command(
    log_url: Annotated[str, typer.Argument(help="The log's URL, e.g. https://ct.example/2026h1/ (RFC 6962).")],
    from_index: Annotated[
        int | None, typer.Option(min=0, help="Start at this entry (default: where the last run stopped, or 0).")
    ] = None,
    batch: Annotated[
        int, typer.Option(min=1, max=100_000, help="Entries committed at once (in as many get-entries as needed).")
    ] = DEFAULT_BATCH,
    rate: Annotated[str, typer.Option(help="Requests per second to the log, e.g. 5/s.")] = "5/s",
    once: Annotated[bool, typer.Option(help="Stop when caught up, instead of polling for new entries.")] = False,
    poll: Annotated[str, typer.Option(help="With --no-once: how often to ask for a new tree size.")] = "60s",
    timeout: Annotated[
        float, typer.Option(min=1, max=600, help="Seconds one request to the log may take, its tries included.")
    ] = REQUEST_SECONDS,
    data: DataOption = None,
) -> None:
    """Read the log's entries (x509 and precert) into the ct dataset, from where the last run stopped. A kill
    loses nothing acknowledged and stores nothing twice."""
    base = checked(lambda: log_base(log_url), "log_url")
    per_second = checked(lambda: RATE.parse(RATE.name, rate), "rate")
    every = checked(lambda: parse_duration(poll), "poll")
    folder = data_dir(data)
    store = open_store(data, server=True, create=True)  # a long run must not lock out 'shoal import'
    client = LogClient(base, per_second, request_seconds=timeout)
    try:
        with Progress(
            TextColumn("ct"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("entries {task.fields[imported]} new"),
            TimeElapsedColumn(),
            console=errors,
            transient=not errors.is_terminal,
        ) as progress:
            task = progress.add_task("ct", total=None, imported=0)

            def show(state: FollowProgress) -> None:
                progress.update(
                    task,
                    total=state.tree_size - state.start,
                    completed=state.next_index - state.start,
                    imported=state.totals.imported,
                )

            try:
                result = follow(store, folder, client, from_index, batch, once, every, on_batch=show)
            except LogError as exc:
                fail(exc)
            except KeyboardInterrupt:
                raise typer.Exit(130) from None
    finally:
        client.close()
        store.close()
    for rejected in result.totals.rejected[:SHOWN_REJECTIONS]:
        errors.print(f"[yellow]rejected[/] entry {rejected.line}: {rejected.reason}", highlight=False)
    console.print(
        f"imported {result.totals.imported}, duplicate {result.totals.duplicates}, "
        f"rejected {len(result.totals.rejected)}; next index {result.next_index} of tree size {result.tree_size}",
        highlight=False,
    )

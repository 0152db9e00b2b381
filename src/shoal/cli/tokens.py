"""``shoal token``: create, list, revoke API tokens and set their quotas (tokens are shown once, stored hashed)."""

from __future__ import annotations

from typing import Annotated

import orjson
import typer
from rich.table import Table

from shoal.cli.common import DataOption, console, errors, existing_data_dir
from shoal.request.answers import plural
from shoal.tokens import Token, TokenNotFound, TokenStore
from shoal.usage import UsageBook

app = typer.Typer(help="Manage API tokens.", no_args_is_help=True)

SelectorArgument = Annotated[str, typer.Argument(help="The token's id (at least 4 leading digits) or its name.")]


@app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="Who or what the token is for.")],
    enterprise: Annotated[
        bool, typer.Option("--enterprise", help="Enterprise class (summaries up to 1M values, larger quotas).")
    ] = False,
    data: DataOption = None,
) -> None:
    """Create a token and print it alone on stdout (it cannot be shown again)."""
    print(TokenStore(existing_data_dir(data)).create(name, enterprise=enterprise))


@app.command("list")
def list_tokens(
    json_output: Annotated[bool, typer.Option("--json", help="One JSON object per token.")] = False,
    data: DataOption = None,
) -> None:
    """Every token: id, name, class, quotas and this month's usage (revoked ones included, marked)."""
    folder = existing_data_dir(data)
    tokens = TokenStore(folder).all()
    usage = UsageBook(folder)
    rows = [(token, usage.used(token.id)) for token in tokens]
    usage.close()
    if json_output:
        for token, used in rows:
            print(orjson.dumps(token_row(token, used)).decode())
        return
    if not rows:
        errors.print("no tokens: create one with 'shoal token create NAME'")
        return
    table = Table(title=plural(len(rows), "token"), title_justify="left")
    for column in ("id", "name", "class", "created", "api (used/limit)", "priority (used/limit)", "status"):
        table.add_column(column, overflow="fold")
    for token, used in rows:
        table.add_row(
            token.id,
            token.name,
            token.token_class,
            token.created,
            f"{used['api']:,}/{token.quota_limit('api'):,}",
            f"{used['priority']:,}/{token.quota_limit('priority'):,}",
            f"revoked {token.revoked}" if token.revoked else "active",
        )
    console.print(table)


def token_row(token: Token, used: dict[str, int]) -> dict[str, object]:
    return {
        "id": token.id,
        "name": token.name,
        "class": token.token_class,
        "created": token.created,
        "revoked": token.revoked,
        "api_limit": token.quota_limit("api"),
        "api_usage": used["api"],
        "priority_limit": token.quota_limit("priority"),
        "priority_usage": used["priority"],
    }


@app.command("revoke")
def revoke(selector: SelectorArgument, data: DataOption = None) -> None:
    """Revoke a token: it stops working at once, also for a running server."""
    try:
        token = TokenStore(existing_data_dir(data)).revoke(selector)
    except TokenNotFound as exc:
        errors.print(f"[bold red]error:[/] {exc}", highlight=False)
        raise typer.Exit(2) from None
    console.print(f"revoked {token.id} ({token.name})", highlight=False)


@app.command("set-quota")
def set_quota(
    selector: SelectorArgument,
    api_limit: Annotated[
        int | None, typer.Option("--api-limit", help="Units per month for API calls; -1: the class default.")
    ] = None,
    priority_limit: Annotated[
        int | None, typer.Option("--priority-limit", help="Units per month for prioritised scans; -1: the default.")
    ] = None,
    data: DataOption = None,
) -> None:
    """Set a token's monthly quotas (takes effect at once, also for a running server)."""
    if api_limit is None and priority_limit is None:
        errors.print("[bold red]error:[/] give --api-limit and/or --priority-limit", highlight=False)
        raise typer.Exit(2)
    for value in (api_limit, priority_limit):
        if value is not None and value < -1:
            errors.print("[bold red]error:[/] a limit is a number of units ≥ 0, or -1 for the default")
            raise typer.Exit(2)
    try:
        token = TokenStore(existing_data_dir(data)).set_quota(selector, api_limit, priority_limit)
    except TokenNotFound as exc:
        errors.print(f"[bold red]error:[/] {exc}", highlight=False)
        raise typer.Exit(2) from None
    console.print(
        f"{token.id} ({token.name}): api_limit {token.quota_limit('api'):,},"
        f" priority_limit {token.quota_limit('priority'):,} per month",
        highlight=False,
    )

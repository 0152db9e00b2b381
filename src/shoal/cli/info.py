"""``shoal info``: the token a server knows you by, as ``shodan info`` shows it: its class, its monthly quotas
and how much of them this month has used (``GET /v1/admin/user``). Locally there is no token to ask about:
``shoal token list`` shows every token of a data directory."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
import typer

from shoal.cli.common import console, fail
from shoal.errors import ShoalError

QUOTAS = (("api", "API calls"), ("priority", "prioritized scans"))


def info_command(
    json_output: Annotated[bool, typer.Option("--json", help="Print the API's JSON.")] = False,
) -> None:
    """The server's token (shoal login, or $SHOAL_URL and $SHOAL_TOKEN): class, quotas, this month's usage."""
    from shoal.cli.remote import server_of

    server = server_of(None)
    if server is None:
        fail(
            ShoalError(
                "no server: 'shoal login URL' (or $SHOAL_URL and $SHOAL_TOKEN) first; a local data directory's"
                " tokens are listed by 'shoal token list --data DIR'"
            )
        )
    from shoal.client import Client

    with Client(server.url, server.token) as client:
        try:
            user = client.user()
        except ShoalError as exc:
            fail(exc)
    if json_output:
        print(orjson.dumps(user).decode())
        return
    for line in lines_of(user, server.url):
        console.print(line, highlight=False, markup=False)


def lines_of(user: dict[str, Any], url: str) -> list[str]:
    """``Token: web (normal) at URL``, then a line per quota: used of the limit, and when it resets."""
    quota = user.get("quota", {})
    lines = [f"Token:       {user.get('name', '?')} ({user.get('class', '?')}) at {url}"]
    for key, label in QUOTAS:
        limit, used = quota.get(f"{key}_limit"), quota.get(f"{key}_usage", 0)
        allowed = "unlimited" if limit is None else f"{limit:,}"
        lines.append(f"{label + ':':<13}{used:,} of {allowed} this month")
    if quota.get("concurrency_limit") is not None:
        lines.append(f"{'Concurrency:':<13}{quota['concurrency_limit']} queries at once")
    if quota.get("next_reset"):
        lines.append(f"{'Resets:':<13}{quota['next_reset']}")
    return lines

"""``shoal token create|list|revoke|set-quota`` (in-process through typer's runner; the store is real)."""

from __future__ import annotations

from pathlib import Path

import orjson
from typer.testing import CliRunner

from shoal.cli.main import app
from shoal.tokens import CLASS_LIMITS, ID_LENGTH, TokenStore, hash_token
from shoal.usage import UsageBook

runner = CliRunner()


def shoal(*args: str, data: Path) -> tuple[int, str, str]:
    result = runner.invoke(app, [*args, "--data", str(data)], env={"COLUMNS": "200"})
    return result.exit_code, result.stdout, result.stderr


def test_create_prints_the_token_alone_and_it_works(tmp_path: Path) -> None:
    code, out, _ = shoal("token", "create", "alice", data=tmp_path)
    secret = out.strip()
    assert code == 0 and len(out.splitlines()) == 1 and len(secret) >= 32
    token = TokenStore(tmp_path).lookup(secret)
    assert token is not None and token.name == "alice" and token.token_class == "normal"
    _, out, _ = shoal("token", "create", "big", "--enterprise", data=tmp_path)
    token = TokenStore(tmp_path).lookup(out.strip())
    assert token is not None and token.token_class == "enterprise"


def test_list_shows_ids_classes_quotas_and_usage(tmp_path: Path) -> None:
    secret = shoal("token", "create", "alice", data=tmp_path)[1].strip()
    shoal("token", "create", "big", "--enterprise", data=tmp_path)
    token_id = hash_token(secret)[:ID_LENGTH]
    UsageBook(tmp_path).charge(token_id, "api", 42, limit=1000)
    code, out, _ = shoal("token", "list", data=tmp_path)
    assert code == 0
    assert token_id in out and "alice" in out and "big" in out and "enterprise" in out
    assert f"42/{CLASS_LIMITS['normal'].api_limit:,}" in out
    assert secret not in out
    rows = [orjson.loads(line) for line in shoal("token", "list", "--json", data=tmp_path)[1].splitlines()]
    alice = next(row for row in rows if row["name"] == "alice")
    assert alice == {
        "id": token_id,
        "name": "alice",
        "class": "normal",
        "created": alice["created"],
        "revoked": None,
        "api_limit": CLASS_LIMITS["normal"].api_limit,
        "api_usage": 42,
        "priority_limit": CLASS_LIMITS["normal"].priority_limit,
        "priority_usage": 0,
    }


def test_list_with_no_tokens(tmp_path: Path) -> None:
    code, _, err = shoal("token", "list", data=tmp_path)
    assert code == 0 and "no tokens" in err


def test_revoke_by_id_or_name(tmp_path: Path) -> None:
    first = shoal("token", "create", "alice", data=tmp_path)[1].strip()
    second = shoal("token", "create", "bob", data=tmp_path)[1].strip()
    code, out, _ = shoal("token", "revoke", hash_token(first)[:8], data=tmp_path)
    assert code == 0 and "revoked" in out and "alice" in out
    assert shoal("token", "revoke", "bob", data=tmp_path)[0] == 0
    tokens = TokenStore(tmp_path)
    assert tokens.lookup(first) is None and tokens.lookup(second) is None
    assert "revoked" in shoal("token", "list", data=tmp_path)[1]


def test_revoke_refuses_an_unknown_or_ambiguous_selector(tmp_path: Path) -> None:
    shoal("token", "create", "twin", data=tmp_path)
    shoal("token", "create", "twin", data=tmp_path)
    code, _, err = shoal("token", "revoke", "twin", data=tmp_path)
    assert code == 2 and "names 2 tokens" in err
    code, _, err = shoal("token", "revoke", "nobody", data=tmp_path)
    assert code == 2 and "no token" in err


def test_set_quota(tmp_path: Path) -> None:
    secret = shoal("token", "create", "alice", data=tmp_path)[1].strip()
    code, out, _ = shoal("token", "set-quota", "alice", "--api-limit", "500", "--priority-limit", "0", data=tmp_path)
    assert code == 0 and "api_limit 500" in out and "priority_limit 0" in out
    token = TokenStore(tmp_path).lookup(secret)
    assert token is not None and (token.quota_limit("api"), token.quota_limit("priority")) == (500, 0)
    assert shoal("token", "set-quota", "alice", "--api-limit", "-1", data=tmp_path)[0] == 0
    token = TokenStore(tmp_path).lookup(secret)
    assert token is not None and token.quota_limit("api") == CLASS_LIMITS["normal"].api_limit


def test_set_quota_needs_a_limit_and_refuses_nonsense(tmp_path: Path) -> None:
    shoal("token", "create", "alice", data=tmp_path)
    assert shoal("token", "set-quota", "alice", data=tmp_path)[0] == 2
    assert shoal("token", "set-quota", "alice", "--api-limit", "-5", data=tmp_path)[0] == 2
    assert shoal("token", "set-quota", "nobody", "--api-limit", "5", data=tmp_path)[0] == 2

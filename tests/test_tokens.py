"""TokenStore: hashed storage, the old file format, revocation, quota overrides, concurrent writers."""

from __future__ import annotations

import multiprocessing
import stat
from pathlib import Path

import orjson
import pytest

from shoal.tokens import CLASS_LIMITS, ID_LENGTH, TokenNotFound, TokenStore, hash_token


def test_only_the_hash_is_stored_and_the_file_is_private(tmp_path: Path) -> None:
    store = TokenStore(tmp_path)
    secret = store.create("alice")
    raw = store.path.read_bytes()
    assert secret.encode() not in raw
    assert hash_token(secret).encode() in raw
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    token = store.lookup(secret)
    assert token is not None
    assert (token.name, token.token_class, token.id) == ("alice", "normal", hash_token(secret)[:ID_LENGTH])


def test_a_file_written_before_quotas_existed_still_works(tmp_path: Path) -> None:
    secret = "an-old-secret-from-the-first-release"
    entry = {"name": "old", "enterprise": True, "created": "2026-11-01T00:00:00+00:00"}
    (tmp_path / "tokens.json").write_bytes(orjson.dumps({hash_token(secret): entry}))
    token = TokenStore(tmp_path).lookup(secret)
    assert token is not None and token.token_class == "enterprise"
    assert token.quota_limit("api") == CLASS_LIMITS["enterprise"].api_limit
    assert token.quota_limit("priority") == CLASS_LIMITS["enterprise"].priority_limit


def test_unknown_and_oversized_secrets_are_not_found(tmp_path: Path) -> None:
    store = TokenStore(tmp_path)
    store.create("alice")
    assert store.lookup("nope") is None
    assert store.lookup("x" * 100_000) is None
    assert store.lookup("\udcff\x00é") is None


def test_revoke_by_id_prefix_or_name_takes_effect_for_a_running_reader(tmp_path: Path) -> None:
    reader, writer = TokenStore(tmp_path), TokenStore(tmp_path)
    first, second = writer.create("alice"), writer.create("bob")
    assert reader.lookup(first) and reader.lookup(second)
    writer.revoke(hash_token(first)[:6])
    writer.revoke("bob")
    assert reader.lookup(first) is None and reader.lookup(second) is None
    listed = {token.name: token for token in writer.all()}
    assert listed["alice"].revoked and listed["bob"].revoked


def test_selectors_must_name_exactly_one_token(tmp_path: Path) -> None:
    store = TokenStore(tmp_path)
    store.create("twin")
    store.create("twin")
    with pytest.raises(TokenNotFound, match="names 2 tokens"):
        store.revoke("twin")
    with pytest.raises(TokenNotFound, match="no token"):
        store.revoke("nobody")
    with pytest.raises(TokenNotFound, match="no token"):
        store.revoke("abc")  # too short to be an id prefix, and no such name


def test_set_quota_overrides_and_restores_the_class_default(tmp_path: Path) -> None:
    store = TokenStore(tmp_path)
    secret = store.create("alice")
    store.set_quota("alice", api_limit=7)
    token = store.lookup(secret)
    assert token is not None
    assert (token.quota_limit("api"), token.quota_limit("priority")) == (7, CLASS_LIMITS["normal"].priority_limit)
    store.set_quota("alice", priority_limit=0)
    store.set_quota("alice", api_limit=-1)
    token = store.lookup(secret)
    assert token is not None
    assert (token.quota_limit("api"), token.quota_limit("priority")) == (CLASS_LIMITS["normal"].api_limit, 0)


def create_tokens(folder: str, count: int) -> list[str]:
    store = TokenStore(folder)
    return [store.create(f"p{n}") for n in range(count)]


def test_concurrent_writers_in_several_processes_lose_no_token(tmp_path: Path) -> None:
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        secrets = [secret for batch in pool.starmap(create_tokens, [(str(tmp_path), 10)] * 4) for secret in batch]
    store = TokenStore(tmp_path)
    assert len(store.all()) == 40
    assert all(store.lookup(secret) is not None for secret in secrets)

"""X-Forwarded-For is believed only from ``--trusted-proxy`` networks (issue 14, item 8): forged values must not
give an anonymous client fresh quotas."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.api.serving import running_server

pytestmark = pytest.mark.slow
ANON = {"Authorization": "Bearer anon"}
FORGED = ["203.0.113.1", "203.0.113.2", "198.51.100.7, 203.0.113.3", "2001:db8::4"]


def anonymous_id(base: str, forwarded: str | None = None) -> str:
    headers = ANON if forwarded is None else {**ANON, "X-Forwarded-For": forwarded}
    response = httpx.get(f"{base}/v1/admin/user", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["id"]


def test_forged_forwarded_headers_change_nothing_by_default(tmp_path: Path) -> None:
    with running_server(tmp_path, "--allow-anon") as server:
        own = anonymous_id(server.base)
        assert {anonymous_id(server.base, value) for value in FORGED} == {own}


def test_a_trusted_proxy_is_believed(tmp_path: Path) -> None:
    with running_server(tmp_path, "--allow-anon", "--trusted-proxy", "127.0.0.0/8") as server:
        ids = {anonymous_id(server.base, value) for value in FORGED}
        assert len(ids) == len(FORGED) and anonymous_id(server.base) not in ids


def test_a_malformed_trusted_proxy_is_refused(tmp_path: Path) -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "shoal", "serve", "--data", str(tmp_path), "--trusted-proxy", "nowhere"],
        capture_output=True,
        timeout=60,
    )
    assert result.returncode == 2 and b"--trusted-proxy takes an address or CIDR" in result.stderr

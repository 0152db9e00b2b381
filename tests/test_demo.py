"""The README's first command, ``bash scripts/demo.sh``, for real (on a small corpus): it serves, its token is
an enterprise one (charts get their cardinality), every dataset has reports, and running it again reuses the
token and the imports."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.web.server import free_port

ROOT = Path(__file__).resolve().parents[1]
REPORTS = 300


@contextmanager
def demo(data: Path, port: int) -> Iterator[str]:
    """Run the demo until it serves; yield what it printed before serving."""
    env = {**os.environ, "SHOAL_DATA": str(data), "SHOAL_DEMO_REPORTS": str(REPORTS), "SHOAL_PORT": str(port)}
    log = data.parent / f"demo-{time.monotonic_ns()}.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            ["bash", str(ROOT / "scripts/demo.sh")],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the demo did not serve:\n{log.read_text()}")
                time.sleep(0.2)
        yield log.read_text()
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def token_in(output: str) -> str:
    found = re.search(r"Authorization: Bearer ([A-Za-z0-9_-]+)'", output)
    assert found, output
    return found.group(1)


@pytest.mark.slow
def test_the_demo_serves_with_one_reusable_enterprise_token(tmp_path: Path) -> None:
    data, port = tmp_path / "data", free_port()
    with demo(data, port) as first:
        token = token_in(first)
        assert "created the enterprise token 'demo'" in first
        headers = {"Authorization": f"Bearer {token}"}
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{base}/v1/admin/user", headers=headers).json()["class"] == "enterprise"
        params = {"summarize": "port-tcp", "summary_cardinality": "true"}
        summary = httpx.get(f"{base}/v1/scan/protocols", params=params, headers=headers).json()["summary"]
        assert summary["cardinality"] > 0
        for path, selection in (
            ("scan/domains", {"summarize": "host"}),
            ("domain/rdns", {"summarize": "host", "summary_context": "dns-ptr"}),
            ("ct/log", {"summarize": "host", "summary_context": "cert-dns-name"}),
        ):
            answer = httpx.get(f"{base}/v1/{path}", params=selection, headers=headers)
            assert answer.status_code == 200, (path, answer.text)
            assert answer.json()["summary"]["values"], path
    assert (data / "demo-token").stat().st_mode & 0o077 == 0
    with demo(data, port) as second:
        assert token_in(second) == token
        assert "reusing the enterprise token 'demo'" in second
        assert f"already holds {REPORTS} reports: not importing" in second
        assert second.count("reports: not importing them again") == 3  # domains, rdns, ct
    names = subprocess.run(
        [str(ROOT / ".venv/bin/shoal"), "token", "list", "--json", "--data", str(data)], capture_output=True, text=True
    ).stdout
    assert names.count('"name":"demo"') == 1

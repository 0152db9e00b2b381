"""Re-enrichment of stored reports: successors with the same date, history kept, idempotent; and the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from shoal.cli.main import app
from shoal.enrich import enrich_report
from shoal.enrich.base import Settings
from shoal.enrich.engine import build_enrichers
from shoal.enrich.rerun import SUPERSEDES, rerun, successor
from shoal.model import Item, Report
from shoal.query.ast import Match, Term
from shoal.store.base import Filters, Store, SummaryRequest
from tests.enrich.conftest import of_type, target

BARE = target("8.8.8.8", 22, Item("server-banner", "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3", "ssh"), report_id="bare")
STALE = target(
    "1.1.1.1",
    80,
    Item("http-header", "nginx/1.24.0", "Server"),
    Item("geo-country", "AU", "", True),
    Item("product-tag", "apache", "", True),  # wrong, from an older rule set
    report_id="stale",
)
CURRENT = enrich_report(target("193.60.0.1", 21, Item("server-banner", "220 (vsFTPd 3.0.5)", "ftp"), report_id="ok"))
ALL = build_enrichers(Settings())


def test_successor_keeps_date_and_observations_and_names_its_predecessor() -> None:
    new = successor(STALE, ALL)
    assert new is not None
    assert new.date == STALE.date and new.id != STALE.id
    assert [item for item in new.items if not item.is_metadata] == [i for i in STALE.items if not i.is_metadata]
    assert of_type(new, "product-tag") == ["nginx"]
    assert of_type(new, "geo-country") == ["AU"]
    assert of_type(new, "entity") == ["Cloudflare, Inc."]
    assert of_type(new, SUPERSEDES) == ["stale"]
    assert successor(new, ALL) is None  # a successor is current
    assert successor(STALE, ALL) == new  # deterministic: same id every time


def test_no_successor_when_nothing_changes() -> None:
    assert successor(CURRENT, ALL) is None


def test_only_the_chosen_enrichers_are_rerun() -> None:
    products_only = build_enrichers(Settings(disabled=frozenset({"geo-country", "entity", "honeypot"})))
    new = successor(STALE, products_only)
    assert new is not None
    assert of_type(new, "product-tag") == ["nginx"]
    assert of_type(new, "entity") == []  # not re-run, and it was not there


def test_rerun_over_a_store_is_idempotent(empty_store: Store) -> None:
    empty_store.ingest([BARE, STALE, CURRENT])
    empty_store.refresh()
    dry = rerun(empty_store, Filters(), ALL, dry_run=True)
    assert (dry.examined, dry.unchanged, dry.written) == (3, 1, 2)
    empty_store.refresh()
    assert empty_store.count() == 3  # a dry run stores nothing

    first = rerun(empty_store, Filters(), ALL)
    assert (first.examined, first.unchanged, first.written) == (3, 1, 2)
    assert first.changes["product-tag"] == 2 and first.changes["entity"] == 2
    empty_store.refresh()
    assert empty_store.count() == 5  # the originals stay: history is kept

    assert empty_store.search(Filters()).total == 3  # a superseded original matches no search…
    assert empty_store.search(Filters(history=True)).total == 5  # …but history keeps it
    assert [r.id for r in empty_store.search(Filters(report_id="stale")).reports] == ["stale"]
    assert empty_store.summarize(Filters(), SummaryRequest("port-tcp")).values == [("21", 1), ("22", 1), ("80", 1)]

    second = rerun(empty_store, Filters(), ALL)
    assert (second.examined, second.written, second.duplicates) == (3, 0, 0)  # only the current reports
    empty_store.refresh()
    assert empty_store.count() == 5

    successors = list(empty_store.iter_matches(Filters(expression=Term(SUPERSEDES, Match.EXACT, "stale"))))
    assert len(successors) == 1
    assert successors[0].date == STALE.date
    assert of_type(successors[0], "product-tag") == ["nginx"]


def test_expression_limits_the_rerun(empty_store: Store) -> None:
    empty_store.ingest([BARE, STALE])
    empty_store.refresh()
    only_ssh = Filters(expression=Term("port-tcp", Match.WORDS, "22"))
    totals = rerun(empty_store, only_ssh, ALL)
    assert (totals.examined, totals.written) == (1, 1)


runner = CliRunner()


def test_cli_enrichers_lists_name_version_source_licence() -> None:
    result = runner.invoke(app, ["enrichers", "--json"])
    assert result.exit_code == 0, result.output
    rows = orjson.loads(result.output)
    assert [row["name"] for row in rows] == ["geo-country", "entity", "product", "honeypot"]
    assert all(row["version"] and row["source"] and row["licence"] for row in rows)
    assert "CC BY 4.0" in rows[1]["licence"]
    table = runner.invoke(app, ["enrichers"], env={"COLUMNS": "200"})
    assert table.exit_code == 0 and "iptocc" in table.output


def test_cli_enrich_end_to_end(tmp_path: Path) -> None:
    data = tmp_path / "data"
    source = tmp_path / "reports.jsonl"
    source.write_bytes(b"".join(orjson.dumps(r.as_dict()) + b"\n" for r in (BARE, STALE, CURRENT)))
    env = {**os.environ, "COLUMNS": "200"}
    shoal = [sys.executable, "-m", "shoal"]
    subprocess.run([*shoal, "import", "--data", str(data), "--workers", "0", str(source)], check=True, env=env)

    def enrich(*args: str) -> str:
        done = subprocess.run(
            [*shoal, "enrich", "--data", str(data), *args], capture_output=True, text=True, env=env, timeout=120
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert "would store 1 successors" in enrich("--expression", "port-tcp:22", "--dry-run")
    assert "stored 2 successors" in enrich()
    assert "stored 0 successors" in enrich()
    bad = subprocess.run(
        [*shoal, "enrich", "--data", str(data), "--expression", "title:(("], capture_output=True, text=True, env=env
    )
    assert bad.returncode == 2 and "^" in bad.stderr
    unknown = subprocess.run(
        [*shoal, "enrich", "--data", str(data), "--enricher", "geo"], capture_output=True, text=True, env=env
    )
    assert unknown.returncode == 2 and "unknown enrichers" in unknown.stderr


@pytest.mark.parametrize("flag", ["--asn-mmdb", "--city-mmdb"])
def test_cli_reports_a_missing_mmdb(flag: str, tmp_path: Path) -> None:
    result = runner.invoke(app, ["enrichers", flag, str(tmp_path / "missing.mmdb")])
    assert result.exit_code == 2
    assert "cannot open MMDB" in result.output


def test_reports_are_never_modified_in_place(empty_store: Store) -> None:
    empty_store.ingest([STALE])
    empty_store.refresh()
    rerun(empty_store, Filters(), ALL)
    empty_store.refresh()
    stored = {report.id: report for report in empty_store.iter_matches(Filters(history=True))}
    assert stored["stale"] == STALE
    assert isinstance(stored["stale"], Report)

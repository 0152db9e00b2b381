"""A data directory written by the release before index format 3 (format 2, commit ef0f86e) and what its API
answered, byte for byte: ``format2/store/`` and ``format2/answers.jsonl`` (one request a line, with its status and
the SHA-256 of its body). ``test_migrate.py`` migrates a copy and asks the same requests again.

The fixture was written by that release's code, by running this module there:

    python -m tests.store.embedded.released

(run again by a later version it would write that version's format: the files are kept as they were made.)
The store holds the conformance corpus in every dataset, a successor of one of its reports, and 1,000 generated
reports (seed 7) in protocols.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

from fastapi.testclient import TestClient

from shoal.api.app import create_app
from shoal.model import CT, DATASET_TABLE, DOMAINS, PROTOCOLS, RDNS, SUPERSEDES, Item, Report
from shoal.store.base import Store
from shoal.tokens import TokenStore
from tests.corpus import CORPUS
from tests.store.test_conformance import SEARCH_CASES, SUMMARY_CASES

FIXTURE = Path(__file__).parent / "format2"
GENERATED = 1_000
OPTION_PARAMS = {"date_from": "from", "date_to": "to"}  # Filters fields the API names otherwise
Request = tuple[str, list[tuple[str, str]]]


RELEASED_DATASETS = (PROTOCOLS, DOMAINS, CT, RDNS)  # the datasets of the release that wrote the fixture


def released_reports() -> Iterator[Report]:
    from tests.generated import generated_reports

    for dataset in RELEASED_DATASETS:
        for report in CORPUS:
            yield dataclasses.replace(report, dataset=dataset)
    yield Report(
        date=CORPUS[1].date,
        items=(*CORPUS[1].items, Item("entity", "Example Inc.", "", True), Item(SUPERSEDES, CORPUS[1].id, "", True)),
        id="r02-successor",
    )
    yield from generated_reports(GENERATED, seed=7)


def option_params(options: dict[str, object]) -> list[tuple[str, str]]:
    params = []
    for name, value in options.items():
        text = str(value).lower() if isinstance(value, bool) else str(value)
        params.append((OPTION_PARAMS.get(name, name), text))
    return params


GENERATED_SEARCHES: list[list[tuple[str, str]]] = [
    [("ip", "43.0.0.0/8")],
    [("ip", "43.0.0.0/8"), ("most_recent", "true")],
    [("ip", "43.0.0.0/8"), ("most_recent", "true"), ("page", "1")],
    [("most_recent", "true")],
    [("most_recent", "true"), ("page", "3")],
    [("expression", "http-header;Server:nginx")],
    [("expression", "http-header:nginx")],
    [("expression", 'http-header="nginx"')],
    [("expression", "http-header-name=Server")],
    [("expression", 'http-header-name=""')],
    [("expression", "protocol=ssh")],
    [("expression", "protocol=ht*")],
    [("expression", 'protocol=""')],
    [("expression", "server-banner:openssh")],
    [("expression", "server-banner;ssh:openssh")],
    [("expression", "server-banner;:openssh")],
    [("expression", "server-banner:ssh*")],
    [("expression", 'server-banner="SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.6"')],
    [("expression", "host:com")],
    [("expression", "host;cert-dns-name:com")],
    [("expression", "host;:com")],
    [("expression", "host=example.com")],
    [("expression", "title:univ*")],
    [("expression", 'title:"university london"'), ("slop", "1")],
    [("expression", "product-tag:nginx and not port-tcp:443")],
    [("expression", "search-term:nginx")],
    [("expression", "ip:8.8.0.0/16")],
    [("expression", "ip;cert-ip-address:0.0.0.0/0")],
    [("ip", "::/0")],
    [("from", "2026-10-01"), ("to", "2026-10-15")],
    [("from", "2026-11-01"), ("most_recent", "true")],
    [("expression", "port-tcp:443"), ("history", "true")],
    [("id", "r02")],
    [("summarize", "port-tcp")],
    [("summarize", "server-banner")],
    [("summarize", "server-banner"), ("summary_context", "ssh"), ("summary_context", "http")],
    [("summarize", "server-banner"), ("summary_nocontext", "ssh")],
    [("summarize", "http-header")],
    [("summarize", "http-header"), ("summary_context", "Server")],
    [("summarize", "http-header"), ("summary_context", "")],
    [("summarize", "host")],
    [("summarize", "host"), ("summary_context", "")],
    [("summarize", "host"), ("summary_context", "cert-dns-name"), ("summary_context", "")],
    [("summarize", "protocol")],
    [("summarize", "http-header-name")],
    [("summarize", "geo-country"), ("expression", "product-tag:nginx")],
    [("summarize", "port-tcp"), ("ip", "43.0.0.0/8"), ("most_recent", "true")],
    [("summarize", "ip"), ("summary_cardinality", "true")],
]


def selector(dataset: str, options: dict[str, object]) -> list[tuple[str, str]]:
    """domain/rdns needs an ``ip``, ``host`` or ``nameserver``: every address, unless the case names one."""
    return [("ip", "0.0.0.0/0")] if dataset == RDNS and "ip" not in options else []


def released_requests() -> list[Request]:
    """Every request the fixture answers: the conformance cases on every dataset, and searches, pages and
    summaries over the generated reports."""
    requests: list[Request] = []
    for dataset in RELEASED_DATASETS:
        path = DATASET_TABLE[dataset].path
        for expression, options, _ in SEARCH_CASES:
            params = [("expression", expression)] if expression else []
            requests.append((path, selector(dataset, options) + params + option_params(options)))
        for expression, options, request, *_ in SUMMARY_CASES:
            params = [("expression", expression)] if expression else []
            params += [("summarize", request.type), ("summary_limit", str(request.limit))]
            params += [("summary_context", context) for context in request.contexts]
            params += [("summary_nocontext", context) for context in request.excluded_contexts]
            requests.append((path, selector(dataset, options) + params + option_params(options)))
        for page in range(3):
            requests.append((path, [*selector(dataset, {}), ("page", str(page))]))
    protocols = DATASET_TABLE[PROTOCOLS].path
    requests += [(protocols, params) for params in GENERATED_SEARCHES]
    requests += [("/v1/multi/summary", []), ("/v1/multi/summary", [("field", "host:com")])]
    requests += [("/v1/scan/protocols/export", [("expression", "product-tag:nginx")])]
    requests += [("/v1/scan/protocols/export", [("ip", "43.0.0.0/8"), ("most_recent", "true"), ("format", "csv")])]
    return requests


def answers(store: Store, tokens: TokenStore, requests: list[Request] | None = None) -> list[dict[str, object]]:
    """Each request's status and body digest (the API's bytes, the order of results included); the requests of
    ``released_requests`` unless given (a test asks those the fixture recorded: the cases may have grown since)."""
    token = tokens.create("fixture", enterprise=True)
    found = []
    with TestClient(create_app(store, tokens), raise_server_exceptions=False) as client:
        client.headers["Authorization"] = f"Bearer {token}"
        for path, params in released_requests() if requests is None else requests:
            response = client.get(path, params=params)
            digest = hashlib.sha256(response.content).hexdigest()
            found.append({"path": path, "params": params, "status": response.status_code, "sha256": digest})
    return found


def write_fixture() -> None:  # pragma: no cover - run by hand, once, by the release that wrote the fixture
    from shoal.store.embedded import EmbeddedStore

    shutil.rmtree(FIXTURE, ignore_errors=True)
    store = EmbeddedStore(FIXTURE / "store")
    store.ingest(list(released_reports()))
    store.close()
    for leftover in (FIXTURE / "store").iterdir():
        if not leftover.name.startswith("index"):
            shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
    scratch = FIXTURE / "scratch"
    shutil.copytree(FIXTURE / "store", scratch)
    store = EmbeddedStore(scratch, hold_writer=False)
    lines = [json.dumps(answer) for answer in answers(store, TokenStore(scratch))]
    store.close()
    shutil.rmtree(scratch)
    (FIXTURE / "answers.jsonl").write_text("\n".join(lines) + "\n")
    print(f"{len(lines)} answers, {dt.datetime.now(dt.UTC):%Y-%m-%d}", file=sys.stderr)


if __name__ == "__main__":
    write_fixture()

"""The fixed corpora the conformance suite and the API, CLI and client tests run on: data files beside the cases
(``tests/store/cases``), one report a line, each there for a reason.

- ``corpus.jsonl``: ``CORPUS``, reports in the API's shape (what ``shoal import`` reads), loaded into every
  dataset of every engine by the conformance suite.
- ``datasets.jsonl``: ``DATASET_CORPUS``, a small store holding all four datasets about one domain
  (example.org), each report dated ``days_ago`` before today so that clients' "last 30 days" calls find it
  whatever day the tests run, with its raw bodies (``BODIES``, by name) as the API's body endpoint shows them.
"""

from __future__ import annotations

import base64
import datetime as dt
from pathlib import Path
from typing import Any

import orjson

from shoal.model import Body, Report

CASES = Path(__file__).parent / "store" / "cases"
TODAY = dt.datetime.now(dt.UTC).date()


def lines(name: str) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in (CASES / name).read_bytes().splitlines() if line.strip()]


def body_of(raw: dict[str, Any]) -> Body:
    data = base64.b64decode(raw["data"]) if raw["encoding"] == "base64" else raw["data"].encode()
    return Body.capped(data, raw["content_type"])


CORPUS: list[Report] = [Report.from_dict(raw) for raw in lines("corpus.jsonl")]
BODIES: dict[str, Body] = {
    body["name"]: body_of(body) for raw in lines("datasets.jsonl") for body in raw.get("bodies", ())
}
DATASET_CORPUS: list[Report] = [
    Report(
        TODAY - dt.timedelta(days=raw["days_ago"]),
        Report.from_dict({**raw, "date": TODAY.isoformat()}).items,
        raw["id"],
        raw["dataset"],
        tuple(BODIES[body["name"]] for body in raw.get("bodies", ())),
    )
    for raw in lines("datasets.jsonl")
]
WELCOME, BINARY = BODIES["welcome"], BODIES["binary"]

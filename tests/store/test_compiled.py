"""Golden files of what each search case compiles to: the engine-neutral plan, the tantivy query and the SQL of
each ClickHouse dialect (by server version: 18.16, the portable SQL; 26.9, the modern one), on one server and on
a cluster. The one-server files show a dataset without superseded marks, the cluster files one with.

Each file holds, for every case of ``cases/search.txt`` in order, the case line and then its output on the next
line. A change to the lowering or to a compiler shows up as a diff here; after checking it, rewrite the files
with ``SHOAL_UPDATE_GOLDEN=1 pytest tests/store/test_compiled.py``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import partial
from pathlib import Path

import pytest

from shoal.query.check import check
from shoal.query.parser import parse
from shoal.store.base import Filters
from shoal.store.clickhouse.compile import selection
from shoal.store.clickhouse.schema import Layout
from shoal.store.embedded.compile import compile_filters
from shoal.store.embedded.schema import CONTEXT_SEP, build_schema
from shoal.store.embedded.shards import Kinds
from shoal.store.plan import lower
from tests.corpus import CORPUS
from tests.store.test_conformance import CASES, SEARCH_CASES, filters_for

GOLDEN = Path(__file__).parent / "golden"
CORPUS_TYPES = frozenset(item.type for report in CORPUS for item in report.items)
CORPUS_KINDS = Kinds.of(
    item.type + (CONTEXT_SEP + item.context if item.context else "") for report in CORPUS for item in report.items
)
SCHEMA = build_schema()


class CorpusTypes:
    """What ``filters_for`` needs of a store: the types of the corpus."""

    def known_types(self) -> frozenset[str]:
        return CORPUS_TYPES


COMPILERS: dict[str, Callable[[Filters], str]] = {
    "plan": lambda filters: repr(lower(filters)),
    "tantivy": lambda filters: repr(compile_filters(SCHEMA, filters, CORPUS_KINDS)),
    **{
        f"clickhouse-{'.'.join(map(str, version))}{'-cluster' if cluster else ''}": partial(
            lambda filters, layout: selection(layout, filters, layout.cluster is not None, lambda: CORPUS_TYPES),
            layout=Layout("shoal", cluster, version),
        )
        for version in ((18, 16), (26, 9))
        for cluster in (None, "shoal")
    },
}


def case_lines() -> list[str]:
    lines = (CASES / "search.txt").read_text().splitlines()
    return [line for line in lines if line.strip() and not line.startswith("#")]


def compiled(name: str) -> str:
    out = []
    for line, (expression, options, _) in zip(case_lines(), SEARCH_CASES, strict=True):
        out += [line, COMPILERS[name](filters_for(expression, options, CorpusTypes())), ""]  # type: ignore[arg-type]
    return "\n".join(out)


@pytest.mark.parametrize("name", sorted(COMPILERS))
def test_compiled_output_matches_the_golden_file(name: str) -> None:
    path = GOLDEN / f"{name}.txt"
    output = compiled(name)
    if os.environ.get("SHOAL_UPDATE_GOLDEN") == "1":
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(output)
    assert path.read_text() == output, f"{path.name} differs: check the change, then rewrite it (module docstring)"


def test_every_plan_node_has_a_rule_in_every_engine() -> None:
    from shoal.store import plan
    from shoal.store.clickhouse.compile import DIALECTS
    from shoal.store.embedded.compile import RULES as TANTIVY_RULES

    nodes = set(plan.Plan.__args__)  # type: ignore[attr-defined]
    for rules in DIALECTS.values():
        assert set(rules) == nodes
    assert set(TANTIVY_RULES) == nodes


def test_a_checked_expression_lowers_to_the_plan_it_means() -> None:
    from shoal.store.plan import AllOf, AnyOf, Exact, HasContext, HostName, NoneOf, Words

    expression = check(parse('protocol=ssh and not port-tcp:022 or host:Example.COM. or url:a.b or title:"x y"'), set())
    assert lower(Filters(expression=expression, slop=2)) == AnyOf(
        (
            AllOf((HasContext("server-banner", "ssh"), NoneOf(Exact("port-tcp", None, "22")))),
            HostName("host", None, "example.com"),
            AnyOf((Words("url", None, ("a", "b"), slop=2), HostName("url", None, "a.b"))),
            Words("title", None, ("x", "y"), slop=2),
        )
    )

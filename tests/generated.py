"""The scripts of ``bench/`` as modules (loaded by path: they are not a package), and realistic reports from
``bench/generate.py``."""

from __future__ import annotations

import importlib.util
import sys
from functools import cache
from pathlib import Path
from types import ModuleType

from shoal.model import Report

BENCH = Path(__file__).resolve().parents[1] / "bench"


@cache
def bench_module(name: str) -> ModuleType:
    """``bench/<name>.py``, loaded once, as the module ``bench_<name>``."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def generator() -> ModuleType:
    return bench_module("generate")


def generated_reports(count: int, seed: int = 1) -> list[Report]:
    return [Report.from_dict(report) for report in generator().generate(count, seed)]

"""Realistic reports from ``bench/generate.py`` (loaded by path, as the scripts are not a package)."""

from __future__ import annotations

import importlib.util
import sys
from functools import cache
from pathlib import Path
from types import ModuleType

from shoal.model import Report

GENERATE_PATH = Path(__file__).resolve().parents[1] / "bench" / "generate.py"


@cache
def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_generate", GENERATE_PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def generated_reports(count: int, seed: int = 1) -> list[Report]:
    return [Report.from_dict(report) for report in generator().generate(count, seed)]

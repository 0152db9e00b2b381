"""Where the data lives: ``--data DIR``, else ``$SHOAL_DATA``, else ``./shoal-data``."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_DATA_DIR = "shoal-data"
DATA_VARIABLE = "SHOAL_DATA"


def data_dir(explicit: str | Path | None = None) -> Path:
    return Path(explicit or os.environ.get(DATA_VARIABLE) or DEFAULT_DATA_DIR)

"""The distributed engine: ClickHouse (a cluster, one server, or chDB in-process), DESIGN.md §2."""

from shoal.store.clickhouse.engine import ClickHouseStore

__all__ = ["ClickHouseStore"]

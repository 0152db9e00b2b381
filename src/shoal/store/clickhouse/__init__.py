"""The distributed engine: ClickHouse (a cluster, one server, or chDB in-process), DESIGN.md §2."""

from shoal.store.clickhouse.engine import ClickHouseStore

ENGINE = ClickHouseStore  # what shoal.store.registry opens chdb:// and clickhouse:// URLs with
__all__ = ["ENGINE", "ClickHouseStore"]

"""The embedded engine: one tantivy index per data directory (DESIGN.md §2)."""

from shoal.store.embedded.engine import EmbeddedStore

__all__ = ["EmbeddedStore"]

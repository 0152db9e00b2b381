"""The embedded engine: a tantivy index per dataset, beside the open-port observations and the bodies, in one
data directory (DESIGN.md §2)."""

from shoal.store.embedded.engine import EmbeddedStore

ENGINE = EmbeddedStore  # what shoal.store.registry opens embedded:// URLs with
__all__ = ["ENGINE", "EmbeddedStore"]

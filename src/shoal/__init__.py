"""Shoal: a self-hosted internet-scan search engine with a Driftnet-compatible API."""

__version__ = "0.1.0"

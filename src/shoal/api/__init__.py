"""The HTTP API: Driftnet-compatible routes under ``/v1/``."""

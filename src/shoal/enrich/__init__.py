"""Enrichment: offline metadata added to every report before it is stored.

    engine.py        enrich_report (the ingest pipeline's transform), the registry, configure()
    base.py          the Enricher protocol, Settings (from SHOAL_ASN_MMDB / SHOAL_CITY_MMDB), errors
    geo.py           geo-country        iptocc (RIR data) or an operator's City/Country MMDB
    network.py       entity, asn        the bundled ASN table (asntable.py, data/) or an operator's ASN MMDB
    products.py      product-tag/-info  and honeypot, from the rules in rules/*.toml (rules.py compiles them)
    fingerprints.py  cert_sha256, favicon_mmh3, jarm: helpers the collector calls
    ja4plus.py       ja4s, ja4x: FoxIO's JA4S and JA4X (FoxIO License 1.1, see NOTICE), for the collector
    rerun.py         re-enrichment of stored reports (``shoal enrich``)

See docs/enrichment.md for the data sources, their licences and the exact skip rule.
"""

from __future__ import annotations

from shoal.enrich.base import Enricher, EnrichmentError, Settings
from shoal.enrich.engine import NAMES, REGISTRY, active_enrichers, configure, enrich_report, enrich_with

__all__ = [
    "NAMES",
    "REGISTRY",
    "Enricher",
    "EnrichmentError",
    "Settings",
    "active_enrichers",
    "configure",
    "enrich_report",
    "enrich_with",
]

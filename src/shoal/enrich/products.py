"""product-tag / product-info and honeypot: the fingerprint rules (rules/*.toml) applied to a report's items.

``Products`` writes what the product rules find (every file but ``honeypots.toml``), ``Honeypots`` what
the honeypot rules find. They are separate enrichers so that each keeps its own skip rule — a report
imported with Driftnet's product tags can still be marked as a likely honeypot — but they share one
compiled rule set and one pass over the report's items (the rule set remembers its last scan).

An enricher's version is its rule count and a digest of its rule files' text: a changed rule is a new
version, which ``shoal enrichers`` shows and ``shoal enrich`` records.
"""

from __future__ import annotations

import hashlib

from shoal.enrich.base import Settings
from shoal.enrich.rules import RuleSet, honeypot_items, load_rules, product_items, rule_files
from shoal.model import Item, Report

HONEYPOT_FILE = "honeypots.toml"

_shared: RuleSet | None = None


def shared_rules() -> RuleSet:
    """Every bundled rule, compiled once per process."""
    global _shared
    if _shared is None:
        _shared = RuleSet(load_rules())
    return _shared


class _RuleEnricher:
    name = ""
    outputs: frozenset[str] = frozenset()
    honeypots = False

    def __init__(self, settings: Settings | None = None) -> None:
        self._version: str | None = None

    def files(self) -> list[tuple[str, str]]:
        return [(name, text) for name, text in rule_files() if (name == HONEYPOT_FILE) == self.honeypots]

    @property
    def version(self) -> str:
        if self._version is None:
            files = self.files()
            digest = hashlib.sha256()
            for name, text in files:
                digest.update(name.encode() + b"\0" + text.encode() + b"\0")
            count = sum(1 for rule in shared_rules().rules if rule.source in {name for name, _ in files})
            self._version = f"{count} rules, {digest.hexdigest()[:12]}"
        return self._version

    @property
    def source(self) -> str:
        return "Shoal's own rules: " + ", ".join(name for name, _ in self.files())

    @property
    def licence(self) -> str:
        return "Apache-2.0 (part of Shoal)"


class Products(_RuleEnricher):
    name = "product"
    outputs = frozenset({"product-tag", "product-info"})

    def enrich(self, report: Report, ip: str | None) -> list[Item]:
        found = shared_rules().scan(report.items)
        return product_items(found) if found else []


class Honeypots(_RuleEnricher):
    name = "honeypot"
    outputs = frozenset({"honeypot"})
    honeypots = True

    def enrich(self, report: Report, ip: str | None) -> list[Item]:
        found = shared_rules().scan(report.items)
        return honeypot_items(found) if found else []

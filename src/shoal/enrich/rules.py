"""Fingerprint rules: data files of regexes over a report's items, compiled once, dispatched by item type.

A rule file (``rules/*.toml``) holds ``[[rule]]`` tables::

    [[rule]]
    id = "nginx"                                   # unique across all files
    on = ["http-header;Server"]                    # item selectors: "type" or "type;context" ("type;*" = any)
    pattern = '^nginx(?:/(?P<version>\\d[\\w.]*))?'   # Python regex, searched case-insensitively
    tags = ["nginx"]                               # product-tag values (lowercase product names)
    info = ["{version}"]                           # product-info templates over named groups
    examples = [{ value = "nginx/1.24.0", info = ["1.24.0"] }]
    negative = ["openresty"]

or, in ``honeypots.toml``, ``honeypot = "cowrie"`` instead of tags/info. Contexts compare case-insensitively
(HTTP header names vary in case). An info template whose named groups did not all match is skipped, so
``"({detail})"`` yields nothing when there is no detail. Every rule must carry at least one example; the
tests run every rule's examples and negatives.

Matching is cached per (selector group, value): banners, Server headers and titles repeat across
millions of reports, so the common case is a dict lookup, not a regex.
"""

from __future__ import annotations

import re
import string
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from shoal.errors import ShoalError
from shoal.model import Item

MAX_MATCH_CHARS = 4096  # a rule sees at most this much of a value
CACHE_LIMIT = 50_000  # cached values per selector group before the cache is emptied
ANY_CONTEXT = "*"
RULE_KEYS = {"id", "on", "pattern", "tags", "info", "honeypot", "examples", "negative", "case_sensitive", "note"}
EXAMPLE_KEYS = {"value", "on", "tags", "info", "honeypot"}
_FIELD_NAMES = string.Formatter()


class RuleError(ShoalError):
    """A rule file is malformed (raised when the rules are loaded, never while enriching)."""

    def __init__(self, source: str, rule_id: str | None, message: str) -> None:
        where = f"{source}: rule {rule_id!r}" if rule_id else source
        super().__init__(f"{where}: {message}")
        self.source = source
        self.rule_id = rule_id


@dataclass(frozen=True, slots=True)
class Example:
    value: str
    on: tuple[str, str]
    tags: tuple[str, ...]
    info: tuple[str, ...]
    honeypot: str | None


@dataclass(frozen=True, slots=True)
class Template:
    text: str
    fields: tuple[str, ...]

    def render(self, groups: dict[str, str | None]) -> str | None:
        if any(not groups.get(name) for name in self.fields):
            return None
        return self.text.format_map(groups).strip() or None


@dataclass(frozen=True, slots=True)
class RuleMatch:
    tags: tuple[str, ...]
    info: tuple[tuple[str, str], ...]  # (context = the rule's product, value)
    honeypot: str | None


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    source: str
    on: tuple[tuple[str, str], ...]  # (type, lowercased context or "*")
    pattern: re.Pattern[str]
    tags: tuple[str, ...]
    info: tuple[Template, ...]
    honeypot: str | None
    examples: tuple[Example, ...]
    negative: tuple[str, ...]

    def apply(self, value: str) -> RuleMatch | None:
        found = self.pattern.search(value, 0, MAX_MATCH_CHARS)
        if found is None:
            return None
        groups = found.groupdict()
        product = self.tags[0] if self.tags else (self.honeypot or "")
        info = tuple((product, text) for template in self.info if (text := template.render(groups)) is not None)
        return RuleMatch(self.tags, info, self.honeypot)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What all the rules selecting one item found in its value, as the items to add (computed once per value)."""

    products: tuple[Item, ...]  # product-tag items, then product-info items
    honeypots: tuple[Item, ...]


NOTHING = Outcome((), ())


def outcome_of(matches: Iterable[RuleMatch]) -> Outcome:
    tags: dict[str, None] = {}
    info: dict[tuple[str, str], None] = {}
    honeypots: dict[str, None] = {}
    for match in matches:
        tags.update(dict.fromkeys(match.tags))
        info.update(dict.fromkeys(match.info))
        if match.honeypot:
            honeypots[match.honeypot] = None
    if not (tags or info or honeypots):
        return NOTHING
    products = [Item("product-tag", tag, "", True) for tag in tags]
    products += [Item("product-info", value, context, True) for context, value in info]
    return Outcome(tuple(products), tuple(Item("honeypot", name, "", True) for name in honeypots))


@dataclass(slots=True)
class _Group:
    """The rules for one (type, context) of an item, and the outcomes already computed for its values."""

    rules: tuple[Rule, ...]
    cache: dict[str, Outcome] = field(default_factory=dict)

    def outcome(self, value: str) -> Outcome:
        cached = self.cache.get(value)
        if cached is None:
            cached = outcome_of(match for rule in self.rules if (match := rule.apply(value)) is not None)
            if len(self.cache) >= CACHE_LIMIT:
                self.cache.clear()
            self.cache[value] = cached
        return cached


class RuleSet:
    """Rules indexed by selector; ``scan`` runs each item only against the rules that select it."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = tuple(rules)
        self._exact: dict[tuple[str, str], list[Rule]] = {}
        self._any: dict[str, list[Rule]] = {}
        for rule in self.rules:
            for item_type, context in rule.on:
                if context == ANY_CONTEXT:
                    self._any.setdefault(item_type, []).append(rule)
                else:
                    self._exact.setdefault((item_type, context), []).append(rule)
        self.types = frozenset(self._any) | frozenset(item_type for item_type, _ in self._exact)
        self._groups: dict[tuple[str, str], _Group | None] = {}
        self._last: tuple[tuple[Item, ...] | None, list[Outcome]] = (None, [])

    def __len__(self) -> int:
        return len(self.rules)

    def _group(self, key: tuple[str, str]) -> _Group | None:
        item_type, context = key
        selected = self._exact.get((item_type, context.lower()), []) + self._any.get(item_type, [])
        chosen = {id(rule) for rule in selected}
        ordered = tuple(rule for rule in self.rules if id(rule) in chosen)  # file order, whatever the selector
        group = _Group(ordered) if ordered else None
        if len(self._groups) >= CACHE_LIMIT:
            self._groups.clear()
        self._groups[key] = group
        return group

    def scan(self, items: tuple[Item, ...]) -> list[Outcome]:
        """The outcomes of the observed (non-metadata) items that found something. The last scan is
        remembered, so the product and honeypot enrichers share one pass over a report."""
        last = self._last
        if last[0] is items:
            return last[1]
        found: list[Outcome] = []
        groups, types, missing = self._groups, self.types, _MISSING
        for item in items:
            if item.type not in types or item.is_metadata:
                continue
            key = (item.type, item.context)
            group = groups.get(key, missing)
            if group is missing:
                group = self._group(key)
            if group is not None:
                outcome = group.outcome(item.value)  # type: ignore[union-attr]
                if outcome is not NOTHING:
                    found.append(outcome)
        self._last = (items, found)
        return found

    def outcome(self, item_type: str, context: str, value: str) -> Outcome:
        """What the rules find in one value (for tests and tools)."""
        found = self.scan((Item(item_type, value, context),))
        return outcome_of_outcomes(found)


_MISSING: Any = object()


def outcome_of_outcomes(outcomes: Sequence[Outcome]) -> Outcome:
    if not outcomes:
        return NOTHING
    if len(outcomes) == 1:
        return outcomes[0]
    return Outcome(tuple(product_items(outcomes)), tuple(honeypot_items(outcomes)))


def product_items(outcomes: Sequence[Outcome]) -> list[Item]:
    """product-tag items then product-info items, each once, in order of first appearance."""
    if len(outcomes) == 1:
        return list(outcomes[0].products)
    unique = dict.fromkeys(item for outcome in outcomes for item in outcome.products)
    return sorted(unique, key=_info_last)


def _info_last(item: Item) -> bool:
    return item.type != "product-tag"


def honeypot_items(outcomes: Sequence[Outcome]) -> list[Item]:
    return list(dict.fromkeys(item for outcome in outcomes for item in outcome.honeypots))


# ---------------------------------------------------------------------------------------------------------------
# Loading and checking rule files
# ---------------------------------------------------------------------------------------------------------------


def rule_files() -> list[tuple[str, str]]:
    """(file name, text) of every bundled rule file, sorted by name."""
    folder = resources.files("shoal.enrich") / "rules"
    entries = [entry for entry in folder.iterdir() if entry.name.endswith(".toml")]
    return [(entry.name, entry.read_text(encoding="utf-8")) for entry in sorted(entries, key=lambda e: e.name)]


def load_rules(files: Iterable[tuple[str, str]] | None = None) -> list[Rule]:
    rules: list[Rule] = []
    seen: set[str] = set()
    for source, text in rule_files() if files is None else files:
        try:
            document = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise RuleError(source, None, f"not valid TOML: {exc}") from exc
        unknown = set(document) - {"rule"}
        if unknown:
            raise RuleError(source, None, f"unknown top-level keys {sorted(unknown)}")
        for raw in document.get("rule", []):
            rule = parse_rule(source, raw)
            if rule.id in seen:
                raise RuleError(source, rule.id, "duplicate rule id")
            seen.add(rule.id)
            rules.append(rule)
    return rules


def parse_rule(source: str, raw: dict[str, Any]) -> Rule:
    rule_id = raw.get("id")
    if not isinstance(rule_id, str) or not rule_id:
        raise RuleError(source, None, f"every rule needs a string 'id' (got {raw!r:.80})")

    def fail(message: str) -> RuleError:
        return RuleError(source, rule_id, message)

    unknown = set(raw) - RULE_KEYS
    if unknown:
        raise fail(f"unknown keys {sorted(unknown)}")
    selectors = tuple(_selector(text, fail) for text in _strings(raw, "on", fail, required=True))
    flags = 0 if raw.get("case_sensitive", False) else re.IGNORECASE
    try:
        pattern = re.compile(_string(raw, "pattern", fail), flags)
    except re.error as exc:
        raise fail(f"pattern does not compile: {exc}") from exc
    tags = _strings(raw, "tags", fail)
    if any(tag != tag.lower() or tag != tag.strip() or not tag for tag in tags):
        raise fail(f"tags must be lowercase product names: {tags}")
    honeypot = raw.get("honeypot")
    if honeypot is not None and (not isinstance(honeypot, str) or honeypot != honeypot.lower() or not honeypot):
        raise fail("'honeypot' must be a lowercase name")
    if bool(tags) == bool(honeypot):
        raise fail("a rule has either 'tags' (a product rule) or 'honeypot' (a honeypot rule)")
    info = tuple(_template(text, pattern, fail) for text in _strings(raw, "info", fail))
    if honeypot and info:
        raise fail("honeypot rules carry no 'info'")
    examples = tuple(_example(entry, selectors[0], tags, honeypot, fail) for entry in raw.get("examples", []))
    if not examples:
        raise fail("a rule needs at least one example")
    negative = _strings(raw, "negative", fail)
    return Rule(rule_id, source, selectors, pattern, tags, info, honeypot, examples, negative)


def _string(raw: dict[str, Any], key: str, fail: Any) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value:
        raise fail(f"'{key}' must be a non-empty string")
    return value


def _strings(raw: dict[str, Any], key: str, fail: Any, required: bool = False) -> tuple[str, ...]:
    value = raw.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(entry, str) for entry in value) or (required and not value):
        raise fail(f"'{key}' must be {'a non-empty' if required else 'a'} list of strings")
    return tuple(value)


def _selector(text: str, fail: Any) -> tuple[str, str]:
    item_type, _, context = text.partition(";")
    if not item_type or item_type != item_type.strip():
        raise fail(f"bad selector {text!r}: expected 'type' or 'type;context'")
    return item_type, context.lower() if context != ANY_CONTEXT else ANY_CONTEXT


def _template(text: str, pattern: re.Pattern[str], fail: Any) -> Template:
    try:
        fields = tuple(name for _, name, _, _ in _FIELD_NAMES.parse(text) if name is not None)
    except ValueError as exc:
        raise fail(f"bad info template {text!r}: {exc}") from exc
    missing = [name for name in fields if name not in pattern.groupindex]
    if missing:
        raise fail(f"info template {text!r} names groups the pattern lacks: {missing}")
    return Template(text, fields)


def _example(entry: Any, default_on: tuple[str, str], tags: Sequence[str], honeypot: str | None, fail: Any) -> Example:
    if isinstance(entry, str):
        entry = {"value": entry}
    if not isinstance(entry, dict) or set(entry) - EXAMPLE_KEYS:
        raise fail(f"an example is a string or a table with keys {sorted(EXAMPLE_KEYS)}: {entry!r:.80}")
    on = _selector(entry["on"], fail) if "on" in entry else default_on
    if on[1] == ANY_CONTEXT:
        on = (on[0], "")
    return Example(
        value=_string(entry, "value", fail),
        on=on,
        tags=_strings(entry, "tags", fail) if "tags" in entry else tuple(tags),
        info=_strings(entry, "info", fail),
        honeypot=entry.get("honeypot", honeypot),
    )

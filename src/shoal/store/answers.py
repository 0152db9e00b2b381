"""Forward DNS answers, for every engine: the addresses of each known name, through its CNAMEs."""

from __future__ import annotations

from collections.abc import Iterable

MAX_CNAMES = 8


def addresses_of(answers: Iterable[tuple[str, str, str]]) -> dict[str, list[str]]:
    """Every name with its A/AAAA addresses (through at most MAX_CNAMES CNAMEs), names sorted. ``answers`` are
    (name, type, value) rows sorted by name then value; other types are ignored."""
    direct: dict[str, list[str]] = {}
    aliases: dict[str, str] = {}
    for name, kind, value in answers:
        if kind == "CNAME":
            aliases.setdefault(name, value)
        elif kind in ("A", "AAAA"):
            direct.setdefault(name, []).append(value)
    found = dict(direct)
    for name, target in aliases.items():
        for _ in range(MAX_CNAMES):
            if target in direct or target not in aliases:
                break
            target = aliases[target]
        if name not in found and target in direct:
            found[name] = direct[target]
    return dict(sorted(found.items()))

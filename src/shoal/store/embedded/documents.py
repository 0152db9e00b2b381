"""A report's document (schema.py), built straight from its decoded JSON: the hot loop of every import.

``build`` takes the dict ``orjson.loads`` made of a report line and returns what a shard writes: the JSON
``add_json`` takes, the report's latest-index entry and open-port observation, and the ids it supersedes. No
``Report``, ``Item`` or intermediate document is made: one pass over the items checks each one and files its
terms. Anything not in the exact shape of a stored report (a missing context, a number as a value, an unknown
key, a bad address, a date out of range…) goes through ``Report.from_dict``, which converts it or raises the
InvalidReport that says what is wrong, and the normalised report is built the same way: a line is accepted or
rejected exactly as ``Report.from_dict`` would.

``build_line`` does the same for a report line of the usual shape without decoding it in Python: the native
builder (``native/src/lib.rs``, the module ``shoal_native`` that scripts/build-native.sh builds) reads the line and
gives what ``build`` gives, for 12–14 µs less CPU a report in an import; it takes a protocols report of a scanned
IPv4 address and port in the exact stored shape, whose types, contexts, hosts and URLs are ASCII, and leaves every
other line to ``build``, which stays the definition (tests/store/embedded/test_documents.py holds the two to the
same documents).
"""

from __future__ import annotations

import datetime as dt
import socket
from binascii import b2a_base64
from typing import Any, NamedTuple

import orjson

from shoal.model import (
    DATASET_TABLE,
    MAX_ID_LENGTH,
    PORT_TYPES,
    PROTOCOLS,
    SUPERSEDES,
    InvalidReport,
    Report,
    check_item_count,
    content_id,
    host_key,
    max_report_items,
    port_number,
)
from shoal.store.embedded.ports import observation_key
from shoal.store.embedded.schema import (
    CLOSED_TYPES,
    CONTEXT_SEP,
    CUT_CHARACTERS,
    FIRST_DAY,
    ITEM_GAP,
    LAST_DAY,
    SUPERSEDED,
    TYPE_SEP,
    Latest,
    address_bits,
    cut,
    sort_key,
    target_of,
    v4_target,
)
from shoal.store.plan import port_value, url_host

EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
FIRST_DATE, LAST_DATE = (dt.date.fromordinal(EPOCH_ORDINAL + day) for day in (FIRST_DAY, LAST_DAY))
OBSERVED = frozenset(row.name for row in DATASET_TABLE.values() if row.observations)  # open-port observations too
CACHED = 100_000  # entries of each memo below before it starts again (dates, host names)


class Built(NamedTuple):
    id: str
    document: str  # the JSON ``IndexWriter.add_json`` takes
    latest: Latest
    observation: int | bytes | None  # the open-port observation key (ports.py), for protocols and domains
    supersedes: tuple[str, ...]  # ids of the reports this one names as its predecessors


try:  # the builder of usual lines in Rust (native/, built by scripts/build-native.sh); without it, build() does all
    from shoal_native import Builder as NativeBuilder
except ImportError:  # a checkout set up without Rust
    NativeBuilder = None


class Unusual(Exception):
    """Not in the exact shape of a stored report: ``Report.from_dict`` decides."""


def build(
    data: Any, dataset: str, batch: int, kinds: set[str], superseded: bool = False, cap: int | None = None
) -> Built:
    """The document of a decoded report, stored in commit ``batch``; ``kinds`` gets each (type, context) it holds
    (``type`` for the empty context, ``type/context`` otherwise). InvalidReport if it is not a valid report, or
    if it is dated outside the days a sort key holds (schema.FIRST_DAY to LAST_DAY). ``cap``: the items a report
    may hold (``shoal.model.max_report_items``, read once by a caller that builds many)."""
    if cap is None:
        cap = max_report_items()
    try:
        return _build(data, dataset, batch, kinds, superseded, cap)
    except Unusual:
        report = Report.from_dict(data, dataset)
        return _build(report.as_dict(), dataset, batch, kinds, superseded, cap)


_days: dict[object, tuple[str, int]] = {}  # a date as given → (YYYY-MM-DD, days since 1970)
_reversed: dict[tuple[str, str], str] = {}  # (host or url item type, value) → its reversed host name ("" if none)
_pton, _ntop, _AF_INET, _AF_INET6 = socket.inet_pton, socket.inet_ntop, socket.AF_INET, socket.AF_INET6
_dumps, _SORTED = orjson.dumps, orjson.OPT_SORT_KEYS
TS, CS = TYPE_SEP, CONTEXT_SEP
# Item types with more to do than their terms.
SPECIAL = frozenset({"ip", "port-tcp", "port-udp", "host", "url", SUPERSEDES, "cert-sha256"})


NATIVE = None
if NativeBuilder is not None:  # the facts it reads, from where they are declared
    NATIVE = NativeBuilder(
        ITEM_GAP, sorted(CLOSED_TYPES), sorted(SPECIAL), MAX_ID_LENGTH, CUT_CHARACTERS, FIRST_DAY, LAST_DAY
    )
_kind_lists: dict[str, list[str]] = {}  # the kinds of a natively built report, as one string → as a list


def build_line(line: bytes, dataset: str, batch: int, kinds: set[str], cap: int) -> Built | None:
    """``build`` of a report line of the usual shape (native/src/lib.rs says which), by the native builder, without
    decoding the line in Python: what ``build`` gives for it, with the same kinds added. None for any other line, and
    without the native builder: ``build`` decides."""
    if NATIVE is None or dataset != PROTOCOLS:
        return None
    found = NATIVE.build(line, batch, cap)
    if found is None:
        return None
    report_id, document, target, sort, address, port, day, kinds_text = found
    named = _kind_lists.get(kinds_text)
    if named is None:
        if len(_kind_lists) >= CACHED:
            _kind_lists.clear()
        named = _kind_lists[kinds_text] = kinds_text.split("\0")
    kinds.update(named)
    observed = dataset in OBSERVED and day >= 0
    observation = observation_key(_pton(_AF_INET, address), port, day) if observed else None
    return Built(report_id, document, Latest(target, sort, report_id, address), observation, ())


def day_of(value: object) -> tuple[str, int]:
    known = _days.get(value)
    if known is not None:
        return known
    if type(value) is not str:
        raise Unusual
    try:
        date = dt.date.fromisoformat(value[:10])
    except ValueError:
        raise Unusual from None
    day = date.toordinal() - EPOCH_ORDINAL
    if not FIRST_DAY <= day <= LAST_DAY:
        raise InvalidReport(
            f"'date' is out of the range the embedded store orders ({FIRST_DATE} to {LAST_DATE}): {value!r}"
        )
    if len(_days) >= CACHED:
        _days.clear()
    _days[value] = found = (date.isoformat(), day)
    return found


def reversed_name(item_type: str, value: str) -> str:
    """The reversed host name a ``host`` item or a ``url`` item's host part is matched by ("" if none)."""
    key = (item_type, value)
    found = _reversed.get(key)
    if found is None:
        host = value if item_type == "host" else url_host(value)
        found = ".".join(reversed(host_key(host).split("."))) if host else ""
        if len(_reversed) >= CACHED:
            _reversed.clear()
        _reversed[key] = found
    return found


def _build(data: Any, dataset: str, batch: int, kinds: set[str], superseded: bool, cap: int) -> Built:
    if type(data) is not dict:
        raise Unusual
    report_id = data.get("id")
    if type(report_id) is not str or not report_id or len(report_id) > MAX_ID_LENGTH:
        if report_id is not None:
            raise Unusual
        report_id = content_id(data)
    date, day = day_of(data.get("date"))
    items = data.get("items")
    if type(items) is not list or not items:
        raise Unusual
    if len(items) > cap:
        check_item_count(len(items))  # the cap Report.from_dict applies, on the raw count (shoal.model)

    words: dict[str, list[str]] = {}
    exact: set[str] = set()
    named: set[str] = set()  # the kinds field: type/context of each named context
    hosts: set[str] = set()
    ipc: list[str] = []
    ipall: list[str] = []
    multi: list[str] = []
    first_context: dict[str, str] = {}  # type|value → the first context it was seen under
    empty_types: set[str] = set()
    open_named: set[str] = set()  # open types with an item under a named context
    firsts: dict[str, object] = {}  # identity and observation values: the first of each type, empty context
    names: list[str] = []
    scanned: str | None = None  # the scanned address, canonical
    exact_add, named_add, empty_add, open_add = exact.add, named.add, empty_types.add, open_named.add
    words_get, first_seen, multi_add = words.get, first_context.setdefault, multi.append
    for raw in items:
        if type(raw) is not dict or len(raw) != 4:
            raise Unusual
        try:
            item_type, value, context, metadata = raw["type"], raw["value"], raw["context"], raw["is_metadata"]
        except KeyError:
            raise Unusual from None
        if (
            type(item_type) is not str
            or type(value) is not str
            or type(context) is not str
            or not item_type
            or (metadata is not True and metadata is not False)
        ):
            raise Unusual
        if item_type not in SPECIAL:
            pass
        elif item_type == "ip":
            try:
                packed = _pton(_AF_INET6 if ":" in value else _AF_INET, value)
            except (OSError, ValueError):  # ValueError: a NUL in the text
                raise Unusual from None
            text = _ntop(_AF_INET if len(packed) == 4 else _AF_INET6, packed)
            if context == "" and scanned is None:
                scanned, firsts["ip"] = text, packed
            else:
                ipall.append(text)
                ipc.append(context + TS + address_bits(packed))
        elif item_type == "port-tcp" or item_type == "port-udp":  # port-udp as port-tcp: port-udp:053 finds 53
            if context == "":
                number = port_number(value)
                if number is None:
                    raise Unusual
                value = str(number)
                if item_type not in firsts:
                    firsts[item_type] = number
            else:
                value = port_value(value)
        elif item_type == "host" or item_type == "url":
            name = reversed_name(item_type, value)
            if name:
                if context:
                    hosts.add(item_type + CS + context + TS + name)
                if not context or item_type not in CLOSED_TYPES:
                    hosts.add(item_type + TS + name)
            if context == "" and item_type not in firsts:  # a domains or fdns report's host, a favicon's url
                firsts[item_type] = (host_key(value) if item_type == "host" else value) if value else None
        elif item_type == SUPERSEDES:
            if metadata:
                names.append(value)
        elif item_type == "cert-sha256" and context == "" and "cert-sha256" not in firsts:
            firsts["cert-sha256"] = value.strip().lower() if value else None
        typed = item_type + TS + value
        if context:
            kind = item_type + CS + context
            kinded = kind + TS + value
            if len(kinded) > CUT_CHARACTERS:
                typed, kinded = cut(typed), cut(kinded)
            exact_add(kinded)
            named_add(kind)
            held = words_get(kind)
            if held is None:
                words[kind] = [value]
            else:
                held.append(value)
            if item_type in CLOSED_TYPES:
                if first_seen(typed, context) != context:
                    multi_add(typed)
                continue
            open_add(item_type)
        else:
            if len(typed) > CUT_CHARACTERS:
                typed = cut(typed)
            empty_add(item_type)
        exact_add(typed)
        held = words_get(item_type)
        if held is None:
            words[item_type] = [value]
        else:
            held.append(value)
        if first_seen(typed, context) != context:
            multi_add(typed)
    kinds.update(named)
    kinds.update(empty_types)
    for item_type in open_named & empty_types:  # an open type under both: its empty context's own terms
        values = [
            index_value(item_type, raw["value"]) for raw in items if raw["type"] == item_type and not raw["context"]
        ]
        words[item_type + CS] = values
        exact.update(cut(item_type + CS + TS + value) for value in values)
        if item_type == "url" or item_type == "host":
            hosts.update(item_type + CS + TS + name for value in values if (name := reversed_name(item_type, value)))
    if superseded:
        exact_add(SUPERSEDED)

    sort = sort_key(day, report_id)
    document: dict[str, Any] = {
        "id": report_id,
        "words": {
            (key if "." not in key else key.replace(".", "\x1d")): values[0]
            if len(values) == 1
            else ITEM_GAP.join(values)
            for key, values in words.items()
        },
        "exact": list(exact),
        "sort": sort,
        "target": (
            v4_target(firsts["ip"], firsts["port-tcp"])  # type: ignore[arg-type]
            if dataset == PROTOCOLS and scanned is not None and "port-tcp" in firsts and len(firsts["ip"]) == 4  # type: ignore[arg-type]
            else target_of(dataset, report_id, firsts)
        ),
        "batch": batch,
        "doc": b2a_base64(
            _dumps({"date": date, "id": report_id, "items": items}, option=_SORTED), newline=False
        ).decode(),
    }
    if named:
        document["kinds"] = list(named)
    if hosts:
        document["hosts"] = list(hosts)
    if ipc:
        document["ipc"] = ipc
        document["ipall"] = ipall
    if multi:
        document["multi"] = list(set(multi))
    if scanned is not None:
        document["ip"] = document["ipfast"] = scanned
    port = firsts.get("port-tcp")
    observation = None
    if scanned is not None and port is not None and dataset in OBSERVED and day >= 0:
        observation = observation_key(firsts["ip"], port, day)  # type: ignore[arg-type]
    latest = Latest(document["target"], sort, report_id, scanned)
    return Built(report_id, _dumps(document).decode(), latest, observation, tuple(names))


def index_value(item_type: str, value: str) -> str:
    """A value as its terms hold it: ports without leading zeros."""
    return port_value(value) if item_type in PORT_TYPES else value

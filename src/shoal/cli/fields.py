"""``--fields``: which values of a report ``shoal search`` and ``shoal parse`` print, one column each.

A field is
- one of the report's own fields: ``date``, ``id``, ``target`` (ip:port, ip:port/udp), ``protocol`` (the context of its
  ``server-banner``), ``summary`` (its title, else banner, else certificate subject);
- an item type, e.g. ``title``: the values of that type in any context — except ``ip``, ``port-tcp`` and
  ``port-udp``, which are the scanned address and port (context ""), as the ``ip=`` parameter means without
  ``indirect``;
- ``type;context``, e.g. ``http-header;Server`` or ``host;cert-dns-name``: only that context.

Several values of one field are joined with ``;`` (as Shodan joins lists), each value once.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

from shoal.cli.common import UnknownName, did_you_mean
from shoal.errors import BadParameter
from shoal.model import Report
from shoal.request.hosts import port_label, port_of

DEFAULT_FIELDS = "date,target,protocol,summary,id"
TARGET_TYPES = ("ip", "port-tcp", "port-udp")  # a bare one of these means the scanned target (context "")
JOIN = ";"
HEADLINE_TYPES = ("title", "server-banner", "subject")
HEADLINE_LENGTH = 80


def target_of(report: Report) -> str:
    ip, (port, transport) = report.ip or "?", port_of(report)
    host = f"[{ip}]" if ":" in ip else ip
    return f"{host}:{port_label(port, transport)}" if port is not None else host


def protocol_of(report: Report) -> str:
    return next((item.context for item in report.items if item.type == "server-banner"), "")


def headline_of(report: Report) -> str:
    for wanted in HEADLINE_TYPES:
        for item in report.items:
            if item.type == wanted and item.value.strip():
                return item.value.strip()[:HEADLINE_LENGTH]
    return ""


REPORT_FIELDS: dict[str, Callable[[Report], str]] = {
    "date": lambda report: report.date.isoformat(),
    "id": lambda report: report.id,
    "target": target_of,
    "protocol": protocol_of,
    "summary": headline_of,
}


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    type: str
    context: str | None  # None: any context

    def __call__(self, report: Report) -> str:
        if self.name in REPORT_FIELDS:
            return REPORT_FIELDS[self.name](report)
        found = (i.value for i in report.items if i.type == self.type and self.context in (None, i.context))
        return JOIN.join(dict.fromkeys(value for value in found if value))


def parse_fields(text: str, known_types: Collection[str]) -> list[Field]:
    """The comma-separated field names of ``text``. A name that is not known but close to one that is, is
    an error with a "did you mean" hint; any other name is taken as a type the data may hold."""
    known = sorted({*REPORT_FIELDS, *known_types})
    fields = []
    for raw in text.split(","):
        name = raw.strip()
        if not name:
            raise BadParameter("fields", f"an empty field name in {text!r}: separate names with one comma")
        type_name, has_context, context = name.partition(";")
        if name in REPORT_FIELDS:
            fields.append(Field(name, "", None))
            continue
        hint = "" if type_name in known else did_you_mean(type_name, known)
        if hint:
            raise UnknownName("fields", f"unknown field {type_name!r}", hint)
        if has_context:
            fields.append(Field(name, type_name, context))
        else:
            fields.append(Field(name, type_name, "" if type_name in TARGET_TYPES else None))
    return fields

"""The forward DNS answers of one lookup → its ``fdns`` and ``mx`` reports (docs/api.md, "domain/fdns" and
"domain/mx"): the one place that says what such a report holds, for the zdns and massdns readers and for
``shoal dns --names``.

A lookup of a name gives answers (``DnsAnswer``: owner, type, value). Those of the name asked and of the names
its CNAMEs lead to (in the order given) make:

- an ``fdns`` report: ``host`` (the name asked; context "", metadata), ``ip;dns-a``, ``ip;dns-aaaa``,
  ``host;dns-cname`` and ``host;dns-ns``;
- an ``mx`` report: ``host`` (the name asked), per MX record ``host;dns-mx`` (the exchange) and ``dns-mx`` (the
  record, ``10 mx.example.com``: the preference stays beside its exchange), per TXT string ``dns-txt`` with
  context ``spf`` (``v=spf1…``), ``dmarc`` (``v=DMARC1…``, or any TXT of ``_dmarc.NAME``) or "". The TXT of
  ``_dmarc.NAME`` is ``NAME``'s, in the lookup of NAME as in a lookup of ``_dmarc.NAME`` itself.

A lookup with no answer of a kind makes no report of that kind (NXDOMAIN is not stored).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable

from shoal.model import FDNS, MX, DnsAnswer, Item, Report, check_item_count, host_key

DMARC_PREFIX = "_dmarc."
FDNS_ITEMS = {
    "A": ("ip", "dns-a"),
    "AAAA": ("ip", "dns-aaaa"),
    "CNAME": ("host", "dns-cname"),
    "NS": ("host", "dns-ns"),
}
QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')


def forward_reports(
    name: str, answers: Iterable[DnsAnswer], day: dt.date, report_id: Callable[[str], str] | None = None
) -> list[Report]:
    """The fdns and mx reports of the lookup of ``name`` (each id ``report_id(dataset)``; None: random)."""
    asked = host_key(name)
    reached = {asked}
    chosen: list[DnsAnswer] = []
    subject = asked.removeprefix(DMARC_PREFIX)
    dmarc_name = DMARC_PREFIX + subject
    for answer in answers:
        if answer.name in reached or (answer.type == "TXT" and answer.name == dmarc_name):
            chosen.append(answer)
            if answer.type == "CNAME":
                reached.add(answer.value)
    fdns: list[Item] = []
    mail: list[Item] = []
    for answer in chosen:
        if answer.type in FDNS_ITEMS:
            kind, context = FDNS_ITEMS[answer.type]
            fdns.append(Item(kind, answer.value, context))
        elif answer.type == "MX":
            exchange = answer.value.rpartition(" ")[2]
            mail += [Item("host", exchange, "dns-mx"), Item("dns-mx", answer.value)]
        elif answer.type == "TXT":
            text = txt_text(answer.value)
            mail.append(Item("dns-txt", text, txt_context(text, answer.name == dmarc_name)))
    reports = []
    for dataset, items in ((FDNS, fdns if asked == subject else []), (MX, mail)):
        unique = tuple(dict.fromkeys((Item("host", subject, "", True), *items)))
        if len(unique) > 1:
            check_item_count(len(unique))
            identifier = {"id": report_id(dataset)} if report_id is not None else {}
            reports.append(Report(date=day, items=unique, dataset=dataset, **identifier))
    return reports


def txt_text(value: str) -> str:
    """A TXT record's text: its character-strings joined, unquoted (``"v=spf1 " "-all"`` as resolvers print
    it), or the value as it is when it is not quoted (zdns gives the text itself)."""
    stripped = value.strip()
    if not (stripped.startswith('"') and stripped.endswith('"')):
        return value
    parts = QUOTED.findall(stripped)
    return "".join(re.sub(r"\\(.)", r"\1", part) for part in parts)


def txt_context(text: str, of_dmarc_name: bool) -> str:
    lowered = text.lstrip().lower()
    if of_dmarc_name or lowered.startswith("v=dmarc1"):
        return "dmarc"
    return "spf" if lowered.startswith("v=spf1") else ""

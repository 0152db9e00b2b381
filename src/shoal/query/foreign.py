"""On-ramps for switchers: Shodan's and Censys's filter names and what they are in Shoal, as data.

``FOREIGN_FILTERS`` is the one table. The checker reads it (a term whose type is one of these names, and not a
Shoal type, is a 400 that says what to write instead, at the name's position) and docs/query-language.md holds
``markdown_table()``'s rendering of it (a test keeps the two equal). A row's ``shoal`` is the Shoal type (with a
context, ``type;context``) that holds the same values, or "" when no Shoal type does; ``note`` says what differs.
"""

from __future__ import annotations

from dataclasses import dataclass

from shoal.query.ast import quote_value


@dataclass(frozen=True, slots=True)
class ForeignFilter:
    engine: str  # "Shodan" or "Censys"
    name: str  # the filter as that engine spells it
    shoal: tuple[str, ...]  # the Shoal types (``type`` or ``type;context``) to write instead, best first; () none
    note: str = ""  # what differs, or where the information is when no type holds it


def _row(engine: str, name: str, shoal: str, note: str = "") -> ForeignFilter:
    return ForeignFilter(engine, name, tuple(shoal.split()) if shoal else (), note)


SHODAN, CENSYS = "Shodan", "Censys"

FOREIGN_FILTERS: tuple[ForeignFilter, ...] = (
    _row(SHODAN, "org", "entity"),
    _row(SHODAN, "isp", "entity", "Shoal keeps one organisation per address: the AS holder"),
    _row(SHODAN, "net", "ip", "ip: takes a CIDR range, as net: does"),
    _row(SHODAN, "hostname", "host", "host: matches whole labels from the right, so subdomains match"),
    _row(SHODAN, "port", "port-tcp port-udp", "a UDP service's port is port-udp"),
    _row(SHODAN, "country", "geo-country", "the two-letter code, any case"),
    _row(SHODAN, "city", "", "Shoal records the country only (geo-country)"),
    _row(SHODAN, "region", "", "Shoal records the country only (geo-country)"),
    _row(SHODAN, "postal", "", "Shoal records the country only (geo-country)"),
    _row(SHODAN, "geo", "", "Shoal records the country only (geo-country)"),
    _row(SHODAN, "os", "", "no operating system is inferred; search-term:windows searches every value"),
    _row(SHODAN, "vuln", "", "Shoal does not map services to CVEs; product-tag and version find the software"),
    _row(SHODAN, "tag", "", "Shoal's tags name products (product-tag); honeypot marks honeypots"),
    _row(SHODAN, "has_ssl", "", "protocol=https, or any cert-sha256, finds TLS services"),
    _row(SHODAN, "before", "", "a parameter in Shoal: to=YYYY-MM-DD"),
    _row(SHODAN, "after", "", "a parameter in Shoal: from=YYYY-MM-DD"),
    _row(SHODAN, "hash", "", "Shoal does not hash banners; server-banner searches their words"),
    _row(SHODAN, "ssl", "subject issuer cert-dns-name", "one type per certificate field"),
    _row(SHODAN, "ssl.cert.subject.cn", "subject host;cert-dns-name", "the names a certificate is valid for"),
    _row(SHODAN, "ssl.cert.issuer.cn", "issuer"),
    _row(SHODAN, "ssl.cert.serial", "cert-serial", "lower-case hex without leading zeros"),
    _row(SHODAN, "ssl.cert.fingerprint", "cert-sha256", "Shoal keeps the SHA-256 fingerprint only"),
    _row(SHODAN, "ssl.cert.expired", "cert-expired"),
    _row(SHODAN, "ssl.cert.pubkey.bits", "cert-key-bits", "ranges work: cert-key-bits:<2048"),
    _row(SHODAN, "ssl.cert.pubkey.type", "cert-key-type"),
    _row(SHODAN, "ssl.cert.alg", "cert-signature-algorithm"),
    _row(SHODAN, "ssl.jarm", "jarm"),
    _row(SHODAN, "ssl.ja3s", "ja4s-hash", "Shoal records JA4S, not JA3S: the values differ"),
    _row(SHODAN, "ssl.version", "", "the TLS versions offered are not recorded"),
    _row(SHODAN, "http.title", "title"),
    _row(SHODAN, "http.html", "search-term", "page bodies are not indexed as a type; search-term searches every value"),
    _row(
        SHODAN, "http.status", "server-banner", 'the status line is the banner\'s first words: server-banner:"200 OK"'
    ),
    _row(SHODAN, "http.favicon.hash", "obj-murmur3;favicon", "the same signed 32-bit MurmurHash3"),
    _row(SHODAN, "http.component", "product-tag"),
    _row(SHODAN, "http.server_hash", "", "Shoal does not hash headers; http-header;Server searches the header"),
    _row(SHODAN, "ssh.hassh", "hassh-server"),
    _row(CENSYS, "services.port", "port-tcp port-udp", "a UDP service's port is port-udp"),
    _row(CENSYS, "services.service_name", "protocol", "protocol=NAME, lower-case, e.g. protocol=ssh"),
    _row(CENSYS, "services.transport_protocol", "", "port-udp holds UDP services' ports, port-tcp TCP ones"),
    _row(CENSYS, "services.banner", "server-banner"),
    _row(CENSYS, "services.software.product", "product-tag product"),
    _row(CENSYS, "services.software.vendor", "product-tag"),
    _row(CENSYS, "services.software.version", "version product-info"),
    _row(CENSYS, "services.http.response.html_title", "title"),
    _row(CENSYS, "services.http.response.headers.server", "http-header;Server"),
    _row(CENSYS, "services.http.response.status_code", "server-banner", "the status line is the banner's first words"),
    _row(CENSYS, "services.http.response.favicons.md5_hash", "obj-md5;favicon"),
    _row(CENSYS, "services.tls.certificates.leaf_data.subject.common_name", "subject host;cert-dns-name"),
    _row(CENSYS, "services.tls.certificates.leaf_data.names", "host;cert-dns-name"),
    _row(CENSYS, "services.tls.certificates.leaf_data.issuer.common_name", "issuer"),
    _row(CENSYS, "services.tls.certificates.leaf_data.fingerprint", "cert-sha256"),
    _row(CENSYS, "services.jarm.fingerprint", "jarm"),
    _row(CENSYS, "services.ssh.server_host_key.fingerprint_sha256", "ssh-hostkey-sha256", "Shoal's is base64"),
    _row(CENSYS, "autonomous_system.asn", "asn"),
    _row(CENSYS, "autonomous_system.name", "entity"),
    _row(CENSYS, "autonomous_system.description", "entity"),
    _row(CENSYS, "location.country_code", "geo-country", "the two-letter code, any case"),
    _row(CENSYS, "location.country", "geo-country", "Shoal holds the two-letter code: geo-country=DE"),
    _row(CENSYS, "location.city", "", "Shoal records the country only (geo-country)"),
    _row(CENSYS, "dns.names", "host"),
    _row(CENSYS, "dns.reverse_dns.names", "host;rdns", "the domain/rdns dataset holds PTR names too"),
    _row(CENSYS, "operating_system.product", "", "no operating system is inferred"),
    _row(CENSYS, "labels", "product-tag"),
    _row(CENSYS, "last_updated_at", "", "a parameter in Shoal: from=/to=YYYY-MM-DD"),
)

# Lower-cased name → its rows (one per engine that has it).
BY_NAME: dict[str, tuple[ForeignFilter, ...]] = {}
for _filter in FOREIGN_FILTERS:
    BY_NAME[_filter.name.lower()] = (*BY_NAME.get(_filter.name.lower(), ()), _filter)


def foreign_hint(name: str, value: str | None = None) -> tuple[str, str] | None:
    """(message, hint) for a term naming another engine's filter, or None if ``name`` is none of theirs. With the
    term's ``value``, the hint is the term to write: ``org:Google`` → ``entity:Google``."""
    rows = BY_NAME.get(name.lower())
    if not rows:
        return None
    engines = " and ".join(row.engine for row in rows)
    row = rows[0]
    if not row.shoal:
        return f"'{name}' is {engines}'s name; Shoal has no type for it", row.note
    names = " or ".join(f"'{shoal}'" for shoal in row.shoal)
    message = f"'{name}' is {engines}'s name; in Shoal it is {names}"
    example = f"write {_example(row.shoal[0], value)}" if value is not None else ""
    return message, "; ".join(part for part in (example, row.note) if part)


def _example(shoal: str, value: str) -> str:
    if shoal in ("protocol", "http-header-name"):
        return f"{shoal}={quote_value(value)}"
    return f"{shoal}:{quote_value(value)}"


def markdown_table() -> str:
    """The table as docs/query-language.md shows it."""
    lines = ["| engine | filter | in Shoal | note |", "|---|---|---|---|"]
    for row in FOREIGN_FILTERS:
        shoal = " or ".join(f"`{name}`" for name in row.shoal) if row.shoal else "—"
        note = row.note.replace("|", "\\|")
        lines.append(f"| {row.engine} | `{row.name}` | {shoal} | {note} |")
    return "\n".join(lines) + "\n"

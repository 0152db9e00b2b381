"""Every parameter a request can carry, declared once: ``Param(name, schema, parse, default, help, flag)``.

A parameter is one record: its name (as the API, and Driftnet, spell it), the JSON schema of a value, how one
value is read (``parse``: the text → the typed value, or ``BadParameter`` naming the parameter and what is
wrong), its default, what it means, and its command-line option. From these the API reads a request's values
(``Param.read``), declares them in the OpenAPI document (``declare``), the command line builds its options
(``shoal.cli.options``), the client writes them into a URL (``Param.format``), and ``tests/test_docs.py`` checks
each is documented. The sets at the end are named after what they select: a route takes ``declare(*SEARCH)``,
and a new route takes a set plus its own.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Generic, Protocol, TypeVar

from shoal.errors import BadParameter
from shoal.model import DATASET_TABLE, DATASETS, PROTOCOLS, IPNetwork, ipv4_of_mapped
from shoal.request.answers import has_hosts
from shoal.store.base import DEFAULT_SUMMARY_LIMIT, MAX_PAGES, MAX_SLOP, TRANSPORTS
from shoal.text import words_of

T = TypeVar("T")
Schema = dict[str, object]

MAX_PARAMETER_LENGTH = 4096
MAX_REPORT_ID_LENGTH = 128  # as Report.from_dict accepts
TRUE_WORDS = {"true", "1", "yes"}
FALSE_WORDS = {"false", "0", "no", ""}
SUMMARY_LIMIT_MAX = 10_000
SUMMARY_LIMIT_MAX_ENTERPRISE = 1_000_000
MULTI_SUMMARY_LIMIT_DEFAULT = 10  # multi/summary's summary_limit
DEFAULT_QUERY_TIMEOUT = 30.0  # seconds a query may run, unless ``shoal serve --query-timeout`` says
MIN_TIMEOUT = 0.001
MAX_PHRASE_WORDS = 16  # ip/reverse's phrase: each word is one more condition on every network


class Values(Protocol):
    """A request's query parameters, each name with its values (starlette's ``QueryParams`` is one)."""

    def getlist(self, key: Any) -> list[str]: ...


# -- reading one value -------------------------------------------------------------------------------------------


def text(name: str, value: str) -> str:
    return value


def boolean(name: str, value: str) -> bool:
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise BadParameter(name, f"'{name}' must be true or false, not {value!r}")


def whole(low: int, high: int, why: str = "") -> Callable[[str, str], int]:
    """A whole number from ``low`` to ``high`` (``why``: said after the range when it is out of it)."""

    def parse(name: str, value: str) -> int:
        number = whole_number(name, value)
        if not low <= number <= high:
            raise BadParameter(name, f"'{name}' must be between {low} and {high}{why}, not {number}")
        return number

    return parse


def whole_number(name: str, value: str) -> int:
    stripped = value.strip()
    if not stripped.isascii() or not stripped.lstrip("-").isdigit() or len(stripped) > 12:
        raise BadParameter(name, f"'{name}' must be a whole number, not {value!r}")
    return int(stripped)


def date(name: str, value: str) -> dt.date:
    try:
        if len(value) != 10:
            raise ValueError(value)
        return dt.date.fromisoformat(value)
    except ValueError:
        raise BadParameter(name, f"'{name}' must be a date YYYY-MM-DD, not {value!r}") from None


def network(name: str, value: str) -> IPNetwork:
    """An address or CIDR; an IPv4-mapped one (``::ffff:8.8.8.8``) is its IPv4 network; no zone id."""
    if "%" in value:
        raise BadParameter(
            name, f"'{name}' must not carry a zone id (%…): it names an interface of one machine, {value!r}"
        )
    try:
        parsed = ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        raise BadParameter(
            name, f"'{name}' must be an IP address or CIDR, e.g. 8.8.8.8 or 8.8.8.0/24, not {value!r}"
        ) from None
    return ipv4_of_mapped(parsed)


def address(name: str, value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """One address, not a network (``8.8.8.8/32`` is refused too: ip/summary describes an address)."""
    if "/" in value:
        raise BadParameter(name, f"'{name}' must be one IP address, not a CIDR: {value!r}")
    found = network(name, value)
    return found.network_address


def phrase(name: str, value: str) -> str:
    """Words (letters and digits; punctuation and case do not matter), at most MAX_PHRASE_WORDS of them."""
    count = len(words_of(value))
    if count > MAX_PHRASE_WORDS:
        raise BadParameter(name, f"'{name}' holds {count} words; at most {MAX_PHRASE_WORDS} are matched")
    return value


def report_id(name: str, value: str) -> str:
    if len(value) > MAX_REPORT_ID_LENGTH:
        raise BadParameter(name, f"'{name}' is at most {MAX_REPORT_ID_LENGTH} characters long")
    return value.strip()


def seconds_from(low: float) -> Callable[[str, str], float]:
    """A number of seconds, at least ``low``."""

    def parse(name: str, value: str) -> float:
        try:
            number = float(value.strip())
        except ValueError:
            raise BadParameter(name, f"'{name}' must be a number of seconds, not {value!r}") from None
        if not number >= low:
            raise BadParameter(name, f"'{name}' must be at least {low:g} seconds, not {value!r}")
        return number

    return parse


def per_second(name: str, value: str) -> float:
    """``500`` or ``500/s``: a positive rate, per second."""
    number = value.strip().lower().removesuffix("/s")
    try:
        rate = float(number)
    except ValueError:
        raise BadParameter(
            name, f"a rate is a number per second (connections, requests), e.g. 500 or 500/s, not {value!r}"
        ) from None
    if not 0 < rate < float("inf"):
        raise BadParameter(name, f"the rate must be positive, not {value!r}")
    return rate


def choice(*words: str) -> Callable[[str, str], str]:
    def parse(name: str, value: str) -> str:
        word = value.strip()
        if word not in words:
            raise BadParameter(name, f"'{name}' must be one of {', '.join(words)}, not {word!r}")
        return word

    return parse


def lowered_choice(*words: str) -> Callable[[str, str], str]:
    choose = choice(*words)
    return lambda name, value: choose(name, value.lower())


def formatted(value: object) -> str:
    """A typed value as the API reads it back: true, 2026-11-01, 8.8.8.8 (a single address as itself)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, ipaddress.IPv4Network | ipaddress.IPv6Network):
        whole_address = value.prefixlen == value.max_prefixlen
        return str(value.network_address) if whole_address else str(value)
    return str(value)


# -- the record ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Param(Generic[T]):
    """One parameter: the JSON schema of a value, how a value is read, its default, its meaning, its option."""

    name: str
    schema: Schema
    parse: Callable[[str, str], T] = text  # type: ignore[assignment]
    default: T | None = None
    help: str = ""
    flag: str | None = None  # the command line's option, e.g. "--from" (a boolean's "--on/--off"); None: none
    label: str = ""  # the web search form's label; "": not on the form
    attribute: str = ""  # the field it fills (Selection's ``date_from`` for ``from``); default its name
    repeatable: bool = False
    required: bool = False
    blank_is_default: bool = True  # False: an empty value is read (and refused) like any other, not skipped
    asked_default: T | None = None  # the default where a person asks (command line, web form), if not the API's

    def __post_init__(self) -> None:
        if not self.attribute:
            object.__setattr__(self, "attribute", self.name)

    def read(self, values: Values) -> Any:
        """The parameter's value in a request: its default when absent (or blank, if ``blank_is_default``), a
        tuple if repeatable. A single-valued parameter given twice is an error, not a silent pick; any value
        longer than MAX_PARAMETER_LENGTH is one too (a repeatable one's each)."""
        given = values.getlist(self.name)
        for value in given:
            if len(value) > MAX_PARAMETER_LENGTH:
                raise BadParameter(self.name, f"'{self.name}' is longer than {MAX_PARAMETER_LENGTH} characters")
        if self.repeatable:
            return tuple(self.parse(self.name, value) for value in given)
        if not given:
            return self.default
        if len(given) > 1:
            raise BadParameter(self.name, f"'{self.name}' may be given only once")
        if self.blank_is_default and not given[0].strip():
            return self.default
        return self.parse(self.name, given[0])

    def take(self, value: Any) -> Any:
        """A value given in Python (a keyword argument, a command-line option): text is read as the API reads
        it; a typed value is checked the same way."""
        if isinstance(value, str):
            return self.read(OneValue(self.name, value))
        if self.repeatable:
            return tuple(self.parse(self.name, formatted(one)) for one in value)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return self.parse(self.name, str(value))
        return value

    def format(self, value: Any) -> list[str]:
        """The value as query parameter values (none when it is the default)."""
        if self.repeatable:
            return [formatted(one) for one in value]
        if value is None or value == self.default:
            return []
        return [formatted(value)]

    def openapi(self) -> dict[str, object]:
        schema: Schema = dict(self.schema)
        if self.default is not None:
            schema["default"] = self.default
        if self.repeatable:
            schema = {"type": "array", "items": schema}
        entry: dict[str, object] = {
            "name": self.name,
            "in": "query",
            "required": self.required,
            "description": self.help,
            "schema": schema,
        }
        if self.repeatable:
            entry |= {"style": "form", "explode": True}
        return entry


def default_of(param: Param[T]) -> T:
    """A parameter's default, where it has one (the scan settings' defaults are their options')."""
    if param.default is None:
        raise ValueError(f"{param.name!r} has no default")
    return param.default


@dataclass(frozen=True, slots=True)
class OneValue:
    """One parameter's one value, read as a request's would be."""

    name: str
    value: str

    def getlist(self, key: Any) -> list[str]:
        return [self.value] if key == self.name else []


def declare(*params: Param[Any], authenticated: bool = True) -> dict[str, object]:
    """A route's ``openapi_extra``: its parameters (and the bearer token every ``/v1/`` route needs)."""
    names = [param.name for param in params]
    if len(set(names)) != len(names):
        raise ValueError(f"a parameter is declared twice: {names}")
    extra: dict[str, object] = {"parameters": [param.openapi() for param in params]}
    if authenticated:
        extra["security"] = [{"bearer": []}]
    return extra


# -- schemas -------------------------------------------------------------------------------------------------

TEXT: Schema = {"type": "string", "maxLength": MAX_PARAMETER_LENGTH}
BOOLEAN: Schema = {"type": "boolean"}
DATE: Schema = {"type": "string", "format": "date"}
NETWORK: Schema = {"type": "string", "maxLength": 64, "examples": ["8.8.8.8", "8.8.8.0/24", "2001:db8::/32"]}
ADDRESS: Schema = {"type": "string", "maxLength": 64, "examples": ["192.0.2.1", "2001:db8::1"]}
SECONDS: Schema = {"type": "number", "minimum": MIN_TIMEOUT}


def at_least(low: float) -> Schema:
    return {"type": "number", "minimum": low}


def integer(low: int, high: int) -> Schema:
    return {"type": "integer", "minimum": low, "maximum": high}


def one_of(*words: str) -> Schema:
    return {"type": "string", "enum": list(words)}


# -- the selection of reports (every report-searching route) -------------------------------------------------
IP = Param(
    "ip", NETWORK, network, None, "An address or CIDR: reports whose scanned address is in it.", "--ip", "IP or CIDR"
)
INDIRECT = Param(
    "indirect",
    BOOLEAN,
    boolean,
    False,
    "true: `ip` also matches ip items in any context (certificates).",
    "--indirect",
    "Indirect IPs",
)
QUERY_LANGUAGE_HELP = (
    " Ranges (Shoal): port-tcp:[1 TO 1024], port-tcp:>8000, cert-not-after<2027-01-01; a Shodan or Censys filter"
    " name (org:, port:, hostname:…) is a 400 naming the Shoal type. See docs/query-language.md."
)
EXPRESSION = Param(
    "expression",
    TEXT,
    text,
    None,
    "An expression in the query language, e.g. port-tcp:443 and product-tag:nginx." + QUERY_LANGUAGE_HELP,
    "--expression",
)
FIELD = Param("field", TEXT, text, None, "Legacy: an expression, ANDed with `expression`.")
QUERY = Param(
    "query",
    TEXT,
    text,
    None,
    "Free text: bare words search every type (as `search-term:`), `type:value` terms as in `expression`;"
    " ANDed with `expression`." + QUERY_LANGUAGE_HELP,
)
KEYWORD = Param("keyword", TEXT, text, None, "Legacy: words searched in every type, ANDed with `expression`.")
FILTER = Param(
    "filter",
    TEXT,
    text,
    help="An expression; several are ORed, then ANDed with the rest.",
    attribute="filters",
    repeatable=True,
)
SLOP = Param(
    "slop", integer(0, MAX_SLOP), whole(0, MAX_SLOP), 0, "Extra word positions a phrase may use.", "--slop", "Slop"
)
FROM = Param(
    "from",
    DATE,
    date,
    None,
    "First day (inclusive), YYYY-MM-DD.",
    "--from",
    "From",
    attribute="date_from",
    blank_is_default=False,
)
TO = Param(
    "to",
    DATE,
    date,
    None,
    "Last day (inclusive), YYYY-MM-DD.",
    "--to",
    "To",
    attribute="date_to",
    blank_is_default=False,
)
MOST_RECENT = Param(
    "most_recent",
    BOOLEAN,
    boolean,
    False,
    "true: only the newest matching report per {ip, port}.",
    "--most-recent/--history",
    "Newest report of each service only (unticked: every dated report)",
    asked_default=True,
)
HOST_IN_URL = Param(
    "host_in_url",
    BOOLEAN,
    boolean,
    False,
    "true: host terms also match the host of url items.",
    "--host-in-url",
    "Hosts in URLs",
)
ID = Param(
    "id",
    {"type": "string", "maxLength": MAX_REPORT_ID_LENGTH},
    report_id,
    None,
    "One report by its id (history too).",
    attribute="report_id",
)
HISTORY = Param("history", BOOLEAN, boolean, False, "true: reports a successor supersedes match too.")
SELECTION = (
    IP,
    INDIRECT,
    EXPRESSION,
    FIELD,
    QUERY,
    KEYWORD,
    FILTER,
    SLOP,
    FROM,
    TO,
    MOST_RECENT,
    HOST_IN_URL,
    ID,
    HISTORY,
)

# -- each dataset's own selectors (domain/rdns's host and nameserver), from the table of datasets ---------------
# A name several datasets take is one parameter; its help says what it selects on each endpoint, and its schema
# has the pattern its values must match when each dataset's selector of that name has the same one.
_SELECTOR_HELP: dict[str, list[str]] = {}
_SELECTOR_PATTERNS: dict[str, set[str]] = {}
for _row in DATASET_TABLE.values():
    for _selector in _row.selectors:
        _SELECTOR_HELP.setdefault(_selector.name, []).append(f"{_row.path.removeprefix('/v1/')}: {_selector.help}")
        _SELECTOR_PATTERNS.setdefault(_selector.name, set()).add(_selector.pattern)


def _selector_schema(name: str) -> Schema:
    patterns = _SELECTOR_PATTERNS[name]
    if len(patterns) != 1 or not (pattern := next(iter(patterns))):
        return TEXT
    return {**TEXT, "pattern": f"^{pattern}$"}


SELECTORS: dict[str, Param[str]] = {
    name: Param(name, _selector_schema(name), text, None, " ".join(helps), f"--{name}")
    for name, helps in _SELECTOR_HELP.items()
}

# -- a page, a summary, a time limit -------------------------------------------------------------------------
PAGE = Param(
    "page",
    integer(0, MAX_PAGES - 1),
    whole(0, MAX_PAGES - 1, " (at most 100 pages of 100 results)"),
    0,
    "Page number from 0, 100 results a page.",
    "--page",
)
HOST_PATHS = ", ".join(row.path.removeprefix("/v1/") for row in DATASET_TABLE.values() if has_hosts(row.name))
HOST_COUNT = Param(
    "host_count",
    BOOLEAN,
    boolean,
    False,
    "Shoal: true adds `host_count` to a page of reports: the distinct hosts (scanned addresses) the matches are on,"
    f" exact, for every token (costs one unit more, as a summary). Datasets of addresses only ({HOST_PATHS});"
    " not with `summarize` or `summary_interval`.",
)
SUMMARIZE = Param("summarize", TEXT, text, None, "A type: summarise its values instead of returning reports.")
SUMMARY_CONTEXT = Param(
    "summary_context", TEXT, help="Only values with one of these contexts.", attribute="contexts", repeatable=True
)
SUMMARY_NOCONTEXT = Param(
    "summary_nocontext",
    TEXT,
    help="Never values with these contexts.",
    attribute="excluded_contexts",
    repeatable=True,
)
SUMMARY_LIMIT = Param(
    "summary_limit",
    integer(1, SUMMARY_LIMIT_MAX_ENTERPRISE),
    whole_number,  # its ceiling depends on the token: shoal.request.reading.summary_limit_of
    DEFAULT_SUMMARY_LIMIT,
    "Most values returned: up to 10,000 (1,000,000 for enterprise tokens).",
    "--summary-limit",
    attribute="limit",
)
SUMMARY_CARDINALITY = Param(
    "summary_cardinality", BOOLEAN, boolean, False, "true: add the number of distinct values.", attribute="cardinality"
)
SUMMARY_INTERVAL = Param(
    "summary_interval",
    one_of("day", "week", "month"),
    lowered_choice("day", "week", "month"),
    None,
    "Count the matching reports per day, week or month of from..to; with summarize, its values in each period.",
    "--over",
    attribute="interval",
)
SUMMARY = (SUMMARIZE, SUMMARY_CONTEXT, SUMMARY_NOCONTEXT, SUMMARY_LIMIT, SUMMARY_CARDINALITY, SUMMARY_INTERVAL)
TIMEOUT = Param(
    "timeout",
    SECONDS,
    text,  # a number of seconds, lowered to the server's limit: shoal.api.limits.timeout_of
    None,
    f"Seconds the query may run (more than the server's limit is lowered to it; default that limit,"
    f" {DEFAULT_QUERY_TIMEOUT:g}).",
)


def search_params(dataset: str) -> tuple[Param[Any], ...]:
    """What a dataset's search endpoint takes: the selection, a page (and its hosts) or a summary, its own
    selectors."""
    own = tuple(SELECTORS[selector.name] for selector in DATASET_TABLE[dataset].selectors)
    return (*SELECTION, PAGE, HOST_COUNT, *SUMMARY, TIMEOUT, *own)


# -- multi/summary, scan/protocols/body, export --------------------------------------------------------------
MULTI_SUMMARY_LIMIT = replace(
    SUMMARY_LIMIT, default=MULTI_SUMMARY_LIMIT_DEFAULT, help="Most values per type and dataset."
)
MULTI_SUMMARY = (*SELECTION, MULTI_SUMMARY_LIMIT, TIMEOUT)
DATASET = Param("dataset", one_of(*DATASETS), choice(*DATASETS), PROTOCOLS, "The dataset exported.", "--dataset")
BODY_DATASETS = tuple(row.name for row in DATASET_TABLE.values() if row.bodies)
BODY_DATASET = replace(
    DATASET,
    schema=one_of(*BODY_DATASETS),
    parse=choice(*BODY_DATASETS),
    help="The dataset whose bodies are searched.",
)
BODY = (*SELECTION, BODY_DATASET, PAGE, TIMEOUT)
FORMAT = Param(
    "format",
    one_of("ndjson", "csv"),
    lowered_choice("ndjson", "csv"),
    "ndjson",
    "ndjson (lossless, one report a line) or csv.",
)
TICKET = Param("ticket", TEXT, text, None, "Instead of Authorization: a one-use ticket from export/link.")
EXPORT = (*SELECTION, DATASET, *SELECTORS.values(), FORMAT, TIMEOUT)

# -- open ports and prioritize -------------------------------------------------------------------------------
PORTS_IP = Param("ip", NETWORK, network, None, "An address or CIDR (at most a /8 or a /32).", required=True)
# Driftnet's open-port endpoints: "if omitted, from and to will use defaults", so an empty value is one omitted
PORTS_FROM = replace(FROM, blank_is_default=True)
PORTS_TO = replace(TO, blank_is_default=True)
# Shoal's extension: which transport's ports (Driftnet's calls are about TCP ports, the default)
PORTS_TRANSPORT = Param(
    "transport",
    one_of(*TRANSPORTS),
    lowered_choice(*TRANSPORTS),
    "tcp",
    "Shoal: tcp (Driftnet's open TCP ports) or udp (the UDP ports seen answering, counted the same way).",
    "--transport",
)
PORTS = (PORTS_IP, PORTS_FROM, PORTS_TO, PORTS_TRANSPORT, TIMEOUT)
TARGET_IP = Param("ip", ADDRESS, text, None, "The one address to collect (inside the allow-list).", required=True)
TARGET_PORT = Param(
    "port", integer(1, 65535), whole(1, 65535), None, "The port to collect (TCP unless transport=udp).", required=True
)
TARGET_TRANSPORT = replace(
    PORTS_TRANSPORT, help="Shoal: tcp (Driftnet's protocol collection) or udp (the UDP probes of 'shoal scan')."
)
PRIORITIZE = (TARGET_IP, TARGET_PORT, TARGET_TRANSPORT)

# -- diffs: what opened, closed and changed on an address or network (Shoal) -----------------------------------
DIFF_IP = Param("ip", NETWORK, network, None, "An address or CIDR: the services on it.", required=True)
SINCE = Param(
    "since",
    DATE,
    date,
    None,
    "First day of the span, inclusive: what changed since then, against what was seen before.",
    "--since",
    required=True,
    blank_is_default=False,
)
UNTIL = Param(
    "until",
    DATE,
    date,
    None,
    "Last day of the span, inclusive (default: up to the newest report).",
    blank_is_default=False,
)
DIFF = (DIFF_IP, SINCE, UNTIL, TIMEOUT)
# -- ip/summary and ip/reverse: who holds an address ---------------------------------------------------------
RESTRICTS = ("whois", "bgp", "rwhois", "rdns")
SUMMARY_IP = Param(
    "ip", ADDRESS, address, None, "One IP address (not a CIDR): what is known about who holds it.", required=True
)
RESTRICT = Param(
    "restrict",
    one_of(*RESTRICTS),
    choice(*RESTRICTS),
    None,
    "Answer from one source only: whois (registrations), bgp (announced prefixes), rwhois, rdns (PTR names).",
)
PHRASE = Param(
    "phrase",
    TEXT,
    phrase,
    None,
    f"Words a network's registered names hold, all of them (case and punctuation do not matter; at most"
    f" {MAX_PHRASE_WORDS}).",
    required=True,
)
IP_SUMMARY = (SUMMARY_IP, RESTRICT, TIMEOUT)
IP_REVERSE = (PHRASE, PAGE, TIMEOUT)
# -- alerts (a Shoal extension, /v1/alerts: docs/alerts.md) ----------------------------------------------------
ALERT_TRIGGERS = ("new", "changed", "gone")


def triggers(name: str, value: str) -> tuple[str, ...]:
    """Comma-separated triggers: new, changed, gone (each once)."""
    words = tuple(dict.fromkeys(word.strip() for word in value.split(",") if word.strip()))
    if not words or any(word not in ALERT_TRIGGERS for word in words):
        raise BadParameter(name, f"'{name}' takes {', '.join(ALERT_TRIGGERS)}, comma-separated, not {value!r}")
    return words


ALERT_NAME = Param("name", {"type": "string", "maxLength": 200}, text, None, "The alert's name.", required=True)
ALERT_QUERY = Param("query", TEXT, text, "", "The search watched, read as query= is (free text; empty: every report).")
ALERT_DATASET = replace(DATASET, help="The dataset watched.")
ALERT_IP = replace(IP, help="An address or CIDR: only services at addresses in it are watched.")
ALERT_TRIGGER = Param(
    "trigger",
    TEXT,
    triggers,
    ALERT_TRIGGERS,
    "What makes an event: new, changed, gone (comma-separated; default all three).",
    "--trigger",
)
WEBHOOK = Param(
    "webhook",
    {"type": "string", "maxLength": 2048, "examples": ["https://hooks.example.com/shoal"]},
    text,
    None,
    "The http(s) URL each event is posted to (public addresses, or where 'shoal serve --webhook-allow' allows).",
    "--webhook",
    required=True,
)
SECRET = Param(
    "secret",
    {"type": "string", "maxLength": 200},
    text,
    "",
    "Signs each POST: X-Shoal-Signature: sha256=HMAC-SHA256(secret, body).",
    "--secret",
)
ALERT = (ALERT_NAME, ALERT_QUERY, ALERT_DATASET, ALERT_IP, ALERT_TRIGGER, WEBHOOK, SECRET)

# -- shoal scan: what to scan and how (the command line's; ScanSettings and Timeouts take their defaults) -------
SCAN_PORTS = Param(
    "ports",
    TEXT,
    text,
    None,
    "A list such as 22,80,8000-8100, top100 or all (default: top100; 80,443 for names); nmap's U: prefix marks UDP"
    " ports (22,80,U:53,161).",
    "--ports",
)
SCAN_UDP_PORTS = Param(
    "udp_ports",
    TEXT,
    text,
    None,
    "UDP ports to probe, e.g. 53,161 or known (every port a UDP probe is known for) or all; UDP is off unless"
    " asked, and then TCP is scanned only if --ports is given too.",
    "--udp-ports",
)
RATE = Param(
    "rate",
    {"type": "string", "maxLength": 32, "examples": ["500/s"]},
    per_second,
    1000.0,
    "New connections per second, e.g. 500/s (default 1000/s; capped by max_rate).",
    "--rate",
)
CONCURRENCY = Param(
    "concurrency",
    integer(1, 1_000_000),
    whole(1, 1_000_000),
    512,
    "Targets (ip:ports) in flight at once.",
    "--concurrency",
)
PER_HOST = Param(
    "per_host", integer(1, 65_535), whole(1, 65_535), 16, "Connections open at once to one address.", "--per-host"
)
CONNECT_TIMEOUT = Param(
    "connect_timeout", at_least(0.05), seconds_from(0.05), 3.0, "Seconds for a TCP handshake.", "--connect-timeout"
)
WAIT = Param("wait", at_least(0.05), seconds_from(0.05), 3.0, "Seconds to wait for a banner or an answer.", "--wait")
SERVICE_TIMEOUT = Param(
    "service_timeout", at_least(0.1), seconds_from(0.1), 20.0, "Seconds to identify one ip:port.", "--service-timeout"
)
UDP_RETRIES = Param(
    "udp_retries",
    integer(0, 5),
    whole(0, 5),
    1,
    "Times a UDP probe is sent again after a --wait with no answer.",
    "--udp-retries",
)
IDENTIFY = Param(
    "identify", BOOLEAN, boolean, True, "Identify services; --no-identify only finds open ports.", "--identify"
)
JARM = Param("jarm", BOOLEAN, boolean, True, "Add a JARM fingerprint to TLS services (10 more connections).", "--jarm")
FOLLOW_UPS = Param(
    "follow_ups",
    BOOLEAN,
    boolean,
    True,
    "SSH's other host key types, HTTP redirects and favicons (more requests).",
    "--follow-ups",
)
ENRICH = Param(
    "enrich", BOOLEAN, boolean, True, "Enrich reports (country, network, product tags) before storing.", "--enrich"
)
REVERSE_DNS = Param(
    "dns",
    BOOLEAN,
    boolean,
    True,
    "PTR/NS lookups of every scanned address; lookups of the names found (PTR, certificates).",
    "--dns",
)
SCAN = (
    SCAN_PORTS,
    SCAN_UDP_PORTS,
    RATE,
    CONCURRENCY,
    PER_HOST,
    CONNECT_TIMEOUT,
    WAIT,
    SERVICE_TIMEOUT,
    UDP_RETRIES,
    IDENTIFY,
    JARM,
    FOLLOW_UPS,
    ENRICH,
    REVERSE_DNS,
)

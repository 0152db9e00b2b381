"""LDAP: an anonymous search of the root DSE (no bind: nobody logs in), whose attributes say what the server
is (vendor, version, LDAP versions, SASL mechanisms, naming contexts, host name); then StartTLS where the
server lists it, and the certificate behind it."""

from __future__ import annotations

from shoal.collect.connection import Connection
from shoal.collect.probes import ber, starttls
from shoal.collect.probes.base import Service
from shoal.model import Item
from shoal.text import printable

SEARCH_REQUEST, SEARCH_ENTRY, SEARCH_DONE = 0x63, 0x64, 0x65
EXTENDED_REQUEST, EXTENDED_RESPONSE = 0x77, 0x78
PRESENT_FILTER, REQUEST_NAME = 0x87, 0x80
STARTTLS_OID = "1.3.6.1.4.1.1466.20037"
ATTRIBUTES = {  # root DSE attribute → item type (context "ldap")
    "namingContexts": "naming-context",
    "defaultNamingContext": "naming-context",
    "supportedLDAPVersion": "protocol-version",
    "supportedSASLMechanisms": "auth-method",
    "vendorName": "product",
    "vendorVersion": "version",
    "dnsHostName": "server-name",
    "supportedExtension": "capability",
}
TYPE_OF = {name.lower(): item_type for name, item_type in ATTRIBUTES.items()}
MAX_VALUES = 64
RESULT_NAMES = {
    0: "success",
    1: "operationsError",
    2: "protocolError",
    8: "strongerAuthRequired",
    53: "unwillingToPerform",
}


def message(message_id: int, operation: bytes) -> bytes:
    return ber.tlv(ber.SEQUENCE, ber.integer(message_id) + operation)


def root_dse_request() -> bytes:
    search = ber.octets("") + ber.integer(0, ber.ENUMERATED) + ber.integer(0, ber.ENUMERATED)
    search += (
        ber.integer(0) + ber.integer(0) + ber.tlv(ber.BOOLEAN, b"\x00") + ber.octets("objectClass", PRESENT_FILTER)
    )
    search += ber.tlv(ber.SEQUENCE, b"".join(ber.octets(name) for name in ATTRIBUTES))
    return message(1, ber.tlv(SEARCH_REQUEST, search))


STARTTLS_REQUEST = message(2, ber.tlv(EXTENDED_REQUEST, ber.octets(STARTTLS_OID, REQUEST_NAME)))


def operations(data: bytes) -> list[tuple[int, bytes]]:
    """(protocol op tag, its value) of each whole LDAPMessage in ``data``."""
    found = []
    position = 0
    while position < len(data):
        try:
            tag, start, end = ber.header(data, position)
        except ValueError:
            break
        if tag != ber.SEQUENCE:
            break
        parts = list(ber.elements(data, start, end))
        if len(parts) >= 2:
            found.append(parts[1])
        position = end
    return found


def search_done(data: bytes) -> bool:
    try:
        return any(tag == SEARCH_DONE for tag, _ in operations(data))
    except ValueError:
        return False


def result_code(value: bytes) -> int | None:
    parts = list(ber.elements(value))
    return int.from_bytes(parts[0][1], "big") if parts and parts[0][0] == ber.ENUMERATED else None


def entry_attributes(entry: bytes) -> dict[str, list[bytes]]:
    _, attributes = list(ber.elements(entry))[1]
    found: dict[str, list[bytes]] = {}
    for _, attribute in ber.elements(attributes):
        (_, name), (_, values) = list(ber.elements(attribute))[:2]
        found[name.decode("utf-8", "replace")] = [value for _, value in ber.elements(values)][:MAX_VALUES]
    return found


def root_dse_service(answer: bytes) -> Service | None:
    """The service a root DSE search's answer shows; None if it is not an LDAP answer."""
    try:
        answered = operations(answer)
        attributes: dict[str, list[bytes]] = {}
        for tag, value in answered:
            if tag == SEARCH_ENTRY:
                attributes.update(entry_attributes(value))
        done = next((result_code(value) for tag, value in answered if tag == SEARCH_DONE), None)
    except (ValueError, IndexError):
        return None
    if done is None and not attributes:
        return None
    items = []
    for name, values in attributes.items():
        item_type = TYPE_OF.get(name.lower())
        if item_type is not None:
            items += [Item(item_type, printable(value, 512), "ldap") for value in values]
    contexts = ", ".join(value.decode("utf-8", "replace") for value in attributes.get("namingContexts", []))
    result = RESULT_NAMES.get(done, str(done)) if done is not None else "no result"
    banner = f"LDAP root DSE: {result}" + (f"; naming contexts: {contexts}" if contexts else "")
    return Service("ldap", printable(banner.encode(), 1024), items)


async def run(connection: Connection) -> Service | None:
    await connection.send(root_dse_request())
    service = root_dse_service(await connection.receive(search_done))
    if service is None:
        return None
    if Item("capability", STARTTLS_OID, "ldap") in service.items:
        await connection.send(STARTTLS_REQUEST)
        answered = operations(await connection.receive(lambda data: bool(operations(data))))
        if any(tag == EXTENDED_RESPONSE and result_code(value) == 0 for tag, value in answered):
            service.items += await starttls.upgrade(connection, "ldap")
    return service

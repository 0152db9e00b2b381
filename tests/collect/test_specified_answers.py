"""Parsers of protocols with no server installable here (MongoDB, SQL Server, Cassandra, Kafka, Docker,
Kubernetes, Elasticsearch), on answers built here from each protocol's specification — never bytes captured
from another tool. Pure logic: no network."""

from __future__ import annotations

import struct

import orjson

from shoal.collect.probes import cassandra, docker, elasticsearch, kafka, kubernetes, mongodb, mssql
from shoal.collect.probes.base import Service
from shoal.model import Body, Item


def bson(fields: dict[str, object]) -> bytes:
    """A BSON document (the types a handshake answer uses), per bsonspec.org."""
    body = b""
    for name, value in fields.items():
        key = name.encode() + b"\0"
        if isinstance(value, bool):
            body += b"\x08" + key + bytes((value,))
        elif isinstance(value, int):
            body += b"\x10" + key + struct.pack("<i", value)
        elif isinstance(value, float):
            body += b"\x01" + key + struct.pack("<d", value)
        elif isinstance(value, str):
            data = value.encode() + b"\0"
            body += b"\x02" + key + struct.pack("<i", len(data)) + data
        elif isinstance(value, list):
            body += b"\x04" + key + bson({str(index): item for index, item in enumerate(value)})
        elif isinstance(value, dict):
            body += b"\x03" + key + bson(value)
    return struct.pack("<i", len(body) + 5) + body + b"\0"


def op_reply(response_to: int, document: bytes) -> bytes:
    """An OP_REPLY (opcode 1): header, flags, cursor id, starting from, number returned, the document."""
    body = struct.pack("<iqii", 8, 0, 0, 1) + document
    return struct.pack("<iiii", 16 + len(body), 99, response_to, 1) + body


def test_mongodb_hello_and_build_info() -> None:
    hello = bson({"ismaster": True, "maxWireVersion": 17, "minWireVersion": 0, "setName": "rs0", "ok": 1.0})
    build = bson({"version": "6.0.13", "versionArray": [6, 0, 13, 0], "ok": 1.0})
    data = op_reply(1, hello) + op_reply(2, build)
    assert mongodb.replies_complete(data)
    answers = {}
    for reply in mongodb.split_replies(data):
        found = mongodb.reply_document(reply)
        assert found is not None
        answers[found[0]] = found[1]
    service = mongodb.handshake_service(answers)
    assert service is not None and service.banner == "MongoDB 6.0.13"
    assert Item("version", "6.0.13", "mongodb") in service.items
    assert Item("protocol-version", "wire 0-17", "mongodb") in service.items
    assert Item("server-name", "rs0", "mongodb") in service.items


def test_mongodb_request_is_two_op_query_commands_on_admin() -> None:
    length, request_id, _, opcode = struct.unpack_from("<iiii", mongodb.REQUEST)
    assert (request_id, opcode) == (1, 2004)
    assert mongodb.REQUEST[20:31] == b"admin.$cmd\0"
    document, _ = mongodb.read_document(mongodb.REQUEST, 39)
    assert document == {"isMaster": 1}
    assert struct.unpack_from("<i", mongodb.REQUEST, length + 12)[0] == 2004


def test_mongodb_rejects_what_is_not_a_reply() -> None:
    assert mongodb.reply_document(b"HTTP/1.1 400 Bad Request\r\n\r\n" + bytes(20)) is None
    assert mongodb.handshake_service({}) is None


def prelogin_response(version: bytes, encryption: int) -> bytes:
    """A TDS PRELOGIN response (packet type 4) per MS-TDS 2.2.6.5: option table, terminator, data."""
    options = [(0, version), (1, bytes((encryption,))), (2, b"\0"), (3, b""), (4, b"\0")]
    offset = 5 * len(options) + 1
    table, data = b"", b""
    for token, value in options:
        table += bytes((token,)) + (offset + len(data)).to_bytes(2, "big") + len(value).to_bytes(2, "big")
        data += value
    payload = table + b"\xff" + data
    return bytes((4, 1)) + (8 + len(payload)).to_bytes(2, "big") + bytes((0, 0, 1, 0)) + payload


def test_mssql_prelogin_version_and_encryption() -> None:
    packet = prelogin_response(bytes((15, 0)) + (2000).to_bytes(2, "big") + bytes(2), 3)
    assert mssql.packet_complete(packet) and mssql.recognizes(packet, False)
    service = mssql.prelogin_service(packet)
    assert service.banner == "TDS prelogin: version 15.0.2000"
    assert Item("product", "SQL Server 2019", "mssql") in service.items
    assert Item("capability", "encryption required", "mssql") in service.items
    assert mssql.REQUEST[0] == 0x12 and int.from_bytes(mssql.REQUEST[2:4], "big") == len(mssql.REQUEST)


def test_mssql_rejects_an_option_outside_the_packet() -> None:
    packet = bytearray(prelogin_response(bytes(6), 0))
    packet[9:11] = (500).to_bytes(2, "big")
    try:
        mssql.prelogin_options(bytes(packet))
    except ValueError:
        return
    raise AssertionError("an option pointing outside the packet was accepted")


def cql_string(text: str) -> bytes:
    return len(text).to_bytes(2, "big") + text.encode()


def test_cassandra_supported_frame() -> None:
    """A SUPPORTED frame (v4 response, opcode 6) per the CQL native protocol spec: a [string multimap]."""
    entries = {"CQL_VERSION": ["3.4.5"], "COMPRESSION": ["snappy", "lz4"], "PROTOCOL_VERSIONS": ["3/v3", "4/v4"]}
    body = len(entries).to_bytes(2, "big")
    for key, values in entries.items():
        body += cql_string(key) + len(values).to_bytes(2, "big") + b"".join(cql_string(value) for value in values)
    frame = bytes((0x84, 0, 0, 1, 6)) + len(body).to_bytes(4, "big") + body
    assert cassandra.frame_complete(frame)
    service = cassandra.frame_service(frame)
    assert service is not None and service.banner == "CQL 3.4.5"
    assert Item("capability", "lz4", "cassandra") in service.items
    assert Item("protocol-version", "4/v4", "cassandra") in service.items


def test_cassandra_error_for_an_unsupported_version() -> None:
    body = (10).to_bytes(4, "big") + cql_string("Invalid or unsupported protocol version (4)")
    frame = bytes((0x83, 0, 0, 1, 0)) + len(body).to_bytes(4, "big") + body
    service = cassandra.frame_service(frame)
    assert service is not None and "unsupported protocol version" in service.banner


def test_kafka_api_versions_response() -> None:
    """ApiVersions v0 response per the Kafka protocol guide: correlation id, error code, [api_key min max]."""
    apis = [(0, 0, 9), (3, 0, 12), (18, 0, 3)]
    body = kafka.CORRELATION_ID.to_bytes(4, "big") + (0).to_bytes(2, "big") + len(apis).to_bytes(4, "big")
    body += b"".join(b"".join(value.to_bytes(2, "big") for value in api) for api in apis)
    response = len(body).to_bytes(4, "big") + body
    assert kafka.response_complete(response)
    service = kafka.versions_service(response)
    assert service is not None and service.banner == "Kafka ApiVersions: error 0, 3 APIs"
    assert Item("protocol-version", "ApiVersions v3", "kafka") in service.items
    assert kafka.versions_service(b"\x00\x00\x00\x0aHTTP/1.1 4") is None


def http_service(document: dict[str, object], headers: dict[str, str] | None = None) -> Service:
    items = [Item("http-header", value, name) for name, value in (headers or {}).items()]
    return Service("http", "HTTP/1.1 200 OK", items, bodies=[Body(orjson.dumps(document), "application/json")])


def test_elasticsearch_and_opensearch_roots() -> None:
    """GET / of Elasticsearch and OpenSearch, as their REST API references document it."""
    elastic = {
        "name": "node-1",
        "cluster_name": "logs",
        "version": {"number": "8.13.0", "build_flavor": "default"},
        "tagline": "You Know, for Search",
    }
    service = elasticsearch.root_service(http_service(elastic))
    assert service is not None and service.protocol == "elasticsearch"
    assert Item("version", "8.13.0", "elasticsearch") in service.items
    assert Item("server-name", "logs", "elasticsearch") in service.items
    opensearch = {**elastic, "version": {"distribution": "opensearch", "number": "2.11.0"}}
    opensearch["tagline"] = "The OpenSearch Project: https://opensearch.org/"
    service = elasticsearch.root_service(http_service(opensearch))
    assert service is not None and Item("product", "opensearch", "elasticsearch") in service.items
    assert elasticsearch.recognizes(b'HTTP/1.1 200 OK\r\n\r\n{"tagline" : "You Know, for Search"}', False)


def test_docker_and_kubernetes_are_recognised_from_their_answers() -> None:
    assert docker.recognizes(
        b"HTTP/1.1 404 Not Found\r\nApi-Version: 1.43\r\nServer: Docker/24.0.7 (linux)\r\n\r\n", False
    )
    assert kubernetes.recognizes(
        b'HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\n\r\n{"kind":"Status","apiVersion":"v1"}', False
    )
    assert not docker.recognizes(b"HTTP/1.1 200 OK\r\nServer: nginx\r\n\r\n", False)

"""Which reader reads each format (``shoal.ingest.detect`` names the format): the one table ``shoal import`` uses.

A chunked reader cuts the input into picklable chunks and decodes them with a module-level function, in worker
processes (``ingest_chunks``); a stream reader yields records in this process (``ingest_stream``): masscan
(observations are cheap) and crt.sh (one JSON array).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any, BinaryIO

from shoal.ingest.ctexports import decode_certstream_chunk, read_crtsh
from shoal.ingest.detect import Format
from shoal.ingest.dnsanswers import decode_dns_json_chunk, decode_massdns_simple_chunk
from shoal.ingest.jsonl import decode_chunk, read_chunks
from shoal.ingest.masscan import read_masscan_json, read_masscan_list
from shoal.ingest.nmap import decode_host_chunk, read_host_chunks
from shoal.ingest.records import Record
from shoal.ingest.zgrab2 import decode_zgrab2_chunk


@dataclass(frozen=True, slots=True)
class ChunkedReader:
    chunks: Callable[[BinaryIO, str], Iterable[Any]]
    decode: Callable[[Any], list[Record]]


@dataclass(frozen=True, slots=True)
class StreamReader:
    read: Callable[[BinaryIO, str], Iterator[Record]]


Reader = ChunkedReader | StreamReader


def reader_for(kind: Format, dataset: str) -> Reader:
    """The reader of a format; ``dataset`` is where JSON Lines reports go (other formats choose their own)."""
    if kind is Format.REPORTS:
        return ChunkedReader(partial(read_chunks, dataset=dataset), decode_chunk)
    return READERS[kind]


READERS: dict[Format, Reader] = {
    Format.ZGRAB2: ChunkedReader(read_chunks, decode_zgrab2_chunk),
    Format.NMAP_XML: ChunkedReader(read_host_chunks, decode_host_chunk),
    Format.DNS_JSON: ChunkedReader(read_chunks, decode_dns_json_chunk),
    Format.MASSDNS_SIMPLE: ChunkedReader(read_chunks, decode_massdns_simple_chunk),
    Format.CERTSTREAM: ChunkedReader(read_chunks, decode_certstream_chunk),
    Format.CRTSH: StreamReader(read_crtsh),
    Format.MASSCAN_JSON: StreamReader(read_masscan_json),
    Format.MASSCAN_LIST: StreamReader(read_masscan_list),
}

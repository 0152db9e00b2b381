"""SSH: the identification line (``SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3``), the algorithms the server offers
(its KEXINIT) with their HASSH, and every host key's type, size and SHA-256 fingerprint. No login, ever: the key
exchange runs only as far as the server's reply, which carries its host key, and the connection is reset there.

One key exchange gives one host key, of the type the client asked for, so the identification connection fetches
the first type the server announces and a follow-up opens one more connection per other type (at most
``MAX_HOST_KEYS`` types in all; OpenSSH's default rsa, ecdsa and ed25519 cost three connections). The exchange is
the first of ``KEY_EXCHANGES`` the server offers: X25519 (a random public value), NIST ECDH (``cryptography``), or
finite-field Diffie-Hellman over group 14 or a group the server sends. No shared secret is computed and nothing
the server signs is verified: Shoal records what it was shown, as it does with certificates.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from shoal import __version__
from shoal.collect.connection import Connection, Connector
from shoal.collect.probes.base import FollowUp, Service, first_line, line_complete
from shoal.model import Item
from shoal.text import printable

IDENTIFICATION = f"SSH-2.0-Shoal_{__version__}\r\n".encode()
MSG_DISCONNECT, MSG_IGNORE, MSG_DEBUG, MSG_KEXINIT = 1, 2, 4, 20
MSG_KEX_INIT, MSG_KEX_REPLY = 30, 31  # ECDH and fixed-group Diffie-Hellman share these numbers
MSG_GEX_GROUP, MSG_GEX_INIT, MSG_GEX_REPLY, MSG_GEX_REQUEST = 31, 32, 33, 34
MAX_PACKET = 35_000  # RFC 4253 §6.1: what every implementation must accept; more is not an SSH server's packet
MAX_HOST_KEYS = 6  # key types fetched from one server (one connection each)
MAX_GROUP_BITS = 8192  # a group-exchange prime larger than this is refused, not computed with
GEX_BITS = (2048, 3072, 8192)  # the group sizes asked for: minimum, preferred, maximum
SECRET_BITS = 512  # the Diffie-Hellman exponent's size
GROUP14 = int(  # RFC 3526's 2048-bit MODP group (Oakley group 14), generator 2
    "ffffffffffffffffc90fdaa22168c234c4c6628b80dc1cd129024e088a67cc74020bbea63b139b22514a08798e3404ddef9519b3cd3a"
    "431b302b0a6df25f14374fe1356d6d51c245e485b576625e7ec6f44c42e9a637ed6b0bff5cb6f406b7edee386bfb5a899fa5ae9f2411"
    "7c4b1fe649286651ece45b3dc2007cb8a163bf0598da48361c55d39a69163fa8fd24cf5f83655d23dca3ad961c62f356208552bb9ed5"
    "29077096966d670c354e4abc9804f1746c08ca18217c32905e462e36ce3be39e772c180e86039b2783a2ec07a28fb5c55df06f4c52c9"
    "de2bcbf6955817183995497cea956ae515d2261898fa051015728e5a8aacaa68ffffffffffffffff",
    16,
)
# The KEXINIT's name-lists (RFC 4253 §7.1), and the items of the five a researcher filters on (the server-to-client
# ones, as HASSH takes them).
KEXINIT_LISTS = (
    "kex_algorithms",
    "server_host_key_algorithms",
    "encryption_algorithms_client_to_server",
    "encryption_algorithms",
    "mac_algorithms_client_to_server",
    "mac_algorithms",
    "compression_algorithms_client_to_server",
    "compression_algorithms",
    "languages_client_to_server",
    "languages_server_to_client",
)
RECORDED_LISTS = (
    "kex_algorithms",
    "server_host_key_algorithms",
    "encryption_algorithms",
    "mac_algorithms",
    "compression_algorithms",
)
HASSH_LISTS = ("kex_algorithms", "encryption_algorithms", "mac_algorithms", "compression_algorithms")
# Host key algorithm → the type of key it uses (several RSA signature algorithms share one RSA key).
KEY_TYPES = {
    "ssh-ed25519": "ssh-ed25519",
    "ecdsa-sha2-nistp256": "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384": "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521": "ecdsa-sha2-nistp521",
    "rsa-sha2-512": "ssh-rsa",
    "rsa-sha2-256": "ssh-rsa",
    "ssh-rsa": "ssh-rsa",
    "ssh-dss": "ssh-dss",
    "ssh-ed448": "ssh-ed448",
}
FIXED_BITS = {"ssh-ed25519": 256, "ssh-ed448": 456, **{f"ecdsa-sha2-nistp{n}": n for n in (256, 384, 521)}}


class ProtocolError(ValueError):
    """The server's bytes are not the SSH this probe expects (or it hung up, or said no)."""


class Reader:
    """The fields of an SSH message (RFC 4251 §5), read in order; ProtocolError past its end."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.position = 0

    def take(self, size: int) -> bytes:
        if self.position + size > len(self.data):
            raise ProtocolError("an SSH message shorter than its fields")
        self.position += size
        return self.data[self.position - size : self.position]

    def uint32(self) -> int:
        return int.from_bytes(self.take(4), "big")

    def string(self) -> bytes:
        return self.take(self.uint32())

    def mpint(self) -> int:
        return int.from_bytes(self.string(), "big", signed=True)

    def names(self) -> list[str]:
        text = self.string().decode("ascii", "replace")
        return text.split(",") if text else []


def string(data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + data


def mpint(value: int) -> bytes:
    return string(value.to_bytes(value.bit_length() // 8 + 1, "big", signed=True) if value else b"")


def packet(payload: bytes) -> bytes:
    """A binary packet before any key is agreed: length, padding length, payload, 4 to 11 bytes of padding."""
    padding = 8 - (len(payload) + 5) % 8
    padding += 8 if padding < 4 else 0
    return (len(payload) + padding + 1).to_bytes(4, "big") + bytes((padding,)) + payload + bytes(padding)


class PacketReader:
    """The server's messages on a connection, from the bytes after its identification line."""

    def __init__(self, connection: Connection, buffered: bytes) -> None:
        self.connection = connection
        self.buffer = bytearray(buffered)

    async def message(self) -> tuple[int, Reader]:
        """The next message (its number and a reader of the rest), past IGNORE and DEBUG messages."""
        while True:
            payload = await self._payload()
            if not payload:
                raise ProtocolError("an empty SSH packet")
            if payload[0] == MSG_DISCONNECT:
                reader = Reader(payload[1:])
                reader.uint32()
                raise ProtocolError(f"the server disconnected: {printable(reader.string(), 256)}")
            if payload[0] not in (MSG_IGNORE, MSG_DEBUG):
                return payload[0], Reader(payload[1:])

    async def _payload(self) -> bytes:
        while True:
            if len(self.buffer) >= 4:
                length = int.from_bytes(self.buffer[:4], "big")
                if not 5 <= length <= MAX_PACKET:
                    raise ProtocolError(f"an SSH packet of {length} bytes")
                if len(self.buffer) >= 4 + length:
                    padding = self.buffer[4]
                    payload = bytes(self.buffer[5 : 4 + length - padding])
                    del self.buffer[: 4 + length]
                    return payload
                needed = 4 + length - len(self.buffer)
            else:
                needed = 4 - len(self.buffer)
            more = await self.connection.receive(lambda data, needed=needed: len(data) >= needed)  # type: ignore[misc]
            if not more:
                raise ProtocolError("the server stopped before the end of an SSH packet")
            self.buffer += more


@dataclass(frozen=True, slots=True)
class KeyExchange:
    """A key exchange method this probe runs: its name and the client's first message for it."""

    name: str
    start: Callable[[], bytes]  # the client's message opening the exchange (KEX_INIT, or a group request)


def x25519_init() -> bytes:
    """Any 32 bytes are an X25519 public value, and the shared secret is never computed: random bytes will do."""
    return bytes((MSG_KEX_INIT,)) + string(secrets.token_bytes(32))


def ecdh_init(curve: ec.EllipticCurve) -> Callable[[], bytes]:
    def start() -> bytes:
        public = ec.generate_private_key(curve).public_key()
        return bytes((MSG_KEX_INIT,)) + string(public.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint))

    return start


def diffie_hellman_init(prime: int, generator: int = 2, message: int = MSG_KEX_INIT) -> bytes:
    return bytes((message,)) + mpint(pow(generator, secrets.randbits(SECRET_BITS) | 1, prime))


def group_request() -> bytes:
    return bytes((MSG_GEX_REQUEST,)) + b"".join(bits.to_bytes(4, "big") for bits in GEX_BITS)


KEY_EXCHANGES = (
    KeyExchange("curve25519-sha256", x25519_init),
    KeyExchange("curve25519-sha256@libssh.org", x25519_init),
    KeyExchange("ecdh-sha2-nistp256", ecdh_init(ec.SECP256R1())),
    KeyExchange("ecdh-sha2-nistp384", ecdh_init(ec.SECP384R1())),
    KeyExchange("ecdh-sha2-nistp521", ecdh_init(ec.SECP521R1())),
    KeyExchange("diffie-hellman-group14-sha256", lambda: diffie_hellman_init(GROUP14)),
    KeyExchange("diffie-hellman-group14-sha1", lambda: diffie_hellman_init(GROUP14)),
    KeyExchange("diffie-hellman-group-exchange-sha256", group_request),
    KeyExchange("diffie-hellman-group-exchange-sha1", group_request),
)


@dataclass(frozen=True, slots=True)
class Offer:
    """A server's KEXINIT: its name-lists by name, and its bytes after the cookie as sent. A follow-up connection
    compares what its server sends with ``sent`` instead of parsing it again; our KEXINIT copies ``shared``."""

    lists: dict[str, list[str]]
    sent: bytes  # the name-lists, first_kex_packet_follows and the reserved field
    shared: bytes  # the cipher, MAC and compression lists (both ways), encoded: copied into our KEXINIT
    method: KeyExchange | None = field(init=False)  # the first of KEY_EXCHANGES the server offers

    def __post_init__(self) -> None:
        offered = self.lists["kex_algorithms"]
        object.__setattr__(self, "method", next((kex for kex in KEY_EXCHANGES if kex.name in offered), None))

    def __getitem__(self, name: str) -> list[str]:
        return self.lists[name]


def kexinit_lists(payload: bytes) -> Offer:
    """The name-lists of a KEXINIT (``payload``: after its message number, from its 16-byte cookie on)."""
    lists: dict[str, list[str]] = {}
    ends = []
    position = 16
    for name in KEXINIT_LISTS:
        end = position + 4 + int.from_bytes(payload[position : position + 4], "big")
        if end > len(payload):
            raise ProtocolError("an SSH message shorter than its fields")
        text = payload[position + 4 : end].decode("ascii", "replace")
        lists[name] = text.split(",") if text else []
        ends.append(end)
        position = end
    return Offer(lists, payload[16:], payload[ends[1] : ends[7]])


def client_kexinit(offered: Offer, exchange: str, host_key_algorithm: str) -> bytes:
    """Our KEXINIT: the one exchange and host key algorithm chosen, and the server's own lists for the rest (so
    they match, whatever the server supports); no languages."""
    chosen = string(exchange.encode()) + string(host_key_algorithm.encode())
    return bytes((MSG_KEXINIT,)) + secrets.token_bytes(16) + chosen + offered.shared + bytes(8) + b"\x00" + bytes(4)


def host_key_algorithms(offered: Offer) -> list[str]:
    """One host key algorithm per key type the server announced, in its order, at most MAX_HOST_KEYS."""
    chosen: dict[str, str] = {}
    for algorithm in offered["server_host_key_algorithms"]:
        key_type = KEY_TYPES.get(algorithm)
        if key_type is not None and key_type not in chosen and len(chosen) < MAX_HOST_KEYS:
            chosen[key_type] = algorithm
    return list(chosen.values())


def opening(offered: Offer, algorithm: str) -> tuple[KeyExchange, bytes]:
    """The exchange chosen for a server's lists, and our KEXINIT (asking for ``algorithm``) and first exchange
    message, as packets to send."""
    method = offered.method
    if method is None:
        raise ProtocolError("no key exchange method in common")
    return method, packet(client_kexinit(offered, method.name, algorithm)) + packet(method.start())


async def host_key(stream: PacketReader, method: KeyExchange) -> bytes:
    """Read the key exchange to the server's reply (our opening sent) and return the host key (K_S) it carries."""
    number, reader = await stream.message()
    if method.start is group_request:
        if number != MSG_GEX_GROUP:
            raise ProtocolError(f"SSH message {number} instead of a Diffie-Hellman group")
        prime, generator = reader.mpint(), reader.mpint()
        if not 1024 <= prime.bit_length() <= MAX_GROUP_BITS or not 1 < generator < prime - 1:
            raise ProtocolError(f"a {prime.bit_length()}-bit Diffie-Hellman group")
        await stream.connection.send(packet(diffie_hellman_init(prime, generator, MSG_GEX_INIT)))
        number, reader = await stream.message()
        if number != MSG_GEX_REPLY:
            raise ProtocolError(f"SSH message {number} instead of the key exchange reply")
    elif number != MSG_KEX_REPLY:
        raise ProtocolError(f"SSH message {number} instead of the key exchange reply")
    return reader.string()


def key_items(blob: bytes) -> list[Item]:
    """``ssh-hostkey-sha256`` (base64 without padding, as ``ssh-keygen -l`` prints after ``SHA256:``) and
    ``ssh-hostkey-bits``, in the context of the key's own type (``ssh-rsa``, ``ssh-ed25519``, …)."""
    reader = Reader(blob)
    key_type = printable(reader.string(), 64)
    if key_type == "ssh-rsa":
        reader.mpint()  # the public exponent
        bits = reader.mpint().bit_length()
    elif key_type == "ssh-dss":
        bits = reader.mpint().bit_length()
    else:
        bits = FIXED_BITS.get(key_type, 0)
    fingerprint = base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
    items = [Item("ssh-hostkey-sha256", fingerprint, key_type)]
    return items + ([Item("ssh-hostkey-bits", str(bits), key_type)] if bits else [])


def algorithm_items(offered: Offer) -> list[Item]:
    """``ssh-kex`` per list (context: its name; the list as sent), then ``hassh-server`` (the MD5 of the
    server-to-client kex, encryption, MAC and compression lists, each comma-joined, joined with ``;``)."""
    items = [Item("ssh-kex", printable(",".join(offered[name]).encode()), name) for name in RECORDED_LISTS]
    algorithms = ";".join(",".join(offered[name]) for name in HASSH_LISTS)
    return [*items, Item("hassh-server", hashlib.md5(algorithms.encode(), usedforsecurity=False).hexdigest())]


async def server_algorithms(
    connection: Connection, after_identification: bytes, known: Offer | None = None
) -> tuple[PacketReader, Offer]:
    """Read the server's KEXINIT: the stream of its messages, and its lists (``known`` itself if the server sent
    the same lists again)."""
    stream = PacketReader(connection, after_identification)
    number, reader = await stream.message()
    if number != MSG_KEXINIT:
        raise ProtocolError(f"SSH message {number} instead of KEXINIT")
    if known is not None and reader.data[16:] == known.sent:
        return stream, known
    return stream, kexinit_lists(reader.data)


def recognizes(banner: bytes, usual_port: bool) -> bool:
    return banner.startswith(b"SSH-")


async def identification(connection: Connection, received: bytes) -> tuple[bytes, bytes]:
    """(the server's identification line, the bytes after it), past any lines it sends before (RFC 4253 §4.2)."""
    while True:
        if not line_complete(received):
            received += await connection.receive(line_complete)
            if not line_complete(received):
                return received, b""
        line, received = received.split(b"\n", 1)
        if line.startswith(b"SSH-"):
            return line.rstrip(b"\r"), received


async def converse(connection: Connection, banner: bytes) -> Service | None:
    line, rest = await identification(connection, banner)
    service = Service("ssh", printable(first_line(line), 256))
    if not line.startswith((b"SSH-2.0-", b"SSH-1.99-")):
        return service  # SSH-1 only: no KEXINIT to read
    try:
        await connection.send(IDENTIFICATION)
        stream, offered = await server_algorithms(connection, rest)
        service.items += algorithm_items(offered)
        algorithms = host_key_algorithms(offered)
        if algorithms and offered.method is not None:
            method, data = opening(offered, algorithms[0])
            await connection.send(data)
            service.items += key_items(await host_key(stream, method))
            if algorithms[1:]:
                service.follow_ups.append(other_host_keys(service, connection, offered, algorithms[1:]))
    except (ProtocolError, OSError, TimeoutError):
        pass  # identified by its line: what the server would not show is simply not recorded
    return service


def other_host_keys(service: Service, first: Connection, offered: Offer, algorithms: list[str]) -> FollowUp:
    """A follow-up fetching the server's other host keys, one connection (and one key exchange) per type. What
    the first connection learnt lets each send everything in one packet at once: our identification, KEXINIT and
    opening message (RFC 4253 lets both sides send theirs without waiting)."""
    ip, port = first.ip, first.port

    async def fetch(connector: Connector) -> None:
        for algorithm in algorithms:
            method, data = opening(offered, algorithm)
            connection = await connector.open(ip, port)
            try:
                await connection.send(IDENTIFICATION + data)
                line, rest = await identification(connection, await connection.receive(line_complete))
                stream, now_offered = await server_algorithms(connection, rest, offered)
                if not line.startswith(b"SSH-") or now_offered.method != method:
                    return  # another server now, or other lists: what was sent no longer fits
                service.items += key_items(await host_key(stream, method))
            finally:
                connection.close()

    return fetch

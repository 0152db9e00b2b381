"""Telnet: refuse every option the server offers or asks for, and keep the text up to the login prompt."""

from __future__ import annotations

from shoal.collect.connection import Connection
from shoal.collect.probes.base import Service
from shoal.text import printable

IAC, DONT, DO, WONT, WILL, SB, SE = 255, 254, 253, 252, 251, 250, 240
PROMPT_ENDINGS = (b":", b": ", b"> ", b"# ", b"$ ", b"login:", b"Password:")
MAX_ROUNDS = 8  # negotiation round trips before we settle for what arrived


def recognizes(banner: bytes, usual_port: bool) -> bool:
    """A negotiation (IAC followed by WILL/WONT/DO/DONT), or anything at all on a telnet port."""
    negotiates = len(banner) >= 2 and banner[0] == IAC and WILL <= banner[1] <= DONT
    return negotiates or usual_port


def split_negotiation(data: bytes) -> tuple[bytes, bytes]:
    """(the text without telnet commands, our refusals of the options in them)."""
    text = bytearray()
    answers = bytearray()
    index = 0
    while index < len(data):
        byte = data[index]
        if byte != IAC:
            text.append(byte)
            index += 1
            continue
        command = data[index + 1] if index + 1 < len(data) else None
        if command in (WILL, WONT, DO, DONT) and index + 2 < len(data):
            option = data[index + 2]
            if command == WILL:
                answers += bytes((IAC, DONT, option))
            elif command == DO:
                answers += bytes((IAC, WONT, option))
            index += 3
        elif command == SB:
            end = data.find(bytes((IAC, SE)), index)
            index = len(data) if end < 0 else end + 2
        elif command == IAC:
            text.append(IAC)
            index += 2
        else:
            index += 2
    return bytes(text), bytes(answers)


def at_prompt(text: bytes) -> bool:
    return text.rstrip(b"\x00").endswith(PROMPT_ENDINGS)


async def converse(connection: Connection, banner: bytes) -> Service | None:
    text, answers = split_negotiation(banner)
    for _ in range(MAX_ROUNDS):
        if at_prompt(text):
            break
        if answers:
            await connection.send(answers)
        more = await connection.receive()
        if not more:
            break
        more_text, answers = split_negotiation(more)
        text += more_text
    return Service("telnet", printable(text.replace(b"\r\x00", b"\r")))

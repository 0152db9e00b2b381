"""``shoal submit``'s targets: IP, IP:PORT, [v6]:PORT, IP:PORT/udp; a bad port is a BadParameter (exit 2), whatever
its text."""

from __future__ import annotations

import pytest

from shoal.cli.submit import split_target
from shoal.errors import BadParameter


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("192.0.2.1", ("192.0.2.1", None)),
        ("192.0.2.1:0080", ("192.0.2.1", (80, "tcp"))),
        ("192.0.2.1:53/udp", ("192.0.2.1", (53, "udp"))),
        ("[2001:db8::1]:443", ("2001:db8::1", (443, "tcp"))),
        ("192.0.2.1:٣", ("192.0.2.1", (3, "tcp"))),  # a Unicode decimal digit, as int() reads it
    ],
)
def test_targets(text: str, expected: tuple[str, tuple[int, str] | None]) -> None:
    assert split_target(text) == expected


@pytest.mark.parametrize("port", ["0", "65536", "²", "1" * 5_000, "8o"])
def test_a_bad_port_is_a_bad_parameter_not_a_crash(port: str) -> None:
    with pytest.raises(BadParameter, match="a port is 1 to 65535"):
        split_target(f"192.0.2.1:{port}")

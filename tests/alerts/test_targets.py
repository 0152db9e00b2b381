"""The webhook target policy: http(s) only; never link-local or cloud metadata; a token's alerts only public
addresses or where the operator allows."""

from __future__ import annotations

import ipaddress

import pytest

from shoal.alerts.targets import checked_webhook
from shoal.errors import BadParameter

OPERATOR = None
TOKEN = ()
ALLOWED = (ipaddress.ip_network("10.1.0.0/16"),)


@pytest.mark.parametrize(
    ("url", "allowed", "refusal"),
    [
        ("http://127.0.0.1:9/hook", OPERATOR, ""),
        ("https://10.0.0.5/hook", OPERATOR, ""),
        ("http://[::1]:8080/", OPERATOR, ""),
        ("http://8.8.8.8/hook", TOKEN, ""),
        ("http://10.1.2.3/hook", ALLOWED, ""),
        ("http://169.254.169.254/latest/meta-data", OPERATOR, "cloud-metadata"),
        ("http://[fe80::1]/", OPERATOR, "link-local"),
        ("http://[::ffff:169.254.169.254]/", OPERATOR, "cloud-metadata"),
        ("http://100.100.100.200/", OPERATOR, "cloud-metadata"),
        ("http://127.0.0.1/hook", TOKEN, "not a public address"),
        ("http://10.2.0.1/hook", ALLOWED, "not a public address"),
        ("http://192.168.1.1/hook", TOKEN, "not a public address"),
        ("ftp://8.8.8.8/x", OPERATOR, "http:// or https://"),
        ("file:///etc/passwd", OPERATOR, "http:// or https://"),
        ("http:///nohost", OPERATOR, "names no host"),
        ("http://8.8.8.8:99999/", OPERATOR, "not a URL"),
        ("http://" + "a" * 3000, OPERATOR, "longer than"),
        ("http://no-such-host.invalid/", OPERATOR, "does not resolve"),
    ],
)
def test_webhook_targets(url: str, allowed: tuple | None, refusal: str) -> None:
    if not refusal:
        assert checked_webhook(url, allowed) == url
        return
    with pytest.raises(BadParameter, match=refusal) as raised:
        checked_webhook(url, allowed)
    assert raised.value.parameter == "webhook"

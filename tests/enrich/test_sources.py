"""geo-country, entity and asn from the bundled offline data, and from operator-supplied MMDB files."""

from __future__ import annotations

from pathlib import Path

import pytest

from shoal.enrich import asntable, configure, enrich_report
from shoal.enrich.base import EnrichmentError, Settings
from shoal.enrich.geo import GeoCountry
from shoal.enrich.network import BundledTable, NetworkOwner
from tests.enrich.conftest import of_type, target, write_mmdb

WELL_KNOWN_COUNTRIES = [
    ("8.8.8.8", "US"),  # Google Public DNS (ARIN)
    ("1.1.1.1", "AU"),  # APNIC's block, lent to Cloudflare: the registry says AU
    ("193.60.0.1", "GB"),  # JANET, 193.60.0.0/14
    ("193.63.255.254", "GB"),
    ("2001:630::1", "GB"),  # JANET IPv6, 2001:630::/32
    ("2a01:4f8::1", "DE"),  # Hetzner
    ("129.67.1.1", "GB"),  # University of Oxford
    ("200.160.0.1", "BR"),  # NIC.br (LACNIC)
]


@pytest.mark.parametrize(("ip", "country"), WELL_KNOWN_COUNTRIES)
def test_country_of_well_known_addresses(ip: str, country: str) -> None:
    assert GeoCountry(Settings()).lookup(ip) == country


@pytest.mark.parametrize("ip", ["10.0.0.1", "127.0.0.1", "192.168.1.1", "::1", "fe80::1", "not an ip", ""])
def test_no_country_for_private_or_bad_addresses(ip: str) -> None:
    assert GeoCountry(Settings()).lookup(ip) is None
    assert GeoCountry(Settings()).enrich(target(ip or "10.0.0.1", 80), ip or None) == ()


WELL_KNOWN_NETWORKS = [
    ("8.8.8.8", "15169", "Google LLC"),
    ("1.1.1.1", "13335", "Cloudflare, Inc."),
    ("2606:4700::1111", "13335", "Cloudflare, Inc."),
    ("193.60.0.1", "786", "Jisc Services Limited"),
    ("2001:630::1", "786", "Jisc Services Limited"),
    ("2a01:4f8::1", "24940", "Hetzner Online GmbH"),
]


@pytest.mark.parametrize(("ip", "asn", "entity"), WELL_KNOWN_NETWORKS)
def test_bundled_asn_table(ip: str, asn: str, entity: str) -> None:
    assert BundledTable().lookup(ip) == (asn, entity)


def test_bundled_table_edges() -> None:
    table = BundledTable()
    for ip in ("10.0.0.1", "127.0.0.1", "::1", "0.0.0.0", "255.255.255.255", "not an ip", "1.2.3"):
        assert table.lookup(ip) is None, ip
    metadata = asntable.read_metadata()
    assert metadata["licence"].startswith("CC BY 4.0")
    assert metadata["ipv4_ranges"] > 100_000 and metadata["ipv6_ranges"] > 10_000


def test_table_round_trips_and_later_ranges_win(tmp_path: Path) -> None:
    v4 = [
        (0x01000000, 0x010000FF, 13335, "Cloudflare"),
        (0x08080000, 0x0808FFFF, 1, "Wide"),
        (0x08080800, 0x080808FF, 15169, "Google"),
    ]
    v6 = [
        (0x20010630 << 96, ((0x20010630 + 1) << 96) - 1, 786, "Jisc"),
        (0x2A0104F8 << 96, (0x2A0104F8 << 96) + 0x2F, 24940, "Hetzner"),
    ]
    (tmp_path / asntable.TABLE_NAME).write_bytes(asntable.encode_table(v4, v6))
    table = asntable.load_table(tmp_path)
    assert table.lookup("1.0.0.1") == asntable.Network(13335, "Cloudflare")
    assert table.lookup("8.8.8.8") == asntable.Network(15169, "Google")  # the more specific range wins
    assert table.lookup("8.8.9.1") is None  # the cut-off rest of the wider range is dropped, not misattributed
    assert table.lookup("8.8.7.1") == asntable.Network(1, "Wide")
    assert table.lookup("2001:630:1::1") == asntable.Network(786, "Jisc")
    assert table.lookup("2a01:4f8::2f") == asntable.Network(24940, "Hetzner")
    assert table.lookup("2a01:4f8::30") is None


@pytest.fixture(scope="module")
def asn_mmdb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_mmdb(
        tmp_path_factory.mktemp("mmdb") / "asn.mmdb",
        "GeoLite2-ASN",
        {
            "8.8.8.0/24": {"autonomous_system_number": 64500, "autonomous_system_organization": "Example Org"},
            "2001:db8::/32": {"autonomous_system_number": 64501, "autonomous_system_organization": "Doc Net"},
            "198.51.100.0/24": {"asn": "AS64502", "as_name": "IPinfo Style", "country_code": "NZ"},
        },
    )


@pytest.fixture(scope="module")
def city_mmdb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_mmdb(
        tmp_path_factory.mktemp("mmdb") / "city.mmdb",
        "GeoLite2-City",
        {
            "8.8.8.0/24": {"country": {"iso_code": "CH"}, "registered_country": {"iso_code": "US"}},
            "203.0.113.0/24": {"registered_country": {"iso_code": "JP"}},
            "2001:db8::/32": {"country": {"iso_code": "NL"}},
        },
    )


def test_asn_mmdb_replaces_the_bundled_table(asn_mmdb: Path) -> None:
    owner = NetworkOwner(Settings(asn_mmdb=asn_mmdb))
    assert owner.lookup("8.8.8.8") == ("64500", "Example Org")
    assert owner.lookup("2001:db8::5") == ("64501", "Doc Net")
    assert owner.lookup("198.51.100.7") == ("64502", "IPinfo Style")
    assert owner.lookup("1.1.1.1") is None  # not in the operator's database: nothing, not a guess
    assert owner.version.startswith("GeoLite2-ASN built ")
    assert str(asn_mmdb) in owner.source


def test_city_mmdb_gives_the_country_of_use(city_mmdb: Path) -> None:
    geo = GeoCountry(Settings(city_mmdb=city_mmdb))
    assert geo.lookup("8.8.8.8") == "CH"  # country, before registered_country
    assert geo.lookup("203.0.113.9") == "JP"  # registered_country when there is no country
    assert geo.lookup("2001:db8::1") == "NL"
    assert geo.lookup("1.1.1.1") is None
    assert geo.version.startswith("GeoLite2-City built ")


def test_mmdb_paths_from_the_environment_reach_enrich_report(asn_mmdb: Path, city_mmdb: Path) -> None:
    configure(asn_mmdb=asn_mmdb, city_mmdb=city_mmdb)
    enriched = enrich_report(target("8.8.8.8", 443))
    assert of_type(enriched, "geo-country") == ["CH"]
    assert of_type(enriched, "asn") == ["64500"]
    assert of_type(enriched, "entity") == ["Example Org"]
    configure()
    enriched = enrich_report(target("8.8.8.8", 443))
    assert of_type(enriched, "geo-country") == ["US"]
    assert of_type(enriched, "asn") == ["15169"]


def test_a_missing_mmdb_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(EnrichmentError, match="cannot open MMDB"):
        NetworkOwner(Settings(asn_mmdb=tmp_path / "missing.mmdb")).lookup("8.8.8.8")
    (tmp_path / "junk.mmdb").write_bytes(b"not a database")
    with pytest.raises(EnrichmentError, match="cannot open MMDB"):
        GeoCountry(Settings(city_mmdb=tmp_path / "junk.mmdb")).lookup("8.8.8.8")

"""Every setting is known and documented: a misspelt one stops the start instead of keeping its default."""

from dataclasses import asdict
from pathlib import Path

import pytest

from acapy_bridge_shim.config import SECTIONS, ShimConfigError, known_keys, parse_config
from acapy_bridge_shim.config_reference import options_table

README = Path(__file__).resolve().parents[1] / "README.md"
URL = "redis://127.0.0.1:6379"


def test_a_misspelt_key_inside_a_section_is_rejected_naming_it_its_likely_meaning_and_the_section_keys():
    with pytest.raises(ShimConfigError) as refused:
        parse_config({"redis_url": URL, "inbound": {"concurency": 8}})
    message = str(refused.value)
    assert "acapy_bridge_shim.inbound.concurency" in message
    assert "did you mean acapy_bridge_shim.inbound.concurrency?" in message
    for key in SECTIONS["inbound"]:
        assert key in message


@pytest.mark.parametrize("section", sorted(SECTIONS))
def test_every_section_rejects_a_key_it_does_not_take(section):
    with pytest.raises(ShimConfigError, match=f"acapy_bridge_shim.{section}.no_such_key"):
        parse_config({"redis_url": URL, section: {"no_such_key": 1}})


def test_a_misspelt_section_is_rejected_with_a_suggestion():
    with pytest.raises(ShimConfigError, match="did you mean acapy_bridge_shim.mailbox"):
        parse_config({"redis_url": URL, "mailbx": {"enabled": True}})


def test_every_known_key_is_accepted():
    raw: dict = {"redis_url": URL, "cluster": False, "redis_username": "u", "redis_password": "p", "prefix": "br"}
    for section, keys in SECTIONS.items():
        defaults = {} if section == "partitions" else asdict(getattr(parse_config({"redis_url": URL}), section))
        raw[section] = {key: defaults.get(key, 4) for key in keys}
    raw["events"]["topics"] = list(raw["events"]["topics"])
    given = {*(k for k in raw if k not in SECTIONS), *(f"{s}.{k}" for s in SECTIONS for k in raw[s])}
    assert given == set(known_keys()) - {"redis_tls_ca_file"}  # a CA file only with rediss://
    assert parse_config(raw).partitions.admin_partitions == 4


def test_the_readme_documents_every_setting_with_the_generated_table():
    table = options_table()
    assert table in README.read_text()
    for key in known_keys():
        assert f"| `{key}` |" in table

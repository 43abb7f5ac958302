import pytest

from assets.energy.config import EnergyConfig, load_energy_config
from headwater.config import ConfigError, load_section, validate_section


def test_repo_config_is_valid():
    cfg = load_energy_config()
    assert cfg.authority_order == ["eia", "fred", "yahoo"]
    assert set(cfg.commodities) == {"WTI", "BRENT", "NATGAS"}


@pytest.mark.parametrize(
    "section, message",
    [
        (
            {"authority_order": ["eia", "eia", "fred"]},
            "energy.authority_order: .*each of eia, fred, yahoo",
        ),
        (
            {"authority_order": ["eia", "bloomberg", "fred"]},
            r"energy.authority_order\[1\]: .*'eia', 'fred' or 'yahoo'",
        ),
        (
            {"completeness_threshold": 1.5},
            "energy.completeness_threshold: .*less than or equal to 1",
        ),
        ({"schedule_time": "6am"}, "energy.schedule_time: "),
        ({"schedule_timezone": "Mars/Base"}, "energy.schedule_timezone: .*unknown IANA time zone"),
        ({"colour": "blue"}, "energy.colour: Extra inputs are not permitted"),
        (
            {
                "commodities": {
                    "WTI": {
                        "eia": {"series": "RWTC", "route": "r"},
                        "fred": "F",
                        "yahoo": "Y",
                        "min_price": 10,
                        "max_price": 5,
                    }
                }
            },
            "energy.commodities.WTI: .*min_price",
        ),
    ],
)
def test_bad_values_name_the_key(section, message):
    with pytest.raises(ConfigError, match=message) as err:
        validate_section({"energy": section}, "energy", EnergyConfig, "cfg.yaml")
    assert str(err.value).startswith("cfg.yaml: ")


def test_bad_file_fails_with_the_path(tmp_path):
    bad = tmp_path / "h.yaml"
    bad.write_text("energy: [unclosed\n")
    with pytest.raises(ConfigError, match=f"{bad}: not valid YAML"):
        load_section("energy", EnergyConfig, bad)
    with pytest.raises(ConfigError, match="settings file not found"):
        load_section("energy", EnergyConfig, tmp_path / "missing.yaml")


def test_a_file_that_is_not_utf8_yaml_or_has_an_unknown_section_is_one_line(tmp_path):
    """Not UTF-8, broken YAML (PyYAML's own message spans lines) and a misspelt section
    (which would otherwise leave its domain on the defaults without a word): one line
    each, naming the file and what is wrong."""
    cases = {
        "binary.yaml": (
            b"\xff\xfe\x00bad",
            "not UTF-8 text (byte 0): expected a YAML settings file",
        ),
        "broken.yaml": (b"energy: [\n  a: 1\n", "not valid YAML: expected ',' or ']'"),
        "misspelt.yaml": (
            b"enrgy:\n  start_date: 2020-01-01\n",
            "enrgy: unknown section; expected one of energy, workforce, prospects, market, "
            "operations",
        ),
    }
    for name, (content, message) in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(ConfigError) as err:
            load_section("energy", EnergyConfig, path)
        assert str(err.value).startswith(f"{path}: {message}"), err.value
        assert "\n" not in str(err.value)


def test_a_first_partition_in_the_future_or_a_missing_rules_folder_is_a_bad_setting(tmp_path):
    """They passed the settings check, then failed a run (a TypeError in `ingest`, or 40 s
    of retries before "Exceeded max_retries")."""
    from datetime import date, timedelta

    from assets.market.config import MarketConfig

    ahead = date.today() + timedelta(days=40)
    with pytest.raises(ConfigError, match=rf"energy.start_date: .*{ahead} is in the future"):
        validate_section({"energy": {"start_date": ahead}}, "energy", EnergyConfig, "cfg.yaml")
    for key in ("start_date", "intraday_start_date"):
        with pytest.raises(ConfigError, match=rf"market.{key}: .*{ahead} is in the future"):
            validate_section({"market": {key: ahead}}, "market", MarketConfig, "cfg.yaml")
    missing = tmp_path / "no-rules"
    with pytest.raises(ConfigError, match=rf"market.transform_rules: .*{missing} is not a folder"):
        validate_section(
            {"market": {"transform_rules": str(missing)}}, "market", MarketConfig, "cfg.yaml"
        )

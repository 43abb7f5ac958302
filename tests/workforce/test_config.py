"""Assumptions: defaults are valid; a bad value is rejected at load, naming the key."""

import pytest
import yaml

from assets.workforce.config import CensusSettings, WorkforceConfig, load_workforce_config
from headwater.config import ConfigError


def _load(tmp_path, section):
    path = tmp_path / "headwater.yaml"
    path.write_text(yaml.safe_dump({"workforce": section}))
    return load_workforce_config(path)


def test_defaults_are_a_valid_plan(tmp_path):
    cfg = _load(tmp_path, {})
    assert cfg == WorkforceConfig()
    assert cfg.years() == [2025, 2026, 2027, 2028, 2029]
    assert cfg.irs_limits_for(2029).deferral == 24_500  # carried forward from 2026


def test_repo_settings_file_is_valid():
    from headwater import settings

    load_workforce_config(settings.REPO_ROOT / "config" / "headwater.yaml")


@pytest.mark.parametrize(
    ("section", "key", "allowed"),
    [
        ({"target_growth_rate": 3}, "workforce.target_growth_rate", "less than or equal to 1"),
        ({"random_seed": -1}, "workforce.random_seed", "greater than or equal to 0"),
        ({"end_year": 2020}, "workforce.end_year", "must be >= start_year"),
        (
            {"promotion": {"rates": {1: 1.5}}},
            "workforce.promotion.rates[1]",
            "less than or equal to 1",
        ),
        ({"termination": {"new_hire_rate": 0.95}}, "workforce.termination.new_hire_rate", "0.9"),
        (
            {"termination": {"rates": {1: [0.1], 2: [0.1], 3: [0.1], 4: [0.1], 5: [0.1]}}},
            "workforce.termination.rates[1]",
            "one rate per tenure band",
        ),
        (
            {"compensation": {"new_hire_mix": {1: 0.5, 2: 0.2, 3: 0.1, 4: 0.1, 5: 0.05}}},
            "workforce.compensation.new_hire_mix",
            "sum to 1",
        ),
        (
            {"employer": {"match_tiers": [{"up_to": 0.05, "rate": 1}, {"up_to": 0.03, "rate": 1}]}},
            "workforce.employer.match_tiers",
            "ascending",
        ),
        (
            {
                "irs_limits": {
                    2030: {"deferral": 1, "catch_up": 0, "compensation": 1, "annual_additions": 1}
                }
            },
            "workforce.irs_limits",
            "start_year 2025",
        ),
        ({"escalation": {"cap": "high"}}, "workforce.escalation.cap", "valid number"),
        ({"census": {"sampel_size": 10}}, "workforce.census.sampel_size", "Extra inputs"),
        (
            {"census": {"min_age_at_hire": 101}},
            "workforce.census.min_age_at_hire",
            "less than or equal to 100",
        ),
        (
            {"census": {"min_age_at_hire": -1}},
            "workforce.census.min_age_at_hire",
            "greater than or equal to 0",
        ),
        ({"census": {"min_age_at_hire": 14.5}}, "workforce.census.min_age_at_hire", "integer"),
        ({"census": {"min_age_at_hire": True}}, "workforce.census.min_age_at_hire", "integer"),
        (
            {"census": {"columns": {"salary": "employee_gross_compensation"}}},
            "workforce.census.columns.salary",
            "not a census column",
        ),
        (
            {"census": {"columns": {"birth_date": ""}}},
            "workforce.census.columns.birth_date",
            "needs the name of a column",
        ),
        (
            {"census": {"columns": {"birth_date": "d", "hire_date": "d"}}},
            "workforce.census.columns",
            "(got ['d'] more than once)",
        ),
        ({"census": {"columns": ["emp_no"]}}, "workforce.census.columns", "valid dictionary"),
    ],
)
def test_bad_value_rejected_naming_key(tmp_path, section, key, allowed):
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, section)
    message = str(err.value)
    assert key in message and allowed in message
    assert str(tmp_path / "headwater.yaml") in message


def test_census_settings_defaults_and_mapping(tmp_path):
    assert _load(tmp_path, {}).census == CensusSettings(min_age_at_hire=14, columns={})
    path = tmp_path / "mapped.yaml"  # settings files are read once per path
    section = {
        "min_age_at_hire": 16,
        "columns": {"birth_date": "employee_birth_date", "hire_date": "employee_hire_date"},
    }
    path.write_text(yaml.safe_dump({"workforce": {"census": section}}))
    census = load_workforce_config(path).census
    assert census.min_age_at_hire == 16
    assert census.columns["birth_date"] == "employee_birth_date"


def test_seed_override(tmp_path):
    path = tmp_path / "headwater.yaml"
    path.write_text(yaml.safe_dump({"workforce": {"random_seed": 1}}))
    assert load_workforce_config(path, random_seed=99).random_seed == 99
    with pytest.raises(ConfigError, match="--seed"):
        load_workforce_config(path, random_seed=-5)

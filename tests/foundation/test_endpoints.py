"""Every source's endpoint from the settings file, with an environment variable over it,
reaches the live resources (it could only be given in run config, repeating mode, key and
URL), and `headwater doctor` shows and checks each."""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from assets.energy.config import load_energy_config
from assets.energy.definitions import energy_source_resources
from assets.market.config import load_market_config
from assets.market.definitions import market_source
from assets.prospects.config import load_prospects_config
from tests.conftest import REPO_ROOT

BIN = Path(sys.executable).parent


def settings_file(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "headwater.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_the_settings_file_names_endpoints_and_the_environment_overrides_them(
    tmp_path, monkeypatch
):
    path = settings_file(
        tmp_path,
        {
            "energy": {"eia": {"base_url": "http://127.0.0.1:8081/v2"}},
            "market": {"gateway": "https://127.0.0.1:8443"},
            "prospects": {"urls": {"nfl": "http://127.0.0.1:8082/combine.csv"}},
        },
    )
    for name in ("HEADWATER_EIA_URL", "HEADWATER_DATABENTO_GATEWAY", "HEADWATER_FRED_URL"):
        monkeypatch.delenv(name, raising=False)
    energy, market = load_energy_config(path), load_market_config(path)
    assert energy.endpoint("eia") == ("http://127.0.0.1:8081/v2", "settings file")
    assert energy.endpoint("fred") == (None, "default")
    assert market.endpoint() == ("https://127.0.0.1:8443", "settings file")
    assert load_prospects_config(path).endpoint("nfl")[0] == "http://127.0.0.1:8082/combine.csv"
    monkeypatch.setenv("HEADWATER_DATABENTO_GATEWAY", "https://127.0.0.1:9443")
    assert market.endpoint() == ("https://127.0.0.1:9443", "HEADWATER_DATABENTO_GATEWAY")


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("market", {"gateway": "http://127.0.0.1:8443"}, "market.gateway"),
        ("energy", {"eia": {"base_url": "ftp://x"}}, "energy.eia.base_url"),
    ],
)
def test_a_bad_endpoint_in_the_settings_file_names_its_key(tmp_path, key, value, message):
    path = settings_file(tmp_path, {key: value})
    done = subprocess.run(
        [str(BIN / "headwater"), "doctor", "--config", str(path)],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=120,
    )
    assert done.returncode == 2
    assert message in done.stdout


def test_live_resources_call_the_endpoints_from_the_environment(monkeypatch):
    """HEADWATER_MODE=live and the keys, as a user sets them: the gateway and base URLs
    reach the resources without any run config."""
    monkeypatch.setenv("HEADWATER_MODE", "live")
    monkeypatch.setenv("DATABENTO_API_KEY", "db-key-for-a-test")
    monkeypatch.setenv("HEADWATER_DATABENTO_GATEWAY", "https://127.0.0.1:9443")
    monkeypatch.setenv("HEADWATER_EIA_URL", "http://127.0.0.1:9081/v2")
    monkeypatch.setenv("HEADWATER_YAHOO_URL", "http://127.0.0.1:9083")
    source = market_source()
    assert (source.mode, source.gateway) == ("live", "https://127.0.0.1:9443")
    energy = energy_source_resources()
    assert energy["eia"].base_url == "http://127.0.0.1:9081/v2"
    assert energy["yahoo"].base_url == "http://127.0.0.1:9083"
    assert energy["fred"].base_url is None  # the real API's


def test_doctor_fails_a_bad_endpoint_in_live_mode_and_names_the_variable(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "DAGSTER_HOME": str(tmp_path / "home"),
        "HEADWATER_WAREHOUSE": str(tmp_path / "wh.duckdb"),
        "HEADWATER_MODE": "live",
        "EIA_API_KEY": "k" * 12,
        "FRED_API_KEY": "k" * 12,
        "DATABENTO_API_KEY": "k" * 12,
        "HEADWATER_DATABENTO_GATEWAY": "http://127.0.0.1:8443",
    }
    done = subprocess.run(
        [str(BIN / "headwater"), "doctor"],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=env,
        timeout=120,
    )
    assert done.returncode == 2
    line = next(x for x in done.stdout.splitlines() if " endpoints " in x)
    assert line.startswith("FAIL") and "HEADWATER_DATABENTO_GATEWAY" in line and "https://" in line

"""The catalogue of the loaded code location (headwater.catalogue): every asset has its
domain's owners from the settings, a compute and a storage kind, and staging, canonical and
mart assets carry their layer, so look-alike names are told apart in every view."""

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from assets.energy.config import EnergyConfig
from assets.market.config import MarketConfig
from assets.prospects.config import ProspectsConfig
from assets.workforce.config import WorkforceConfig
from assets.workforce.definitions import build_defs
from definitions import defs
from headwater import settings
from headwater.catalogue import COMPUTE_KINDS, STORAGE_KINDS, catalogued
from headwater.config import ConfigError, validate_section

REPO = Path(__file__).resolve().parents[2]
NODES = sorted(defs.resolve_asset_graph().asset_nodes, key=lambda n: n.key.to_user_string())
MODELS = {
    "energy": EnergyConfig,
    "market": MarketConfig,
    "prospects": ProspectsConfig,
    "workforce": WorkforceConfig,
}


def test_every_asset_has_its_domains_owners():
    expected = {
        domain: importlib.import_module(f"assets.{domain}.config").load_config().owners
        for domain in MODELS
    }
    assert {n.group_name for n in NODES} == set(MODELS)
    wrong = {n.key.to_user_string(): n.owners for n in NODES if n.owners != expected[n.group_name]}
    assert not wrong


def test_the_settings_file_sets_the_owners(tmp_path):
    """Another settings file, other owners: on every asset of each domain, in a fresh
    process (the domains read HEADWATER_CONFIG when their definitions load)."""
    owners = {d: [f"team:{d}-data", f"lead.{d}@example.com"] for d in MODELS}
    config = tmp_path / "headwater.yaml"
    config.write_text(json.dumps({d: {"owners": o} for d, o in owners.items()}))
    script = (
        "import json; from definitions import defs\n"
        "print(json.dumps({n.key.to_user_string(): [n.group_name, list(n.owners)]"
        " for n in defs.resolve_asset_graph().asset_nodes}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        env={**os.environ, "HEADWATER_CONFIG": str(config)},
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assets = json.loads(out.stdout.strip().splitlines()[-1])
    assert len(assets) == len(NODES)
    assert all(got == owners[group] for group, got in assets.values())


def test_workforce_owners_follow_its_config_path(tmp_path):
    config = tmp_path / "headwater.yaml"
    config.write_text("workforce:\n  owners: [hr-analytics@example.com]\n")
    specs = [spec for asset in build_defs(config).assets for spec in asset.specs]
    assert len(specs) > 20
    assert {tuple(spec.owners) for spec in specs} == {("hr-analytics@example.com",)}


@pytest.mark.parametrize("domain", MODELS)
@pytest.mark.parametrize("bad", ["energy team", "team:", "someone@localhost", ""])
def test_a_bad_owner_is_refused_in_one_line_naming_the_key(domain, bad):
    with pytest.raises(ConfigError) as err:
        validate_section({domain: {"owners": ["team:ok", bad]}}, domain, MODELS[domain], "h.yaml")
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"h.yaml: {domain}.owners[1]: ")
    assert "email address or team:<name>" in message


@pytest.mark.parametrize("domain", MODELS)
def test_owners_default_to_the_domains_team_and_may_not_be_empty(domain):
    assert MODELS[domain]().owners == [f"team:{domain}"]
    with pytest.raises(ConfigError, match=rf"^h\.yaml: {domain}\.owners: "):
        validate_section({domain: {"owners": []}}, domain, MODELS[domain], "h.yaml")


@pytest.mark.parametrize("node", NODES, ids=lambda n: n.key.to_user_string())
def test_every_asset_has_a_compute_and_a_storage_kind(node):
    kinds = set(node.kinds)
    assert len(kinds & COMPUTE_KINDS) == 1, kinds
    assert kinds & STORAGE_KINDS, kinds
    if node.key.path[0] == "reports":  # files under reports/
        assert kinds & {"csv", "json"}, kinds
    else:  # a warehouse table
        assert settings.warehouse_engine() in kinds, kinds


def test_workforce_census_and_reports_have_their_kinds():
    kinds = {n.key.to_user_string(): set(n.kinds) for n in NODES}
    assert kinds["workforce/census"] == {"python", settings.warehouse_engine()}
    assert kinds["reports/workforce_year"] == {"python", "json"}
    assert kinds["reports/workforce_summary"] == {"python", "csv"}
    assert kinds["snapshots/prospects"] == {"python", settings.warehouse_engine(), "parquet"}


@pytest.mark.parametrize("node", NODES, ids=lambda n: n.key.to_user_string())
def test_staging_canonical_and_marts_carry_their_layer(node):
    schema, kinds = node.key.path[0], set(node.kinds)
    layers = kinds & {"bronze", "silver", "gold"}
    if schema == "staging":
        assert layers == {"bronze"} and node.description.startswith("Staging: ")
    elif schema == "canonical":
        assert layers == {"silver"} and node.description.startswith("Canonical: ")
    elif schema in ("marts", "prospects_marts"):
        assert layers == {"gold"} and "dbt" in kinds
    else:
        assert not layers


def test_look_alike_names_are_told_apart():
    """The lineage graph labels a node with its key's last part: two assets may share it
    (staging/market_trades, canonical/market_trades) only with different kinds."""
    seen: dict[tuple, str] = {}
    for node in NODES:
        label = (node.key.path[-1], frozenset(node.kinds))
        assert label not in seen, f"{node.key.to_user_string()} looks like {seen[label]}"
        seen[label] = node.key.to_user_string()
    assert any(n.key.to_user_string() == "canonical/market_trades" for n in NODES)


def test_an_asset_without_a_compute_or_storage_kind_is_refused():
    @dg.asset(key=["staging", "bare"], kinds={"duckdb"})
    def bare(): ...

    with pytest.raises(ValueError, match=r"^staging/bare: kinds \['duckdb'\] need one compute"):
        catalogued([bare], ["team:x"])

    @dg.asset(key=["staging", "typed"], kinds={"python", "duckdb"}, description="As received.")
    def typed(): ...

    (spec,) = catalogued([typed], ["team:x"])[0].specs
    assert spec.owners == ["team:x"] and "bronze" in spec.kinds
    assert spec.description == "Staging: As received."
    # Applying it twice (a domain's defs rebuilt) keeps one prefix.
    (again,) = catalogued(catalogued([typed], ["team:x"]), ["team:x"])[0].specs
    assert again.description == "Staging: As received."

"""Every asset and check of the code location says what it is, and its definition
metadata is something the UI can show. Loads the definitions; materializes nothing."""

import json
import os
import re
from pathlib import Path

import dagster as dg
import pytest

from assets.energy.marts import energy_marts
from definitions import defs
from resources.dbt import HeadwaterTranslator, dbt_project

# "W-C02 (ERROR): ...", "G-01 (ERROR, blocking): ...", "D-07 (ERROR): ...", "W-04 (WARN): ..."
CHECK_DESCRIPTION = re.compile(r"^[A-Z]-?[A-Z]?\d+ \((ERROR|WARN)(, blocking)?\): \S")
# What an asset says when nobody described it: "dbt model int_hiring_events ..."
BARE_FALLBACK = re.compile(r"^dbt (model|seed|snapshot|source) \w+\b")
# Values the UI can render (dagster's raw metadata types); anything else is shown as
# "[ClassName] (unserializable)".
RENDERABLE = (
    dg.MetadataValue,
    str,
    int,
    float,
    bool,
    list,
    dict,
    type(None),
    dg.AssetKey,
    dg.TableSchema,
    dg.TableColumnLineage,
    os.PathLike,
)
# dagster-dbt's run-time handles: `dbt.cli(context=...)` reads them from the asset's
# metadata, and the UI leaves these two keys out of its metadata tables.
DBT_RUNTIME_KEYS = {"dagster_dbt/manifest", "dagster_dbt/dagster_dbt_translator"}

GRAPH = defs.resolve_asset_graph()
ASSET_NODES = sorted(GRAPH.asset_nodes, key=lambda n: n.key.to_user_string())
CHECK_SPECS = sorted(
    (spec for ad in GRAPH.assets_defs for spec in ad.check_specs),
    key=lambda s: s.key.to_user_string(),
)


def test_the_walk_covers_every_asset_and_check():
    assert len(ASSET_NODES) == len(defs.resolve_all_asset_keys()) > 30
    assert {s.key for s in CHECK_SPECS} == set(GRAPH.asset_check_keys)
    assert len(CHECK_SPECS) > 30


@pytest.mark.parametrize("node", ASSET_NODES, ids=lambda n: n.key.to_user_string())
def test_every_asset_says_what_it_holds(node):
    description = (node.description or "").strip()
    assert description, "no description"
    assert "Raw SQL" not in description and "```" not in description
    assert not description.startswith("#"), "the catalog's one-line preview would be a heading"
    assert not BARE_FALLBACK.match(description), description


@pytest.mark.parametrize("spec", CHECK_SPECS, ids=lambda s: s.key.to_user_string())
def test_every_check_starts_with_rule_id_and_severity(spec):
    assert CHECK_DESCRIPTION.match(spec.description or ""), spec.description


def test_dbt_assets_carry_their_schema_yml_description():
    nodes = json.loads(Path(dbt_project.manifest_path).read_text())["nodes"]
    by_name = {n["name"]: n for n in nodes.values() if n["resource_type"] == "model"}
    dbt_kind = [n for n in ASSET_NODES if "dbt" in (n.kinds or ())]
    # energy marts, workforce models, prospects views, market marts
    assert len(dbt_kind) == 4 + 19 + 3 + 3
    for node in dbt_kind:
        expected = by_name[node.key.path[-1]]["description"].strip()
        assert expected and node.description.startswith(expected), node.key


def test_every_dbt_model_and_test_has_a_description():
    """The workforce tests run inside each year's build and are not Dagster checks; they
    are described in their schema.yml all the same."""
    nodes = json.loads(Path(dbt_project.manifest_path).read_text())["nodes"]
    ours = [n for n in nodes.values() if n["resource_type"] in ("model", "test")]
    assert len(ours) > 40
    missing = [n["unique_id"] for n in ours if not (n.get("description") or "").strip()]
    assert missing == []


@pytest.mark.parametrize(
    "spec",
    sorted(defs.resolve_all_asset_specs(), key=lambda s: s.key.to_user_string()),
    ids=lambda s: s.key.to_user_string(),
)
def test_definition_metadata_is_renderable(spec):
    unrenderable = {
        key: type(value).__name__
        for key, value in spec.metadata.items()
        if key not in DBT_RUNTIME_KEYS and not isinstance(value, RENDERABLE)
    }
    assert unrenderable == {}


# ---- the translator


def test_translator_describes_a_node_by_its_description_only():
    props = {
        "resource_type": "model",
        "name": "price_panel",
        "description": "Wide daily price panel.\n",
        "raw_code": "select 1",
    }
    assert HeadwaterTranslator().get_description(props) == "Wide daily price panel."


def test_translator_falls_back_to_one_line_naming_the_model():
    props = {"resource_type": "model", "name": "x", "description": "", "raw_code": "select 1"}
    fallback = HeadwaterTranslator().get_description(props)
    assert "\n" not in fallback and "select" not in fallback
    assert BARE_FALLBACK.match(fallback)  # which the walk above refuses


def test_translator_drops_the_dbt_project_but_keeps_what_dbt_cli_reads():
    for metadata in energy_marts.metadata_by_key.values():
        assert HeadwaterTranslator.PROJECT_METADATA_KEY not in metadata
        assert DBT_RUNTIME_KEYS <= set(metadata)
        assert metadata["dagster_dbt/unique_id"].startswith("model.headwater.")

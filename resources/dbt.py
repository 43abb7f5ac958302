"""The one dbt project and the translator that maps its nodes onto the asset graph.

Keys are `[schema, table]` of the warehouse table a node writes (sources keep
the key of the Python asset that writes them), groups are the domain folder
under models/, and dbt tests stay on as asset checks.
"""

import importlib.metadata
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import cached_property
from typing import Any

from dagster import AssetCheckSpec, AssetKey, AssetSpec, AutomationCondition
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
)
from packaging import version

from headwater import settings

dbt_project = DbtProject(
    project_dir=settings.DBT_PROJECT_DIR, profiles_dir=settings.DBT_PROJECT_DIR
)


# Dagster's eager() without "any dependency missing": canonical tables are partitioned (by
# month, day) and most users never load every partition since the start date, so a missing
# partition upstream must not stop the marts from following the ones that are loaded.
FOLLOW_INPUTS = (
    AutomationCondition.eager()
    .without(~AutomationCondition.any_deps_missing())
    .with_label("eager, partial history allowed")
)


class HeadwaterTranslator(DagsterDbtTranslator):
    # dagster-dbt's metadata key for the DbtProject (dagster_dbt.asset_utils, not exported).
    PROJECT_METADATA_KEY = "dagster_dbt/project"

    def __init__(self) -> None:
        super().__init__(
            settings=DagsterDbtTranslatorSettings(
                enable_asset_checks=True, enable_source_tests_as_checks=True
            )
        )

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])
        table = dbt_resource_props.get("alias") or dbt_resource_props["name"]
        return AssetKey([dbt_resource_props["schema"], table])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        # models/<domain>/... -> group <domain>
        fqn = dbt_resource_props.get("fqn") or []
        return fqn[1] if len(fqn) > 2 else None

    def get_description(self, dbt_resource_props: Mapping[str, Any]) -> str:
        """What the table holds, from the node's `description` in its schema.yml. dagster-dbt
        appends the raw SQL ("#### Raw SQL:"), which then fills the catalog's one-line
        preview; the SQL is in the dbt project."""
        description = (dbt_resource_props.get("description") or "").strip()
        if description:
            return description
        kind, name = dbt_resource_props["resource_type"], dbt_resource_props["name"]
        return f"dbt {kind} {name} (no description in its schema.yml yet)."

    def get_asset_spec(
        self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None
    ) -> AssetSpec:
        """dagster-dbt's spec without its `dagster_dbt/project` metadata: a DbtProject cannot
        be serialized, so the UI shows it as "[DbtProject] (unserializable)". Runs do not
        need it there (the dbt resource has the same project). The manifest and translator
        entries stay: `dbt.cli(context=...)` reads them, and the UI hides those two keys."""
        spec = super().get_asset_spec(manifest, unique_id, project)
        if self.PROJECT_METADATA_KEY not in spec.metadata:
            return spec
        metadata = {k: v for k, v in spec.metadata.items() if k != self.PROJECT_METADATA_KEY}
        return spec.replace_attributes(metadata=metadata)

    def get_asset_check_spec(self, asset_spec, manifest, unique_id, project):
        """dbt tests as checks, described by the test's own `description` (dagster-dbt reads
        only `meta.description`), with the automation condition `check_automation` gives."""
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None:
            return None
        test = manifest["nodes"][unique_id]
        return AssetCheckSpec(
            spec.name,
            asset=spec.asset_key,
            description=test.get("description") or spec.description,
            additional_deps=spec.additional_deps,
            blocking=spec.blocking,
            metadata=spec.metadata,
            automation_condition=self.check_automation(spec),
        )

    def check_automation(self, spec: AssetCheckSpec) -> AutomationCondition | None:
        return spec.automation_condition


class HeadwaterDbtCli(DbtCliResource):
    """dagster-dbt's resource, without two costs paid on every dbt step of every run: a
    `dbt --version` subprocess (dbt-core is in this venv: its version is the package's)
    and an in-process dbt adapter with every macro loaded, which dagster-dbt uses only to
    fetch column metadata and row counts, and Headwater asks for neither. Together they
    took 5-10 s of each dbt step on a 2-core machine (docs/benchmarks.md)."""

    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(importlib.metadata.version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args):
        return None


def dbt_cli() -> DbtCliResource:
    return HeadwaterDbtCli(
        project_dir=dbt_project,
        dbt_executable=str(settings.dbt_executable()),
    )


@contextmanager
def dbt_environment(**values: str) -> Iterator[None]:
    """Environment variables dbt reads (the profile's HEADWATER_WAREHOUSE, the simulation
    year), set for one invocation and restored after, so one run's warehouse never
    leaks into what this process does next."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def dbt_build(context, dbt: DbtCliResource, warehouse) -> Iterator:
    """`dbt build` for the selected models, streaming events: dbt runs in a subprocess,
    pointed at the warehouse resource's database (its target and connection) and under
    its writer lock (DuckDB's one writer; nothing for PostgreSQL)."""
    with dbt_environment(**warehouse.dbt_env()), warehouse.writer_lock():
        yield from dbt.cli(["build"], context=context).stream()

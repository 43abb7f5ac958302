"""The one dbt project and the translator that maps its nodes onto the asset graph.

Keys are `[schema, table]` of the warehouse table a node writes (sources keep
the key of the Python asset that writes them), groups are the domain folder
under models/, and dbt tests stay on as asset checks.
"""

import hashlib
import importlib.metadata
import json
import os
import shutil
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, Set
from contextlib import contextmanager
from functools import cache, cached_property
from pathlib import Path
from typing import Any

from dagster import AssetCheckKey, AssetCheckSpec, AssetKey, AssetSpec, AutomationCondition
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


TARGET_DIR = Path(dbt_project.project_dir) / "target"
PARTIAL_PARSE_FILE = "partial_parse.msgpack"
KEEP = 20  # partial parses (warehouses) and invocation folders kept
KEEP_YOUNGER_S = 3600.0  # never removed while this young: a run may still be using it


def parse_cache(env: Mapping[str, str]) -> Path:
    """Where dbt's partial parse for one warehouse is kept between invocations.

    dbt discards its saved parse when the profile's connection changes ("Unable to do
    partial parsing because profile has changed"), and the warehouse's path or database
    is part of it: with one shared file, each warehouse (a test's, a benchmark's, the
    one in data/) made the next dbt step on another re-parse the whole project, about
    3.5 s of CPU a step here. One file per dbt environment (target and connection) keeps
    each warehouse's parse warm; dbt still checks every file's hash, so a stale one only
    costs a re-parse."""
    key = "\n".join(f"{k}={v}" for k, v in sorted(env.items()))
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return TARGET_DIR / "partial_parse" / f"{digest}.msgpack"


def invocation_target(name: str) -> Path:
    """A new target folder for one dbt invocation (manifest, run results, dbt.log), under
    target/runs/, where only the newest are kept (`prune`)."""
    return TARGET_DIR / "runs" / f"{name}-{uuid.uuid4().hex[:7]}"


def prune(folder: Path) -> None:
    """Remove all but the newest KEEP entries of `folder`, none younger than an hour: each
    test, benchmark or warehouse adds one, and nothing else would remove them."""
    try:
        entries = sorted(folder.iterdir(), key=lambda e: e.stat().st_mtime, reverse=True)
    except FileNotFoundError:
        return
    now = time.time()
    for entry in entries[KEEP:]:
        try:
            if now - entry.stat().st_mtime < KEEP_YOUNGER_S:
                continue
            if entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink()
        except FileNotFoundError:  # another process pruned it first
            pass


def seed_target(target: Path, env: Mapping[str, str]) -> None:
    """Give a new target folder the warehouse's last partial parse, if there is one."""
    cached = parse_cache(env)
    target.mkdir(parents=True, exist_ok=True)
    if cached.exists():
        shutil.copyfile(cached, target / PARTIAL_PARSE_FILE)


def keep_parse(target: Path, env: Mapping[str, str]) -> None:
    """Keep the parse dbt left in `target` for the warehouse's next invocation. The file
    is replaced atomically: other processes may be reading it."""
    produced = target / PARTIAL_PARSE_FILE
    if not produced.exists():
        return
    cached = parse_cache(env)
    cached.parent.mkdir(parents=True, exist_ok=True)
    partial = cached.with_name(f"{cached.name}.{uuid.uuid4().hex[:8]}")
    shutil.copyfile(produced, partial)
    os.replace(partial, cached)
    prune(cached.parent)
    prune(TARGET_DIR / "runs")


# dagster-dbt's metadata key for the dbt node behind an asset or check spec (not exported).
UNIQUE_ID_METADATA_KEY = "dagster_dbt/unique_id"


@cache
def _manifest_nodes(path: str, mtime_ns: int) -> dict[str, Any]:
    return json.loads(Path(path).read_text())["nodes"]


def manifest_nodes() -> dict[str, Any]:
    """The manifest's nodes, read once per version of the file (`make setup` re-parses)."""
    path = Path(dbt_project.manifest_path)
    return _manifest_nodes(str(path), path.stat().st_mtime_ns)


def unselected_tests(
    check_specs: Iterable[AssetCheckSpec], selected: Set[AssetCheckKey], nodes: Mapping
) -> list[str]:
    """The dbt tests (fully qualified names) of the checks a run did not select, for
    `--exclude`. dagster-dbt adds the tests on the sources upstream of the selected models to
    every subset it builds (the dbt tests on canonical prices, whenever a mart is rebuilt), and
    Dagster then lets their unselected results through with one warning each; excluded, they
    are not run twice and say nothing."""
    names = []
    for spec in check_specs:
        unique_id = (spec.metadata or {}).get(UNIQUE_ID_METADATA_KEY)
        if spec.key not in selected and unique_id in nodes:
            names.append(".".join(nodes[unique_id]["fqn"]))
    return sorted(names)


def dbt_build(context, dbt: DbtCliResource, warehouse) -> Iterator:
    """`dbt build` for the selected models and checks, streaming events: dbt runs in a
    subprocess, pointed at the warehouse resource's database (its target and connection) and
    under its writer lock (DuckDB's one writer; nothing for PostgreSQL). Its target folder is
    new (as dagster-dbt makes them) and starts from the warehouse's partial parse."""
    env = warehouse.dbt_env()
    target = invocation_target(f"{context.op_execution_context.op.name}-{context.run.run_id[:7]}")
    excluded = unselected_tests(
        context.assets_def.node_check_specs_by_output_name.values(),
        context.selected_asset_check_keys,
        manifest_nodes(),
    )
    args = ["build", *(["--exclude", " ".join(excluded)] if excluded else [])]
    seed_target(target, env)
    try:
        with dbt_environment(**env), warehouse.writer_lock():
            yield from dbt.cli(args, context=context, target_path=target).stream()
    finally:
        keep_parse(target, env)

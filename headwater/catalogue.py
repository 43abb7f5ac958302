"""The catalogue: what every asset says about itself in the UI, one rule for every domain,
applied where each domain builds its Definitions (`catalogued`).

- Owners: the domain's `<domain>.owners` setting (headwater.config.Owners), on every asset.
- Kinds: one compute kind and one storage kind, declared by the asset itself and checked
  here, so a new asset without them fails at load instead of showing a bare node.
- Layers: the lineage graph labels a node with the last part of its key, so
  staging/market_trades and canonical/market_trades look alike. Asset keys stay
  [schema, table]; the schema's medallion kind (Dagster's own `bronze`, `silver`, `gold`,
  which the UI draws as badges with icons) and a description starting with the layer
  ("Staging: ...") tell them apart in the graph, the asset lists and the launch dialog.
"""

from collections.abc import Iterable, Sequence

import dagster as dg

COMPUTE_KINDS = frozenset({"python", "dbt"})
# The warehouse engine (settings.warehouse_engine()), or the files an asset writes.
STORAGE_KINDS = frozenset({"duckdb", "postgres", "parquet", "csv", "json"})

# Warehouse schema (an asset key's first part) -> its medallion layer: staging holds
# records as received (after the record rules), canonical the reconciled or transformed
# ones, marts what users read (dbt).
LAYERS = {"staging": "bronze", "canonical": "silver", "marts": "gold", "prospects_marts": "gold"}
# The word a layer's descriptions start with, where two schemas share table names.
PREFIXES = {"staging": "Staging", "canonical": "Canonical"}


def catalogued(
    assets: Iterable[dg.AssetsDefinition], owners: Sequence[str]
) -> list[dg.AssetsDefinition]:
    """`assets` (multi-assets and dbt assets included) with `owners`, their layer's kind and
    description; ValueError naming the asset when its kinds lack a compute or storage kind."""
    return [asset.map_asset_specs(lambda spec: _entry(spec, owners)) for asset in assets]


def _entry(spec: dg.AssetSpec, owners: Sequence[str]) -> dg.AssetSpec:
    kinds = set(spec.kinds)
    if len(kinds & COMPUTE_KINDS) != 1 or not kinds & STORAGE_KINDS:
        raise ValueError(
            f"{spec.key.to_user_string()}: kinds {sorted(kinds)} need one compute kind "
            f"({', '.join(sorted(COMPUTE_KINDS))}) and a storage kind "
            f"({', '.join(sorted(STORAGE_KINDS))})"
        )
    schema = spec.key.path[0]
    if schema in LAYERS:
        kinds.add(LAYERS[schema])
    description = spec.description or ""
    prefix = PREFIXES.get(schema)
    if prefix and not description.startswith(f"{prefix}: "):
        description = f"{prefix}: {description}"
    return spec.replace_attributes(owners=list(owners), kinds=kinds, description=description)

"""Names of the market tables and assets: `market_<schema>` in staging, canonical and
quarantine; an asset's key is [schema, table] of the table it writes."""

import dagster as dg


def table_name(schema: str) -> str:
    return "market_" + schema.replace("-", "_")


def staging_key(schema: str) -> dg.AssetKey:
    return dg.AssetKey(["staging", table_name(schema)])


def canonical_key(schema: str) -> dg.AssetKey:
    return dg.AssetKey(["canonical", table_name(schema)])

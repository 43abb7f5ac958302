"""The checks on what a market run loaded (M-C01..M-C04): on the partitions of the run,
canonical rows unique by their key, prices positive and finite, and a sample of what broke
a rule in the check's metadata."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import dagster as dg

from assets.market.keys import canonical_key, table_name
from resources.warehouse import Warehouse, quote_table

if TYPE_CHECKING:
    import pyarrow as pa

SAMPLE_ROWS = 10
FLOAT_MAX = 1.7976931348623157e308  # the largest finite double


# What makes a canonical row unique, per schema (check M-C02), within its dataset
# (instrument ids are unique within a dataset only).
UNIQUE_KEYS = {
    "ohlcv-1d": ("instrument_id", "bar_date"),
    "ohlcv-1m": ("instrument_id", "bar_start"),
    "trades": ("instrument_id", "received_at", "sequence"),
    "statistics": ("instrument_id", "stat_type", "trading_date", "received_at", "sequence"),
    "definition": ("instrument_id", "partition_date"),
    "ohlcv-1s": ("instrument_id", "bar_start"),
    "ohlcv-1h": ("instrument_id", "bar_start"),
    "tbbo": ("instrument_id", "received_at", "sequence"),
    # Several top-of-book events can share a packet (received_at, sequence): the event too.
    "mbp-1": ("instrument_id", "received_at", "sequence", "action", "side", "price", "size"),
    "bbo-1s": ("instrument_id", "sampled_at"),
    "bbo-1m": ("instrument_id", "sampled_at"),
    "status": ("instrument_id", "received_at", "action", "reason", "trading_event"),
}
PRICE_COLUMNS = {
    "ohlcv-1d": ("open", "high", "low", "close"),
    "ohlcv-1m": ("open", "high", "low", "close"),
    "trades": ("price",),
    "statistics": ("price",),
    "definition": ("tick",),
    "ohlcv-1s": ("open", "high", "low", "close"),
    "ohlcv-1h": ("open", "high", "low", "close"),
    # Null (an empty side, no trade yet) is not a bad price: only a present one is judged.
    "tbbo": ("price", "bid_price", "ask_price"),
    "mbp-1": ("price", "bid_price", "ask_price"),
    "bbo-1s": ("last_price", "bid_price", "ask_price"),
    "bbo-1m": ("last_price", "bid_price", "ask_price"),
    "status": (),  # no price
}


def _quoted_columns(columns) -> str:
    return ", ".join(f'"{c}"' for c in columns)


def canonical_checks(
    warehouse: Warehouse, con, schema: str, partitions: list[str]
) -> list[dg.AssetCheckResult]:
    """Post-transformation rules over the run's partitions of canonical.market_<schema>, a
    partition at a time (memory stays bounded by a partition, whatever the run's range)."""
    import pyarrow as pa

    table = f"canonical.{table_name(schema)}"
    key = canonical_key(schema)
    if not warehouse.table_exists(table, con):
        return []
    qualified = quote_table(table)
    keys = _quoted_columns(("dataset", *UNIQUE_KEYS[schema]))
    # Finite and above zero, in SQL both engines run: NaN sorts above every number in
    # DuckDB and PostgreSQL alike, so the upper bound (the largest double) excludes it and inf.
    bad_price = (
        " OR ".join(f'NOT ("{p}" > 0 AND "{p}" <= {FLOAT_MAX!r})' for p in PRICE_COLUMNS[schema])
        or "FALSE"
    )
    if schema == "statistics":  # a quantity statistic has no price
        bad_price = f"stat_type IN (1, 3, 4, 5, 11, 13) AND ({bad_price})"
    unmapped = dupe_total = bad = 0
    dupes: list[pa.Table] = []
    for partition in partitions:
        params = [date.fromisoformat(partition)]
        where = "partition_date = ?"
        unmapped += warehouse.scalar(
            f"SELECT count(*) FROM {qualified} WHERE {where} "
            "AND (contract IS NULL OR root IS NULL)",
            params,
            con,
        )
        found = warehouse.query(
            f"SELECT {keys}, count(*) AS n FROM {qualified} WHERE {where} "
            f"GROUP BY {keys} HAVING count(*) > 1",
            params,
            con,
        )
        dupe_total += found.num_rows
        if found.num_rows and sum(t.num_rows for t in dupes) < SAMPLE_ROWS:
            dupes.append(found.slice(0, SAMPLE_ROWS))
        bad += warehouse.scalar(
            f"SELECT count(*) FROM {qualified} WHERE {where} AND ({bad_price})", params, con
        )
    sample = pa.concat_tables(dupes).slice(0, SAMPLE_ROWS) if dupes else pa.table({})
    return [
        dg.AssetCheckResult(
            asset_key=key,
            check_name="contracts_mapped",
            passed=unmapped == 0,
            metadata={"rows_without_contract": unmapped},
        ),
        dg.AssetCheckResult(
            asset_key=key,
            check_name="unique_records",
            passed=dupe_total == 0,
            metadata={
                "key": ", ".join(("dataset", *UNIQUE_KEYS[schema])),
                "duplicate_keys": dupe_total,
                "sample": dg.MetadataValue.md(_md(sample)),
            },
        ),
        dg.AssetCheckResult(
            asset_key=key,
            check_name="prices_positive",
            passed=bad == 0,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"rows_with_price_not_positive": bad},
        ),
    ]


def _md(table: pa.Table) -> str:
    if not table.num_rows:
        return "none"
    names = table.column_names
    lines = ["| " + " | ".join(names) + " |", "|" + "---|" * len(names)]
    for row in table.to_pylist():
        lines.append("| " + " | ".join(str(row[n]) for n in names) + " |")
    return "\n".join(lines)


CHECK_DOCS = {
    "contracts_mapped": "M-C01 (ERROR, blocking): every row has its contract and root, "
    "mapped through the instrument definitions.",
    "unique_records": "M-C02 (ERROR, blocking): one row per record key in the loaded windows.",
    "prices_positive": "M-C03 (WARN): every price is finite and above zero.",
}
STAGING_CHECK_DOCS = {
    "records_conserved": "M-C04 (ERROR): for every partition loaded, records read = rows "
    "staged + rows quarantined.",
}

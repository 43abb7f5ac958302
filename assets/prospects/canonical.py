"""Canonical prospects: the five staging tables of a draft year reconciled into one person
per prospect (assets.prospects.reconcile), written as the canonical `prospect_*` tables,
`reconciliation_conflicts` and `prospect_review`, all in one transaction per draft year.

Quality rules on the result are asset checks (P-Q01..P-Q05): unique prospect ids (ERROR),
position and school consistent across sources (WARN), measurement outliers within position
(WARN), records waiting for review (WARN). Each names its failing rows.
"""

from typing import TYPE_CHECKING

import dagster as dg

from assets.prospects.config import SOURCES
from assets.prospects.reconcile import TABLES as RECONCILED
from assets.prospects.reconcile import reconcile
from assets.prospects.staging import (
    CONFIG,
    SAMPLE_ROWS,
    YEARLY_ASSET,
    arrow_schema,
    run_draft_years,
    staging_key,
    staging_table,
    to_arrow,
)
from resources.warehouse import Warehouse, quote_table

if TYPE_CHECKING:
    import pandas as pd

TABLES = {
    "prospect_core": "One row per prospect and draft year: identity (name, position, school, "
    "every source's id), NFL draft pick, the sources that list the prospect, and lineage "
    "(the winning source and its extraction id).",
    "prospect_measurements": "Winning value of each measurement (height, weight, combine "
    "drills) per prospect, one row per measurement, with the source it came from "
    "(authority: prospects.authority.measurements) and its extraction id.",
    "prospect_college_stats": "Winning value of each college statistic per prospect, one row "
    "per statistic, with its source (prospects.authority.statistics) and extraction id.",
    "prospect_grades": "PFF grades per prospect (games and every grades_* column), with lineage.",
    "prospect_injuries": "Every ESPN injury report of each prospect (the status history), with "
    "lineage.",
    "reconciliation_conflicts": "Every disagreement between sources: prospect, field, each "
    "source's value (JSON), the winning source and value, and the authority rule applied.",
    "prospect_review": "Source records not merged because the match was ambiguous (several "
    "candidates, or a name match with a different school or position family), with the "
    "candidates and the reason; a person decides.",
}
OUTPUTS = {
    "prospect_core": "core",
    "prospect_measurements": "measurements",
    "prospect_college_stats": "college_stats",
    "prospect_grades": "grades",
    "prospect_injuries": "injuries",
    "reconciliation_conflicts": "conflicts",
    "prospect_review": "review",
}
CORE_KEY = dg.AssetKey(["canonical", "prospect_core"])
MEASUREMENTS_KEY = dg.AssetKey(["canonical", "prospect_measurements"])

CHECKS = {
    "unique_prospect_id": (CORE_KEY, "P-Q01 (ERROR): one row per prospect_id."),
    "positions_consistent": (
        CORE_KEY,
        "P-Q02 (WARN): the sources agree on each prospect's position (as canonical "
        "positions: HB = RB, ED = EDGE; each source in its own vocabulary: ESPN's LB may "
        "be an EDGE); disagreements are named.",
    ),
    "schools_consistent": (
        CORE_KEY,
        "P-Q03 (WARN): the sources agree on each prospect's school (after aliases: Ohio St. = "
        "Ohio State); disagreements are named.",
    ),
    "no_measurement_outliers": (
        MEASUREMENTS_KEY,
        "P-Q04 (WARN): no measurement more than prospects.outlier_z standard deviations from "
        "its position's mean in the draft year; outliers are named.",
    ),
    "review_queue_empty": (
        CORE_KEY,
        "P-Q05 (WARN): no source record is waiting in canonical.prospect_review.",
    ),
}


def read_staging(warehouse: Warehouse, year: int) -> "dict[str, pd.DataFrame]":
    """The draft year's rows of every staging table (an absent table: an empty frame), in
    the staging columns' types, ordered by origin."""
    import pyarrow as pa

    frames = {}
    with warehouse.session() as con:
        for source in SOURCES:
            table, schema = staging_table(source), arrow_schema(source)
            if warehouse.table_exists(table, con):
                sql = f"SELECT * FROM {quote_table(table)} WHERE draft_year = ?"
                # Typed by the staging schema (PostgreSQL's rows carry no type for a column
                # that is all null) and sorted by Arrow, byte by byte as DuckDB sorts text:
                # PostgreSQL's ORDER BY would follow the database's locale.
                arrow = warehouse.query(sql, [year], con)
                for name in schema.names:  # a table written before the column was added
                    if name not in arrow.column_names:
                        arrow = arrow.append_column(
                            name, pa.nulls(len(arrow), schema.field(name).type)
                        )
                arrow = arrow.select(schema.names).cast(schema)
                arrow = arrow.sort_by("origin")
            else:
                arrow = schema.empty_table()
            frames[source] = arrow.to_pandas(types_mapper=_nullable)
    return frames


def _nullable(arrow_type):
    import pandas as pd
    import pyarrow as pa

    return {
        pa.int64(): pd.Int64Dtype(),
        pa.float64(): pd.Float64Dtype(),
        pa.string(): pd.StringDtype(),
    }.get(arrow_type)


def _md(df: "pd.DataFrame") -> dg.MetadataValue:
    return dg.MetadataValue.md(df.head(SAMPLE_ROWS).to_markdown(index=False) if len(df) else "none")


def outliers(measurements: "pd.DataFrame", core: "pd.DataFrame", z: float) -> "pd.DataFrame":
    """Measurements more than `z` standard deviations from their position's mean (within
    one draft year), with the prospect's name: prospect_id, name, position, measurement,
    value, z."""
    m = measurements.merge(core[["prospect_id", "name", "position"]], on="prospect_id")
    groups = m.groupby(["draft_year", "position", "measurement"])["value"]
    mean, std = groups.transform("mean"), groups.transform("std")
    m = m.assign(z=((m["value"] - mean) / std).round(2))
    bad = m[(std > 0) & (m["z"].abs() > z)]
    return bad[["prospect_id", "name", "position", "measurement", "value", "z"]].sort_values(
        ["measurement", "prospect_id"]
    )


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            dg.AssetKey(["canonical", table]),
            description=doc,
            deps=[staging_key(s) for s in SOURCES],
            group_name=YEARLY_ASSET["group_name"],
            kinds=YEARLY_ASSET["kinds"],
            tags=YEARLY_ASSET["tags"],
        )
        for table, doc in TABLES.items()
    ],
    name="prospects_reconcile",
    partitions_def=YEARLY_ASSET["partitions_def"],
    backfill_policy=YEARLY_ASSET["backfill_policy"],
    pool=YEARLY_ASSET["pool"],
    check_specs=[
        dg.AssetCheckSpec(name, asset=key, description=doc) for name, (key, doc) in CHECKS.items()
    ],
    description="Reconcile the five staging tables of each draft year into the canonical tables.",
)
def prospects_reconcile(context: dg.AssetExecutionContext, warehouse: Warehouse):
    import pandas as pd

    results: dict[str, list[pd.DataFrame]] = {name: [] for name in [*CHECKS, "core", "review"]}
    for partition in run_draft_years(context):
        year = int(partition)
        staged = read_staging(warehouse, year)
        out = reconcile(
            staged, year, authority=CONFIG.authority, school_aliases=CONFIG.school_aliases
        )
        written = warehouse.replace_many(
            [
                (
                    f"canonical.{table}",
                    to_arrow(getattr(out, attr), RECONCILED[attr]),
                    "draft_year",
                    year,
                    year + 1,
                )
                for table, attr in OUTPUTS.items()
            ]
        )
        linked = out.links["prospect_id"].notna().sum()
        for table in TABLES:
            context.add_asset_metadata(
                {"draft_year": year, "dagster/row_count": written[f"canonical.{table}"]},
                asset_key=dg.AssetKey(["canonical", table]),
                partition_key=partition,
            )
        context.add_asset_metadata(
            {
                "draft_year": year,
                "dagster/row_count": len(out.core),
                "records_in": {s: len(f) for s, f in staged.items()},
                "records_linked": int(linked),
                "records_in_review": len(out.review),
                "conflicts": len(out.conflicts),
                "extractions": sorted(
                    {x for f in staged.values() for x in f["extraction_id"].dropna().unique()}
                ),
            },
            asset_key=CORE_KEY,
            partition_key=partition,
        )
        context.log.info(
            f"draft year {year}: {sum(len(f) for f in staged.values())} staging rows -> "
            f"{len(out.core)} prospects, {len(out.conflicts)} conflicts, {len(out.review)} in review"
        )
        conflicts = out.conflicts
        results["core"].append(out.core)
        results["review"].append(out.review)
        results["positions_consistent"].append(conflicts[conflicts["field"] == "position"])
        results["schools_consistent"].append(conflicts[conflicts["field"] == "school"])
        results["no_measurement_outliers"].append(
            outliers(out.measurements, out.core, CONFIG.outlier_z)
        )

    core = pd.concat(results["core"], ignore_index=True)
    dupes = core[core["prospect_id"].duplicated(keep=False)]
    yield dg.AssetCheckResult(
        asset_key=CORE_KEY,
        check_name="unique_prospect_id",
        passed=dupes.empty,
        metadata={"duplicates": len(dupes), "sample": _md(dupes[["prospect_id", "name"]])},
    )
    for name in ("positions_consistent", "schools_consistent", "no_measurement_outliers"):
        failing = pd.concat(results[name], ignore_index=True)
        yield dg.AssetCheckResult(
            asset_key=CHECKS[name][0],
            check_name=name,
            passed=failing.empty,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"failing_rows": len(failing), "sample": _md(failing)},
        )
    review = pd.concat(results["review"], ignore_index=True)
    yield dg.AssetCheckResult(
        asset_key=CORE_KEY,
        check_name="review_queue_empty",
        passed=review.empty,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "in_review": len(review),
            "sample": _md(
                review[["source", "name", "school", "reason"]] if len(review) else review
            ),
        },
    )
    for table in TABLES:
        yield dg.MaterializeResult(asset_key=dg.AssetKey(["canonical", table]))

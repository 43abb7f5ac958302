"""Energy assets: one staging table per source, the reconciled canonical table.

Each is partitioned by month (a day of energy data is nine numbers; Dagster records
a materialization per asset and partition, so daily partitions would make the
bookkeeping, not the data, set the pace) with a single-run backfill policy: the
daily schedule rewrites the month that holds yesterday, and a backfill of any month
range, or the whole history, is one run that replaces exactly those months.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import dagster as dg

from assets.energy.config import SOURCES, EnergyConfig, load_energy_config
from assets.energy.reconcile import CANONICAL_COLUMNS, day_over_day_jumps, reconcile
from assets.energy.rules import (
    apply_record_rules,
    completeness,
    duplicate_keys,
    out_of_range,
)
from headwater import settings
from headwater.plans import month_key
from headwater.policies import SOURCE_RETRY
from headwater.quality import Rejection, quarantine_sample_md, quarantine_table
from resources.http import SourceError
from resources.warehouse import Warehouse

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

CONFIG: EnergyConfig = load_energy_config()
GROUP = "energy"
SAMPLE_ROWS = 10  # failing rows shown in a check's metadata
MIN_DAYS_JUDGED = 5  # completeness is not judged on fewer business days

# From the month of the configured start date; end_offset=1 includes the month in progress,
# so the schedule can keep it current day by day.
monthly_partitions = dg.MonthlyPartitionsDefinition(
    start_date=CONFIG.start_date.replace(day=1).isoformat(),
    timezone=CONFIG.schedule_timezone,
    end_offset=1,
)
CANONICAL_KEY = dg.AssetKey(["canonical", "commodity_prices"])
# Shared by the staging and canonical assets: a month per partition, any range as one run,
# one warehouse writer at a time.
MONTHLY_ASSET = dict(
    group_name=GROUP,
    partitions_def=monthly_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool="warehouse",
    kinds={"python", settings.warehouse_engine()},
)


# Every table the Python energy assets write.
TABLES = [
    *(f"{layer}.{source}_prices" for layer in ("staging", "quarantine") for source in SOURCES),
    "canonical.commodity_prices",
]


def staging_key(source: str) -> dg.AssetKey:
    return dg.AssetKey(["staging", f"{source}_prices"])


def _window(context: dg.AssetExecutionContext) -> tuple[date, date]:
    window = context.partition_time_window
    return window.start.date(), window.end.date()


def today() -> date:
    """Today in the schedule's time zone: no price exists yet for it or any later day."""
    return datetime.now(ZoneInfo(CONFIG.schedule_timezone)).date()


def _rows_md(df: "pd.DataFrame") -> dg.MetadataValue:
    return dg.MetadataValue.md(df.head(SAMPLE_ROWS).to_markdown(index=False) if len(df) else "none")


def _read_window(warehouse: Warehouse, table: str, start: date, end: date) -> "pd.DataFrame":
    """Rows of `table` with start <= price_date < end; empty if the table is not there yet."""
    return warehouse.read_window(table, "price_date", start, end)


# ---- staging ---------------------------------------------------------------------------------

# Where a load that failed its gate is kept for inspection (quarantine shape).
HOLDING = "holding.{}_prices"
GATE_IDS = {
    "no_duplicate_keys": "G-01",
    "completeness_above_threshold": "G-02",
    "values_in_range": "G-03",
}
# Blocking gates on each staging table, judged before a load replaces anything: a load that
# fails one is held aside, staging keeps its rows, and canonical prices are not rebuilt.
GATE_CHECKS = {
    "no_duplicate_keys": "G-01 (ERROR, blocking): one row per commodity and day in the window.",
    "completeness_above_threshold": "G-02 (ERROR, blocking): share of business days with a "
    "value, over the trailing energy.completeness_window_days business days up to the "
    "window's last day (or yesterday), at least energy.completeness_threshold.",
    "values_in_range": "G-03 (ERROR, blocking): every value in the window inside its "
    "commodity's configured [min_price, max_price].",
}


@dataclass(frozen=True)
class SourceLoad:
    """What one load of a source's window did: every record fetched is either a staging row
    or a rejection (filed under a day of the window), never both, never neither."""

    rows: "pd.DataFrame"  # what staging.<source>_prices now holds for the window
    rejected: list[tuple[Rejection, date]]  # (rejection, filing day)

    @property
    def rows_in(self) -> int:
        return len(self.rows) + len(self.rejected)

    def by_month(self) -> dict[str, dict]:
        """Per monthly partition: its own rows in / loaded / quarantined, rejections by rule
        and a sample of the rejected records."""
        months: dict[str, dict] = {}

        def figures(key: str) -> dict:
            return months.setdefault(key, {"loaded": 0, "rejected": []})

        for day, n in self.rows["price_date"].map(month_key).value_counts().items():
            figures(day)["loaded"] = int(n)
        for rejection, day in self.rejected:
            figures(month_key(day))["rejected"].append(rejection)
        return months


def fetch_source(client, source: str, start: date, end: date) -> SourceLoad:
    """Fetch every configured series of `source` for [start, end) and apply the record
    rules. Writes nothing."""
    observations = []
    for spec in CONFIG.commodities.values():
        route = spec.eia.route if source == "eia" else None
        observations += client.fetch(spec.series_id(source), start, end, route=route)
    rows, rejected = apply_record_rules(
        observations, CONFIG.series_map(source), CONFIG.commodities, window=(start, end)
    )
    load = SourceLoad(rows, rejected)
    if len(observations) != load.rows_in:
        raise RuntimeError(
            f"staging.{source}_prices: {len(observations)} records in but {len(rows)} kept + "
            f"{len(rejected)} rejected; refusing to lose records"
        )
    return load


def _rejected_table(rejected: list[tuple[Rejection, date]]) -> "pa.Table":
    import pyarrow as pa

    return quarantine_table(
        [r for r, _ in rejected],
        price_date=pa.array([day for _, day in rejected], type=pa.date32()),
    )


def publish(warehouse: Warehouse, source: str, load: SourceLoad, start: date, end: date):
    """Replace the window in staging.<source>_prices and quarantine.<source>_prices by the
    load, and clear what an earlier failed load of the window held aside."""
    warehouse.replace_rows(f"staging.{source}_prices", load.rows, "price_date", start, end)
    quarantine = _rejected_table(load.rejected)
    warehouse.replace_rows(f"quarantine.{source}_prices", quarantine, "price_date", start, end)
    warehouse.replace_rows(HOLDING.format(source), quarantine[:0], "price_date", start, end)


def hold(
    warehouse: Warehouse, source: str, load: SourceLoad, start: date, end: date, why: str
) -> int:
    """Keep a load that failed its gate aside, in holding.<source>_prices (the quarantine
    shape): its rejected records with their own rule and reason, its valid rows under the
    failing gate. Staging and quarantine keep their previous rows. Returns records held."""
    valid = [
        Rejection(
            why.split(" ")[0],
            f"held, not published: {why}",
            row.origin,
            {k: str(v) for k, v in row._asdict().items() if k != "Index"},
        )
        for row in load.rows.itertuples()
    ]
    held = _rejected_table([*zip(valid, load.rows["price_date"], strict=True), *load.rejected])
    return warehouse.replace_rows(HOLDING.format(source), held, "price_date", start, end)


def load_source(warehouse: Warehouse, client, source: str, start: date, end: date) -> SourceLoad:
    """Fetch, apply the record rules and publish a window without judging it (the plain
    path, as the benchmark runs it)."""
    load = fetch_source(client, source, start, end)
    publish(warehouse, source, load, start, end)
    return load


def selected_results(
    context: dg.AssetExecutionContext, results: list[dg.AssetCheckResult]
) -> list[dg.AssetCheckResult]:
    """The results of the checks this run selected: Dagster lets through, with a warning each,
    a result it did not ask for."""
    wanted = context.selected_asset_check_keys
    return [r for r in results if dg.AssetCheckKey(r.asset_key, r.check_name) in wanted]


def month_window(key: str) -> str:
    start = date.fromisoformat(key)
    end = (start + timedelta(days=32)).replace(day=1)
    return f"[{start}, {end})"


def build_staging_asset(source: str) -> dg.AssetsDefinition:
    key = staging_key(source)
    table = f"staging.{source}_prices"

    @dg.asset(
        key=key,
        **MONTHLY_ASSET,
        required_resource_keys={"warehouse", source},
        retry_policy=SOURCE_RETRY,
        description=f"Daily prices from {source.upper()}, a month per partition, after record "
        f"rules E-R01..E-R07 (rejects in quarantine.{source}_prices).",
        check_specs=[
            dg.AssetCheckSpec(name, asset=key, blocking=True, description=doc)
            for name, doc in GATE_CHECKS.items()
        ],
    )
    def _staging(context: dg.AssetExecutionContext):
        import pandas as pd

        warehouse: Warehouse = context.resources.warehouse
        client = getattr(context.resources, source)
        start, end = _window(context)

        try:
            load = fetch_source(client, source, start, end)
        except SourceError as exc:
            # Retried (SOURCE_RETRY) only when the source may answer later.
            raise dg.Failure(description=str(exc), allow_retries=exc.transient) from None

        # Write, audit, publish: the gate judges the new rows, with the stored days before
        # the window for the trailing completeness window, before they replace anything.
        lookback = timedelta(days=CONFIG.completeness_window_days * 7 // 5 + 10)
        before = _read_window(warehouse, table, start - lookback, start)
        new = load.rows
        judged = pd.concat([before[new.columns], new], ignore_index=True) if len(before) else new
        results = list(_gate_results(key, new, judged, start, end))
        # The gate judges with every rule; only the checks the run selected are reported (a
        # run from the UI may select the asset without some of them).
        failed = [r.check_name for r in results if not r.passed]
        results = selected_results(context, results)
        if failed:
            why = ", ".join(f"{GATE_IDS[name]} {name}" for name in failed)
            held = hold(warehouse, source, load, start, end, why)
            kept = (
                f"not published: the previous rows of {table} for [{start}, {end}) are kept; "
                f"the {held} new records are in {HOLDING.format(source)}"
            )
            for r in results:
                yield dg.AssetCheckResult(
                    asset_key=r.asset_key,
                    check_name=r.check_name,
                    passed=r.passed,
                    metadata={**r.metadata, "published": kept},
                )
            raise dg.Failure(
                description=f"{table} [{start}, {end}): gate {why} failed; {kept}",
                metadata={"held_in": HOLDING.format(source), "records_held": held},
                allow_retries=False,  # the same data would fail the same gate
            )
        publish(warehouse, source, load, start, end)
        yield from results

        # Each month's materialization carries that month's own figures.
        months = load.by_month()
        for partition in context.partition_keys:
            figures = months.get(partition, {"loaded": 0, "rejected": []})
            rejected = figures["rejected"]
            by_rule = pd.Series([r.rule_id for r in rejected], dtype="object").value_counts()
            context.add_asset_metadata(
                {
                    "window": month_window(partition),
                    "source": client.data_origin(),
                    "rows_in": figures["loaded"] + len(rejected),
                    "rows_loaded": figures["loaded"],
                    "rows_quarantined": len(rejected),
                    "quarantined_by_rule": dg.MetadataValue.json(by_rule.to_dict()),
                    "quarantine_sample": quarantine_sample_md(rejected),
                    "dagster/row_count": figures["loaded"],
                },
                partition_key=partition,
            )
        context.log.info(
            f"{table}: {load.rows_in} records in, {len(load.rows)} loaded, "
            f"{len(load.rejected)} quarantined over {len(context.partition_keys)} month(s)"
        )
        yield dg.MaterializeResult()

    return _staging


def _gate_results(key, in_window: "pd.DataFrame", stored: "pd.DataFrame", start: date, end: date):
    import pandas as pd

    dupes = duplicate_keys(in_window) if len(in_window) else pd.DataFrame()
    yield dg.AssetCheckResult(
        asset_key=key,
        check_name="no_duplicate_keys",
        passed=dupes.empty,
        metadata={"duplicate_keys": len(dupes), "sample": _rows_md(dupes)},
    )

    # Days of this window are always expected. Days before it count only from the first day
    # ever loaded: earlier history not fetched yet is not missing data.
    first_loaded = min(start, min(stored["price_date"])) if len(stored) else start
    # The month in progress is judged up to yesterday: later days have no price yet.
    comp = completeness(
        stored,
        list(CONFIG.commodities),
        min(end, today()),
        CONFIG.completeness_window_days,
        max(CONFIG.start_date, first_loaded),
    )
    # A share over fewer than five business days says more about holidays than gaps.
    low = comp[
        (comp["share"] < CONFIG.completeness_threshold) & (comp["days_expected"] >= MIN_DAYS_JUDGED)
    ]
    first, last = comp.attrs.get("window", (None, None))
    yield dg.AssetCheckResult(
        asset_key=key,
        check_name="completeness_above_threshold",
        passed=low.empty,
        metadata={
            "threshold": CONFIG.completeness_threshold,
            "business_days": f"{first} .. {last}" if first else "none yet (nothing to judge)",
            "by_commodity": _rows_md(comp),
            "below_threshold": _rows_md(low),
        },
    )

    bad = out_of_range(in_window, CONFIG.commodities) if len(in_window) else pd.DataFrame()
    yield dg.AssetCheckResult(
        asset_key=key,
        check_name="values_in_range",
        passed=bad.empty,
        metadata={"rows_out_of_range": len(bad), "sample": _rows_md(bad)},
    )


staging_assets = [build_staging_asset(source) for source in SOURCES]


# ---- canonical -------------------------------------------------------------------------------

WARN_CHECKS = {
    "no_large_day_over_day_jumps": "W-01 (WARN): no day-over-day move in the window larger "
    "than energy.jump_threshold (a fraction of the previous price).",
    "sources_agree_within_threshold": "W-02 (WARN): on each day, the sources' values differ "
    "by at most energy.disagreement_threshold (a fraction).",
    "no_negative_prices": "W-03 (WARN): no negative price in the window (real, but rare: "
    "WTI settled at -37.63 on 2020-04-20).",
}


@dg.asset(
    key=CANONICAL_KEY,
    **MONTHLY_ASSET,
    deps=[staging_key(s) for s in SOURCES],
    description="One price per commodity and day, chosen by the configured source authority order, "
    "with lineage (winning source, number of sources, largest disagreement).",
    check_specs=[
        dg.AssetCheckSpec(name, asset=CANONICAL_KEY, description=doc)
        for name, doc in WARN_CHECKS.items()
    ],
)
def commodity_prices(context: dg.AssetExecutionContext, warehouse: Warehouse):
    import pandas as pd

    start, end = _window(context)
    frames = []
    for source in SOURCES:
        staged = _read_window(warehouse, f"staging.{source}_prices", start, end)
        if len(staged):
            frames.append(
                staged.assign(source=source)[["source", "commodity", "price_date", "value"]]
            )
    staged = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(columns=["source", "commodity", "price_date", "value"])
    )
    canonical = reconcile(staged, CONFIG.authority_order)
    loaded = warehouse.replace_rows(
        "canonical.commodity_prices", canonical, "price_date", start, end
    )

    # Jumps need the last prices before the window for context.
    before = _read_window(
        warehouse, "canonical.commodity_prices", start - timedelta(days=10), start
    )
    context_rows = (
        pd.concat([before[CANONICAL_COLUMNS], canonical], ignore_index=True)
        if len(before)
        else canonical
    )
    jumps = day_over_day_jumps(context_rows, CONFIG.jump_threshold)
    jumps = jumps[jumps["price_date"] >= start][
        ["commodity", "price_date", "previous_price", "price", "change_pct"]
    ]
    disagree = canonical[canonical["max_disagreement_pct"] > CONFIG.disagreement_threshold]
    negative = canonical[canonical["price"] < 0]
    for name, failing, shown in (
        ("no_large_day_over_day_jumps", jumps, jumps),
        (
            "sources_agree_within_threshold",
            disagree,
            disagree[
                [
                    "commodity",
                    "price_date",
                    "source",
                    "eia_value",
                    "fred_value",
                    "yahoo_value",
                    "max_disagreement_pct",
                ]
            ],
        ),
        ("no_negative_prices", negative, negative[["commodity", "price_date", "price", "source"]]),
    ):
        if dg.AssetCheckKey(CANONICAL_KEY, name) not in context.selected_asset_check_keys:
            continue
        yield dg.AssetCheckResult(
            check_name=name,
            passed=failing.empty,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"failing_rows": len(failing), "sample": _rows_md(shown)},
        )

    # Each month's materialization carries that month's own figures.
    # Iterated, not `get_group`: pandas takes a one-row grouping Series for a one-key list and
    # raises KeyError on the month of a lone row (a quarterly series has one a month).
    months = dict(iter(canonical.groupby(canonical["price_date"].map(month_key))))
    for partition in context.partition_keys:
        month = months.get(partition, canonical[:0])
        context.add_asset_metadata(
            {
                "window": month_window(partition),
                "rows_loaded": len(month),
                "by_winning_source": dg.MetadataValue.json(
                    month["source"].value_counts().to_dict()
                ),
                "dagster/row_count": len(month),
            },
            partition_key=partition,
        )
    context.log.info(
        f"canonical.commodity_prices: {loaded} rows over {len(context.partition_keys)} month(s)"
    )
    yield dg.MaterializeResult()

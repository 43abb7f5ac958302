"""Market assets: per Databento schema, a staging table and a canonical table, loaded in one
streaming pass over the partition's DBN file.

For each partition of the run (a day for ohlcv-1m and trades, a month for ohlcv-1d,
statistics and definition), the source's `.dbn.zst` file is read `market.chunk_records`
records at a time; each chunk goes through the record rules (assets/market/validation.py),
its valid records to `staging.market_<schema>` as received (fixed-point prices, nanosecond
times) and, through the schema's rule file (config/market/transform/), to
`canonical.market_<schema>`; rejected ones to `quarantine.market_<schema>` with rule id,
reason and raw values. The three tables' rows of the partition are replaced in ONE
transaction, chunk by chunk, so memory holds one chunk whatever the file size, and a file
that turns out truncated half way replaces nothing. Records in = staged + quarantined,
checked for every partition (a mismatch fails the step).

Definitions come first: every other schema maps instrument ids to contracts and roots
through `canonical.market_definition`, and rule M-R08 quarantines ids without one, so a
partition whose month has no definitions loaded fails with a message saying so.
"""

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import numpy as np
import pyarrow as pa

from assets.market import dbn, transform, validation
from assets.market.config import MONTHLY, SCHEMAS, MarketConfig, load_market_config
from headwater import progress, settings
from headwater.policies import SOURCE_RETRY
from resources.http import SourceError
from resources.warehouse import Warehouse, quote_table

CONFIG: MarketConfig = load_market_config()
GROUP = "market"
SAMPLE_ROWS = 10
FLOAT_MAX = 1.7976931348623157e308  # the largest finite double

# UTC: Databento's ohlcv-1d bars are UTC calendar days and every timestamp is UTC.
# end_offset=1 includes the day (month) in progress, which the schedule keeps current.
monthly_partitions = dg.MonthlyPartitionsDefinition(
    start_date=CONFIG.start_date.replace(day=1).isoformat(), end_offset=1
)
daily_partitions = dg.DailyPartitionsDefinition(
    start_date=CONFIG.intraday_start_date.isoformat(), end_offset=1
)

# The fields of a staged record: all of the DBN record but its length byte and padding.
_HIDDEN = ("length",)

# What makes a canonical row unique, per schema (check M-C02).
UNIQUE_KEYS = {
    "ohlcv-1d": ("instrument_id", "bar_date"),
    "ohlcv-1m": ("instrument_id", "bar_start"),
    "trades": ("instrument_id", "received_at", "sequence"),
    "statistics": ("instrument_id", "stat_type", "trading_date", "received_at", "sequence"),
    "definition": ("instrument_id", "partition_date"),
}
PRICE_COLUMNS = {
    "ohlcv-1d": ("open", "high", "low", "close"),
    "ohlcv-1m": ("open", "high", "low", "close"),
    "trades": ("price",),
    "statistics": ("price",),
    "definition": ("tick",),
}


def table_name(schema: str) -> str:
    return "market_" + schema.replace("-", "_")


def staging_key(schema: str) -> dg.AssetKey:
    return dg.AssetKey(["staging", table_name(schema)])


def canonical_key(schema: str) -> dg.AssetKey:
    return dg.AssetKey(["canonical", table_name(schema)])


def partitions_for(schema: str) -> dg.TimeWindowPartitionsDefinition:
    return monthly_partitions if schema in MONTHLY else daily_partitions


def op_name(schema: str) -> str:
    return f"market_{schema.replace('-', '_')}_load"


class MarketLoadConfig(dg.Config):
    """Run settings of one schema's load (headwater ingest sets them)."""

    symbols: list[str] = []  # parent symbols; empty: market.symbols


# ---- one partition ------------------------------------------------------------------------


@dataclass
class PartitionLoad:
    """What loading one partition did."""

    schema: str
    partition: str
    origin: str  # the file(s) read
    records_in: int = 0
    staged: int = 0
    canonical: int = 0
    quarantined_by_rule: dict[str, int] = field(default_factory=dict)
    quarantine_sample: list[tuple[str, str, str]] = field(default_factory=list)
    seconds: float = 0.0
    file_bytes: int = 0

    @property
    def quarantined(self) -> int:
        return sum(self.quarantined_by_rule.values())

    def __add__(self, other: "PartitionLoad") -> "PartitionLoad":
        """Two parents' loads of one partition as one."""
        rules = dict(self.quarantined_by_rule)
        for rule, n in other.quarantined_by_rule.items():
            rules[rule] = rules.get(rule, 0) + n
        return PartitionLoad(
            self.schema,
            self.partition,
            f"{self.origin}, {other.origin}" if self.origin else other.origin,
            self.records_in + other.records_in,
            self.staged + other.staged,
            self.canonical + other.canonical,
            rules,
            (self.quarantine_sample + other.quarantine_sample)[:SAMPLE_ROWS],
            self.seconds + other.seconds,
            self.file_bytes + other.file_bytes,
        )

    def counts(self) -> dict:
        return {
            "schema": self.schema,
            "records_in": self.records_in,
            "loaded": self.staged,
            "canonical_rows": self.canonical,
            "quarantined": self.quarantined,
            "quarantined_by_rule": dict(sorted(self.quarantined_by_rule.items())),
        }


def window_of(schema: str, partition: str) -> tuple[date, date]:
    start = date.fromisoformat(partition)
    if schema in MONTHLY:
        return start, (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return start, start + timedelta(days=1)


def raw_table(records: np.ndarray) -> pa.Table:
    """DBN records as received: every field but the length byte and padding; text fields as
    strings (DBN text is NUL-padded ASCII)."""
    columns = {}
    for name in records.dtype.names:
        if name in _HIDDEN or name.startswith("_"):
            continue
        values = records[name]
        if values.dtype.kind == "S":
            columns[name] = pa.array(values).cast(pa.string())
        else:
            columns[name] = pa.array(np.ascontiguousarray(values))
    return pa.table(columns)


def symbol_table(warehouse: Warehouse, con=None) -> transform.SymbolTable:
    """Contracts by instrument id from canonical.market_definition (the newest definition of
    each id), in the shape the transformation rules look symbols up in."""
    if not warehouse.table_exists("canonical.market_definition", con):
        rows = pa.table({"instrument_id": pa.array([], pa.uint32())})
    else:
        rows = warehouse.query(
            "SELECT instrument_id, contract, root, asset, multiplier, tick, expiration "
            "FROM (SELECT *, row_number() OVER (PARTITION BY instrument_id "
            "ORDER BY defined_at DESC) AS newest FROM canonical.market_definition) AS ranked "
            "WHERE newest = 1 ORDER BY instrument_id",
            con=con,
        )
    n = rows.num_rows

    def column(name: str, dtype) -> np.ndarray:
        if n == 0:
            return np.empty(0, dtype=dtype)
        if name == "expiration":
            return expiration_ns(rows[name])
        return rows[name].to_numpy(zero_copy_only=False).astype(dtype)

    return transform.SymbolTable(
        instrument_id=column("instrument_id", np.uint32),
        raw_symbol=column("contract", object),
        parent=column("root", object),
        asset=column("asset", object),
        multiplier=column("multiplier", np.float64),
        tick=column("tick", np.float64),
        expiration=column("expiration", np.uint64),
    )


def expiration_ns(column: pa.ChunkedArray) -> np.ndarray:
    """Expiration instants (as either engine returns them) as ns since the epoch, uint64;
    a missing one as UNDEF_TIMESTAMP, which the transformation rules read as undefined."""
    ns = column.cast(pa.timestamp("ns", tz="UTC")).cast(pa.int64()).fill_null(-1)
    return ns.to_numpy(zero_copy_only=False).astype(np.uint64)  # -1 wraps to UNDEF_TIMESTAMP


def definitions_loaded(warehouse: Warehouse, con, month: date, parent: str) -> int:
    """Definitions of `parent`'s contracts loaded for the month."""
    if not warehouse.table_exists("canonical.market_definition", con):
        return 0
    return warehouse.scalar(
        "SELECT count(*) FROM canonical.market_definition WHERE partition_date = ? AND parent = ?",
        [month, parent],
        con,
    )


def load_partition(
    warehouse: Warehouse,
    con,
    path,
    origin: str,
    schema: str,
    partition: str,
    parent: str,
    rules: transform.TransformRules,
    symbols: transform.SymbolTable | None,
    chunk_records: int,
) -> PartitionLoad:
    """Read, validate, transform and load one partition's file for one parent symbol (see
    the module docstring): the rows of that partition and parent are replaced."""
    started = time.monotonic()
    start, end = window_of(schema, partition)
    known = None if symbols is None else symbols.instrument_id
    load = PartitionLoad(schema, partition, origin, file_bytes=Path(path).stat().st_size)
    table = table_name(schema)
    staging, canonical, quarantine = (
        f"{layer}.{table}" for layer in ("staging", "canonical", "quarantine")
    )
    asset = f"staging/{table}"
    # Rules that keep the latest record per key (definitions, statistics) see the whole
    # partition at once: a month of them is small, and a republication in a later chunk
    # must still win. The others are transformed chunk by chunk.
    whole = bool(rules.latest)

    def batches() -> Iterator[dict[str, pa.Table]]:
        # Every record of the file so far (M-R09 finds a duplicate however far back its
        # original is), in DuckDB outside the warehouse, dropped when the load ends.
        with validation.SeenRecords() as seen:
            yield from _batches(seen)

    def _batches(seen: validation.SeenRecords) -> Iterator[dict[str, pa.Table]]:
        held: list[np.ndarray] = []
        for chunk in dbn.read_chunks(path, count=chunk_records, schema=schema):
            checked = validation.validate(schema, chunk, (start, end), known, seen)
            good = chunk[checked.valid]
            rejected = checked.quarantine_table(origin, load.records_in)
            load.records_in += len(chunk)
            load.staged += len(good)
            for rule, n in checked.counts().items():
                load.quarantined_by_rule[rule] = load.quarantined_by_rule.get(rule, 0) + n
            if len(load.quarantine_sample) < SAMPLE_ROWS and rejected.num_rows:
                for row in rejected.slice(0, SAMPLE_ROWS).to_pylist():
                    load.quarantine_sample.append((row["rule_id"], row["origin"], row["reason"]))
            batch = {
                staging: raw_table(good),
                quarantine: rejected,
            }
            if whole:
                held.append(good.copy())
            else:
                batch[canonical] = transform.apply(rules, good, symbols)
            yield batch
            progress.emit(progress.Progress("chunk", asset, partition, load.counts()))
        if whole:
            records = np.concatenate(held) if held else np.empty(0, dbn.record_dtype(schema))
            own = symbols
            if schema == "definition":  # definitions name their own contracts and parents
                own = transform.SymbolTable.from_definitions(records, dbn.read_info(path).mappings)
            yield {canonical: transform.apply(rules, records, own)}

    windows = {
        t: ("partition_date", start, end, {"parent": parent})
        for t in (staging, canonical, quarantine)
    }
    # Every market table has the partition's first day and the parent symbol whose request
    # brought the row: a partition is replaced one parent at a time.
    constants = {"partition_date": start, "parent": parent}
    counts = warehouse.replace_in_batches(windows, batches(), constants, con)
    load.canonical = counts[canonical]
    if load.records_in != load.staged + load.quarantined:  # cannot happen; never let it pass
        raise RuntimeError(
            f"{staging} {partition}: {load.records_in} records in but {load.staged} staged + "
            f"{load.quarantined} quarantined"
        )
    load.seconds = time.monotonic() - started
    return load


# ---- checks on what a run loaded -----------------------------------------------------------


def _quoted_columns(columns) -> str:
    return ", ".join(f'"{c}"' for c in columns)


def canonical_checks(
    warehouse: Warehouse, con, schema: str, partitions: list[str]
) -> list[dg.AssetCheckResult]:
    """Post-transformation rules over the run's partitions of canonical.market_<schema>, a
    partition at a time (memory stays bounded by a partition, whatever the run's range)."""
    table = f"canonical.{table_name(schema)}"
    key = canonical_key(schema)
    if not warehouse.table_exists(table, con):
        return []
    qualified = quote_table(table)
    keys = _quoted_columns(UNIQUE_KEYS[schema])
    # Finite and above zero, in SQL both engines run: NaN sorts above every number in
    # DuckDB and PostgreSQL alike, so the upper bound (the largest double) excludes it and inf.
    bad_price = " OR ".join(
        f'NOT ("{p}" > 0 AND "{p}" <= {FLOAT_MAX!r})' for p in PRICE_COLUMNS[schema]
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
                "key": ", ".join(UNIQUE_KEYS[schema]),
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


# ---- the assets ---------------------------------------------------------------------------


def build_load_asset(schema: str) -> dg.AssetsDefinition:
    staging, canonical = staging_key(schema), canonical_key(schema)
    partitions = partitions_for(schema)
    table = table_name(schema)
    deps = []
    if schema != "definition":
        # The day's (month's) definitions: the containing month of canonical.market_definition.
        deps = [
            dg.AssetDep(
                canonical_key("definition"),
                partition_mapping=dg.TimeWindowPartitionMapping(),
            )
        ]
    grain = "a day" if partitions is daily_partitions else "a month"

    @dg.multi_asset(
        name=op_name(schema),
        specs=[
            dg.AssetSpec(
                staging,
                group_name=GROUP,
                kinds={"python", settings.warehouse_engine()},
                description=f"Databento {schema} records as received (fixed-point prices, "
                f"ns times), {grain} per partition, after record rules M-R01..M-R11 "
                f"(rejects in quarantine.{table}).",
                deps=deps,
                partitions_def=partitions,
            ),
            dg.AssetSpec(
                canonical,
                group_name=GROUP,
                kinds={"python", settings.warehouse_engine()},
                description=f"{schema} records transformed by config/market/transform/"
                f"{schema}.yaml: prices in USD, UTC times, contract and root.",
                deps=[staging],
                partitions_def=partitions,
            ),
        ],
        check_specs=[
            *(
                dg.AssetCheckSpec(
                    name, asset=canonical, description=doc, blocking=name != "prices_positive"
                )
                for name, doc in CHECK_DOCS.items()
            ),
            *(
                dg.AssetCheckSpec(n, asset=staging, description=d)
                for n, d in STAGING_CHECK_DOCS.items()
            ),
        ],
        required_resource_keys={"warehouse", "databento"},
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool="warehouse",
        retry_policy=SOURCE_RETRY,
    )
    def _load(context: dg.AssetExecutionContext, config: MarketLoadConfig):
        warehouse: Warehouse = context.resources.warehouse
        symbols = config.symbols or list(CONFIG.symbols)
        try:
            rules = transform.load_schema_rules(schema, CONFIG.transform_rules)
        except transform.TransformRuleError as exc:
            # A rule file is the settings' to fix: reading it again gives the same answer.
            raise dg.Failure(description=str(exc), allow_retries=False) from None
        # One session for the whole run: DuckDB writes its data to the file when the last
        # connection closes, once per run rather than once per partition and parent. The
        # memory cap keeps a long backfill's memory flat (DuckDB's buffer pool would
        # otherwise keep what it wrote); written blocks are on disk anyway.
        with warehouse.session(memory_mb=CONFIG.load_memory_mb) as con:
            loads = [
                _load_one(context, warehouse, con, partition, symbols, rules)
                for partition in context.partition_keys
            ]
            totals = {
                "records_in": sum(x.records_in for x in loads),
                "staged": sum(x.staged for x in loads),
                "quarantined": sum(x.quarantined for x in loads),
            }
            context.log.info(
                f"{schema}: {totals['records_in']} records in, {totals['staged']} loaded, "
                f"{totals['quarantined']} quarantined over {len(loads)} partition(s)"
            )
            checks = canonical_checks(warehouse, con, schema, context.partition_keys)
        yield dg.AssetCheckResult(
            asset_key=staging,
            check_name="records_conserved",
            passed=totals["records_in"] == totals["staged"] + totals["quarantined"],
            metadata=totals,
        )
        yield from checks
        yield dg.MaterializeResult(asset_key=staging)
        yield dg.MaterializeResult(asset_key=canonical)

    def _load_one(context, warehouse, con, partition, symbols, rules) -> PartitionLoad:
        """Every parent's file of one partition, then the partition's metadata."""
        source = context.resources.databento
        start, end = window_of(schema, partition)
        table_symbols = None
        if schema != "definition":
            month = start.replace(day=1)
            missing = [p for p in symbols if not definitions_loaded(warehouse, con, month, p)]
            if missing:
                raise dg.Failure(
                    f"canonical.market_definition has no definitions of {', '.join(missing)} "
                    f"for {month:%Y-%m}, needed to validate and map {schema} {partition}: "
                    f"load them first (headwater ingest --api databento --schema definition, "
                    f"or the market_definition job for {month.isoformat()})",
                    allow_retries=False,
                )
            table_symbols = symbol_table(warehouse, con)
        load = PartitionLoad(schema, partition, "")
        # One request per parent symbol: a partition's rows are replaced a parent at a
        # time, so loading CL.FUT again never touches ES.FUT's rows.
        for parent in symbols:
            progress.emit(
                progress.Progress(
                    "fetch", f"staging/{table}", partition, {"schema": schema, "parent": parent}
                )
            )
            try:
                fetched = source.fetch(schema, [parent], start, end)
            except SourceError as exc:
                # Retried (SOURCE_RETRY) only when the source may answer later.
                raise dg.Failure(description=str(exc), allow_retries=exc.transient) from None
            except (ValueError, TypeError) as exc:
                # A request the source refuses before sending it (in sample mode, a root
                # the generator does not know): asking again gives the same answer.
                raise dg.Failure(
                    f"{schema} {partition} {parent}: {exc}", allow_retries=False
                ) from None
            try:
                load += load_partition(
                    warehouse,
                    con,
                    fetched.path,
                    fetched.origin,
                    schema,
                    partition,
                    parent,
                    rules,
                    table_symbols,
                    CONFIG.chunk_records,
                )
            except dbn.DBNFileError as exc:
                # A download cut short may come whole next time; a sample file will not,
                # nor will a file of another schema.
                raise dg.Failure(
                    f"{schema} {partition} {parent}: {exc}; nothing of it was replaced",
                    allow_retries=source.mode == "live"
                    and not isinstance(exc, dbn.WrongSchemaError),
                ) from None
        progress.emit(
            progress.Progress("partition_done", f"staging/{table}", partition, load.counts())
        )
        rate = load.records_in / load.seconds if load.seconds > 0 else 0.0
        context.add_asset_metadata(
            {
                "window": f"[{start}, {end})",
                "parents": ", ".join(symbols),
                "source": load.origin,
                "file_bytes": load.file_bytes,
                "records_in": load.records_in,
                "rows_loaded": load.staged,
                "rows_quarantined": load.quarantined,
                "quarantined_by_rule": dg.MetadataValue.json(load.counts()["quarantined_by_rule"]),
                "quarantine_sample": dg.MetadataValue.md(_sample_md(load.quarantine_sample)),
                "records_per_s": round(rate),
                "dagster/row_count": load.staged,
            },
            asset_key=staging,
            partition_key=partition,
        )
        context.add_asset_metadata(
            {"window": f"[{start}, {end})", "dagster/row_count": load.canonical},
            asset_key=canonical,
            partition_key=partition,
        )
        return load

    return _load


def _sample_md(rows: list[tuple[str, str, str]]) -> str:
    if not rows:
        return "none"
    lines = ["| rule | origin | reason |", "|---|---|---|"]
    lines += [f"| {r} | {o} | {why.replace('|', '/')} |" for r, o, why in rows[:SAMPLE_ROWS]]
    return "\n".join(lines)


load_assets = {schema: build_load_asset(schema) for schema in SCHEMAS}

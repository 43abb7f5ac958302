"""Market assets: per Databento schema, a staging table and a canonical table, loaded in one
streaming pass over the partition's DBN file.

For each partition of the run (a day for the intraday schemas, a month for ohlcv-1d,
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

import contextlib
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg

from assets.market import dbn, files, transform, validation
from assets.market.checks import CHECK_DOCS, SAMPLE_ROWS, STAGING_CHECK_DOCS, canonical_checks
from assets.market.config import MONTHLY, SCHEMAS, MarketConfig, load_market_config
from assets.market.keys import canonical_key, staging_key, table_name
from assets.market.lookups import add_dataset_column, definitions_loaded, symbol_table
from assets.market.metadata import staging_metadata
from headwater import progress, settings
from headwater.policies import SOURCE_RETRY
from resources.http import SourceError
from resources.warehouse import Warehouse

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

CONFIG: MarketConfig = load_market_config()
GROUP = "market"

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


def partitions_for(schema: str) -> dg.TimeWindowPartitionsDefinition:
    return monthly_partitions if schema in MONTHLY else daily_partitions


def op_name(schema: str) -> str:
    return f"market_{schema.replace('-', '_')}_load"


class MarketLoadConfig(dg.Config):
    """Run settings of one schema's load (headwater ingest sets them)."""

    symbols: list[str] = []  # parent symbols; empty: market.symbols
    # DBN files or folders (a batch download) to load instead of fetching: the records'
    # own times place them in partitions (assets/market/files.py).
    files: list[str] = []


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
    # Staged records a later publication replaced in canonical (the `latest` rule of the
    # schema's transformation file): staged = canonical + superseded.
    superseded: int = 0
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
            self.superseded + other.superseded,
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
            "superseded": self.superseded,
            "quarantined": self.quarantined,
            "quarantined_by_rule": dict(sorted(self.quarantined_by_rule.items())),
        }


def window_of(schema: str, partition: str) -> tuple[date, date]:
    start = date.fromisoformat(partition)
    if schema in MONTHLY:
        return start, (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return start, start + timedelta(days=1)


def raw_table(records: "np.ndarray") -> "pa.Table":
    """DBN records as received: every field but the length byte and padding; text fields as
    strings (DBN text is NUL-padded ASCII)."""
    import numpy as np
    import pyarrow as pa

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
    layers: frozenset[str] = frozenset({"staging", "canonical"}),
    dataset: str = "GLBX.MDP3",
) -> PartitionLoad:
    """Read, validate, transform and load one partition's file for one parent symbol of
    `dataset` (see the module docstring): the rows of that partition, dataset and parent
    are replaced in the
    `layers` asked for (staging with its quarantine, canonical, or both); every record is
    counted whichever are written."""
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

    written = {canonical} if "canonical" in layers else set()
    if "staging" in layers:
        written |= {staging, quarantine}

    def batches() -> "Iterator[dict[str, pa.Table]]":
        # Every record of the file so far (M-R09 finds a duplicate however far back its
        # original is), in DuckDB outside the warehouse, dropped when the load ends.
        with validation.SeenRecords() as seen:
            for batch in _batches(seen):
                load.canonical += batch[canonical].num_rows if canonical in batch else 0
                yield {t: rows for t, rows in batch.items() if t in written}

    def _batches(seen: validation.SeenRecords) -> "Iterator[dict[str, pa.Table]]":
        import numpy as np

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
                own = transform.SymbolTable.from_definitions(records)
            kept = transform.apply(rules, records, own)
            load.superseded = len(records) - kept.num_rows
            yield {canonical: kept}

    windows = {
        t: ("partition_date", start, end, {"dataset": dataset, "parent": parent})
        for t in (staging, canonical, quarantine)
        if t in written
    }
    # Every market table has the partition's first day, the dataset and the parent symbol
    # whose request brought the row: a partition is replaced one dataset and parent at a
    # time (instrument ids are unique within a dataset only).
    constants = {"partition_date": start, "dataset": dataset, "parent": parent}
    warehouse.replace_in_batches(windows, batches(), constants, con)
    if load.records_in != load.staged + load.quarantined:  # cannot happen; never let it pass
        raise RuntimeError(
            f"{staging} {partition}: {load.records_in} records in but {load.staged} staged + "
            f"{load.quarantined} quarantined"
        )
    if load.staged != load.canonical + load.superseded:
        raise RuntimeError(
            f"{canonical} {partition}: {load.staged} records staged but {load.canonical} "
            f"canonical + {load.superseded} superseded"
        )
    load.seconds = time.monotonic() - started
    return load


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
                f"ns times), {grain} per partition, after record rules "
                f"{', '.join(validation.SCHEMA_RULES[schema])} (rejects in quarantine.{table}).",
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
        # One step writes both layers; a selection of one (`dagster asset materialize
        # --select staging/market_trades`) writes that one alone.
        can_subset=True,
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
        selected = context.selected_asset_keys
        layers = frozenset(
            layer
            for layer, key in (("staging", staging), ("canonical", canonical))
            if key in selected
        )
        with contextlib.ExitStack() as stack:
            inputs = None
            paths = config.files or _batch_folder(context, symbols)
            if paths:
                tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="market-")))
                inputs = _file_inputs(context, paths, tmp)
                symbols = sorted({r for parts in inputs.values() for r in parts})
            con = stack.enter_context(warehouse.session(memory_mb=CONFIG.load_memory_mb))
            # Tables of an earlier version, before rows carried their dataset.
            tables = [f"{layer}.{table}" for layer in ("staging", "canonical", "quarantine")]
            add_dataset_column(
                warehouse, con, ["canonical.market_definition", *tables], CONFIG.dataset
            )
            loads = [
                _load_one(context, warehouse, con, partition, symbols, rules, layers, inputs)
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
            checks = (
                canonical_checks(warehouse, con, schema, context.partition_keys)
                if "canonical" in layers
                else []
            )
        wanted = context.selected_asset_check_keys
        if dg.AssetCheckKey(staging, "records_conserved") in wanted:
            yield dg.AssetCheckResult(
                asset_key=staging,
                check_name="records_conserved",
                passed=totals["records_in"] == totals["staged"] + totals["quarantined"],
                metadata=totals,
            )
        yield from (c for c in checks if dg.AssetCheckKey(canonical, c.check_name) in wanted)
        if "staging" in layers:
            yield dg.MaterializeResult(asset_key=staging)
        if "canonical" in layers:
            yield dg.MaterializeResult(asset_key=canonical)

    def _batch_folder(context, symbols) -> list[str]:
        """A live run's records as a batch job's folder of files, when the source sends the
        run's range that way (its transport setting, or the request's size); else none."""
        source = context.resources.databento
        start = window_of(schema, context.partition_keys[0])[0]
        end = window_of(schema, context.partition_keys[-1])[1]
        try:
            way, why = source.transport_for(schema, symbols, start, end)
            if way != "batch":
                return []
            context.log.info(f"{schema} {start}..{end}: a Databento batch job ({why})")
            return [str(source.fetch_batch(schema, symbols, start, end).folder)]
        except SourceError as exc:
            raise dg.Failure(description=str(exc), allow_retries=exc.transient) from None

    def _file_inputs(context, paths, tmp: Path) -> dict[str, dict[str, tuple[Path, str]]]:
        """partition -> request -> (the file of its records, origin): the given files split
        by the records' own times. Every partition of the run gets a file per request (an
        empty one where the files hold nothing for it: the files are the truth for their
        span); a record outside the run's partitions fails the run, naming it."""
        try:
            # The records are read once, by split: a record outside the run's partitions
            # (before the first one included) fails the run below.
            found = [
                files.inspect(path, CONFIG.chunk_records, scan=False)
                for path in files.data_files(paths)
            ]
            for f in found:
                if f.schema != schema:
                    raise files.FileRefused(
                        f"{f.path}: holds {f.schema} records; this run loads {schema}"
                    )
            files.check(found, context.resources.databento.dataset)
            split = files.split(found, tmp, CONFIG.chunk_records)
        except (files.FileRefused, dbn.DBNFileError) as exc:
            raise dg.Failure(description=str(exc), allow_retries=False) from None
        keys = set(context.partition_keys)
        outside = sorted({partition for partition, _ in split} - keys)
        if outside:
            raise dg.Failure(
                f"{schema}: the files hold records of partition(s) {', '.join(outside)}, "
                f"outside this run's {context.partition_keys[0]}..{context.partition_keys[-1]}",
                allow_retries=False,
            )
        out: dict[str, dict[str, tuple[Path, str]]] = {}
        for f in found:
            origin = ", ".join(g.path.name for g in found if g.request == f.request)
            for partition in context.partition_keys:
                path = split.get((partition, f.request))
                if path is None:
                    path = files.empty_file(f, tmp / f"empty_{partition}_{len(out)}.dbn")
                    split[(partition, f.request)] = path
                out.setdefault(partition, {})[f.request] = (path, origin)
        return out

    def _fetch(source, partition, parent, start, end) -> tuple[Path, str]:
        try:
            fetched = source.fetch(schema, [parent], start, end)
        except SourceError as exc:
            # Retried (SOURCE_RETRY) only when the source may answer later.
            raise dg.Failure(description=str(exc), allow_retries=exc.transient) from None
        except (ValueError, TypeError) as exc:
            # A request the source refuses before sending it (in sample mode, a root the
            # generator does not know): asking again gives the same answer.
            raise dg.Failure(f"{schema} {partition} {parent}: {exc}", allow_retries=False) from None
        return fetched.path, fetched.origin

    def _load_one(
        context, warehouse, con, partition, symbols, rules, layers, inputs
    ) -> PartitionLoad:
        """Every parent's file of one partition (fetched, or split from the given files),
        then the partition's metadata."""
        source = context.resources.databento
        dataset = source.dataset
        start, end = window_of(schema, partition)
        table_symbols = None
        if schema != "definition":
            month = start.replace(day=1)
            # Files name contracts by whatever they were requested for: any definitions of
            # the month will do, and M-R08 quarantines an id without one.
            needed = [None] if inputs is not None else symbols
            missing = [
                p for p in needed if not definitions_loaded(warehouse, con, dataset, month, p)
            ]
            if missing:
                raise dg.Failure(
                    f"canonical.market_definition has no {dataset} definitions of "
                    f"{', '.join(m or 'any contract' for m in missing)} "
                    f"for {month:%Y-%m}, needed to validate and map {schema} {partition}: "
                    f"load them first (headwater ingest --api databento --schema definition, "
                    f"or the market_definition job for {month.isoformat()})",
                    allow_retries=False,
                )
            table_symbols = symbol_table(warehouse, dataset, con)
        load = PartitionLoad(schema, partition, "")
        # One request per parent symbol: a partition's rows are replaced a parent at a
        # time, so loading CL.FUT again never touches ES.FUT's rows.
        for parent in symbols:
            progress.emit(
                progress.Progress(
                    "fetch", f"staging/{table}", partition, {"schema": schema, "parent": parent}
                )
            )
            if inputs is not None:
                path, origin = inputs[partition][parent]
            else:
                path, origin = _fetch(source, partition, parent, start, end)
            try:
                load += load_partition(
                    warehouse,
                    con,
                    path,
                    origin,
                    schema,
                    partition,
                    parent,
                    rules,
                    table_symbols,
                    CONFIG.chunk_records,
                    layers,
                    dataset,
                )
            except dbn.DBNFileError as exc:
                # A download cut short may come whole next time; a sample file or a file
                # given will not, nor will a file of another schema.
                raise dg.Failure(
                    f"{schema} {partition} {parent}: {exc}; nothing of it was replaced",
                    allow_retries=inputs is None
                    and source.mode == "live"
                    and not isinstance(exc, dbn.WrongSchemaError),
                ) from None
        progress.emit(
            progress.Progress("partition_done", f"staging/{table}", partition, load.counts())
        )
        if "staging" in layers:
            staging_metadata(context, staging, partition, start, end, symbols, load)
        if "canonical" in layers:
            context.add_asset_metadata(
                {
                    "window": f"[{start}, {end})",
                    "dagster/row_count": load.canonical,
                    "rows_staged": load.staged,
                    # staged = canonical rows + superseded: nothing leaves without a count.
                    "records_superseded": load.superseded,
                    "superseded_by": rules.latest_reason,
                },
                asset_key=canonical,
                partition_key=partition,
            )
        return load

    return _load


load_assets = {schema: build_load_asset(schema) for schema in SCHEMAS}

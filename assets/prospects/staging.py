"""Prospects staging: one table per source, a draft year per partition.

Each load reads one file in the source's real layout (the source resource's sample file or
download, or a file dropped in the inbox), applies the record rules P-R01..P-R10 and
replaces exactly its draft year in `staging.prospects_<source>` and
`quarantine.prospects_<source>`, and logs the extraction in `staging.prospects_extractions`
(id, file or URL, hash, counts). Rows in = rows loaded + rows quarantined, always.

Write, audit, publish: check P-C01 judges the new load before it replaces anything. A load
that fails it, or a file that cannot be read at all, leaves the previous rows in place.
What happens next is the run's failure mode (tag `headwater/failure_mode`, default
`prospects.failure_mode`): `fail_fast` fails the step, so reconciliation does not run;
`partial` keeps the source's last good staging, fails the source's P-C02 check (ERROR,
not blocking), tags the run `headwater/partial=true` and lets reconciliation go on.
"""

import dataclasses
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg

from assets.prospects.config import SOURCE_NAMES, SOURCES, ProspectsConfig, load_prospects_config
from assets.prospects.rules import APPLY_RULES, COLUMNS, LINEAGE, RULES
from assets.prospects.sources import Extract, extract_of
from assets.prospects.wire_formats import (
    PARSERS,
    ProspectFileError,
    RawRecord,
    draft_year_of_name,
)
from headwater import settings
from headwater.files import archive, stamp
from headwater.policies import SOURCE_RETRY
from headwater.quality import Rejection, quarantine_sample_md, quarantine_table
from resources.http import SourceError
from resources.warehouse import Warehouse, quote_table

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

CONFIG: ProspectsConfig = load_prospects_config()
GROUP = "prospects"
SAMPLE_ROWS = 10
EXTRACTIONS = "staging.prospects_extractions"
FAILURE_MODE_TAG = "headwater/failure_mode"
PARTIAL_TAG = "headwater/partial"
INBOX_TAG = "headwater/inbox_file"

draft_year_partitions = dg.StaticPartitionsDefinition(CONFIG.partition_keys)
YEARLY_ASSET = dict(
    group_name=GROUP,
    partitions_def=draft_year_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool="warehouse",
    kinds={"python", settings.warehouse_engine()},
    # One selection for the command line: `--select tag:headwater/step=prospects_refresh`.
    tags={"headwater/step": "prospects_refresh"},
)

CHECKS = {
    "loaded_share": "P-C01 (ERROR, blocking): at least prospects.min_loaded_share.<source> of "
    "the file's records pass the record rules, and the file has at least one record. Judged "
    "before the load replaces anything.",
    "refreshed": "P-C02 (ERROR): this run read the source. Fails only in partial-success runs, "
    "when the source could not be read and its last good staging was kept.",
}


@functools.cache
def _arrow_types() -> "dict[str, pa.DataType]":
    """Arrow type by pandas dtype (built on first use: pyarrow loads when a step runs)."""
    import pyarrow as pa

    return {
        "Int64": pa.int64(),
        "Float64": pa.float64(),
        "string": pa.string(),
        "datetime64[ns, UTC]": pa.timestamp("us", tz="UTC"),
        "object": pa.date32(),
        "int64": pa.int64(),
        "float64": pa.float64(),
    }


def to_arrow(frame: "pd.DataFrame", dtypes: dict[str, str]) -> "pa.Table":
    """`frame` as an Arrow table typed by its pandas dtypes (`dtypes`), so that a column
    that is all null still has its type when the table is created."""
    import pyarrow as pa

    schema = pa.schema([(name, _arrow_types()[dtype]) for name, dtype in dtypes.items()])
    return pa.Table.from_pandas(frame[list(dtypes)], schema=schema, preserve_index=False)


def staging_key(source: str) -> dg.AssetKey:
    return dg.AssetKey(["staging", f"prospects_{source}"])


def staging_table(source: str) -> str:
    return f"staging.prospects_{source}"


def quarantine_table_name(source: str) -> str:
    return f"quarantine.prospects_{source}"


def arrow_schema(source: str) -> "pa.Schema":
    """The staging table's columns, typed even when a column is all null."""
    import pyarrow as pa

    columns = {**COLUMNS[source], **LINEAGE, "extraction_id": "string"}
    return pa.schema([(name, _arrow_types()[dtype]) for name, dtype in columns.items()])


class InboxFile(dg.Config):
    file: str = ""  # set by the inbox sensor: load this file instead of the source's own


@dataclass
class Load:
    extract: Extract
    rows: "pd.DataFrame"
    rejections: list[Rejection]
    other_seasons: int = 0  # an every-season file's rows of other seasons: not this year's

    @property
    def rows_in(self) -> int:
        return len(self.rows) + len(self.rejections)

    @property
    def loaded_share(self) -> float:
        return len(self.rows) / self.rows_in if self.rows_in else 0.0


def _season(record: RawRecord) -> str | None:
    """The season a record of a whole-history file belongs to: its `season` field, or for a
    row that did not split into fields, its first cell (nflverse puts `season` first)."""
    if record.problem:
        first = (record.raw or "").split(",", 1)[0].strip().strip('"')
        return first if first.isdigit() and len(first) == 4 else None
    return record.fields.get("season") or None


def _for_year(records: list[RawRecord], year: int) -> list[RawRecord]:
    """A whole-history file (nflverse): this season's rows, and rows whose season cannot be
    told, so the rules quarantine them (in every draft year's load)."""
    return [r for r in records if _season(r) in (None, str(year))]


def _every_season(extract: Extract, records: list[RawRecord]) -> bool:
    """Whether an NFL file is an every-season export (nflverse's and nfl_data_py's are):
    a live download of a URL without `{year}`, or a file whose rows name two seasons or
    more. A file of one season that is not its draft year's stays one file, so P-R09
    quarantines its rows."""
    if extract.source != "nfl":
        return False
    return extract.whole_history or len({_season(r) for r in records} - {None}) > 1


def read_extract(extract: Extract) -> Load:
    """Parse and apply the record rules; raises ProspectFileError for a file that is not
    the source's layout, or whose name is another draft year's. Writes nothing. An
    every-season NFL file keeps the draft year's season (`Load.other_seasons` counts the
    rest); one with no row of that season is refused, naming the seasons it has."""
    named = draft_year_of_name(extract.path)
    if not extract.whole_history and named not in (None, extract.draft_year):
        # Records take their draft year from the file name (P-R09 compares against it), so
        # another year's file would land in that year's rows while replacing this one's.
        raise ProspectFileError(
            f"{extract.location}: P-R09 the file name says draft year {named}; expected a "
            f"file of draft year {extract.draft_year}, the partition it loads into"
        )
    records = PARSERS[extract.source](extract.path)
    other_seasons = 0
    if _every_season(extract, records):
        kept = _for_year(records, extract.draft_year)
        if not any(_season(r) == str(extract.draft_year) for r in kept):
            seasons = sorted({_season(r) for r in records} - {None})
            raise ProspectFileError(
                f"{extract.location}: every-season file with seasons {seasons[0]}-{seasons[-1]}, "
                f"none of draft year {extract.draft_year}; expected rows of season "
                f"{extract.draft_year}"
            )
        other_seasons = len(records) - len(kept)
        records = [
            RawRecord(extract.source, extract.draft_year, r.origin, r.fields, r.problem, r.raw)
            for r in kept
        ]
    rows, rejections = APPLY_RULES[extract.source](records)
    rows = rows.assign(extraction_id=extract.extraction_id)
    if len(records) != len(rows) + len(rejections):
        raise RuntimeError(
            f"{extract.location}: {len(records)} records in but {len(rows)} loaded + "
            f"{len(rejections)} rejected; refusing to lose records"
        )
    return Load(extract, rows, rejections, other_seasons)


def publish(warehouse: Warehouse, *loads: Load) -> None:
    """Replace each load's draft year in staging, quarantine and the extraction log, all in
    one transaction."""
    if loads:
        add_new_columns(warehouse, {load.extract.source for load in loads})
        warehouse.replace_many([write for load in loads for write in _writes(load)])


# Column types by their Arrow type, in SQL both engines (DuckDB, PostgreSQL) read.
@functools.cache
def _sql_types() -> "dict[pa.DataType, str]":
    import pyarrow as pa

    return {
        pa.int64(): "BIGINT",
        pa.float64(): "DOUBLE PRECISION",
        pa.string(): "TEXT",
        pa.timestamp("us", tz="UTC"): "TIMESTAMPTZ",
        pa.date32(): "DATE",
    }


def add_new_columns(warehouse: Warehouse, sources: set[str]) -> None:
    """Staging tables created before a column was added to their source (the NFL splits
    `ten_yd`, `twenty_yd`) get it, empty for the rows they hold, so new rows insert by name."""
    statements = []
    with warehouse.session() as con:
        for source in sorted(sources):
            table = staging_table(source)
            if not warehouse.table_exists(table, con):
                continue
            have = warehouse.query(f"SELECT * FROM {quote_table(table)} LIMIT 0", None, con)
            statements += [
                (
                    f'ALTER TABLE {quote_table(table)} ADD COLUMN "{f.name}" {_sql_types()[f.type]}',
                    None,
                )
                for f in arrow_schema(source)
                if f.name not in have.column_names
            ]
    if statements:
        warehouse.execute_all(statements)


def _writes(load: Load) -> list[tuple]:
    import pyarrow as pa

    source, year = load.extract.source, load.extract.draft_year
    rows = to_arrow(load.rows, {**COLUMNS[source], **LINEAGE, "extraction_id": "string"})
    quarantine = quarantine_table(
        load.rejections,
        draft_year=pa.array([year] * len(load.rejections), type=pa.int64()),
        extraction_id=pa.array([load.extract.extraction_id] * len(load.rejections), pa.string()),
    )
    log = pa.table(
        {
            "source": [source],
            "draft_year": pa.array([year], pa.int64()),
            "extraction_id": [load.extract.extraction_id],
            "location": [load.extract.location],
            "sha256": [load.extract.sha256],
            "bytes": pa.array([load.extract.size], pa.int64()),
            "rows_in": pa.array([load.rows_in], pa.int64()),
            "rows_loaded": pa.array([len(load.rows)], pa.int64()),
            "rows_quarantined": pa.array([len(load.rejections)], pa.int64()),
        }
    )
    return [
        (staging_table(source), rows, "draft_year", year, year + 1),
        (quarantine_table_name(source), quarantine, "draft_year", year, year + 1),
        (EXTRACTIONS, log, "draft_year", year, year + 1, {"source": source}),
    ]


def last_extraction(warehouse: Warehouse, source: str, year: int) -> dict | None:
    """The extraction staging holds for (source, year), or None."""
    with warehouse.session() as con:
        if not warehouse.table_exists(EXTRACTIONS, con):
            return None
        table = warehouse.query(
            f"SELECT * FROM {quote_table(EXTRACTIONS)} WHERE source = ? AND draft_year = ?",
            [source, year],
            con,
        )
    return table.to_pylist()[0] if table.num_rows else None


def gate_problem(load: Load, min_share: float) -> str | None:
    """Why the load fails P-C01, naming the file, the first bad rows and their fields."""
    if load.rows_in == 0:
        return f"{load.extract.location}: no records; expected at least one"
    if load.loaded_share >= min_share:
        return None
    first = "; ".join(f"{r.origin}: {r.reason}" for r in load.rejections[:3])
    return (
        f"{load.extract.location}: only {load.loaded_share:.0%} of {load.rows_in} records "
        f"passed the record rules (prospects.min_loaded_share.{load.extract.source} = "
        f"{min_share:.0%}); first rejected: {first}"
    )


# ---- the inbox's files ------------------------------------------------------------------------


def processed_path(path: Path, extraction_id: str) -> Path:
    """Where a loaded inbox file is archived: processed/, named with its extraction's hash
    (the same bytes dropped again land on the same name)."""
    return (
        path.parent / "processed" / f"{path.stem}-{extraction_id.rsplit('-', 1)[-1]}{path.suffix}"
    )


def file_done(path: Path, extraction_id: str) -> Path:
    """Move a loaded inbox file to processed/, named with its extraction's hash."""
    target = processed_path(path, extraction_id)
    archive(path, target)
    return target


def file_rejected(path: Path, reason: str) -> Path:
    """Move a bad inbox file (or link, or folder) to rejected/, beside a note with the
    reason."""
    target = path.parent / "rejected" / f"{path.stem}-{stamp()}{path.suffix}"
    note = archive(path, target)
    target.with_name(target.name + ".reason.txt").write_text(
        "".join(f"{line}\n" for line in (reason, note) if line)
    )
    return target


# ---- the asset ---------------------------------------------------------------------------------


def failure_mode(context) -> str:
    mode = context.run.tags.get(FAILURE_MODE_TAG, CONFIG.failure_mode)
    if mode not in ("fail_fast", "partial"):
        raise dg.Failure(
            description=f"run tag {FAILURE_MODE_TAG}={mode!r}: expected fail_fast or partial",
            allow_retries=False,
        )
    return mode


def run_draft_years(context) -> list[str]:
    """The run's draft-year partitions; a run with none fails at once, in one line. Dagster
    gives a reversed range (2024...2023) of static partitions as no partition at all (a
    slice from the first key's index to the last's), so such a run would otherwise load
    nothing and report success."""
    keys = list(context.partition_keys)
    if keys:
        return keys
    span = context.partition_key_range
    hint = f" (reversed? the earlier year goes first: {span.end}...{span.start})"
    raise dg.Failure(
        description=f"{context.op_def.name}: the run has no draft year: the partition range "
        f"{span.start}...{span.end} holds none{hint if span.start > span.end else ''}; expected "
        f"a range of prospects.draft_years ({', '.join(CONFIG.partition_keys)}) in order",
        allow_retries=False,
    )


def build_staging_asset(source: str) -> dg.AssetsDefinition:
    key = staging_key(source)
    rule_ids = ", ".join(RULES)

    @dg.asset(
        key=key,
        **YEARLY_ASSET,
        required_resource_keys={"warehouse", f"prospects_{source}"},
        retry_policy=SOURCE_RETRY,
        description=f"{SOURCE_NAMES[source]} records of one draft year, typed, after record "
        f"rules {rule_ids.split(', ')[0]}..{rule_ids.split(', ')[-1]} (rejects in "
        f"{quarantine_table_name(source)}, with rule, reason and the raw record).",
        check_specs=[
            dg.AssetCheckSpec(
                "loaded_share", asset=key, blocking=True, description=CHECKS["loaded_share"]
            ),
            dg.AssetCheckSpec("refreshed", asset=key, description=CHECKS["refreshed"]),
        ],
    )
    def _staging(context: dg.AssetExecutionContext, config: InboxFile):
        warehouse: Warehouse = context.resources.warehouse
        client = getattr(context.resources, f"prospects_{source}")
        mode = failure_mode(context)
        min_share = CONFIG.min_loaded_share[source]
        partitions = run_draft_years(context)
        inbox_file = Path(config.file) if config.file else None
        if inbox_file and len(partitions) != 1:
            raise dg.Failure(
                description=f"inbox file {inbox_file}: load it into one draft year",
                allow_retries=False,
            )

        judged: list[dict] = []  # one row per draft year, for the checks' metadata
        failed: list[str] = []  # partial mode: years kept from the last good load
        ready: list[Load] = []  # loads that passed, not yet published
        for partition in partitions:
            year = int(partition)
            problem, load, transient = None, None, False
            try:
                extract = (
                    extract_of(source, year, inbox_file) if inbox_file else client.extract(year)
                )
                load = read_extract(extract)
                problem = gate_problem(load, min_share)
            except (ProspectFileError, SourceError, OSError) as exc:
                problem = str(exc)
                # A download that failed may work later; a bad file will not.
                transient = isinstance(exc, SourceError) and exc.transient and not inbox_file

            if problem is None:
                # Years publish together, in one transaction at the end (an inbox file: now).
                if inbox_file:
                    # The extraction log names where the file will be kept: the inbox path
                    # is gone once the file moves to processed/.
                    target = processed_path(inbox_file, load.extract.extraction_id)
                    load.extract = dataclasses.replace(load.extract, location=str(target))
                    publish(warehouse, load)
                    moved = file_done(inbox_file, load.extract.extraction_id)
                    context.log.info(f"{inbox_file.name}: loaded, moved to {moved}")
                else:
                    ready.append(load)
                judged.append(
                    {"draft_year": year, "share": round(load.loaded_share, 4), "status": "loaded"}
                )
                _record(context, partition, load, client)
                continue

            if inbox_file and inbox_file.exists():
                moved = file_rejected(inbox_file, problem)
                problem += f" (file moved to {moved})"
            kept = last_extraction(warehouse, source, year)
            if mode == "fail_fast" or kept is None:
                publish(warehouse, *ready)  # the years before this one passed: keep them
                judged.append({"draft_year": year, "share": None, "status": problem})
                yield _check(key, "loaded_share", False, judged, min_share)
                raise dg.Failure(
                    description=f"{staging_table(source)} {year}: {problem}; {_kept_text(kept)}",
                    allow_retries=transient,
                )
            # Partial success: keep the last good staging and go on.
            failed.append(f"{year}: {problem}; {_kept_text(kept)}")
            share = kept["rows_loaded"] / max(kept["rows_in"], 1)
            judged.append(
                {"draft_year": year, "share": round(share, 4), "status": _kept_text(kept)}
            )
            context.instance.add_run_tags(context.run.run_id, {PARTIAL_TAG: "true"})
            context.log.warning(f"{staging_table(source)} {year}: {problem}; {_kept_text(kept)}")
            context.add_asset_metadata(
                {
                    "status": f"not refreshed: {_kept_text(kept)}",
                    "extraction_id": kept["extraction_id"],
                },
                partition_key=partition,
            )

        publish(warehouse, *ready)
        yield _check(key, "loaded_share", True, judged, min_share)
        yield dg.AssetCheckResult(
            asset_key=key,
            check_name="refreshed",
            passed=not failed,
            metadata={
                "not_refreshed": dg.MetadataValue.md("\n".join(f"- {f}" for f in failed) or "none")
            },
        )
        yield dg.MaterializeResult()

    return _staging


def _kept_text(kept: dict | None) -> str:
    if kept is None:
        return "no earlier load to keep"
    return f"kept the last good load {kept['extraction_id']} ({kept['location']})"


def _check(key, name: str, passed: bool, judged: list[dict], min_share: float):
    import pandas as pd

    return dg.AssetCheckResult(
        asset_key=key,
        check_name=name,
        passed=passed,
        metadata={
            "threshold": min_share,
            "by_draft_year": dg.MetadataValue.md(pd.DataFrame(judged).to_markdown(index=False)),
        },
    )


def _record(context, partition: str, load: Load, client) -> None:
    """The draft year's own figures on its materialization, and one log line."""
    import pandas as pd

    by_rule = pd.Series([r.rule_id for r in load.rejections], dtype="object").value_counts()
    context.add_asset_metadata(
        {
            "extraction_id": load.extract.extraction_id,
            "read_from": load.extract.location,
            "source": client.data_origin(),
            "sha256": load.extract.sha256,
            "rows_in": load.rows_in,
            "rows_loaded": len(load.rows),
            "rows_quarantined": len(load.rejections),
            **({"rows_other_seasons": load.other_seasons} if load.other_seasons else {}),
            "quarantined_by_rule": dg.MetadataValue.json(by_rule.to_dict()),
            "quarantine_sample": quarantine_sample_md(load.rejections),
            "dagster/row_count": len(load.rows),
        },
        partition_key=partition,
    )
    others = f", {load.other_seasons} of other seasons left out" if load.other_seasons else ""
    context.log.info(
        f"{staging_table(load.extract.source)} {partition}: {load.rows_in} records in, "
        f"{len(load.rows)} loaded, {len(load.rejections)} quarantined{others} "
        f"({load.extract.location})"
    )


staging_assets = [build_staging_asset(source) for source in SOURCES]

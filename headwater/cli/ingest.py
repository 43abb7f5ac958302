"""`headwater ingest` and `headwater list-jobs`: load a source for a date range as Dagster runs.

    headwater ingest --api databento --dataset GLBX.MDP3 --schema ohlcv-1d \\
        --symbols CL.FUT,ES.FUT --start-date 2024-01-02 --end-date 2024-01-31
    headwater ingest --api eia --start-date 2024-01-01 --end-date 2024-06-30
    headwater ingest --job NAME          (a job from market.jobs in the settings file)
    headwater ingest --api databento --files ~/databento/GLBX-20250101-ABCDEFGHIJ

`--files` loads DBN files you already have (`.dbn`, `.dbn.zst`, or a batch download's
folder, checked against its manifest and metadata): their schemas, symbols and partitions
come from the files, the definitions first.

Every parameter is checked before anything runs; a bad one is one line and exit code 2.
The range is inclusive and becomes partitions: days for intraday schemas (ohlcv-1m,
trades), whole months for the others and for the energy sources (a partition is the
unit that is replaced, so a month is always loaded whole). A Databento ingest first
loads the instrument definitions of the months it covers (validation and the symbol
mapping need them), then the schema; each is one run over its partition range,
recorded in the instance and visible in the UI. A progress bar shows while it runs
(on a terminal); `--log-format json` writes one JSON object a line instead. The
summary gives records fetched, loaded and quarantined by rule, the duration and the
run ids; the exit code is 1 when a run failed.
"""

import argparse
import json
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from headwater.domain import Ingest
from headwater.plans import BadParameter, IngestJob, IngestRequest, Plan, Step

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2


def add_parser(sub) -> None:
    p = sub.add_parser(
        "ingest",
        epilog=(
            "examples:\n"
            "  headwater ingest --api databento --dataset GLBX.MDP3 --schema ohlcv-1d "
            "--symbols CL.FUT,ES.FUT --start-date 2024-01-02 --end-date 2024-01-31\n"
            "  headwater ingest --api databento --schema trades --start-date 2026-11-02 "
            "--end-date 2026-11-06\n"
            "  headwater ingest --api fred --start-date 2024-01-01 --end-date 2024-03-31\n"
            "  headwater ingest --job cl_es_january_2024 --log-format json\n"
            "  headwater ingest --api databento --files ~/databento/GLBX-20250101-ABCDEFGHIJ\n"
            "  headwater list-jobs"
        ),
        help="load a source (databento, eia, fred, yahoo) for a date range, as Dagster runs",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--api", help="databento, eia, fred or yahoo")
    p.add_argument("--dataset", help="Databento dataset (default: market.dataset, GLBX.MDP3)")
    p.add_argument("--schema", help="Databento schema: ohlcv-1d, ohlcv-1m, trades, ...")
    p.add_argument("--symbols", help="Databento parent symbols, comma-separated: CL.FUT,ES.FUT")
    p.add_argument("--start-date", help="first day, YYYY-MM-DD")
    p.add_argument("--end-date", help="last day (inclusive), YYYY-MM-DD")
    p.add_argument("--job", help="a predefined job from market.jobs in the settings file")
    p.add_argument(
        "--files",
        nargs="+",
        metavar="PATH",
        help="DBN files or folders (a batch download) to load instead of fetching: "
        "partitions come from the records' own times",
    )
    p.add_argument("--config", type=Path, help="settings file (default: HEADWATER_CONFIG)")
    p.add_argument(
        "--log-format",
        choices=("text", "json"),
        default="text",
        help="text: a progress bar and a summary; json: one JSON object a line",
    )
    p.add_argument("--verbose", action="store_true", help="show Dagster's event log too")
    p.set_defaults(func=run)

    lj = sub.add_parser(
        "list-jobs",
        help="list the predefined ingest jobs (market.jobs in the settings file)",
        description="The predefined jobs `headwater ingest --job NAME` runs.",
    )
    lj.add_argument("--config", type=Path, help="settings file (default: HEADWATER_CONFIG)")
    lj.add_argument("--json", action="store_true", help="one JSON object")
    lj.set_defaults(func=list_jobs)


# ---- the plan -------------------------------------------------------------------------------


def _ingests() -> dict[str, Ingest]:
    """--api value -> the domain that loads it (definitions.DOMAINS)."""
    from headwater.cli.runs import load_domains

    found = {api: d.ingest for d in load_domains() if d.ingest for api in d.ingest.apis}
    return dict(sorted(found.items()))


def _date(option: str, text: str | None) -> date:
    if text is None:
        raise BadParameter(f"{option} is required (YYYY-MM-DD)")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadParameter(f"{option} {text!r}: not a date; expected YYYY-MM-DD") from None


def plan_from(
    api: str | None,
    dataset: str | None,
    schema: str | None,
    symbols: str | list[str] | None,
    start: str | date | None,
    end: str | date | None,
    config_path: Path | None = None,
) -> Plan:
    """Check the parameters and turn them into runs; raises BadParameter (one line)."""
    ingests = _ingests()
    if api is None:
        raise BadParameter(f"--api is required: one of {', '.join(ingests)}")
    if api not in ingests:
        raise BadParameter(f"--api {api!r}: unknown; expected one of {', '.join(ingests)}")
    first = start if isinstance(start, date) else _date("--start-date", start)
    last = end if isinstance(end, date) else _date("--end-date", end)
    if last < first:
        raise BadParameter(f"--end-date {last} is before --start-date {first}")
    ingest = ingests[api]
    given = {"schema": schema, "symbols": symbols, "dataset": dataset}
    for option, value in given.items():
        if value is not None and option not in ingest.options:
            takers = sorted({a for a, i in ingests.items() if option in i.options})
            raise BadParameter(f"--{option} applies to --api {' or '.join(takers)} only, not {api}")
    if isinstance(symbols, str):
        symbols = [s.strip() for s in symbols.split(",")]
    request = IngestRequest(
        api, first, last, dataset, schema, tuple(symbols) if symbols else None, config_path
    )
    return ingest.plan(request)


def _predefined(config_path: Path | None) -> dict[str, IngestJob]:
    """Every domain's predefined ingest jobs, by name."""
    from headwater.cli.runs import load_domains

    jobs: dict[str, IngestJob] = {}
    for domain in load_domains():
        if domain.ingest:
            jobs |= dict(domain.ingest.jobs(config_path))
    return jobs


def plan_from_files(args) -> Plan:
    """`--files`: the API's domain reads the files for their schemas and partitions."""
    ingests = _ingests()
    takers = sorted(a for a, i in ingests.items() if "files" in i.options)
    if args.api is None:
        raise BadParameter(f"--files needs --api ({' or '.join(takers)})")
    if args.api not in ingests:
        raise BadParameter(f"--api {args.api!r}: unknown; expected one of {', '.join(ingests)}")
    if args.api not in takers:
        raise BadParameter(f"--files applies to --api {' or '.join(takers)} only, not {args.api}")
    for name in ("schema", "symbols", "start_date", "end_date", "job"):
        if getattr(args, name) is not None:
            option = f"--{name.replace('_', '-')}"
            raise BadParameter(
                f"--files takes schema, symbols and dates from the files; drop {option}"
            )
    return ingests[args.api].plan_files(args.files, args.dataset, args.config)


def plan_from_args(args) -> Plan:
    if getattr(args, "files", None):
        return plan_from_files(args)
    if args.job is None:
        return plan_from(
            args.api,
            args.dataset,
            args.schema,
            args.symbols,
            args.start_date,
            args.end_date,
            args.config,
        )
    given = [
        f"--{name.replace('_', '-')}"
        for name in ("api", "dataset", "schema", "symbols", "start_date", "end_date")
        if getattr(args, name) is not None
    ]
    if given:
        raise BadParameter(f"--job takes its parameters from the settings file; drop {given[0]}")
    jobs = _predefined(args.config)
    if args.job not in jobs:
        known = ", ".join(sorted(jobs)) or "none are defined (market.jobs in the settings file)"
        raise BadParameter(f"--job {args.job!r}: unknown job; known jobs: {known}")
    job = jobs[args.job]
    return plan_from(
        job.api, None, job.schema_, job.symbols, job.start_date, job.end_date, args.config
    )


# ---- running it -----------------------------------------------------------------------------


class _Tally:
    """Records per partition as the runs report them (headwater.progress)."""

    def __init__(self):
        self.fetched = 0
        self.loaded = 0
        self.quarantined: dict[str, int] = {}
        self.partitions = 0

    def add(self, counts: dict[str, Any]) -> None:
        self.fetched += int(counts.get("records_in", 0))
        self.loaded += int(counts.get("loaded", 0))
        for rule, n in (counts.get("quarantined_by_rule") or {}).items():
            self.quarantined[rule] = self.quarantined.get(rule, 0) + int(n)
        self.partitions += 1

    @property
    def quarantined_total(self) -> int:
        return sum(self.quarantined.values())


def _emit_json(record: dict, stream=None) -> None:
    record = {"time": datetime.now(UTC).isoformat(timespec="milliseconds")} | record
    print(json.dumps(record, default=str), file=stream or sys.stdout, flush=True)


def run(args) -> int:
    try:
        plan = plan_from_args(args)
    except BadParameter as exc:
        print(f"ingest: {exc}", file=sys.stderr, flush=True)
        return EXIT_BAD_INPUT
    return execute(plan, args.log_format, args.verbose)


def execute(plan: Plan, log_format: str = "text", verbose: bool = False) -> int:
    import dagster as dg
    from tqdm import tqdm

    from headwater import progress, settings
    from headwater.cli.output import log_path
    from headwater.cli.runs import Interrupted, failure_line, load_defs, run_job

    settings.export_warehouse_env()
    defs = load_defs()
    instance = dg.DagsterInstance.get()
    as_json = log_format == "json"
    # While a run executes, Dagster's and dbt's output goes to the log file (stdout is
    # redirected there): the JSON lines and the bar go to the console as it was.
    console = sys.stdout
    log = log_path("ingest")

    def emit(record: dict) -> None:
        _emit_json(record, console)

    started = time.monotonic()
    tally = _Tally()
    runs: list[tuple[str, str, bool]] = []  # (job, run id, success)

    def partitions_in(step: Step) -> int:
        job = defs.resolve_job_def(step.job)
        return len(
            job.partitions_def.get_partition_keys_in_range(dg.PartitionKeyRange(*step.partitions))
        )

    total = sum(partitions_in(step) for step in plan.steps)
    bar = None
    if as_json:
        emit(
            {"stage": "plan", "ingest": plan.describe(), "steps": len(plan.steps), "log": str(log)}
        )
    else:
        print(f"ingest {plan.describe()}", flush=True)
        print(f"Dagster's and dbt's logs: {log}", flush=True)
        # On a terminal only: a bar in a file or a pipe is a wall of carriage returns.
        bar = tqdm(total=total, unit="partition", file=sys.stderr, disable=None, leave=False)

    current: dict[str, str] = {}

    def show(event: progress.Progress) -> None:
        if event.stage != "partition_done":
            if as_json and event.stage != "chunk":
                emit(
                    {
                        "stage": event.stage,
                        "job": current.get("job"),
                        "asset": event.asset,
                        "partition": event.partition,
                        **event.counts,
                    }
                )
            return
        tally.add(event.counts)
        if as_json:
            emit(
                {
                    "stage": "partition_done",
                    "job": current.get("job"),
                    "asset": event.asset,
                    "partition": event.partition,
                    **event.counts,
                }
            )
        elif bar is not None:
            bar.update(1)
            bar.set_postfix(loaded=f"{tally.loaded:,}", quarantined=f"{tally.quarantined_total:,}")

    with progress.listen(show):
        for step in plan.steps:
            current["job"] = step.job
            step_started = time.monotonic()
            if as_json:
                emit(
                    {
                        "stage": "run_started",
                        "job": step.job,
                        "partitions": list(step.partitions),
                        "what": step.what,
                    }
                )
            elif bar is not None:
                bar.set_description(step.job)
            reported = tally.partitions
            try:
                result = run_job(
                    defs,
                    step.job,
                    step.partitions,
                    instance,
                    tags={"headwater/trigger": "ingest"},
                    run_config=step.run_config,
                    log_file=log,
                    verbose=verbose,
                )
            except Interrupted as stop:
                if bar is not None:
                    bar.close()
                message = f"stopped by {stop.signal_name}; run {stop.run_id} ({step.job}) canceled"
                if as_json:
                    emit(
                        {
                            "stage": "interrupted",
                            "job": step.job,
                            "run_id": stop.run_id,
                            "signal": stop.signal_name,
                        }
                    )
                print(f"ingest: {message}", file=sys.stderr, flush=True)
                return stop.exit_code
            seconds = time.monotonic() - step_started
            if tally.partitions == reported:
                # Steps that ran elsewhere (Celery workers) or report no progress here (energy):
                # their figures are in the materializations the run recorded.
                for counts in counts_from_run(result):
                    tally.add(counts)
                    if bar is not None:
                        bar.update(1)
            runs.append((step.job, result.run_id, result.success))
            failure = None if result.success else failure_line(result)
            if as_json:
                emit(
                    {
                        "stage": "run_finished",
                        "job": step.job,
                        "run_id": result.run_id,
                        "success": result.success,
                        "seconds": round(seconds, 3),
                        "error": failure,
                    }
                )
            elif not result.success:
                if bar is not None:
                    bar.clear()
                print(
                    f"ingest: run {result.run_id} ({step.job}) failed: {failure}",
                    file=sys.stderr,
                    flush=True,
                )
            if not result.success:
                break
    if bar is not None:
        bar.close()
    seconds = time.monotonic() - started
    ok = all(success for _, _, success in runs) and len(runs) == len(plan.steps)
    summary = {
        "stage": "summary",
        "ingest": plan.describe(),
        "success": ok,
        "partitions": tally.partitions,
        "records_fetched": tally.fetched,
        "records_loaded": tally.loaded,
        "records_quarantined": tally.quarantined_total,
        "quarantined_by_rule": dict(sorted(tally.quarantined.items())),
        "seconds": round(seconds, 3),
        "runs": [{"job": j, "run_id": r, "success": s} for j, r, s in runs],
    }
    if as_json:
        emit(summary)
    else:
        rate = tally.fetched / seconds if seconds > 0 else 0.0
        print("ingest summary" + ("" if ok else " (FAILED)"))
        print(f"  records fetched:     {tally.fetched:>12,}  ({rate:,.0f} records/s)")
        print(f"  records loaded:      {tally.loaded:>12,}")
        print(f"  records quarantined: {tally.quarantined_total:>12,}")
        for rule, n in sorted(tally.quarantined.items()):
            print(f"    {rule:<8} {n:>12,}")
        print(f"  partitions:          {tally.partitions:>12,}")
        print(f"  duration:            {seconds:>12.1f} s")
        for job, run_id, success in runs:
            print(f"  run {run_id}  {job}  {'ok' if success else 'FAILED'}")
    return 0 if ok else EXIT_FAILED


def counts_from_run(result) -> list[dict[str, Any]]:
    """Per staging partition the run materialized: records in, loaded and quarantined by
    rule, as its materialization's metadata says."""
    found = []
    for event in result.all_events:
        if event.event_type_value != "ASSET_MATERIALIZATION":
            continue
        materialization = event.event_specific_data.materialization
        if materialization.asset_key.path[0] != "staging":
            continue
        md = {key: value.value for key, value in materialization.metadata.items()}
        records_in = md.get("records_in", md.get("rows_in"))
        if records_in is None:
            continue
        found.append(
            {
                "records_in": records_in,
                "loaded": md.get("rows_loaded", 0),
                "quarantined_by_rule": md.get("quarantined_by_rule") or {},
            }
        )
    return found


def list_jobs(args) -> int:
    jobs = _predefined(args.config)
    if args.json:
        print(
            json.dumps(
                {name: job.model_dump(mode="json", by_alias=True) for name, job in jobs.items()},
                indent=2,
            )
        )
        return 0
    if not jobs:
        print("no predefined jobs: add them under market.jobs in the settings file")
        return 0
    width = max(len(name) for name in jobs)
    for name, job in sorted(jobs.items()):
        what = job.api if job.schema_ is None else f"{job.api} {job.schema_}"
        symbols = f" {','.join(job.symbols)}" if job.symbols else ""
        print(
            f"{name:<{width}}  {what}{symbols} {job.start_date} .. {job.end_date}  {job.description}"
        )
    return 0

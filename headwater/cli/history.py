"""`headwater history`: past runs with their status, trigger, duration, rows and failing checks.

    headwater history                                  the last 20 runs, newest first
    headwater history --limit 50 --job energy_daily_prices
    headwater history --asset canonical/commodity_prices --since 2026-11-01
    headwater history --json

Read from the Dagster instance only (never the warehouse), so it works while runs are in
progress. A run's trigger comes from its tags: `dagster/schedule_name` (schedule),
`dagster/sensor_name` (sensor, automation included), `dagster/backfill` (backfill),
`headwater/trigger` (CLI: headwater demo, simulate or ingest); a run re-executed by hand
(`dagster/parent_run_id` without the daemon's `dagster/retry_number`) is its launcher's,
the UI's, named "re-execution of <parent>", whatever tags it copied; a run with none was
launched from the UI, or, when it has no code-location origin, by `dagster asset
materialize` or a Python script ("dagster CLI"). Rows are the sum of `dagster/row_count`
over the run's materializations; failing checks are the check evaluations that did not
pass, with their severity (WARN or ERROR).

The same run facts feed `headwater status` (per-asset health), so both read one way.
"""

import argparse
import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import dagster as dg

from headwater.clock import local_time

DEFAULT_LIMIT = 20
MAX_LIMIT = 1_000_000
PAGE = 100  # run records read at a time when a filter (--asset) has to look inside runs

TRIGGER_TAG = "headwater/trigger"  # set by headwater demo, simulate and ingest
SCHEDULE_TAG = "dagster/schedule_name"
SENSOR_TAG = "dagster/sensor_name"
BACKFILL_TAG = "dagster/backfill"
AUTOMATION_TAG = "dagster/from_automation_condition"
RETRY_TAG = "dagster/retry_number"
PARENT_TAG = "dagster/parent_run_id"
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
PARTITION_TAG = "dagster/partition"
ROW_COUNT = "dagster/row_count"

IN_PROGRESS = (
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
)

# The events a run's facts are built from, read in one query per run.
_EVENTS = {
    dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED,
    dg.DagsterEventType.ASSET_MATERIALIZATION,
    dg.DagsterEventType.ASSET_CHECK_EVALUATION,
    dg.DagsterEventType.STEP_START,
    dg.DagsterEventType.STEP_SUCCESS,
    dg.DagsterEventType.STEP_FAILURE,
}


class BadOption(ValueError):
    """An option value that cannot be used; the message names it and what is expected."""


def add_parser(sub) -> None:
    p = sub.add_parser(
        "history",
        epilog=(
            "examples:\n"
            "  headwater history\n"
            "  headwater history --limit 50 --job energy_daily_prices\n"
            "  headwater history --asset canonical/commodity_prices --since 2026-11-01\n"
            "  headwater history --json"
        ),
        help="past runs: status, trigger, duration, rows and failing checks (read-only)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    # Parsed in run(), not by argparse, so a bad value is one line (argparse adds its usage).
    p.add_argument(
        "--limit", default=str(DEFAULT_LIMIT), help=f"runs to show (default {DEFAULT_LIMIT})"
    )
    p.add_argument(
        "--asset",
        help="only runs that planned, materialized or checked this asset key, "
        "e.g. canonical/commodity_prices",
    )
    p.add_argument("--job", help="only runs of this job, e.g. energy_daily_prices")
    p.add_argument(
        "--since",
        help="only runs created on or after this day (YYYY-MM-DD, local "
        "time) or moment (YYYY-MM-DDTHH:MM)",
    )
    p.add_argument("--json", action="store_true", help="one JSON object instead of the table")
    p.set_defaults(func=run)


# ---- options ---------------------------------------------------------------------------------


def parse_limit(text: str) -> int:
    try:
        limit = int(text)
    except ValueError:
        raise BadOption(f"--limit {text!r}: expected a whole number of runs, at least 1") from None
    if limit < 1:
        raise BadOption(f"--limit {limit}: expected at least 1 run")
    if limit > MAX_LIMIT:
        raise BadOption(f"--limit {limit}: expected at most {MAX_LIMIT:,} runs")
    return limit


def parse_since(text: str | None) -> datetime | None:
    """A day (local midnight) or a moment (local time unless it names its offset)."""
    if text is None:
        return None
    try:
        moment = (
            datetime.combine(date.fromisoformat(text), datetime.min.time())
            if len(text) == 10
            else datetime.fromisoformat(text)
        )
    except ValueError:
        raise BadOption(
            f"--since {text!r}: not a date or time; expected YYYY-MM-DD or YYYY-MM-DDTHH:MM"
        ) from None
    return moment if moment.tzinfo else moment.astimezone()  # naive: this machine's zone


def parse_asset(text: str | None) -> dg.AssetKey | None:
    if text is None:
        return None
    text = text.strip()
    parts = text.split("/") if "/" in text else text.split(".")
    if not text or not all(parts):
        raise BadOption(f"--asset {text!r}: expected an asset key like canonical/commodity_prices")
    return dg.AssetKey(parts)


# ---- one run's facts -------------------------------------------------------------------------


@dataclass
class AssetInRun:
    """What a run did to one asset."""

    planned: bool = False
    partitions: list[str] = field(default_factory=list)  # materialized partitions (keys)
    materializations: int = 0
    rows: int | None = None  # sum of dagster/row_count; None when no materialization had one
    steps: set[str] = field(default_factory=set)  # steps that materialized it
    checks: list[tuple[str, bool, str]] = field(default_factory=list)  # (check, passed, severity)


@dataclass
class RunFacts:
    run_id: str
    job: str
    status: str
    trigger: str  # schedule, sensor, backfill, CLI, UI, dagster CLI
    trigger_name: str | None  # the schedule, sensor, backfill or headwater command
    retry_number: int
    created: float
    started: float | None
    ended: float | None
    partitions: tuple[str, str] | None
    assets: dict[dg.AssetKey, AssetInRun]
    step_seconds: dict[str, float]

    @property
    def in_progress(self) -> bool:
        return self.status in {s.value for s in IN_PROGRESS}

    @property
    def finished(self) -> bool:
        return not self.in_progress

    def duration(self, now: float | None = None) -> float | None:
        """Seconds from start to end (to now while in progress); None before it starts."""
        if self.started is None:
            return None
        end = self.ended if self.ended is not None else (now if self.in_progress else None)
        return None if end is None else max(0.0, end - self.started)

    @property
    def rows(self) -> int | None:
        counted = [a.rows for a in self.assets.values() if a.rows is not None]
        return sum(counted) if counted else None

    @property
    def materializations(self) -> int:
        return sum(a.materializations for a in self.assets.values())

    def checks(self) -> Iterator[tuple[dg.AssetKey, str, bool, str]]:
        for key, asset in self.assets.items():
            for name, passed, severity in asset.checks:
                yield key, name, passed, severity

    def failing_checks(self) -> list[tuple[dg.AssetKey, str, str]]:
        return [(k, name, sev) for k, name, passed, sev in self.checks() if not passed]

    def touches(self, key: dg.AssetKey) -> bool:
        return key in self.assets

    def asset_seconds(self, key: dg.AssetKey) -> float | None:
        """How long the step(s) that materialized `key` took (a dbt step builds several
        assets: each gets the whole step's time)."""
        found = [self.step_seconds[s] for s in self.assets[key].steps if s in self.step_seconds]
        return sum(found) if found else None

    def to_json(self, now: float) -> dict:
        failing = self.failing_checks()
        counts = {"passed": 0, "warned": 0, "failed": 0}
        for _, _, passed, severity in self.checks():
            counts["passed" if passed else "warned" if severity == "WARN" else "failed"] += 1
        return {
            "run_id": self.run_id,
            "job": self.job,
            "status": self.status,
            "trigger": {"kind": self.trigger, "name": self.trigger_name},
            "retry_number": self.retry_number,
            "created": iso(self.created),
            "started": iso(self.started),
            "ended": iso(self.ended),
            "duration_s": _round(self.duration(now)),
            "partitions": (
                {"first": self.partitions[0], "last": self.partitions[1]}
                if self.partitions
                else None
            ),
            "assets": sorted(
                k.to_user_string() for k, a in self.assets.items() if a.materializations
            ),
            "materializations": self.materializations,
            "rows": self.rows,
            "checks": counts,
            "failing_checks": [
                {"asset": k.to_user_string(), "check": name, "severity": severity}
                for k, name, severity in failing
            ],
        }


def trigger_of(run: dg.DagsterRun) -> tuple[str, str | None]:
    """(kind, name) of what launched a run, from its tags (module docstring)."""
    tags = run.tags
    if PARENT_TAG in tags and RETRY_TAG not in tags:
        # Re-executed by hand: the new run copies its parent's tags (a demo run's
        # `headwater/trigger` included), but whoever re-executed it launched it.
        kind = "UI" if run.remote_job_origin is not None else "dagster CLI"
        return kind, f"re-execution of {tags[PARENT_TAG][:8]}"
    if SCHEDULE_TAG in tags:
        return "schedule", tags[SCHEDULE_TAG]
    if SENSOR_TAG in tags:
        return "sensor", tags[SENSOR_TAG]
    if BACKFILL_TAG in tags:
        return "backfill", tags[BACKFILL_TAG]
    if TRIGGER_TAG in tags:
        return "CLI", f"headwater {tags[TRIGGER_TAG]}"
    if AUTOMATION_TAG in tags:
        return "sensor", "automation"
    # The UI (and headwater, handled above) create runs with their code location's origin;
    # `dagster asset materialize` and in-process Python runs have none.
    if run.remote_job_origin is None:
        return "dagster CLI", None
    return "UI", None


def _partition_range(run: dg.DagsterRun) -> tuple[str, str] | None:
    tags = run.tags
    if RANGE_START_TAG in tags and RANGE_END_TAG in tags:
        return tags[RANGE_START_TAG], tags[RANGE_END_TAG]
    if PARTITION_TAG in tags:
        return tags[PARTITION_TAG], tags[PARTITION_TAG]
    return None


def row_count(materialization) -> int | None:
    value = materialization.metadata.get(ROW_COUNT)
    value = getattr(value, "value", value)
    return int(value) if isinstance(value, int | float) else None


def run_facts(instance: dg.DagsterInstance, record) -> RunFacts:
    """A run's facts from its record and its asset and step events (one query)."""
    run = record.dagster_run
    assets: dict[dg.AssetKey, AssetInRun] = {}
    step_start: dict[str, float] = {}
    step_seconds: dict[str, float] = {}
    events = instance.get_records_for_run(run.run_id, of_type=_EVENTS).records
    for event_record in events:
        entry = event_record.event_log_entry
        event = entry.dagster_event
        if event is None:
            continue
        kind = event.event_type_value
        data = event.event_specific_data
        if kind == "ASSET_MATERIALIZATION_PLANNED":
            assets.setdefault(data.asset_key, AssetInRun()).planned = True
        elif kind == "ASSET_MATERIALIZATION":
            m = data.materialization
            asset = assets.setdefault(m.asset_key, AssetInRun())
            asset.materializations += 1
            if m.partition is not None:
                asset.partitions.append(m.partition)
            n = row_count(m)
            if n is not None:
                asset.rows = (asset.rows or 0) + n
            if entry.step_key:
                asset.steps.add(entry.step_key)
        elif kind == "ASSET_CHECK_EVALUATION":
            severity = getattr(data.severity, "value", str(data.severity))
            assets.setdefault(data.asset_key, AssetInRun()).checks.append(
                (data.check_name, bool(data.passed), severity)
            )
        elif kind == "STEP_START" and entry.step_key:
            step_start[entry.step_key] = entry.timestamp
        elif kind in ("STEP_SUCCESS", "STEP_FAILURE") and entry.step_key in step_start:
            step_seconds[entry.step_key] = entry.timestamp - step_start[entry.step_key]
    kind, name = trigger_of(run)
    try:
        retry = int(run.tags.get(RETRY_TAG, "0"))
    except ValueError:
        retry = 0
    return RunFacts(
        run_id=run.run_id,
        job=run.job_name,
        status=run.status.value,
        trigger=kind,
        trigger_name=name,
        retry_number=retry,
        created=record.create_timestamp.timestamp(),
        started=record.start_time,
        ended=record.end_time,
        partitions=_partition_range(run),
        assets=assets,
        step_seconds=step_seconds,
    )


def find_runs(
    instance: dg.DagsterInstance,
    limit: int,
    asset: dg.AssetKey | None = None,
    job: str | None = None,
    since: datetime | None = None,
) -> list[RunFacts]:
    """The newest `limit` runs matching the filters, newest first. Job and day filter in the
    run storage; the asset filter needs each run's events, so runs are read a page at a time
    until `limit` match."""
    filters = dg.RunsFilter(job_name=job, created_after=since)
    found: list[RunFacts] = []
    cursor = None
    while len(found) < limit:
        page = instance.get_run_records(
            filters=filters, limit=limit if asset is None else PAGE, cursor=cursor
        )
        for record in page:
            facts = run_facts(instance, record)
            if asset is None or facts.touches(asset):
                found.append(facts)
                if len(found) == limit:
                    break
        if asset is None or len(page) < PAGE:
            break
        cursor = page[-1].dagster_run.run_id
    return found


# ---- output ----------------------------------------------------------------------------------


def iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


def seconds_text(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    return (
        f"{minutes} min {secs:02d} s"
        if minutes < 60
        else f"{minutes // 60} h {minutes % 60:02d} min"
    )


def count_text(n: int | None) -> str:
    return "-" if n is None else f"{n:,}"


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 3)


def format_table(headers: Iterable[str], rows: list[list], right: Iterable[int] = ()) -> list[str]:
    """Plain aligned columns, two spaces apart; columns in `right` are right-aligned."""
    headers = list(headers)
    right = set(right)
    cells = [headers, *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    return [
        "  ".join(
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in cells
    ]


def trigger_text(facts: RunFacts) -> str:
    text = facts.trigger if facts.trigger_name is None else f"{facts.trigger} {facts.trigger_name}"
    return text + (f" (retry {facts.retry_number})" if facts.retry_number else "")


def failing_text(facts: RunFacts) -> str:
    failing = facts.failing_checks()
    return ", ".join(f"{name} {severity}" for _, name, severity in failing) or "-"


def render(runs: list[RunFacts], now: float) -> list[str]:
    rows = []
    for f in runs:
        partitions = "-"
        if f.partitions:
            first, last = f.partitions
            partitions = first if first == last else f"{first}..{last}"
        duration = seconds_text(f.duration(now)) + (
            " so far" if f.in_progress and f.started else ""
        )
        rows.append(
            [
                f.run_id[:8],
                f.job,
                f.status,
                trigger_text(f),
                local_time(f.started or f.created),
                duration,
                partitions,
                count_text(f.rows),
                failing_text(f),
            ]
        )
    headers = [
        "run",
        "job",
        "status",
        "trigger",
        "started",
        "duration",
        "partitions",
        "rows",
        "failing checks",
    ]
    return format_table(headers, rows, right={5, 7})


def _unknown(job: str | None, asset: dg.AssetKey | None) -> str | None:
    """Why --job or --asset names nothing the code location defines, or None."""
    from headwater.cli.runs import load_defs

    repository = load_defs().get_repository_def()
    if job and not repository.has_job(job):
        names = sorted(n for n in repository.job_names if not n.startswith("__"))
        return f"--job {job!r}: no such job; expected one of {', '.join(names)}"
    if asset and asset not in repository.asset_graph.get_all_asset_keys():
        return (
            f"--asset {asset.to_user_string()!r}: no such asset; expected a key like "
            "canonical/commodity_prices (headwater status lists them)"
        )
    return None


def _fail(message: str) -> int:
    print(f"history: {message}", file=sys.stderr, flush=True)
    return 2


def run(args) -> int:
    try:
        limit = parse_limit(args.limit)
        since = parse_since(args.since)
        asset = parse_asset(args.asset)
    except BadOption as exc:
        return _fail(str(exc))
    now = datetime.now(UTC).timestamp()
    with dg.DagsterInstance.get() as instance:
        runs = find_runs(instance, limit, asset=asset, job=args.job, since=since)
    if not runs and (args.job or asset):
        # Nothing matched: a job or asset that does not exist is a misspelling to name,
        # not an empty history (the definitions are loaded only in this case).
        if problem := _unknown(args.job, asset):
            return _fail(problem)
    if args.json:
        document = {
            "generated_at": iso(now),
            "filters": {
                "limit": limit,
                "asset": asset.to_user_string() if asset else None,
                "job": args.job,
                "since": since.isoformat() if since else None,
            },
            "runs": [f.to_json(now) for f in runs],
        }
        print(json.dumps(document, indent=2))
        return 0
    if not runs:
        print("no runs match" if (asset or args.job or since) else "no runs yet")
        return 0
    for line in render(runs, now):
        print(line)
    zone = datetime.now().astimezone().tzname()
    more = " (--limit for more)" if len(runs) == limit else ""
    print(f"{len(runs)} run{'s' if len(runs) != 1 else ''}, newest first; times in {zone}{more}")
    return 0

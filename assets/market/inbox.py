"""The market inbox: drop DBN files or a batch download's folder into `market.inbox` and
they load, as `headwater ingest --api databento --files` loads them.

The sensor `market_inbox` looks at the folder every INTERVAL_S seconds. An entry (a
`.dbn` / `.dbn.zst` file, or a folder of them with the batch sidecars) is taken once its
size and modification time (for a folder: of everything in it) are the same on two looks
in a row, so a download still being written waits. It is then planned (schemas, partitions
from the records' own times, checks against the manifest, the query and the settings):
a good entry moves to `requested/` and its runs are requested there, the definitions first
(a higher run priority, so the queue starts them first); a refused one moves to
`rejected/` beside a `.reason.txt` note naming what is wrong. Hidden entries and names
ending in `.part`, `.tmp` or `.crdownload` are copies in progress and are left alone, as
are the sensor's own folders.
"""

import dataclasses
import json
from pathlib import Path

import dagster as dg

from assets.market.assets import CONFIG
from assets.market.files import DATA_SUFFIXES
from assets.market.ingest import MarketIngest
from headwater.files import archive, reject, stamp
from headwater.plans import BadParameter, Plan

INTERVAL_S = 10
IN_PROGRESS = (".part", ".tmp", ".crdownload", ".partial")
OWN = ("requested", "rejected")
INBOX_TAG = "headwater/inbox_entry"
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
PRIORITY_TAG = "dagster/priority"


def _state(path: Path) -> list[int]:
    """What changes while an entry is still being written: sizes and the newest mtime."""
    if path.is_dir():
        inside = [p.stat() for p in path.rglob("*") if p.is_file()]
        return [
            len(inside),
            sum(s.st_size for s in inside),
            max((s.st_mtime_ns for s in inside), default=0),
        ]
    stat = path.stat()
    return [1, stat.st_size, stat.st_mtime_ns]


def scan(inbox: Path, previous: dict[str, list[int]]) -> tuple[list[Path], dict[str, list[int]]]:
    """Entries settled since the previous look, and what was seen (the next cursor)."""
    settled, seen = [], {}
    if not inbox.is_dir():
        return settled, seen
    for path in sorted(inbox.iterdir()):
        if path.name.startswith(".") or path.name.endswith(IN_PROGRESS):
            continue
        if path.name in OWN and path.is_dir():
            continue
        try:
            now = _state(path)
        except FileNotFoundError:  # moved away between listing and looking
            continue
        seen[path.name] = now
        if previous.get(path.name) == now:
            settled.append(path)
    return settled, seen


def _entry_problem(path: Path) -> str | None:
    if path.is_file() and not path.name.endswith(DATA_SUFFIXES):
        return f"{path.name}: not a DBN file; expected a .dbn or .dbn.zst file or a folder of them"
    if not path.is_file() and not path.is_dir():
        return f"{path.name}: neither a file nor a folder"
    return None


def _moved(plan: Plan, old: Path, new: Path) -> Plan:
    """The plan with its files' paths under `new`, where the entry was moved."""

    def where(path: str) -> str:
        return str(new / Path(path).relative_to(old)) if Path(path) != old else str(new)

    steps = []
    for step in plan.steps:
        config = json.loads(json.dumps(step.run_config))
        for op in config.get("ops", {}).values():
            op["config"]["files"] = [where(f) for f in op["config"]["files"]]
        steps.append(dataclasses.replace(step, run_config=config))
    return dataclasses.replace(plan, steps=steps)


def run_requests(plan: Plan, entry: str, key: str) -> list[dg.RunRequest]:
    """The plan's runs, the first (the definitions, when there are any) first in the queue."""
    out = []
    for i, step in enumerate(plan.steps):
        first, last = step.partitions
        out.append(
            dg.RunRequest(
                run_key=f"{key}:{step.job}",
                job_name=step.job,
                run_config=step.run_config,
                tags={
                    RANGE_START_TAG: first,
                    RANGE_END_TAG: last,
                    INBOX_TAG: entry,
                    PRIORITY_TAG: str(len(plan.steps) - i),
                },
            )
        )
    return out


def build_inbox_sensor(jobs: list) -> dg.SensorDefinition:
    @dg.sensor(
        name="market_inbox",
        minimum_interval_seconds=INTERVAL_S,
        jobs=jobs,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Loads DBN files and Databento batch-download folders dropped in "
        f"{CONFIG.inbox} once they stop changing (definitions first, partitions from the "
        "records' own times); each moves to requested/, or to rejected/ with a note.",
    )
    def market_inbox(context: dg.SensorEvaluationContext):
        inbox = Path(CONFIG.inbox)
        previous = json.loads(context.cursor) if context.cursor else {}
        settled, seen = scan(inbox, previous)
        requests = []
        for path in settled:
            seen.pop(path.name, None)
            problem = _entry_problem(path)
            if problem is None:
                target = inbox / "requested" / f"{stamp()}-{path.name}"
                try:
                    plan = MarketIngest().plan_files([str(path)], None, None)
                except BadParameter as exc:
                    problem = str(exc).removeprefix("--files: ")
                else:
                    archive(path, target)
                    requests += run_requests(_moved(plan, path, target), path.name, target.name)
                    context.log.info(f"{path.name}: {len(plan.steps)} run(s) from {target}")
                    continue
            moved = reject(path, problem)
            context.log.warning(f"{problem}; moved to {moved}")
        context.update_cursor(json.dumps(seen, sort_keys=True))
        if not requests:
            return dg.SkipReason(f"nothing new and settled in {inbox}")
        return requests

    return market_inbox

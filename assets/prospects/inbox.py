"""The inbox: drop a source export into `prospects.inbox` and its staging runs.

The sensor `prospects_inbox` looks at the folder's files every INTERVAL_S seconds. A file
is known by its name (`combine_2024.csv` is the NFL.com combine for the 2024 draft:
resources.prospect_sources.FILE_NAMES). It is requested once its size and modification
time are the same on two ticks in a row, so a file still being written waits; the run key
is the name, size and time, so one version of a file runs once. The run loads the file
into its source's staging for that draft year and moves it to `processed/` (loaded) or
`rejected/` beside a `.reason.txt` note (bad file), see assets.prospects.staging.

A file the sensor cannot place (a name that is no source's, a draft year that is not a
partition) is moved to `rejected/` by the sensor, with its note: nothing is dropped
silently. Hidden files and names ending in `.part`, `.tmp` or `.crdownload` are in-progress
copies and are left alone.
"""

import json
import re
from pathlib import Path

import dagster as dg

from assets.prospects.staging import (
    CONFIG,
    INBOX_TAG,
    draft_year_partitions,
    file_rejected,
    staging_key,
)
from resources.prospect_sources import FILE_NAMES

INTERVAL_S = 10
IN_PROGRESS = (".part", ".tmp", ".crdownload", ".partial")
_PATTERNS = {
    source: re.compile("^" + re.escape(name).replace(r"\{year\}", r"(\d{4})") + "$")
    for source, name in FILE_NAMES.items()
}


def classify(name: str) -> tuple[str, int] | None:
    """(source, draft year) for an inbox file name, or None."""
    for source, pattern in _PATTERNS.items():
        match = pattern.match(name)
        if match:
            return source, int(match.group(1))
    return None


def _expected_names() -> str:
    return ", ".join(name.format(year="<year>") for name in FILE_NAMES.values())


def scan(inbox: Path, previous: dict[str, list[int]], years: set[int]):
    """One look at the inbox. Returns (requests, unplaceable, seen): files stable since the
    previous look as (path, source, year, run key); files to reject with their reason; and
    what was seen, for the next look's cursor."""
    requests, unplaceable, seen = [], [], {}
    if not inbox.is_dir():
        return requests, unplaceable, seen
    for path in sorted(inbox.iterdir()):
        if not path.is_file() or path.name.startswith(".") or path.name.endswith(IN_PROGRESS):
            continue
        try:
            stat = path.stat()
        except FileNotFoundError:  # moved away between listing and looking
            continue
        now = [stat.st_size, stat.st_mtime_ns]
        seen[path.name] = now
        if previous.get(path.name) != now:
            continue  # new, or still changing: look again next tick
        placed = classify(path.name)
        if placed is None:
            unplaceable.append(
                (path, f"{path.name}: not a prospects export name; expected {_expected_names()}")
            )
            continue
        source, year = placed
        if year not in years:
            allowed = ", ".join(str(y) for y in sorted(years))
            unplaceable.append(
                (
                    path,
                    f"{path.name}: draft year {year} is not a partition (prospects.draft_years: "
                    f"{allowed})",
                )
            )
            continue
        requests.append((path, source, year, f"{path.name}:{now[0]}:{now[1]}"))
    return requests, unplaceable, seen


@dg.sensor(
    name="prospects_inbox",
    minimum_interval_seconds=INTERVAL_S,
    asset_selection=dg.AssetSelection.assets(*[staging_key(s) for s in FILE_NAMES]),
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=f"Loads source exports dropped in {CONFIG.inbox} (e.g. combine_2024.csv) into "
    "their staging table once the file stops changing; loaded files move to processed/, bad "
    "ones to rejected/ with a note.",
)
def inbox_sensor(context: dg.SensorEvaluationContext):
    inbox = Path(CONFIG.inbox)
    previous = json.loads(context.cursor) if context.cursor else {}
    years = {int(k) for k in draft_year_partitions.get_partition_keys()}
    requests, unplaceable, seen = scan(inbox, previous, years)
    for path, reason in unplaceable:
        moved = file_rejected(path, reason)
        seen.pop(path.name, None)
        context.log.warning(f"{reason}; moved to {moved}")
    runs = []
    for path, source, year, run_key in requests:
        key = staging_key(source)
        runs.append(
            dg.RunRequest(
                run_key=run_key,
                partition_key=str(year),
                asset_selection=[key],
                run_config={"ops": {key.to_python_identifier(): {"config": {"file": str(path)}}}},
                tags={INBOX_TAG: path.name},
            )
        )
    context.update_cursor(json.dumps(seen, sort_keys=True))
    if not runs and not unplaceable:
        return dg.SkipReason(f"nothing new and settled in {inbox}")
    return runs

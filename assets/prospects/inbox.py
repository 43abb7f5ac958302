"""The inbox: drop a source export into `prospects.inbox` and its staging runs.

The sensor `prospects_inbox` looks at the folder's files every INTERVAL_S seconds. A file
is known by its name (`combine_2024.csv` is the NFL.com combine for the 2024 draft:
assets.prospects.sources.FILE_NAMES). It is requested once its size and modification
time are the same on two ticks in a row, so a file still being written waits. The run key
is the name, size and modification time, and the directory entry's inode and change time:
one drop of a file runs once, and the same bytes dropped again (`cp -p` from processed/,
`mv` back from rejected/: same name, size and mtime) are a new drop that loads again
(idempotently) instead of a key Dagster has seen, skipped on every tick. The run loads the
file into its source's staging for that draft year and moves it to `processed/` (loaded)
or `rejected/` beside a `.reason.txt` note (bad file), see assets.prospects.staging. A
symbolic link to a file loads its target, and the archive keeps a copy of the data.

An entry the sensor cannot place (a name that is no source's, a draft year that is not a
partition, a dangling symbolic link, a folder or anything else that is not a file) is
moved to `rejected/` by the sensor, with its note: nothing is dropped silently. Hidden
files and names ending in `.part`, `.tmp` or `.crdownload` are in-progress copies and are
left alone, as are the sensor's own `processed/` and `rejected/` folders.
"""

import json
import re
from pathlib import Path

import dagster as dg

from assets.prospects.sources import FILE_NAMES
from assets.prospects.staging import (
    CONFIG,
    INBOX_TAG,
    draft_year_partitions,
    file_rejected,
    staging_key,
)

INTERVAL_S = 10
IN_PROGRESS = (".part", ".tmp", ".crdownload", ".partial")
ARCHIVES = ("processed", "rejected")  # the sensor's and the runs' own folders in the inbox
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
        if path.name.startswith(".") or path.name.endswith(IN_PROGRESS):
            continue
        if path.name in ARCHIVES and path.is_dir() and not path.is_symlink():
            continue
        try:
            entry = path.lstat()  # this drop: the link itself for a symbolic link
            stat = path.stat() if path.is_file() else entry  # the data (a link's target)
        except FileNotFoundError:  # moved away between listing and looking
            continue
        now = [stat.st_size, stat.st_mtime_ns, entry.st_ino, entry.st_ctime_ns]
        seen[path.name] = now
        if previous.get(path.name) != now:
            continue  # new, or still changing: look again next tick
        if not path.is_file():
            unplaceable.append((path, f"{path.name}: {_not_a_file(path)}"))
            continue
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
        requests.append((path, source, year, ":".join([path.name, *map(str, now)])))
    return requests, unplaceable, seen


def _not_a_file(path: Path) -> str:
    """What an inbox entry that is not a (link to a) regular file is, and what was expected."""
    expected = f"expected an export file ({_expected_names()})"
    if path.is_symlink():
        return f"a symbolic link to {path.readlink()}, which {_kind(path)}; {expected}"
    return f"{_kind(path)}, not a file; {expected}"


def _kind(path: Path) -> str:
    if path.is_dir():
        return "is a folder"
    if not path.exists():
        return "does not exist"
    return "is not a regular file"


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

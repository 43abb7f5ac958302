"""DBN files a user already has: a download, a batch job's folder, a file from a colleague.

`data_files(paths)` takes files and folders (a batch download's folder holds the data files,
split by day, week, month or not at all, beside `metadata.json`, `manifest.json`,
`symbology.json` and `condition.json`) and returns the `.dbn` / `.dbn.zst` files to load.
A batch folder is checked against its own sidecars first: every file the manifest lists is
there with its size and SHA-256, and every data file's metadata (dataset, schema, symbols,
stype_in) agrees with the job's query in `metadata.json`.

`inspect` reads a file's metadata and the times of its records (DBN versions 1 to 3, as
`assets.market.dbn` upgrades them); `check` refuses, in one line naming the file and the
difference, a file of another dataset than the one expected, of a schema Headwater does not
load, or of no records at all. Partitions come from the records' own times (a definition's
ts_recv, every other record's ts_event), never from the file's name or a requested range.

`split` streams each file once and writes, per partition and per the symbols the file was
requested for (its replace key, `DataFile.request`), a DBN file of just those records: the
load reads those as it reads a fetched file, so a file that spans many days loads each day
into its own partition, and loading it again replaces exactly the same rows.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import databento_dbn as dbn_lib

from assets.market import dbn
from assets.market.config import INTRADAY, SCHEMAS

if TYPE_CHECKING:
    import numpy as np

DATA_SUFFIXES = (".dbn.zst", ".dbn")
SIDECARS = ("metadata.json", "manifest.json", "symbology.json", "condition.json")
# Schemas Databento has that Headwater does not load (yet), and why, for a one-line refusal
# that names what is loaded.
_LOADED = ", ".join(SCHEMAS)
NOT_LOADED = {
    "mbo": f"order-book events (mbo) are not loaded: Headwater loads {_LOADED}",
    "mbp-10": f"ten-level book snapshots (mbp-10) are not loaded: Headwater loads {_LOADED}",
}
HASH_BLOCK = 1 << 20
DAY_NS = 86_400 * 1_000_000_000


class FileRefused(ValueError):
    """A file that is not what it claims or what the settings expect; one line naming it."""


@dataclass(frozen=True)
class DataFile:
    path: Path
    dataset: str
    schema: str
    stype_in: str | None
    symbols: tuple[str, ...]
    version: int
    records: int | None  # None when not scanned
    first_ns: int | None  # the earliest record time (time_field), None for no records
    last_ns: int | None
    start_ns: int = 0  # the window the metadata claims: [start, end); end None when open
    end_ns: int | None = None

    @property
    def request(self) -> str:
        """The symbols the file was requested for, as its rows' replace key (the `parent`
        column): loading the same file again replaces exactly its own rows."""
        return ",".join(self.symbols) if self.symbols else f"{self.dataset} (all symbols)"


def time_field(schema: str) -> str:
    """What dates a record: a definition is dated by when it was sent (its ts_event is the
    instrument's last change, often long before, and 0 in real IFEU files); quotes and status
    by ts_recv too (`dbn.time_field`)."""
    return dbn.time_field(schema)


def partition_keys(times: np.ndarray, schema: str) -> np.ndarray:
    """The partition key of each record time (ns, UTC): its day, or its month's first day."""
    import numpy as np

    days = (times // np.uint64(DAY_NS)).astype("datetime64[D]")
    if schema not in INTRADAY:
        days = days.astype("datetime64[M]").astype("datetime64[D]")
    return days.astype(str)


# ---- finding and checking files ------------------------------------------------------------


def _is_data(path: Path) -> bool:
    return path.name.endswith(DATA_SUFFIXES) and not path.name.startswith(".")


def data_files(paths: Iterable[Path | str]) -> list[Path]:
    """The data files named by `paths` (files, or folders searched recursively), in name
    order; a batch folder is checked against its manifest and metadata first."""
    found: list[Path] = []
    for given in paths:
        path = Path(given)
        if not path.exists():
            raise FileRefused(f"{path}: no such file or folder")
        if path.is_file():
            if not _is_data(path):
                raise FileRefused(f"{path}: not a DBN file; expected a .dbn or .dbn.zst file")
            found.append(path)
            continue
        inside = sorted(p for p in path.rglob("*") if p.is_file() and _is_data(p))
        if not inside:
            raise FileRefused(f"{path}: a folder without .dbn or .dbn.zst files")
        for folder in sorted({p.parent for p in inside}):
            check_batch_folder(folder)
        found.extend(inside)
    return sorted(dict.fromkeys(found))


def _json(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FileRefused(f"{path}: not readable JSON ({exc})") from None


def _manifest_entries(manifest: object) -> list[dict]:
    entries = manifest.get("files", manifest) if isinstance(manifest, dict) else manifest
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise FileRefused("expected a list of files, each with filename, size and hash")
    return entries


def sha256(path: Path) -> str:
    """The file's SHA-256 as hex, read a block at a time."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(HASH_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def check_batch_folder(folder: Path) -> None:
    """A batch download's folder against its sidecars (when it has them): the manifest's
    files are there whole (size, SHA-256); the data files' metadata is the job's query."""
    manifest_path = folder / "manifest.json"
    if manifest_path.is_file():
        try:
            entries = _manifest_entries(_json(manifest_path))
        except FileRefused as exc:
            raise FileRefused(f"{manifest_path}: {exc}") from None
        for entry in entries:
            name = str(entry.get("filename", ""))
            if not _is_data(Path(name)):
                continue  # the sidecars list themselves too
            path = folder / name
            if not path.is_file():
                raise FileRefused(f"{path}: listed in {manifest_path.name} but missing")
            size = entry.get("size")
            if size is not None and path.stat().st_size != int(size):
                raise FileRefused(
                    f"{path}: {path.stat().st_size} bytes, {manifest_path.name} says {size}: "
                    "an incomplete download"
                )
            algo, _, expected = str(entry.get("hash", "")).partition(":")
            if algo == "sha256" and sha256(path) != expected:
                raise FileRefused(f"{path}: SHA-256 differs from {manifest_path.name}")
    metadata_path = folder / "metadata.json"
    if metadata_path.is_file():
        metadata = _json(metadata_path)
        query = metadata.get("query", metadata) if isinstance(metadata, dict) else {}
        for path in sorted(p for p in folder.iterdir() if p.is_file() and _is_data(p)):
            _agrees_with_query(path, query, metadata_path)


def _agrees_with_query(path: Path, query: dict, metadata_path: Path) -> None:
    info = dbn.read_info(path)
    asked = {
        "dataset": query.get("dataset"),
        "schema": query.get("schema"),
        "stype_in": query.get("stype_in"),
    }
    found = {"dataset": info.dataset, "schema": info.schema, "stype_in": info.stype_in}
    for name, value in asked.items():
        if value is not None and str(value) != str(found[name]):
            raise FileRefused(
                f"{path}: {name} {found[name]}, but {metadata_path.name} asked for {value}"
            )
    symbols = query.get("symbols")
    if isinstance(symbols, str):
        symbols = [s.strip() for s in symbols.split(",")]
    if symbols and info.symbols and not set(info.symbols) <= set(symbols):
        extra = sorted(set(info.symbols) - set(symbols))
        raise FileRefused(
            f"{path}: symbols {', '.join(extra)} not in {metadata_path.name}'s request "
            f"({', '.join(symbols)})"
        )


def inspect(path: Path, chunk_records: int = dbn.DEFAULT_COUNT, scan: bool = True) -> DataFile:
    """The file's metadata and, with `scan`, the span of its records' times (one streaming
    pass; without it, records and times are None: `split` reads them anyway)."""
    info = dbn.read_info(path)
    if info.schema in NOT_LOADED:
        raise FileRefused(f"{path}: {NOT_LOADED[info.schema]}")
    if info.schema not in SCHEMAS:
        raise FileRefused(
            f"{path}: schema {info.schema or '(mixed)'} is not loaded; Headwater loads "
            f"{', '.join(SCHEMAS)}"
        )
    field = time_field(info.schema)
    count, first, last = (0 if scan else None), None, None
    for chunk in dbn.read_chunks(path, count=chunk_records, schema=info.schema) if scan else ():
        if not len(chunk):
            continue
        times = chunk[field]
        count += len(chunk)
        low, high = int(times.min()), int(times.max())
        first = low if first is None else min(first, low)
        last = high if last is None else max(last, high)
    return DataFile(
        path=path,
        dataset=info.dataset,
        schema=info.schema,
        stype_in=info.stype_in,
        symbols=info.symbols,
        version=info.version,
        records=count,
        first_ns=first,
        last_ns=last,
        start_ns=info.start_ns,
        end_ns=info.end_ns,
    )


def check(
    files: Sequence[DataFile], dataset: str, first_day: Callable[[str], date] | None = None
) -> None:
    """Refuse a file of another dataset than `dataset`, a scanned file with records outside
    the window its metadata claims, or (scanned files, given `first_day`: schema -> the
    settings' first day) with records before the first partition of its schema."""
    for f in files:
        if f.dataset != dataset:
            raise FileRefused(
                f"{f.path}: dataset {f.dataset}, expected {dataset} (market.dataset, or --dataset)"
            )
        if f.first_ns is not None and (
            f.first_ns < f.start_ns or (f.end_ns is not None and f.last_ns >= f.end_ns)
        ):
            raise FileRefused(
                f"{f.path}: {time_field(f.schema)} from {_stamp(f.first_ns)} to "
                f"{_stamp(f.last_ns)}, outside the window its metadata claims "
                f"[{_stamp(f.start_ns)}, {_stamp(f.end_ns) if f.end_ns else 'open'})"
            )
        if first_day is not None and f.first_ns is not None:
            earliest = datetime.fromtimestamp(f.first_ns / 1e9, UTC).date()
            if earliest < first_day(f.schema):
                setting = (
                    "market.intraday_start_date" if f.schema in INTRADAY else "market.start_date"
                )
                raise FileRefused(
                    f"{f.path}: {f.schema} records from {earliest}, before the first partition "
                    f"{first_day(f.schema)} ({setting} in the settings file)"
                )


def _stamp(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, UTC).isoformat().replace("+00:00", "Z")


# ---- splitting by partition ------------------------------------------------------------------


def _header(f: DataFile) -> bytes:
    """DBN version 3 metadata for the records of `f` (upgraded on read if older)."""

    metadata = dbn_lib.Metadata(
        dataset=f.dataset,
        start=f.first_ns or 0,
        stype_in=dbn_lib.SType(f.stype_in) if f.stype_in else None,
        stype_out=dbn_lib.SType.INSTRUMENT_ID,
        schema=dbn_lib.Schema(f.schema),
        symbols=list(f.symbols),
    )
    return bytes(metadata)


def split(
    files: Sequence[DataFile], out_dir: Path, chunk_records: int = dbn.DEFAULT_COUNT
) -> dict[tuple[str, str], Path]:
    """(partition key, request) -> a DBN file of the records of `files` (of one schema) in
    that partition, written under `out_dir`. Every record lands in exactly one file."""
    schemas = {f.schema for f in files}
    if len(schemas) > 1:
        raise ValueError(f"split takes the files of one schema, not {', '.join(sorted(schemas))}")
    out: dict[tuple[str, str], Path] = {}
    out_dir.mkdir(parents=True, exist_ok=True)
    handles = {}
    try:
        for f in files:
            field = time_field(f.schema)
            header = _header(f)
            for chunk in dbn.read_chunks(f.path, count=chunk_records, schema=f.schema):
                if not len(chunk):
                    continue
                keys = partition_keys(chunk[field], f.schema)
                for key in dict.fromkeys(keys.tolist()):
                    target = (key, f.request)
                    if target not in handles:
                        path = out_dir / f"{f.schema}_{key}_{len(out)}.dbn"
                        handles[target] = path.open("wb")
                        handles[target].write(header)
                        out[target] = path
                    handles[target].write(chunk[keys == key].tobytes())
    finally:
        for handle in handles.values():
            handle.close()
    return out


def empty_file(f: DataFile, path: Path) -> Path:
    """A DBN file with `f`'s metadata and no records: a partition the files hold nothing for."""
    path.write_bytes(_header(f))
    return path

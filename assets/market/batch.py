"""Databento batch jobs: large live requests submitted, waited for and downloaded the way
Databento recommends for requests over 5 GB, then loaded as a batch download's folder
(`assets.market.files`), exactly like a folder a user drops in.

`run_job(...)` does the three steps through the official client (`databento.Historical
.batch`), each call under the caller's retry rules (`call`, the same rules as streaming):

1. **The job.** A request is submitted once. Its job id is written, as soon as Databento
   accepts it, to `<root>/<request digest>.json` (atomically); a later attempt, a re-run
   after a crash or a kill, finds it there and resumes that job rather than paying for a
   second one. A job Databento reports expired (its files are gone) is submitted again.
2. **Waiting.** `batch.get_job_details` every `poll_s` until the job is done. Past
   `wait_s` the attempt fails as transient (`BatchProblem`): the next attempt, or the
   next run, resumes the same job.
3. **The files.** `batch.list_files`, then each file with the client's own per-file
   download into `<root>/<job id>/`, which resumes a partial file with an HTTP Range
   request. Each file's size and SHA-256 are checked against the list (the client only
   warns on a mismatch): a file that differs is deleted and fetched again, as a transient
   failure. Files already whole on disk are not fetched again, and a job whose folder is
   whole (its manifest and every file listed) is read without a call: a re-run is free.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import requests

from assets.market import files
from assets.market.databento_import import bento_warning
from headwater.files import write_atomic

if TYPE_CHECKING:
    import databento

log = logging.getLogger(__name__)

T = TypeVar("T")
Call = Callable[[str, Callable[[], T]], T]  # (what is called, the call) -> its result
SPLIT_DURATION = "day"  # one file per UTC day: the grain of the intraday partitions


class BatchProblem(Exception):
    """What the job itself says is wrong (not a failed call): `transient` when a later
    attempt may succeed (the job is still processing)."""

    def __init__(self, message: str, *, transient: bool):
        super().__init__(message)
        self.transient = transient


class FileMismatch(requests.exceptions.ChunkedEncodingError):
    """A downloaded file whose size or SHA-256 differs from the job's file list: deleted
    and, as a transfer that went wrong, fetched again."""


@dataclass(frozen=True)
class BatchRequest:
    dataset: str
    schema: str
    symbols: tuple[str, ...]
    stype_in: str
    start: date | datetime
    end: date | datetime

    def digest(self) -> str:
        """Names the request on disk: the same request, the same digest."""
        text = json.dumps(
            [
                self.dataset,
                self.schema,
                sorted(self.symbols),
                self.stype_in,
                self.start.isoformat(),
                self.end.isoformat(),
            ]
        )
        return hashlib.sha256(text.encode()).hexdigest()[:20]


@dataclass(frozen=True)
class Downloaded:
    """A batch job's files on disk: `folder` holds the data files and the sidecars."""

    job_id: str
    folder: Path
    files: tuple[Path, ...]
    resumed: bool  # the job was submitted by an earlier attempt or run
    fetched: int  # files downloaded now (the others were whole already)


def _whole(path: Path, entry: dict[str, Any]) -> bool:
    if not path.is_file() or path.stat().st_size != int(entry["size"]):
        return False
    algo, _, expected = str(entry.get("hash", "")).partition(":")
    return algo != "sha256" or files.sha256(path) == expected


def run_job(
    client: databento.Historical,
    call: Call,
    request: BatchRequest,
    root: Path,
    *,
    poll_s: float,
    wait_s: float,
) -> Downloaded:
    """Submit (or resume) the batch job for `request`, wait for it and download its files
    under `root`; see the module's docstring."""
    root.mkdir(parents=True, exist_ok=True)
    state = root / f"{request.digest()}.json"
    job_id, resumed = _job(client, call, request, state)
    if resumed and (done := _on_disk(root / job_id)) is not None:
        log.info("Databento batch job %s: every file already whole in %s", job_id, done.folder)
        return done
    deadline = time.monotonic() + wait_s
    while True:
        details = call("batch.get_job_details", lambda j=job_id: client.batch.get_job_details(j))
        status = str(details.get("state", ""))
        if status == "done":
            break
        if status == "expired":
            log.warning("Databento batch job %s expired before download: submitting again", job_id)
            state.unlink(missing_ok=True)
            job_id, resumed = _job(client, call, request, state)
            continue
        if time.monotonic() >= deadline:
            raise BatchProblem(
                f"job {job_id} still {status or 'not done'} after {wait_s:g} s; the next "
                "attempt resumes it",
                transient=True,
            )
        log.info("Databento batch job %s is %s; next look in %g s", job_id, status, poll_s)
        time.sleep(poll_s)
    entries = call("batch.list_files", lambda: client.batch.list_files(job_id))
    if not entries:
        raise BatchProblem(f"job {job_id} is done but lists no files", transient=False)
    folder = root / job_id
    paths, fetched = [], 0
    for entry in entries:
        path = folder / str(entry["filename"])
        if not _whole(path, entry):
            call(f"batch file {path.name}", lambda e=entry, p=path: _download(client, job_id, e, p))
            fetched += 1
        paths.append(path)
    log.info(
        "Databento batch job %s: %d file(s) in %s, %d downloaded now",
        job_id,
        len(paths),
        folder,
        fetched,
    )
    return Downloaded(job_id, folder, tuple(paths), resumed, fetched)


def _on_disk(folder: Path) -> Downloaded | None:
    """A job's folder downloaded whole before (its manifest and every file it lists, by
    size and SHA-256): a re-run reads it without a call, even once the job has expired."""
    try:
        entries = json.loads((folder / "manifest.json").read_text())["files"]
        paths = [folder / str(e["filename"]) for e in entries]
        whole = all(_whole(p, e) for p, e in zip(paths, entries, strict=True))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not whole:
        return None
    return Downloaded(folder.name, folder, (*paths, folder / "manifest.json"), True, 0)


def _job(client, call: Call, request: BatchRequest, state: Path) -> tuple[str, bool]:
    """The job id of `request`: the one submitted before, else a new job's."""
    if state.is_file():
        try:
            return str(json.loads(state.read_text())["id"]), True
        except (ValueError, KeyError, TypeError):
            state.unlink()  # unreadable: a crash cannot cause this (written atomically)
    job = call(
        "batch.submit_job",
        lambda: client.batch.submit_job(
            dataset=request.dataset,
            symbols=list(request.symbols),
            schema=request.schema,
            start=request.start,
            end=request.end,
            stype_in=request.stype_in,
            encoding="dbn",
            compression="zstd",
            split_duration=SPLIT_DURATION,
            delivery="download",
        ),
    )
    job_id = str(job["id"])
    write_atomic(state, json.dumps({"id": job_id, "submitted": job.get("ts_received")}).encode())
    log.info("Databento batch job %s submitted (%s %s)", job_id, request.dataset, request.schema)
    return job_id, False


def _download(client, job_id: str, entry: dict[str, Any], path: Path) -> None:
    """One file, resumed from what is on disk; deleted when it does not match the list."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bento_warning())  # the client's checksum warning
        client.batch.download(job_id, path.parent.parent, filename_to_download=path.name)
    if not _whole(path, entry):
        size = path.stat().st_size if path.exists() else 0
        path.unlink(missing_ok=True)
        raise FileMismatch(
            f"{path.name}: {size} bytes, not the {entry['size']} bytes and SHA-256 the job "
            "lists; deleted to fetch again"
        )


def describe(request: BatchRequest, shown_symbols: Callable[[Sequence[str]], str]) -> str:
    """The request as messages name it (no key)."""
    return (
        f"batch job dataset={request.dataset} schema={request.schema} "
        f"symbols={shown_symbols(request.symbols)} stype_in={request.stype_in} "
        f"start={request.start.isoformat()} end={request.end.isoformat()}"
    )

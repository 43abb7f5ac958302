"""Databento's batch API on the fake of tests/fakes/databento_api.py: what the official
client (`Historical.batch`, `Historical.metadata.get_billable_size`) calls, answered as
Databento does.

- `POST /v0/batch.submit_job` (form: dataset, symbols, schema, start, end, stype_in,
  encoding, compression, split_duration, delivery, ...) -> the job as JSON, state "queued".
  Its files are made at once: the data split by UTC day, one `.dbn.zst` per day with
  records (`<dataset>-<YYYYMMDD>.<schema>.dbn.zst`, as Databento names them), then the
  sidecars `metadata.json` (the query), `symbology.json`, `condition.json` and
  `manifest.json` (every other file's name, size, SHA-256 and URLs).
- `GET /v0/batch.get_job_details?job_id=` -> the job; it is "processing" for
  `polls_until_done` looks, then "done" (or whatever `expire()` made it).
- `GET /v0/batch.list_files?job_id=` -> `[{filename, size, hash: "sha256:...", urls:
  {https, ftp}}]`, the data files first.
- `GET /v0/batch/download/<user>/<job id>/<file>` -> the file; a `Range: bytes=a-b`
  request gets 206 and that part, as the client asks when it resumes.
- `POST /v0/metadata.get_billable_size` -> the request's size in bytes (`billable_size`
  when set, else the size of the records the request would give).

By default a day's data is `build_body` for that day (ohlcv-* bars); `data` may be set to
a function of (form, day) giving the day's file bytes instead (e.g. Headwater's own sample
files). Faults are scripted per path, e.g. `api.script(Fault.drop_mid_body(),
path=DOWNLOAD)`.
"""

import hashlib
import itertools
import json
from collections.abc import Callable
from datetime import datetime, timedelta

from tests.fakes.databento_api import (
    OHLCV,
    Answer,
    FakeDatabentoAPI,
    SeenRequest,
    _detail,
    _json,
    _ns,
    _parse_time,
    build_body,
)

SUBMIT = "/v0/batch.submit_job"
DETAILS = "/v0/batch.get_job_details"
LIST_FILES = "/v0/batch.list_files"
DOWNLOAD = "/v0/batch/download/"
BILLABLE = "/v0/metadata.get_billable_size"
SIDECARS = ("metadata.json", "symbology.json", "condition.json")

DayData = Callable[[dict[str, str], datetime], bytes | None]


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class FakeDatabentoBatchAPI(FakeDatabentoAPI):
    """The streaming fake plus the batch and billable-size endpoints."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.jobs: dict[str, dict] = {}
        self.polls_until_done = 1
        self.billable_size: int | None = None
        self.data: DayData | None = None
        self._ids = itertools.count(1)

    def reset(self) -> None:
        super().reset()
        self.jobs.clear()
        self.polls_until_done = 1
        self.billable_size = None
        self.data = None

    def expire(self, job_id: str) -> None:
        self.jobs[job_id]["job"]["state"] = "expired"

    def calls(self, path: str) -> list[SeenRequest]:
        return [r for r in self.requests if r.path.startswith(path)]

    # -- the API --

    def answer(self, request: SeenRequest) -> Answer:
        path = request.path
        if not (path.startswith("/v0/batch") or path == BILLABLE):
            return super().answer(request)
        if request.user != self.key:
            return _json(401, {"detail": "Authentication failed."})
        if path == SUBMIT and request.method == "POST":
            return self._submit(request.form)
        if path == BILLABLE and request.method == "POST":
            return self._billable(request.form)
        if path in (DETAILS, LIST_FILES) and request.method == "GET":
            job = self.jobs.get(request.form.get("job_id", ""))
            if job is None:
                return _json(404, _detail("job_not_found", "Batch job not found."))
            if path == LIST_FILES:
                return _json(200, self._listing(job))
            if job["job"]["state"] not in ("done", "expired"):
                job["polls"] += 1
                done = job["polls"] > self.polls_until_done
                job["job"]["state"] = "done" if done else "processing"
            return _json(200, job["job"])
        if path.startswith(DOWNLOAD) and request.method == "GET":
            return self._download(path, request.headers.get("Range"))
        return _json(404, {"detail": f"Not found: {request.method} {path}"})

    def _days(self, form: dict[str, str]) -> list[tuple[str, bytes]]:
        start, end = _parse_time(form["start"]), _parse_time(form["end"])
        prefix = form["dataset"].lower().replace(".", "-")
        out = []
        day = start.replace(hour=0, minute=0, second=0, microsecond=0)
        while day < end:
            if self.data is not None:
                body = self.data(form, day)
            else:
                body, records = build_body(
                    form["dataset"],
                    form["schema"],
                    form["symbols"].split(","),
                    max(day, start),
                    min(day + timedelta(days=1), end),
                )
                body = body if records else None
            if body is not None:
                out.append((f"{prefix}-{day:%Y%m%d}.{form['schema']}.dbn.zst", body))
            day += timedelta(days=1)
        return out

    def _submit(self, form: dict[str, str]) -> Answer:
        missing = [p for p in ("dataset", "symbols", "schema", "start", "end") if not form.get(p)]
        if missing:
            return _json(400, {"detail": f"Missing required parameter(s): {', '.join(missing)}"})
        if form["schema"] not in OHLCV and self.data is None:
            return _json(422, {"detail": f"The fake serves ohlcv-* schemas only, not '{form['schema']}'."})  # fmt: skip
        job_id = f"{form['dataset'].split('.')[0]}-20261207-{next(self._ids):010d}"
        files = dict(self._days(form))
        start, end = _parse_time(form["start"]), _parse_time(form["end"])
        query = {
            **form,
            "symbols": form["symbols"].split(","),
            "start": _ns(start),
            "end": _ns(end),
        }
        files["metadata.json"] = json.dumps(
            {"version": 1, "job_id": job_id, "query": query}
        ).encode()
        files["symbology.json"] = json.dumps({"result": {}, "symbols": query["symbols"]}).encode()
        files["condition.json"] = json.dumps(
            [{"date": f"{start:%Y-%m-%d}", "condition": "available"}]
        ).encode()
        files["manifest.json"] = json.dumps({"files": self._entries(job_id, files)}).encode()
        job = {
            "id": job_id,
            "dataset": form["dataset"],
            "schema": form["schema"],
            "symbols": form["symbols"],
            "stype_in": form.get("stype_in"),
            "split_duration": form.get("split_duration"),
            "delivery": form.get("delivery"),
            "state": "queued",
            "ts_received": "2026-12-07T18:00:00.000000000Z",
        }
        self.jobs[job_id] = {"job": job, "files": files, "polls": 0, "form": form}
        return _json(200, job)

    def _entries(self, job_id: str, files: dict[str, bytes]) -> list[dict]:
        return [
            {
                "filename": name,
                "size": len(data),
                "hash": _sha256(data),
                "urls": {
                    "https": f"{self.gateway}{DOWNLOAD}{self.key[:8]}/{job_id}/{name}",
                    "ftp": f"ftp://ftp.databento.com/{job_id}/{name}",
                },
            }
            for name, data in files.items()
        ]

    def _listing(self, job: dict) -> list[dict]:
        if job["job"]["state"] == "expired":
            return []
        return self._entries(job["job"]["id"], job["files"])

    def _download(self, path: str, byte_range: str | None) -> Answer:
        job_id, _, name = path.removeprefix(DOWNLOAD).partition("/")[2].partition("/")
        job = self.jobs.get(job_id)
        data = job["files"].get(name) if job and job["job"]["state"] == "done" else None
        if data is None:
            return _json(404, {"detail": f"No file {name} for job {job_id}."})
        headers = {"Content-Type": "application/octet-stream"}
        if byte_range and byte_range.startswith("bytes="):
            first, _, last = byte_range[6:].partition("-")
            lo, hi = int(first), int(last) if last else len(data) - 1
            headers["Content-Range"] = f"bytes {lo}-{hi}/{len(data)}"
            return Answer(206, data[lo : hi + 1], headers)
        return Answer(200, data, headers)

    def _billable(self, form: dict[str, str]) -> Answer:
        if self.billable_size is not None:
            return _json(200, self.billable_size)
        return _json(200, sum(len(body) for _, body in self._days(form)))

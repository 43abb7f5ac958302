"""Source client for the market domain: Databento historical data (CME Globex, GLBX.MDP3).

`DatabentoSource.fetch(schema, symbols, start, end)` puts one zstd-compressed DBN file
(`.dbn.zst`) on disk for the half-open window [start, end) and says where (`Fetched`).
mode "sample" (default) asks `assets.market.sample_data.ensure_sample` for a generated file
in the same format; mode "live" calls Databento's `timeseries.get_range` through the
official client (`databento.Historical`), with the symbols as parent symbols ("ES.FUT").

What live mode adds to the official client, which has none of it:

- Streaming to disk, atomically. With `path=` the client writes the body in 4 KiB pieces as
  it arrives (memory stays bounded) to a file it creates exclusively. That file is a hidden
  `.NAME.<random>.part` beside the target; once complete it is fsynced and renamed over the
  target, so readers see the old file or the new one. Any failure, an interrupt included,
  removes it: no half file is ever left under the target's name or beside it.
- Retries. Transient failures are retried with exponential backoff and jitter
  (`resources.http.backoff_seconds`), a `Retry-After` header honoured (capped at
  max_backoff_s): HTTP 408, 429 and 5xx (`BentoClientError`/`BentoServerError`, told apart
  by `http_status`); timeouts and failed connections before an answer
  (`requests.Timeout`/`requests.ConnectionError`); and a body cut short: the client turns
  that into a bare `BentoError("Error streaming response: ...")`, recognised by the
  transport error it was raised while handling (`__context__`: requests'
  ChunkedEncodingError or ConnectionError, or a urllib3/http.client error). Everything else
  fails at once: other 4xx (400, 401, 402, 403, 404, 409, 422: a key, an entitlement or a
  request that will not fix itself), a TLS certificate that does not verify, a body that is
  not the DBN asked for, a file that cannot be written, arguments the client refuses.
  Note that Databento bills a request by the data it sends: a body cut short and retried may
  be paid for twice.
- One-line errors: `DatabentoError` (a `SourceError`) names the request (gateway, dataset,
  schema, symbols, start, end), the HTTP status and the server's own `detail` (a string, or
  an object's case and message), and how many attempts were made.
- Secrets. The key goes out only in the Basic auth header the client builds. Every message
  raised, logged or returned is run through a `Scrubber` holding the key, and while a
  request is in flight that scrubber is active for the log filters installed on
  databento's, urllib3's and requests' loggers. Warnings the server sends (`X-Warning`, e.g.
  symbols that did not resolve) are caught, scrubbed, logged and returned in
  `Fetched.warnings` (`warnings.catch_warnings`, which is process-wide: two fetches in
  threads of one process may trade warnings, never lose a key). The resource's repr and
  pydantic's validation errors never show the key.
- A timeout. The client waits 100 s per connect and per read (`TIMEOUT`, a public class
  attribute of its API groups); `timeout_s` is set on this request's `timeseries` group.

Configuration that cannot mean what it says is refused when the resource is built, as in
`assets.energy.sources`: a gateway with mode "sample", a gateway that is not a plain
`https://host[:port]` URL (the client would silently call it over https, drop its query,
or send credentials in it), backoff_s above max_backoff_s.
"""

import hashlib
import logging
import os
import re
import time
import uuid
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

import dagster as dg
from databento_dbn import DBNError, Schema
from pydantic import ConfigDict, Field, model_validator

from assets.market import batch
from assets.market.databento_failures import (
    BAD_ANSWER,
    NOT_SAVED,
    NOT_SENT,
    REFUSED,
    _describe,
    _Failure,
    _one_line,
    classify,
)
from assets.market.databento_import import bento_warning, import_databento
from headwater import settings
from resources.http import (
    MissingAPIKeyError,
    Scrubber,
    SourceConfigError,
    SourceError,
    backoff_seconds,
    display_url,
    host_of,
    install_log_scrubbing,
)

if TYPE_CHECKING:
    import databento

log = logging.getLogger(__name__)

SOURCE = "Databento"
KEY_ENV = "DATABENTO_API_KEY"
STYPE_IN = "parent"  # symbols are parent symbols: "ES.FUT" is every ES contract
DEFAULT_GATEWAY = "https://hist.databento.com"  # databento.HistoricalGateway.BO1 (a test compares)
GET_RANGE_PATH = "/v0/timeseries.get_range"  # databento.common.API_VERSION 0 (a test compares)
SHOWN_SYMBOLS = 10  # a request naming more symbols is shown as the first ten and a count

# Every logger the databento package logs through (a filter on a parent logger does not see
# its children's records), and ours.
DATABENTO_LOGGERS = (
    "databento",
    "databento.historical.client",
    "databento.historical.api.batch",
    "databento.common.dbnstore",
    "databento.common.types",
    "databento.reference.client",
    "databento.live.client",
    "databento.live.gateway",
    "databento.live.protocol",
    "databento.live.session",
    __name__,
)
install_log_scrubbing(*DATABENTO_LOGGERS)


class DatabentoError(SourceError):
    """A Databento request that failed for good. The message is one line, safe to log:
    `Databento: POST <gateway>/v0/timeseries.get_range dataset=... schema=... symbols=...
    stype_in=parent start=... end=... -> HTTP 422: <the server's detail>`."""

    def __init__(
        self,
        request: str,
        status: int | None,
        message: str,
        *,
        attempts: int = 1,
        outcome: str | None = None,
        transient: bool | None = None,
    ):
        super().__init__(SOURCE, request, status, message, attempts=attempts, transient=transient)
        self.request = request
        self.outcome = outcome or (f"HTTP {status}" if status is not None else "no response")
        outcome = self.outcome
        tail = f" (gave up after {attempts} attempts)" if attempts > 1 else ""
        self.args = (f"{SOURCE}: {request} -> {outcome}: {message}{tail}",)


@dataclass(frozen=True)
class Fetched:
    """One fetched file. `origin` says where it came from: the request (live, no key) or the
    sample file (relative to the repository when inside it). `warnings`: what the server
    warned about (e.g. symbols it could not resolve), scrubbed; none in sample mode."""

    path: Path
    origin: str
    schema: str
    start: date | datetime
    end: date | datetime
    bytes: int
    warnings: tuple[str, ...] = ()


# ---- small helpers ----------------------------------------------------------------------------


def _origin_path(path: Path) -> str:
    """A file as a short, stable origin: relative to the repo when inside it."""
    try:
        return path.resolve().relative_to(settings.REPO_ROOT).as_posix()
    except ValueError:
        return path.as_posix()


def _as_utc(value: date | datetime) -> datetime:
    """A window bound as the client reads it: a date is midnight UTC, a naive time is UTC."""
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


def _stamp(value: date | datetime) -> str:
    """A window bound in a file name: 2024-01-02, or 2024-01-02T093000+0000."""
    return re.sub(r"[^0-9A-Za-z.+-]", "", value.isoformat())


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._+-]", "_", text)


def _shown_symbols(symbols: Sequence[str]) -> str:
    shown = ",".join(symbols[:SHOWN_SYMBOLS])
    more = len(symbols) - SHOWN_SYMBOLS
    return f"{shown},...(+{more} more)" if more > 0 else shown


# ---- the resource -----------------------------------------------------------------------------


class DatabentoSource(dg.ConfigurableResource):
    """Databento historical data (`timeseries.get_range`), one `.dbn.zst` file per fetch."""

    # A field that fails validation must not print what it was given (it may be the key).
    model_config = ConfigDict(hide_input_in_errors=True)

    mode: Literal["sample", "live"] = Field(
        default="sample", description="sample: generated files; live: the Databento API"
    )
    dataset: str = Field(default="GLBX.MDP3", min_length=1, description="Databento dataset")
    api_key: str | None = Field(
        default=None,
        repr=False,
        description=f"API key (live mode); wire it from EnvVar('{KEY_ENV}')",
    )
    gateway: str | None = Field(
        default=None,
        description=f"Live mode only: the API's https:// root (default {DEFAULT_GATEWAY})",
    )
    timeout_s: float = Field(default=100.0, gt=0, description="Per connect and per read")
    max_retries: int = Field(default=4, ge=0, description="Retries after the first attempt")
    backoff_s: float = Field(
        default=2.0, ge=0, description="First retry's backoff, doubled each retry"
    )
    max_backoff_s: float = Field(
        default=60.0, ge=0, description="Cap on one wait, Retry-After included"
    )
    sample_dir: str = Field(
        default=str(settings.sample_dir() / "market"),
        description="Where sample files are generated and read (sample mode)",
    )
    download_dir: str = Field(
        default=str(settings.data_dir() / "downloads" / "market"),
        description="Where live downloads are written (<dataset>/<schema>/<file>.dbn.zst)",
    )
    transport: Literal["auto", "stream", "batch"] = Field(
        default="auto",
        description="Live mode: stream (timeseries.get_range), batch (a batch job, then its "
        "files), or auto: batch when the request's billable size is above batch_above_mb",
    )
    batch_above_mb: float = Field(
        default=5000.0, ge=0, description="auto: batch above this size (Databento: 5 GB)"
    )
    batch_poll_s: float = Field(default=30.0, gt=0, description="Between looks at a batch job")
    batch_wait_s: float = Field(
        default=6 * 3600.0, gt=0, description="How long one attempt waits for a batch job"
    )

    @model_validator(mode="after")
    def _settings_agree(self):
        name = type(self).__name__
        if self.gateway and self.mode != "live":
            raise SourceConfigError(
                f"{name}: gateway is set but mode is {self.mode!r}; set mode: live to call "
                f"{self._shown(self.gateway)}, or drop gateway"
            )
        if self.gateway:
            problem = self._gateway_problem(self.gateway)
            if problem:
                raise SourceConfigError(f"{name}: gateway {self._shown(self.gateway)} {problem}")
        if self.backoff_s > self.max_backoff_s:
            raise SourceConfigError(
                f"{name}: backoff_s ({self.backoff_s:g}) is above max_backoff_s "
                f"({self.max_backoff_s:g}); every wait would be cut to max_backoff_s"
            )
        return self

    @staticmethod
    def _gateway_problem(gateway: str) -> str | None:
        try:
            parts = urlsplit(gateway)
            port_ok = parts.port is None or parts.port > 0
        except ValueError:
            return "does not parse as a URL"
        if parts.scheme != "https":
            return (
                "must start with https://: the official client calls every gateway over "
                "https (a plain-http server cannot be reached)"
            )
        if not parts.hostname or not port_ok:
            return "has no host"
        if parts.username or parts.password:
            return "must not carry credentials: the key is sent as Basic auth"
        if parts.query or parts.fragment:
            return "must not have a query or fragment: the client drops them"
        return None

    # -- what is shown --

    def _secrets(self) -> list[str]:
        return [self.api_key] if self.api_key else []

    def _shown(self, text: str) -> str:
        return display_url(text, None, scrub=Scrubber(self._secrets()))

    @property
    def api_url(self) -> str:
        """The gateway live mode calls (the client's default unless overridden)."""
        return (self.gateway or DEFAULT_GATEWAY).rstrip("/")

    def data_origin(self) -> str:
        """Where `fetch` reads: "sample files in <dir>" or "live https://<host>[:port]"
        (no path, no query, no credentials), for the staging assets' metadata."""
        if self.mode == "live":
            return f"live {self._shown(host_of(self.api_url))}"
        return f"sample files in {_origin_path(Path(self.sample_dir))}"

    def request_description(
        self, schema: str, symbols: Sequence[str], start: date, end: date
    ) -> str:
        """How a live request is named in messages and in `Fetched.origin` (no key)."""
        return (
            f"POST {self._shown(self.api_url + GET_RANGE_PATH)} dataset={self.dataset} "
            f"schema={schema} symbols={_shown_symbols(symbols)} stype_in={STYPE_IN} "
            f"start={start.isoformat()} end={end.isoformat()}"
        )

    def download_path(self, schema: str, symbols: Sequence[str], start: date, end: date) -> Path:
        """Where a live fetch is saved: <download_dir>/<dataset>/<schema>/<symbols>_<start>_
        <end>.dbn.zst (many symbols: the first, a count and a digest of them all)."""
        joined = _safe("+".join(symbols))
        if len(joined) > 60:
            digest = hashlib.sha256("\n".join(symbols).encode()).hexdigest()[:12]
            joined = f"{_safe(symbols[0])[:30]}+{len(symbols) - 1}more-{digest}"
        name = f"{joined}_{_stamp(start)}_{_stamp(end)}.dbn.zst"
        return Path(self.download_dir) / _safe(self.dataset) / _safe(schema) / name

    # -- fetching --

    def fetch(
        self,
        schema: str,
        symbols: list[str],
        start: date | datetime,
        end: date | datetime,
    ) -> Fetched:
        """The `schema` records of `symbols` (parent symbols, "ES.FUT") with start <= time <
        end, as one `.dbn.zst` file. Dates are UTC midnights, naive times are UTC. Live
        failures raise DatabentoError (a SourceError); a missing key MissingAPIKeyError."""
        symbols = self._check_request(schema, symbols, start, end)
        if self.mode == "live":
            return self._fetch_live(schema, symbols, start, end)
        from assets.market.sample_data import ROOTS, ensure_sample  # lazily

        for symbol in symbols:
            spec = ROOTS.get(symbol.removesuffix(".FUT"))
            if spec is not None and spec.dataset != self.dataset:
                raise ValueError(f"{symbol} is sample data of {spec.dataset}, not {self.dataset}")
        path = Path(ensure_sample(Path(self.sample_dir), schema, start, end, symbols))
        return Fetched(
            path=path,
            origin=_origin_path(path),
            schema=schema,
            start=start,
            end=end,
            bytes=path.stat().st_size,
        )

    @staticmethod
    def _check_request(schema: str, symbols: Sequence[str], start: date, end: date) -> list[str]:
        """Refuse, before any request, what would fail or cost more than meant."""

        if isinstance(symbols, str):
            raise ValueError(
                f"symbols must be a list of parent symbols, not the string {symbols!r}"
            )
        symbols = list(symbols)
        if not symbols:
            # The client would send an empty list as every symbol of the dataset.
            raise ValueError("symbols is empty: name at least one parent symbol (e.g. 'ES.FUT')")
        bad = [s for s in symbols if not isinstance(s, str) or not s.strip()]
        if bad:
            raise ValueError(f"symbols must be non-blank strings, got {bad!r}")
        try:
            Schema.from_str(schema)
        except (DBNError, ValueError, TypeError):
            raise ValueError(f"unknown Databento schema {schema!r}") from None
        for name, value in (("start", start), ("end", end)):
            if not isinstance(value, date):
                raise TypeError(f"{name} must be a date or datetime, got {value!r}")
        if _as_utc(end) <= _as_utc(start):
            raise ValueError(f"end ({end.isoformat()}) must be after start ({start.isoformat()})")
        return symbols

    def _key(self) -> str:
        key = self.api_key
        if not key or key.isspace() or key == "YOUR_API_KEY":
            raise MissingAPIKeyError(
                f"{SOURCE} live mode needs an API key: set the {KEY_ENV} environment variable "
                "(or use mode='sample')"
            )
        return key

    def _fetch_live(self, schema: str, symbols: list[str], start: date, end: date) -> Fetched:
        key = self._key()
        scrub = Scrubber([key])
        request = self.request_description(schema, symbols, start, end)
        target = self.download_path(schema, symbols, start, end)
        caught: list[warnings.WarningMessage] = []
        last_attempt_from = 0  # where the successful attempt's warnings start in `caught`

        def attempt() -> _Failure | None:
            nonlocal last_attempt_from
            last_attempt_from = len(caught)
            return self._attempt(client, scrub, schema, symbols, start, end, target)

        try:
            with scrub.active(), warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", bento_warning())
                target.parent.mkdir(parents=True, exist_ok=True)
                client = self._client(key, scrub, request)
                log.info("%s: %s", SOURCE, request)
                self._call(scrub, request, attempt)
        finally:
            server_warnings = self._report_warnings(caught, scrub, request)
        size = target.stat().st_size
        log.info("%s: saved %d bytes to %s", SOURCE, size, target)
        return Fetched(
            path=target,
            origin=f"{SOURCE} {request}",
            schema=schema,
            start=start,
            end=end,
            bytes=size,
            warnings=tuple(w for w in server_warnings[last_attempt_from:] if w is not None),
        )

    # -- batch jobs --

    def transport_for(
        self, schema: str, symbols: list[str], start: date | datetime, end: date | datetime
    ) -> tuple[Literal["stream", "batch"], str]:
        """How a live request goes, and why: the setting, or with transport "auto" the
        request's billable size (`metadata.get_billable_size`) against batch_above_mb."""
        if self.mode != "live":
            return "stream", "sample mode"
        if self.transport != "auto":
            return self.transport, f"transport: {self.transport}"
        symbols = self._check_request(schema, symbols, start, end)
        key = self._key()
        scrub = Scrubber([key])
        request = (
            f"POST {self._shown(self.api_url)}/v0/metadata.get_billable_size "
            f"dataset={self.dataset} schema={schema} symbols={_shown_symbols(symbols)} "
            f"start={start.isoformat()} end={end.isoformat()}"
        )
        with scrub.active():
            client = self._client(key, scrub, request)
            size = self._call(
                scrub,
                request,
                lambda: client.metadata.get_billable_size(
                    dataset=self.dataset,
                    symbols=symbols,
                    schema=schema,
                    start=start,
                    end=end,
                    stype_in=STYPE_IN,
                ),
            )
        mb = int(size) / 1e6
        way = "batch" if mb > self.batch_above_mb else "stream"
        return way, f"{mb:,.1f} MB billable, batch above {self.batch_above_mb:g} MB"

    def fetch_batch(
        self, schema: str, symbols: list[str], start: date | datetime, end: date | datetime
    ) -> batch.Downloaded:
        """The records of `symbols` in [start, end) as a batch job's folder of daily files,
        under <download_dir>/<dataset>/batch/ (assets.market.batch). Failures raise
        DatabentoError, retried per call as streaming is; a job still processing after
        batch_wait_s raises a transient one, and the next attempt resumes that job."""
        symbols = self._check_request(schema, symbols, start, end)
        key = self._key()
        scrub = Scrubber([key])
        job = batch.BatchRequest(self.dataset, schema, tuple(symbols), STYPE_IN, start, end)
        request = f"{self._shown(self.api_url)} " + batch.describe(job, _shown_symbols)
        root = Path(self.download_dir) / _safe(self.dataset) / "batch"
        with scrub.active():
            client = self._client(key, scrub, request)
            try:
                return batch.run_job(
                    client,
                    lambda what, fn: self._call(scrub, f"{request}: {what}", fn),
                    job,
                    root,
                    poll_s=self.batch_poll_s,
                    wait_s=self.batch_wait_s,
                )
            except batch.BatchProblem as exc:
                problem = (str(exc), exc.transient)
        raise DatabentoError(request, None, problem[0], outcome="batch job", transient=problem[1])

    def _call(self, scrub: Scrubber, request: str, fn):
        """`fn()` under the retry rules: transient failures retried with backoff (Retry-After
        honoured), the rest raised at once as a one-line DatabentoError. `fn` fails by
        raising or by returning a `_Failure`."""
        attempts = self.max_retries + 1
        for attempt in range(1, attempts + 1):
            try:
                result = fn()
            except Exception as exc:
                failure = classify(exc, scrub, self.timeout_s)
            else:
                if not isinstance(result, _Failure):
                    return result
                failure = result
            final = not failure.transient or attempt == attempts
            error = DatabentoError(
                request,
                failure.status,
                failure.message,
                attempts=attempt if final else 1,
                outcome=failure.outcome,
                transient=failure.transient,
            )
            if final:  # raised outside the `except`: nothing that held the key is chained
                raise error
            delay = (
                min(failure.wait_s, self.max_backoff_s)
                if failure.wait_s is not None
                else backoff_seconds(attempt, self.backoff_s, self.max_backoff_s)
            )
            log.warning("%s; retry %d/%d in %.2f s", error, attempt, self.max_retries, delay)
            time.sleep(delay)
        raise AssertionError("unreachable")

    def _client(self, key: str, scrub: Scrubber, request: str) -> "databento.Historical":
        databento = import_databento()  # keeps the warning filters (databento_import.py)
        try:
            client = databento.Historical(key=key, gateway=self.api_url)
        except (ValueError, TypeError) as exc:
            failure = classify(exc, scrub, self.timeout_s)
        else:
            client.timeseries.TIMEOUT = self.timeout_s  # this instance only: see the docstring
            return client
        raise DatabentoError(
            request, None, failure.message, outcome=NOT_SENT, transient=failure.transient
        )

    def _attempt(
        self,
        client: "databento.Historical",
        scrub: Scrubber,
        schema: str,
        symbols: list[str],
        start: date,
        end: date,
        target: Path,
    ) -> _Failure | None:
        """One request, streamed to a fresh hidden file beside `target` and renamed over it;
        the failure, or None once `target` holds the complete answer."""

        part = target.with_name(f".{target.name}.{uuid.uuid4().hex}.part")
        try:
            try:
                store = client.timeseries.get_range(
                    dataset=self.dataset,
                    symbols=symbols,
                    schema=schema,
                    start=start,
                    end=end,
                    stype_in=STYPE_IN,
                    path=part,
                )
            except Exception as exc:
                failure = classify(exc, scrub, self.timeout_s)
                if failure.outcome == NOT_SENT and part.exists():
                    # The client refused what it received (e.g. an empty body), not the request.
                    message = failure.message.removeprefix(REFUSED)
                    return _Failure(None, message, False, outcome=BAD_ANSWER)
                return failure
            got_dataset, got_schema = store.metadata.dataset, store.schema
            del store  # it holds the file open
            if got_dataset != self.dataset or got_schema != Schema.from_str(schema):
                message = f"the file holds {got_dataset} {got_schema}, not {self.dataset} {schema}"
                return _Failure(None, _one_line(message, scrub), False, outcome=BAD_ANSWER)
            try:
                with open(part, "rb") as written:
                    os.fsync(written.fileno())
                os.replace(part, target)
            except OSError as exc:
                message = f"could not save the data: {_describe(exc, scrub)}"
                return _Failure(None, message, False, outcome=NOT_SAVED)
            return None
        finally:
            part.unlink(missing_ok=True)  # gone already after a success

    @staticmethod
    def _report_warnings(
        caught: list[warnings.WarningMessage], scrub: Scrubber, request: str
    ) -> list[str | None]:
        """Log each server warning once (scrubbed) and pass any other warning on. Returns
        one entry per caught warning: the scrubbed text, None for those passed on."""
        texts: list[str | None] = []
        for w in caught:
            if issubclass(w.category, bento_warning()):
                text = _one_line(w.message, scrub)
                if text not in texts:
                    log.warning("%s: %s: server warning: %s", SOURCE, request, text)
                texts.append(text)
            else:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)
                texts.append(None)
        return texts

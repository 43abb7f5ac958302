"""A local fake of Databento's historical `timeseries.get_range`, for the live client's tests.

The official client (`databento.Historical`) rewrites every gateway to https://, so this is
an HTTPS server on 127.0.0.1 (ephemeral port, one thread per connection) with a certificate
for IP:127.0.0.1 from a throwaway CA (`make_tls`, with trustme); a test trusts that CA
through REQUESTS_CA_BUNDLE, so nothing of the client is patched. `Historical` calls nothing
on construction and `get_range` makes one request, so this is the only endpoint served
(anything else: 404 with a JSON detail).

It answers as the real API does: `POST /v0/timeseries.get_range` with form-encoded
`dataset, start, end, symbols` (comma-joined), `schema, stype_in, stype_out, encoding=dbn,
compression=zstd`, Basic auth with the key as user name and an empty password. Errors are
JSON `{"detail": ...}`, a string or an object with `case`, `message`, `docs`: 401 for a
missing or wrong key, 422 for a dataset, schema or symbol it does not know, 400 for a
missing parameter. A good request gets a zstd DBN body (built here with databento_dbn:
Metadata, then OHLCV bars) sent with chunked transfer encoding, in pieces; symbols that
are well formed but unknown are left out with a 206 and an `X-Warning` header, as
Databento does for partially resolved symbols. Only the ohlcv-* schemas carry data.

Faults are scripted and consumed one per request, in order:

    with FakeDatabentoAPI(ssl_context=tls.server_context) as api:
        api.script(Fault.rate_limited(retry_after="0"), Fault.drop_mid_body())
        ...
        api.requests  # what the server saw (form, auth), api.bodies what it sent

A fault's body and headers may echo the request's key (`{key}`), as careless servers do.
"""

import base64
import json
import ssl
import threading
import time
import zlib
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import parse_qsl

import databento_dbn as dbn

GET_RANGE = "/v0/timeseries.get_range"
DATASET = "GLBX.MDP3"
GLBX_SCHEMAS = (
    "mbo mbp-1 mbp-10 tbbo trades bbo-1s bbo-1m ohlcv-1s ohlcv-1m ohlcv-1h ohlcv-1d "
    "definition statistics status"
).split()
OHLCV = {
    "ohlcv-1s": (timedelta(seconds=1), dbn.RType.OHLCV_1S),
    "ohlcv-1m": (timedelta(minutes=1), dbn.RType.OHLCV_1M),
    "ohlcv-1h": (timedelta(hours=1), dbn.RType.OHLCV_1H),
    "ohlcv-1d": (timedelta(days=1), dbn.RType.OHLCV_1D),
}
PRICE_SCALE = 1_000_000_000
# Roots the fake knows, with a price level (whole units) and a tick (in 1e-9 units).
ROOTS = {
    "ES": (4700, 250_000_000),
    "NQ": (16500, 250_000_000),
    "CL": (75, 10_000_000),
    "NG": (3, 1_000_000),
    "GC": (2050, 100_000_000),
}
QUARTER_CODES = {3: "H", 6: "M", 9: "U", 12: "Z"}
MAX_RECORDS = 200_000
CHUNK = 1024  # bytes per HTTP chunk of a body
DOCS = "https://databento.com/docs/standards-and-conventions/symbology"
DEFAULT_KEY = "db-TESTkey0123456789abcdefABCDEF"  # 32 characters, "db-" first, like a real one


@dataclass(frozen=True)
class TLS:
    """A throwaway CA and a server certificate for IP:127.0.0.1."""

    server_context: ssl.SSLContext
    ca_bundle: Path  # the CA's PEM: point REQUESTS_CA_BUNDLE here


def make_tls(directory: Path) -> TLS:
    import trustme  # test-only dependency

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")  # an IP address: the SAN is IP:127.0.0.1
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(context)
    bundle = Path(directory) / "fake-databento-ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    return TLS(context, bundle)


@dataclass(frozen=True)
class Fault:
    """One scripted answer. `body=None` with status 200 means "the normal answer", after
    `delay_s` (a slow server), with `headers` added, cut after `drop_after` bytes of the
    body when set (the connection is then closed without ending the chunked body)."""

    status: int = 200
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    drop_after: int | None = None  # bytes of the normal body sent before the connection drops
    drop_fraction: float | None = None  # the same, as a share of the body

    @classmethod
    def rate_limited(cls, retry_after: str | None = "0") -> "Fault":
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        return cls.json(429, {"detail": "Too many requests. Please slow down."}, headers)

    @classmethod
    def server_error(cls, status: int = 500) -> "Fault":
        detail = {
            500: "Internal server error.",
            502: "Bad gateway.",
            503: "Service unavailable: the data gateway is offline or overloaded.",
            504: "Gateway timeout.",
        }.get(status, "Server error.")
        return cls.json(status, {"detail": detail})

    @classmethod
    def html_error(cls, status: int = 502) -> "Fault":
        """A proxy's answer: HTML, no JSON detail."""
        body = f"<html><body><h1>{status}</h1>upstream failed</body></html>".encode()
        return cls(status, body, {"Content-Type": "text/html"})

    @classmethod
    def slow(cls, delay_s: float) -> "Fault":
        return cls(delay_s=delay_s)

    @classmethod
    def drop_mid_body(cls, after: int | None = None, fraction: float = 0.5) -> "Fault":
        """The normal answer's headers and the first `after` bytes of its body (default:
        `fraction` of it), then the connection closes."""
        return cls(drop_after=after, drop_fraction=None if after is not None else fraction)

    @classmethod
    def json(cls, status: int, body: object, headers: dict[str, str] | None = None) -> "Fault":
        """A JSON answer; "{key}" anywhere in it becomes the key the request sent."""
        return cls(
            status,
            json.dumps(body).encode(),
            {"Content-Type": "application/json", **(headers or {})},
        )

    @classmethod
    def with_headers(cls, headers: dict[str, str]) -> "Fault":
        """The normal answer with extra headers (e.g. an `X-Warning` echoing "{key}")."""
        return cls(headers=headers)


@dataclass(frozen=True)
class SeenRequest:
    at: float  # time.monotonic()
    method: str
    path: str
    form: dict[str, str]
    authorization: str | None  # the raw header
    user: str | None  # Basic auth user name (the key), decoded
    password: str | None
    headers: dict[str, str]


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    headers: dict[str, str]


def _ns(moment: datetime) -> int:
    return int(moment.timestamp()) * 1_000_000_000 + moment.microsecond * 1000


def _parse_time(text: str) -> datetime:
    """An ISO date or date-time as the API takes it (UTC unless a zone is given)."""
    if text.isdigit():
        return datetime.fromtimestamp(int(text) / 1e9, UTC)
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def contracts(root: str, start: datetime) -> list[tuple[str, int]]:
    """The two quarterly contracts listed at `start`, as (raw symbol, instrument id)."""
    month = ((start.month - 1) // 3 + 1) * 3
    year = start.year
    out = []
    for _ in range(2):
        symbol = f"{root}{QUARTER_CODES[month]}{year % 10}"
        out.append((symbol, 1000 + zlib.crc32(f"{root}{year}{month}".encode()) % 900_000))
        month, year = (month + 3, year) if month < 12 else (3, year + 1)
    return out


def build_body(
    dataset: str, schema: str, symbols: list[str], start: datetime, end: datetime
) -> tuple[bytes, list[dbn.OHLCVMsg]]:
    """A zstd DBN body (Metadata, then bars of each known root's two front contracts at
    every `schema` interval of [start, end) except weekends), and the records in it."""
    interval, rtype = OHLCV[schema]
    known = [s for s in symbols if s.split(".")[0] in ROOTS]
    # Parent symbology: each requested parent maps to every contract listed in the window
    # (overlapping intervals, one per instrument id), as `stype_in -> stype_out`.
    mappings = []
    listed: list[tuple[int, int, int]] = []  # (instrument id, base, tick)
    last_day = end.date() + timedelta(days=0 if end.time() == datetime.min.time() else 1)
    for parent in known:
        base, tick = ROOTS[parent.split(".")[0]]
        intervals = []
        for _, instrument_id in contracts(parent.split(".")[0], start):
            listed.append((instrument_id, base, tick))
            intervals.append(
                SimpleNamespace(
                    start_date=start.date(), end_date=last_day, symbol=str(instrument_id)
                )
            )
        mappings.append(SimpleNamespace(raw_symbol=parent, intervals=intervals))
    records = []
    moment = start
    step = 0
    while moment < end:
        if moment.weekday() < 5:
            for offset, (instrument_id, base, tick) in enumerate(listed):
                close = base * PRICE_SCALE + ((step * 7 + offset * 3) % 40 - 20) * tick
                opened = close - ((step + offset) % 5 - 2) * tick
                records.append(
                    dbn.OHLCVMsg(
                        rtype,
                        1,  # publisher: GLBX.MDP3 on Globex
                        instrument_id,
                        _ns(moment),
                        opened,
                        max(opened, close) + 2 * tick,
                        min(opened, close) - 3 * tick,
                        close,
                        1000 + (step * 37 + offset * 11) % 5000,
                    )
                )
                if len(records) > MAX_RECORDS:
                    raise ValueError(f"more than {MAX_RECORDS} records: ask the fake for less")
        moment += interval
        step += 1
    metadata = dbn.Metadata(
        dataset,
        _ns(start),
        dbn.SType.PARENT,
        dbn.SType.INSTRUMENT_ID,
        dbn.Schema.from_str(schema),
        symbols=known,
        partial=[],
        not_found=[s for s in symbols if s not in known],
        mappings=mappings,
        end=_ns(end),
    )
    buffer = BytesIO()
    transcoder = dbn.Transcoder(buffer, dbn.Encoding.DBN, dbn.Compression.ZSTD)
    transcoder.write(bytes(metadata))
    for record in records:
        transcoder.write(bytes(record))
    transcoder.flush()
    transcoder.finish()  # the zstd epilogue
    return buffer.getvalue(), records


def _detail(case: str, message: str) -> dict:
    return {"detail": {"case": case, "message": message, "docs": DOCS}}


class FakeDatabentoAPI:
    """Serves `POST /v0/timeseries.get_range` at `gateway` (https://127.0.0.1:<port>)."""

    def __init__(self, *, ssl_context: ssl.SSLContext, key: str = DEFAULT_KEY):
        self.key = key
        self.requests: list[SeenRequest] = []
        self.bodies: list[bytes] = []  # each complete normal body sent, in order
        self._ssl_context = ssl_context
        self._faults: dict[str, deque[Fault]] = {}  # path (prefix) -> faults for it
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # -- lifecycle --

    def start(self) -> "FakeDatabentoAPI":
        handler = type("Handler", (_Handler,), {"api": self})
        server = _QuietServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True  # a handler still sleeping never blocks shutdown
        # The handshake happens in the handler's thread (`_Handler.setup`), not in accept().
        server.socket = self._ssl_context.wrap_socket(
            server.socket, server_side=True, do_handshake_on_connect=False
        )
        self._server = server
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "FakeDatabentoAPI":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def gateway(self) -> str:
        assert self._server is not None, "start() the server first"
        host, port = self._server.server_address[:2]
        return f"https://{host}:{port}"

    # -- scripting --

    def script(self, *faults: Fault, path: str = GET_RANGE) -> None:
        """Answer the next requests to `path` (or under it) with `faults`, one each."""
        with self._lock:
            self._faults.setdefault(path, deque()).extend(faults)

    def reset(self) -> None:
        with self._lock:
            self._faults.clear()
            self.requests.clear()
            self.bodies.clear()

    def next_fault(self, path: str = GET_RANGE) -> Fault | None:
        with self._lock:
            for prefix, faults in self._faults.items():
                if path.startswith(prefix) and faults:
                    return faults.popleft()
            return None

    def get_ranges(self) -> list[SeenRequest]:
        return [r for r in self.requests if r.path == GET_RANGE]

    # -- the API --

    def answer(self, request: SeenRequest) -> Answer:
        """The real API's answer to `request` (no faults)."""
        if request.method != "POST" or request.path != GET_RANGE:
            return _json(404, {"detail": f"Not found: {request.method} {request.path}"})
        if request.user is None:
            return _json(401, {"detail": "Authentication failed: no API key was supplied."})
        if request.user != self.key:
            return _json(401, {"detail": "Authentication failed."})
        form = request.form
        missing = [p for p in ("dataset", "start", "symbols", "schema") if not form.get(p)]
        if missing:
            return _json(400, {"detail": f"Missing required parameter(s): {', '.join(missing)}"})
        if form.get("encoding") != "dbn" or form.get("compression") != "zstd":
            return _json(400, {"detail": "The fake serves encoding=dbn, compression=zstd only"})
        dataset, schema = form["dataset"], form["schema"]
        if dataset != DATASET:
            return _json(422, _detail("dataset_not_found", f"Dataset '{dataset}' not found."))
        if schema not in GLBX_SCHEMAS:
            return _json(
                422, {"detail": f"Schema '{schema}' is not supported for dataset '{dataset}'."}
            )
        if schema not in OHLCV:
            return _json(422, {"detail": f"The fake serves ohlcv-* schemas only, not '{schema}'."})
        if form.get("stype_in") != "parent":
            return _json(422, {"detail": "The fake resolves stype_in=parent only."})
        symbols = form["symbols"].split(",")
        malformed = [s for s in symbols if not _is_parent_symbol(s)]
        if malformed:
            message = (
                f"Invalid symbol(s) for stype_in 'parent': {', '.join(malformed)}. "
                "Parent symbols are [ROOT].FUT or [ROOT].OPT."
            )
            return _json(422, _detail("symbology_invalid_symbol", message))
        try:
            start = _parse_time(form["start"])
            end = _parse_time(form["end"]) if form.get("end") else start + timedelta(days=1)
        except ValueError as exc:
            return _json(422, _detail("datetime_invalid", str(exc)))
        if end <= start:
            return _json(422, _detail("datetime_range_invalid", "`end` must be after `start`."))
        unknown = [s for s in symbols if s.split(".")[0] not in ROOTS]
        if len(unknown) == len(symbols):
            message = f"None of the symbols could be resolved: {', '.join(unknown)}."
            return _json(422, _detail("symbology_failed_to_resolve", message))
        body, _ = build_body(dataset, schema, symbols, start, end)
        headers = {"Content-Type": "application/octet-stream"}
        status = 200
        if unknown:
            status = 206
            warning = f"Warning: The following symbols could not be resolved: {unknown}"
            headers["X-Warning"] = json.dumps([warning])
        return Answer(status, body, headers)


def _is_parent_symbol(symbol: str) -> bool:
    root, dot, kind = symbol.partition(".")
    return bool(dot) and kind in ("FUT", "OPT") and root.isalnum() and root.isupper()


def _json(status: int, body: object) -> Answer:
    return Answer(status, json.dumps(body).encode(), {"Content-Type": "application/json"})


def _basic_auth(header: str | None) -> tuple[str | None, str | None]:
    if not header or not header.startswith("Basic "):
        return None, None
    try:
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    except ValueError:
        return None, None
    return user, password


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        pass  # a client that hung up or refused the certificate: nothing to report


class _Handler(BaseHTTPRequestHandler):
    api: FakeDatabentoAPI
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        self.request.settimeout(30)
        self.request.do_handshake()
        super().setup()

    def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
        self._serve("GET", b"")

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        self._serve("POST", self.rfile.read(length) if length else b"")

    def _serve(self, method: str, raw_body: bytes) -> None:
        path, _, query = self.path.partition("?")
        authorization = self.headers.get("Authorization")
        user, password = _basic_auth(authorization)
        seen = SeenRequest(
            at=time.monotonic(),
            method=method,
            path=path,
            # a POST's form, a GET's query
            form=dict(parse_qsl(raw_body.decode() or query, keep_blank_values=True)),
            authorization=authorization,
            user=user,
            password=password,
            headers=dict(self.headers.items()),
        )
        self.api.requests.append(seen)
        fault = self.api.next_fault(path)
        if fault is not None and fault.delay_s:
            time.sleep(fault.delay_s)
        if fault is None or (fault.status == 200 and fault.body is None):
            answer = self.api.answer(seen)
            headers = {**answer.headers, **(fault.headers if fault else {})}
            status, body = answer.status, answer.body
        else:
            status, body, headers = fault.status, fault.body or b"", dict(fault.headers)
        fill = _echo(user or "")
        headers = {name: fill(value) for name, value in headers.items()}
        if fault is not None and fault.body is not None and b"{key}" in body:
            body = fill(body.decode()).encode()
        drop_at = None
        if fault is not None and status < 300 and fault.drop_after is not None:
            drop_at = fault.drop_after
        elif fault is not None and status < 300 and fault.drop_fraction is not None:
            drop_at = int(len(body) * fault.drop_fraction)
        try:
            self._send(status, headers, body, drop_at)
        except (OSError, ssl.SSLError):
            self.close_connection = True  # the client gave up (a timeout test)

    def _send(self, status: int, headers: dict[str, str], body: bytes, drop_at: int | None):
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if status >= 300:
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        end = len(body) if drop_at is None else min(drop_at, len(body))
        for offset in range(0, end, CHUNK):
            piece = body[offset : min(offset + CHUNK, end)]
            self.wfile.write(b"%X\r\n%s\r\n" % (len(piece), piece))
        if drop_at is not None:
            # Hang up mid-body: no terminating chunk, no TLS close_notify.
            self.close_connection = True
            self.request.shutdown(2)  # socket.SHUT_RDWR
            return
        self.wfile.write(b"0\r\n\r\n")
        with self.api._lock:
            self.api.bodies.append(body)

    def log_message(self, format: str, *args) -> None:  # noqa: A002
        pass  # keep test output quiet


def _echo(key: str):
    """Fills a fault's "{key}" with the key the request sent."""
    return lambda text: text.replace("{key}", key)

"""A local fake of the EIA v2, FRED and Yahoo Finance v8 APIs, for the live clients' tests.

A real HTTP server on 127.0.0.1 (ephemeral port) serving the sample generator's history
in the real formats: EIA pages of at most 5,000 rows (`total` as a string), FRED
observations with "." and vintages, Yahoo chart arrays with nulls, each filtered by the
request's own window parameters the way the real API filters. Errors are the real ones
too: a bad key (EIA 403 API_KEY_INVALID, FRED 400), an unknown symbol (Yahoo 404).

Faults are scripted per path prefix and consumed one per request, in order:

    with FakeEnergyAPI() as api:
        api.script("/v2/", Fault.rate_limited("eia", retry_after="1"), Fault.server_error())
        EIAResource(mode="live", api_key=api.eia_key, base_url=api.eia_url).fetch(...)
        api.requests  # what the server saw

A fault's body, header values and reason phrase may echo the request back, as careless
servers do: `{api_key}` becomes the `api_key` the request sent (decoded), `{query}` the
raw query string (URL-encoded, key included), e.g.
`Fault.echo(200, '{"error": "Invalid facet for api_key {api_key}"}')` or
`Fault.redirect("http://elsewhere.invalid/v2/?{query}")`.
"""

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote, urlsplit

from assets.energy import wire_formats as wf
from assets.energy.sample_data import EnergySample, build_sample


@dataclass(frozen=True)
class Fault:
    """One scripted answer. `body=None` with status 200 means "the normal answer", after
    `delay_s` (a slow server)."""

    status: int = 200
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)  # also sent with a normal answer
    delay_s: float = 0.0
    reason: str | None = None  # the status line's reason phrase (default: the standard one)

    @classmethod
    def slow(cls, delay_s: float) -> "Fault":
        return cls(delay_s=delay_s)

    @classmethod
    def rate_limited(cls, source: str, retry_after: str | None = "1") -> "Fault":
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        body = {
            "eia": wf.dumps(
                wf.eia_error(
                    "OVER_RATE_LIMIT",
                    "You have exceeded your rate limit. Try again later or contact us at "
                    "https://api.data.gov:443/contact/ for assistance",
                )
            ),
            "fred": wf.dumps(wf.fred_error(429, "Too Many Requests.  Exceeded Rate Limit")),
            "yahoo": b"Too Many Requests\r\n",
        }[source]
        return cls(429, body, {"Content-Type": _content_type(body), **headers})

    @classmethod
    def server_error(cls, status: int = 500) -> "Fault":
        body = f"<html><body><h1>{status} Server Error</h1></body></html>".encode()
        return cls(status, body, {"Content-Type": "text/html"})

    @classmethod
    def malformed_json(cls) -> "Fault":
        # A body cut off mid-stream, sent with a 200 and a JSON content type.
        body = b'{"response":{"total":"12","data":[{"period":"2024-01-0'
        return cls(200, body, {"Content-Type": "application/json"})

    @classmethod
    def raw(cls, status: int, body: bytes, content_type: str = "application/json") -> "Fault":
        return cls(status, body, {"Content-Type": content_type})

    @classmethod
    def echo(
        cls,
        status: int,
        body: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        reason: str | None = None,
    ) -> "Fault":
        """An answer that may quote the request (`{api_key}`, `{query}`) in its body, headers
        or reason phrase. `body=None` with status 200: the normal answer, with `headers`."""
        encoded = body.encode() if body is not None else None
        content_type = {"Content-Type": _content_type(encoded)} if encoded is not None else {}
        return cls(status, encoded, {**content_type, **(headers or {})}, reason=reason)

    @classmethod
    def redirect(cls, location: str, status: int = 302) -> "Fault":
        """A redirect to `location` (a template, see `echo`)."""
        return cls(status, b"", {"Location": location})


def _content_type(body: bytes) -> str:
    return "application/json" if body[:1] in (b"{", b"[") else "text/plain"


@dataclass(frozen=True)
class SeenRequest:
    at: float  # time.monotonic()
    path: str
    params: list[tuple[str, str]]

    def param(self, name: str) -> str | None:
        return next((v for k, v in self.params if k == name), None)


class FakeEnergyAPI:
    """Serves EIA at `eia_url`, FRED at `fred_url`, Yahoo at `yahoo_url`."""

    def __init__(
        self,
        *,
        through: date = date(2024, 12, 31),
        sample: EnergySample | None = None,
        eia_key: str = "eia-test-key-9f8e7d6c5b4a",
        fred_key: str = "fredtestkey0123456789abcdef0123",
        eia_page_rows: int = wf.EIA_PAGE_ROWS,
        fred_page_rows: int = wf.FRED_MAX_LIMIT,
    ):
        self.sample = sample or build_sample(through)
        self.eia_key = eia_key
        self.fred_key = fred_key
        self.eia_page_rows = eia_page_rows  # a server may cap pages below what was asked
        self.fred_page_rows = fred_page_rows
        self.requests: list[SeenRequest] = []
        self._faults: dict[str, deque[Fault]] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --

    def start(self) -> "FakeEnergyAPI":
        handler = type("Handler", (_Handler,), {"api": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True  # a handler sleeping past a client timeout never blocks
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "FakeEnergyAPI":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def root(self) -> str:
        assert self._server is not None, "start() the server first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def eia_url(self) -> str:
        return f"{self.root}/v2"

    @property
    def fred_url(self) -> str:
        return f"{self.root}/fred"

    @property
    def yahoo_url(self) -> str:
        return self.root

    # -- scripting --

    def script(self, path_prefix: str, *faults: Fault) -> None:
        """Answer the next requests under `path_prefix` with `faults`, one each, in order."""
        with self._lock:
            self._faults.setdefault(path_prefix, deque()).extend(faults)

    def reset(self) -> None:
        with self._lock:
            self._faults.clear()
            self.requests.clear()

    def requests_to(self, path_prefix: str) -> list[SeenRequest]:
        return [r for r in self.requests if r.path.startswith(path_prefix)]

    def _next_fault(self, path: str) -> Fault | None:
        with self._lock:
            for prefix, queue in self._faults.items():
                if path.startswith(prefix) and queue:
                    return queue.popleft()
        return None

    # -- the APIs --

    def answer(self, path: str, params: list[tuple[str, str]]) -> tuple[int, bytes]:
        one = dict(params)
        if path.startswith("/v2/") and path.endswith("/data/"):
            return self._eia(path[len("/v2/") : -len("/data/")], params, one)
        if path == "/fred/series/observations":
            return self._fred(one)
        if path.startswith("/v8/finance/chart/"):
            return self._yahoo(unquote(path[len("/v8/finance/chart/") :]), one)
        return 404, wf.dumps({"error": {"code": "NOT_FOUND", "message": f"No route {path}"}})

    def _eia(self, route, params, one) -> tuple[int, bytes]:
        # api.eia.gov sits behind api.data.gov, which answers key problems with 403s.
        if not one.get("api_key"):
            message = "No api_key was supplied. Get one at https://api.data.gov:443"
            return 403, wf.dumps(wf.eia_error("API_KEY_MISSING", message))
        if one["api_key"] != self.eia_key:
            message = "An invalid api_key was supplied. Get one at https://api.data.gov:443"
            return 403, wf.dumps(wf.eia_error("API_KEY_INVALID", message))
        series = [v for k, v in params if k == "facets[series][]"] or [
            s for s, r in wf.EIA_ROUTES.items() if r == route
        ]
        start, end = one.get("start", ""), one.get("end", "9999-12-31")
        # Periods compare as text, like the API's own filter.
        rows = [
            row
            for s in series
            if wf.EIA_ROUTES.get(s) == route
            for row in self.sample.eia_rows.get(s, [])
            if start <= row["period"] <= end
        ]
        rows.sort(key=lambda row: row["period"])  # stable: duplicates keep their order
        offset, length = int(one.get("offset", 0)), int(one.get("length", wf.EIA_PAGE_ROWS))
        page = rows[offset : offset + min(length, self.eia_page_rows, wf.EIA_PAGE_ROWS)]
        body = wf.eia_page(
            page,
            route=route,
            series_id=series[0] if series else "",
            start=start,
            end=end,
            total=len(rows),
            offset=offset,
            length=length,
        )
        return 200, wf.dumps(body)

    def _fred(self, one) -> tuple[int, bytes]:
        if not one.get("api_key"):
            return 400, wf.dumps(
                wf.fred_error(
                    400,
                    "Bad Request.  Variable api_key is not set.  Read "
                    "https://fred.stlouisfed.org/docs/api/api_key.html for more information.",
                )
            )
        if one["api_key"] != self.fred_key:
            return 400, wf.dumps(
                wf.fred_error(
                    400,
                    "Bad Request.  The value for variable api_key is not registered.  Read "
                    "https://fred.stlouisfed.org/docs/api/api_key.html for more information.",
                )
            )
        observations = self.sample.fred_observations.get(one.get("series_id", ""))
        if observations is None:
            return 400, wf.dumps(wf.fred_error(400, "Bad Request.  The series does not exist."))
        limit, offset = int(one.get("limit", wf.FRED_MAX_LIMIT)), int(one.get("offset", 0))
        if not 1 <= limit <= wf.FRED_MAX_LIMIT:
            message = "Bad Request.  Variable limit is not between 1 and 100000."
            return 400, wf.dumps(wf.fred_error(400, message))
        start = one.get("observation_start", "1776-07-04")
        end = one.get("observation_end", "9999-12-31")
        rows = [o for o in observations if start <= o["date"] <= end]
        page = rows[offset : offset + min(limit, self.fred_page_rows)]
        body = wf.fred_observations(
            page,
            observation_start=start,
            observation_end=end,
            count=len(rows),
            offset=offset,
            limit=limit,
        )
        return 200, wf.dumps(body)

    def _yahoo(self, symbol, one) -> tuple[int, bytes]:
        bars = self.sample.yahoo_bars.get(symbol)
        if bars is None:
            return 404, wf.dumps(
                wf.yahoo_error("Not Found", "No data found, symbol may be delisted")
            )
        period1 = int(one.get("period1", 0))
        period2 = int(one.get("period2", datetime.now(UTC).timestamp()))
        chosen = [bar for bar in bars if period1 <= bar["timestamp"] < period2]
        return 200, wf.dumps(wf.yahoo_chart(symbol, chosen, meta=self.sample.yahoo_meta[symbol]))


def _echo(params: list[tuple[str, str]], query: str):
    """Fills a fault's `{api_key}` and `{query}` from the request."""
    key = next((v for k, v in params if k == "api_key"), "")
    return lambda text: text.replace("{api_key}", key).replace("{query}", query)


class _Handler(BaseHTTPRequestHandler):
    api: FakeEnergyAPI
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
        parts = urlsplit(self.path)
        params = parse_qsl(parts.query, keep_blank_values=True)
        self.api.requests.append(SeenRequest(time.monotonic(), parts.path, params))
        fault = self.api._next_fault(parts.path)
        if fault is not None and fault.delay_s:
            time.sleep(fault.delay_s)
        reason = None
        if fault is None or (fault.status == 200 and fault.body is None):
            status, body = self.api.answer(parts.path, params)
            headers = {"Content-Type": "application/json", **(fault.headers if fault else {})}
        else:
            status, body, headers = fault.status, fault.body or b"", dict(fault.headers)
        if fault is not None:
            fill = _echo(params, parts.query)
            headers = {name: fill(value) for name, value in headers.items()}
            reason = fill(fault.reason) if fault.reason is not None else None
            if fault.body is not None:
                body = fill(fault.body.decode()).encode()
        try:
            self.send_response(status, reason)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test)

    def log_message(self, format: str, *args) -> None:  # noqa: A002
        pass  # keep test output quiet

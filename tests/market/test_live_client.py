"""The Databento live client (assets/market/sources.py) against a local HTTPS server that
answers `timeseries.get_range` as Databento does (tests/fakes/databento_api.py), through the
official client: what is sent, what is saved, retries, errors, and key hygiene.

The fake's certificate is trusted through REQUESTS_CA_BUNDLE (set per test), so nothing of
the official client is patched. Every test's log records, captured at DEBUG (urllib3's
request lines and databento's own included), are checked for the key when it ends.
"""

import logging
import sys
import time
import traceback
import types
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import quote, quote_plus

import databento
import pydantic
import pytest

from assets.market import sample_data
from assets.market.sources import (
    DATABENTO_LOGGERS,
    DatabentoError,
    DatabentoSource,
    Fetched,
)
from resources.http import MissingAPIKeyError, Scrubber, SourceConfigError, SourceError
from tests.fakes.databento_api import (
    CHUNK,
    DEFAULT_KEY,
    FakeDatabentoAPI,
    Fault,
    build_body,
    make_tls,
)

FAST = {"backoff_s": 0.01, "max_backoff_s": 0.05, "max_retries": 2, "timeout_s": 5.0}
JAN = (date(2024, 1, 2), date(2024, 1, 10))  # six weekdays
WRONG_KEY = "db-WRONGkey9876543210zyxwvuZYXWV"


def forms(key: str) -> set[str]:
    return {key, quote(key, safe=""), quote_plus(key)}


def assert_clean(key: str, *texts: str) -> None:
    for text in texts:
        for form in forms(key):
            assert form not in text, f"{form!r} found in {text[:300]!r}"


def exception_texts(exc: BaseException) -> list[str]:
    return [str(exc), repr(exc), "".join(traceback.format_exception(exc))]


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    return make_tls(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def server(tls):
    with FakeDatabentoAPI(ssl_context=tls.server_context) as api:
        yield api


@pytest.fixture
def api(server, tls, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls.ca_bundle))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    server.reset()
    yield server
    server.reset()


@pytest.fixture(autouse=True)
def logs(caplog):
    """DEBUG records of every logger; none may hold a key the tests use."""
    caplog.set_level(logging.DEBUG)
    yield caplog
    text = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.get_records("call"))
    assert_clean(DEFAULT_KEY, text)
    assert_clean(WRONG_KEY, text)


@pytest.fixture
def downloads(tmp_path) -> Path:
    return tmp_path / "downloads"


def live(api, downloads, **kw) -> DatabentoSource:
    settings = {"api_key": api.key, "gateway": api.gateway, "download_dir": str(downloads)}
    return DatabentoSource(mode="live", **{**settings, **FAST, **kw})


def files_in(directory: Path) -> list[str]:
    """Every file under `directory`, hidden ones included, relative to it."""
    if not directory.exists():
        return []
    return sorted(p.relative_to(directory).as_posix() for p in directory.rglob("*") if p.is_file())


def failing_fetch(resource, *, schema="ohlcv-1d", symbols=("ES.FUT",), window=JAN):
    with pytest.raises(DatabentoError) as info:
        resource.fetch(schema, list(symbols), *window)
    return info.value


def request_named(api) -> str:
    return (
        f"Databento: POST {api.gateway}/v0/timeseries.get_range dataset=GLBX.MDP3 "
        "schema=ohlcv-1d symbols=ES.FUT stype_in=parent start=2024-01-02 end=2024-01-10 -> "
    )


def warnings_logged(logs) -> list[str]:
    return [
        r.getMessage()
        for r in logs.records
        if r.levelno == logging.WARNING and r.name == "assets.market.sources"
    ]


# ---- success ------------------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:The inplace keyword")  # databento's to_df under pandas 3
def test_fetch_sends_the_documented_request_and_saves_the_records_sent(api, downloads):
    source = live(api, downloads)
    fetched = source.fetch("ohlcv-1d", ["ES.FUT", "NQ.FUT"], *JAN)

    [seen] = api.requests
    assert (seen.method, seen.path) == ("POST", "/v0/timeseries.get_range")
    assert seen.form == {
        "dataset": "GLBX.MDP3",
        "start": "2024-01-02",
        "end": "2024-01-10",
        "symbols": "ES.FUT,NQ.FUT",
        "schema": "ohlcv-1d",
        "stype_in": "parent",
        "stype_out": "instrument_id",
        "encoding": "dbn",
        "compression": "zstd",
    }
    assert seen.authorization.startswith("Basic ")
    assert (seen.user, seen.password) == (api.key, "")

    [body] = api.bodies
    assert isinstance(fetched, Fetched)
    assert fetched.path == source.download_path("ohlcv-1d", ["ES.FUT", "NQ.FUT"], *JAN)
    assert fetched.path.name == "ES.FUT+NQ.FUT_2024-01-02_2024-01-10.dbn.zst"
    assert fetched.path.read_bytes() == body
    assert fetched.bytes == len(body) == fetched.path.stat().st_size
    assert (fetched.schema, fetched.start, fetched.end, fetched.warnings) == (
        "ohlcv-1d",
        *JAN,
        (),
    )
    assert fetched.origin == (
        f"Databento POST {api.gateway}/v0/timeseries.get_range dataset=GLBX.MDP3 "
        "schema=ohlcv-1d symbols=ES.FUT,NQ.FUT stype_in=parent start=2024-01-02 end=2024-01-10"
    )

    store = databento.DBNStore.from_file(fetched.path)
    assert (store.metadata.dataset, str(store.schema), str(store.metadata.stype_in)) == (
        "GLBX.MDP3",
        "ohlcv-1d",
        "parent",
    )
    _, sent = build_body(
        "GLBX.MDP3",
        "ohlcv-1d",
        ["ES.FUT", "NQ.FUT"],
        datetime(2024, 1, 2, tzinfo=UTC),
        datetime(2024, 1, 10, tzinfo=UTC),
    )
    records = list(store)
    assert records == sent
    assert len(records) == 6 * 2 * 2  # weekdays x roots x two listed contracts
    frame = store.to_df()
    assert set(frame["symbol"]) == {"ES.FUT", "NQ.FUT"}  # parent symbology
    assert frame.groupby("symbol")["instrument_id"].nunique().to_dict() == {
        "ES.FUT": 2,
        "NQ.FUT": 2,
    }
    assert files_in(downloads) == ["GLBX.MDP3/ohlcv-1d/ES.FUT+NQ.FUT_2024-01-02_2024-01-10.dbn.zst"]


def test_a_body_of_many_chunks_is_saved_whole(api, downloads):
    start, end = datetime(2024, 1, 2, tzinfo=UTC), datetime(2024, 1, 4, tzinfo=UTC)
    fetched = live(api, downloads).fetch("ohlcv-1m", ["ES.FUT", "NQ.FUT"], start, end)
    [body] = api.bodies
    assert len(body) > 20 * CHUNK  # many HTTP chunks and many of the client's 4 KiB reads
    assert fetched.path.read_bytes() == body
    assert api.requests[0].form["start"] == "2024-01-02T00:00:00+00:00"
    assert sum(1 for _ in databento.DBNStore.from_file(fetched.path)) == 2 * 1440 * 4
    assert (
        fetched.path.name == "ES.FUT+NQ.FUT_2024-01-02T000000+0000_2024-01-04T000000+0000.dbn.zst"
    )


def test_symbols_the_server_cannot_resolve_come_back_as_warnings(api, downloads, logs):
    fetched = live(api, downloads).fetch("ohlcv-1d", ["ES.FUT", "ZZ.FUT"], *JAN)
    assert fetched.warnings == ("The following symbols could not be resolved: ['ZZ.FUT']",)
    [warning] = warnings_logged(logs)
    assert warning.endswith(
        "server warning: The following symbols could not be resolved: ['ZZ.FUT']"
    )
    assert {r.instrument_id for r in databento.DBNStore.from_file(fetched.path)} == {
        r.instrument_id
        for r in build_body(
            "GLBX.MDP3",
            "ohlcv-1d",
            ["ES.FUT"],
            datetime(2024, 1, 2, tzinfo=UTC),
            datetime(2024, 1, 10, tzinfo=UTC),
        )[1]
    }


# ---- retries ------------------------------------------------------------------------------------


def test_429_is_retried_after_the_retry_after_delay(api, downloads, logs):
    api.script(Fault.rate_limited(retry_after="1"))
    started = time.monotonic()
    fetched = live(api, downloads, max_backoff_s=5.0).fetch("ohlcv-1d", ["ES.FUT"], *JAN)
    first, second = api.requests
    assert second.at - first.at >= 1.0  # backoff_s is 0.01: the wait came from Retry-After
    assert time.monotonic() - started < 4
    assert fetched.path.read_bytes() == api.bodies[-1]
    [warning] = warnings_logged(logs)
    assert warning.startswith(request_named(api))
    assert "HTTP 429: Too many requests. Please slow down.; retry 1/2 in 1.00 s" in warning


def test_retry_after_is_capped_by_max_backoff(api, downloads):
    api.script(Fault.rate_limited(retry_after="30"))
    started = time.monotonic()
    live(api, downloads, max_backoff_s=0.2).fetch("ohlcv-1d", ["ES.FUT"], *JAN)
    assert len(api.requests) == 2 and time.monotonic() - started < 5


@pytest.mark.parametrize(
    ("fault", "shown"),
    [
        (Fault.server_error(500), "HTTP 500: Internal server error."),
        (Fault.server_error(503), "HTTP 503: Service unavailable"),
        (Fault.html_error(502), "HTTP 502: <html><body><h1>502</h1>upstream failed"),
    ],
)
def test_5xx_until_the_retries_are_exhausted(api, downloads, logs, fault, shown):
    api.script(*[fault] * 3)
    error = failing_fetch(live(api, downloads))
    assert len(api.requests) == 3 == FAST["max_retries"] + 1
    assert error.attempts == 3 and error.status == fault.status
    assert str(error).startswith(request_named(api) + shown)
    assert str(error).endswith("(gave up after 3 attempts)")
    assert "\n" not in str(error)
    retries = warnings_logged(logs)
    assert [w.rsplit("; ", 1)[1][:9] for w in retries] == ["retry 1/2", "retry 2/2"]
    assert all(shown in w and "gave up" not in w for w in retries)
    assert files_in(downloads) == []  # nothing saved, no half file


def test_5xx_then_success(api, downloads):
    api.script(Fault.server_error(503), Fault.server_error(500))
    fetched = live(api, downloads).fetch("ohlcv-1d", ["ES.FUT"], *JAN)
    assert len(api.requests) == 3
    assert fetched.path.read_bytes() == api.bodies[-1]


def test_no_retries_when_max_retries_is_zero(api, downloads):
    api.script(Fault.server_error(500))
    error = failing_fetch(live(api, downloads, max_retries=0))
    assert len(api.requests) == 1 and error.attempts == 1
    assert "gave up" not in str(error)


def test_a_connection_dropped_mid_body_is_retried_and_leaves_no_half_file(api, downloads, logs):
    api.script(Fault.drop_mid_body(fraction=0.5))
    fetched = live(api, downloads).fetch("ohlcv-1d", ["ES.FUT", "NQ.FUT"], *JAN)
    assert len(api.requests) == 2
    [body] = api.bodies  # the complete one
    assert fetched.path.read_bytes() == body
    assert len(list(databento.DBNStore.from_file(fetched.path))) == 24
    [warning] = warnings_logged(logs)
    assert "-> answer cut short: the connection failed while receiving the data (" in warning
    assert "; retry 1/2 in " in warning
    assert files_in(downloads) == [fetched.path.relative_to(downloads).as_posix()]


def test_a_body_cut_short_every_time_fails_and_keeps_the_previous_file(api, downloads):
    source = live(api, downloads)
    before = source.fetch("ohlcv-1d", ["ES.FUT"], *JAN)
    saved = before.path.read_bytes()
    api.reset()
    api.script(*[Fault.drop_mid_body(after=200)] * 3)
    error = failing_fetch(source)
    assert len(api.requests) == 3 and error.attempts == 3
    assert str(error).startswith(request_named(api) + "answer cut short: ")
    assert str(error).endswith("(gave up after 3 attempts)")
    # The earlier complete file is untouched, and no part of the failed ones is left.
    assert before.path.read_bytes() == saved
    assert files_in(downloads) == [before.path.relative_to(downloads).as_posix()]


def test_a_server_too_slow_to_answer_times_out_and_is_retried(api, downloads):
    api.script(Fault.slow(2.0), Fault.slow(2.0))
    started = time.monotonic()
    error = failing_fetch(live(api, downloads, timeout_s=0.3, max_retries=1))
    assert time.monotonic() - started < 2.0  # the client's own 100 s was not used
    assert len(api.requests) == 2 and error.attempts == 2
    assert str(error).startswith(request_named(api) + "no response: timed out after 0.3 s")


# ---- permanent failures -------------------------------------------------------------------------


def test_401_fails_at_once_naming_the_request_and_never_the_key(api, downloads, logs):
    source = live(api, downloads, api_key=WRONG_KEY)
    error = failing_fetch(source)
    [seen] = api.requests
    assert seen.user == WRONG_KEY  # the key was sent: there was something to leak
    assert isinstance(error, SourceError) and error.status == 401 and error.attempts == 1
    assert str(error) == request_named(api) + "HTTP 401: Authentication failed."
    assert files_in(downloads) == []
    for key in (WRONG_KEY, api.key):
        assert_clean(key, *exception_texts(error), logs.text, repr(source), str(source))
    assert error.__cause__ is None and error.__context__ is None


@pytest.mark.parametrize(
    ("schema", "symbols", "detail"),
    [
        (
            "ohlcv-1d",
            ["ES.FUT", "ES"],
            "HTTP 422: symbology_invalid_symbol: Invalid symbol(s) for stype_in 'parent': ES. "
            "Parent symbols are [ROOT].FUT or [ROOT].OPT. "
            "(docs: https://databento.com/docs/standards-and-conventions/symbology)",
        ),
        (  # a schema the client knows but the dataset does not have
            "cbbo-1s",
            ["ES.FUT"],
            "HTTP 422: Schema 'cbbo-1s' is not supported for dataset 'GLBX.MDP3'.",
        ),
    ],
    ids=["bad-symbol", "unknown-schema"],
)
def test_422_fails_at_once_with_the_servers_detail(api, downloads, schema, symbols, detail):
    error = failing_fetch(live(api, downloads), schema=schema, symbols=symbols)
    assert len(api.requests) == 1 and error.attempts == 1 and error.status == 422
    assert str(error).endswith(f" -> {detail}")
    assert f"schema={schema} symbols={','.join(symbols)} stype_in=parent" in str(error)
    assert files_in(downloads) == []


@pytest.mark.parametrize("status", [400, 402, 403, 404, 409])
def test_other_documented_4xx_are_not_retried(api, downloads, status):
    api.script(Fault.json(status, {"detail": f"refused with {status}"}))
    error = failing_fetch(live(api, downloads))
    assert len(api.requests) == 1 and error.status == status
    assert str(error) == request_named(api) + f"HTTP {status}: refused with {status}"


@pytest.mark.parametrize(
    ("body", "shown"),
    [
        (b"", "unexpected answer: ValueError: Cannot create data source from empty file"),
        (b"<html>not DBN</html>", "unexpected answer: Could not determine compression format"),
        (
            build_body(
                "GLBX.MDP3",
                "ohlcv-1h",
                ["ES.FUT"],
                datetime(2024, 1, 2, tzinfo=UTC),
                datetime(2024, 1, 3, tzinfo=UTC),
            )[0],
            "unexpected answer: the file holds GLBX.MDP3 ohlcv-1h, not GLBX.MDP3 ohlcv-1d",
        ),
    ],
    ids=["empty", "not-dbn", "other-schema"],
)
def test_a_200_that_is_not_the_dbn_asked_for_fails_at_once(api, downloads, body, shown):
    api.script(Fault(200, body, {"Content-Type": "application/octet-stream"}))
    error = failing_fetch(live(api, downloads))
    assert len(api.requests) == 1 and error.attempts == 1 and error.status is None
    assert str(error).startswith(request_named(api) + shown)
    assert files_in(downloads) == []


def test_an_untrusted_certificate_fails_at_once(api, downloads, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    error = failing_fetch(live(api, downloads))
    assert error.attempts == 1 and error.status is None
    assert str(error).startswith(request_named(api) + "no response: TLS certificate not trusted")
    assert not api.get_ranges()  # the handshake failed: no request reached the server


# ---- the key stays secret -----------------------------------------------------------------------


def test_a_server_echoing_the_key_everywhere_leaks_nothing(api, downloads, logs):
    echo = {"detail": {"case": "auth_key_suspended", "message": "key {key} is suspended"}}
    api.script(
        Fault.json(503, {"detail": "overloaded serving {key}"}, {"X-Echo": "{key}"}),
        Fault.with_headers({"X-Warning": '["Warning: usage for {key} is near its limit"]'}),
        Fault.json(403, echo),
    )
    source = live(api, downloads)
    fetched = source.fetch("ohlcv-1d", ["ES.FUT"], *JAN)
    error = failing_fetch(source)
    assert [r.user for r in api.requests] == [api.key] * 3  # sent each time
    assert fetched.warnings == ("usage for *** is near its limit",)
    assert str(error).endswith("HTTP 403: auth_key_suspended: key *** is suspended")
    retry = warnings_logged(logs)[0]
    assert "HTTP 503: overloaded serving ***; retry 1/2" in retry
    assert any(r.name == "urllib3.connectionpool" for r in logs.records)  # DEBUG was captured
    assert any(r.name == "databento.historical.client" for r in logs.records)
    assert_clean(api.key, logs.text, *exception_texts(error), fetched.origin, *fetched.warnings)


def test_the_resource_never_shows_its_key(api, downloads):
    source = live(api, downloads)
    assert_clean(api.key, repr(source), str(source), source.data_origin())
    with pytest.raises(SourceConfigError) as info:
        DatabentoSource(mode="live", api_key=api.key, gateway=f"https://me:{api.key}@127.0.0.1:1/")
    assert "must not carry credentials" in str(info.value)
    assert_clean(api.key, *exception_texts(info.value))
    with pytest.raises(pydantic.ValidationError) as bad:  # pydantic would print its input
        DatabentoSource(mode="live", api_key=[api.key])
    assert_clean(api.key, *exception_texts(bad.value))


def test_databento_loggers_are_scrubbed_while_a_key_is_in_use(logs):
    key = "db-LOGGEDkey0123456789abcdefABCD"
    with Scrubber([key]).active():
        for name in DATABENTO_LOGGERS:
            logging.getLogger(name).warning("request with %s", key)
    assert [r.getMessage() for r in logs.records] == ["request with ***"] * len(DATABENTO_LOGGERS)
    assert "databento.historical.client" in DATABENTO_LOGGERS


@pytest.mark.parametrize("key", [None, "", "   ", "YOUR_API_KEY"])
def test_live_mode_without_a_key_fails_before_any_request(api, downloads, key):
    source = live(api, downloads, api_key=key)
    with pytest.raises(MissingAPIKeyError) as info:
        source.fetch("ohlcv-1d", ["ES.FUT"], *JAN)
    assert str(info.value) == (
        "Databento live mode needs an API key: set the DATABENTO_API_KEY environment "
        "variable (or use mode='sample')"
    )
    assert api.requests == []


# ---- requests refused before they are sent ------------------------------------------------------


@pytest.mark.parametrize(
    ("schema", "symbols", "window", "message"),
    [
        ("ohlcv-1d", [], JAN, "symbols is empty"),
        ("ohlcv-1d", "ES.FUT", JAN, "symbols must be a list"),
        ("ohlcv-2d", ["ES.FUT"], JAN, "unknown Databento schema 'ohlcv-2d'"),
        ("ohlcv-1d", ["ES.FUT"], (JAN[1], JAN[0]), "end (2024-01-02) must be after start"),
        ("ohlcv-1d", ["ES.FUT"], (JAN[0], JAN[0]), "must be after start"),
        (
            "ohlcv-1d",
            ["ES.FUT"],
            (date(2024, 1, 2), datetime(2024, 1, 2, tzinfo=UTC)),
            "must be after start",
        ),
    ],
)
def test_requests_that_cannot_be_meant_are_refused_unsent(
    api, downloads, schema, symbols, window, message
):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        live(api, downloads).fetch(schema, symbols, *window)
    assert api.requests == []


# ---- configuration ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            {"gateway": "https://127.0.0.1:8443"},
            "DatabentoSource: gateway is set but mode is 'sample'; set mode: live to call "
            "https://127.0.0.1:8443, or drop gateway",
        ),
        (
            {"mode": "live", "gateway": "http://127.0.0.1:8080"},
            "DatabentoSource: gateway http://127.0.0.1:8080 must start with https://",
        ),
        (
            {"mode": "live", "gateway": "https://127.0.0.1:8443/?x=1"},
            "DatabentoSource: gateway https://127.0.0.1:8443/?x=1 must not have a query",
        ),
        (
            {"backoff_s": 5.0, "max_backoff_s": 1.0},
            "DatabentoSource: backoff_s (5) is above max_backoff_s (1)",
        ),
    ],
)
def test_settings_that_contradict_each_other_are_refused(settings, message):
    with pytest.raises(SourceConfigError) as info:
        DatabentoSource(**settings)
    assert str(info.value).startswith(message)


def test_data_origin(api, downloads, tmp_path):
    port = api.gateway.rsplit(":", 1)[1]
    assert live(api, downloads).data_origin() == f"live https://127.0.0.1:{port}"
    assert DatabentoSource(mode="live").data_origin() == "live https://hist.databento.com"
    assert DatabentoSource(sample_dir=str(tmp_path)).data_origin() == f"sample files in {tmp_path}"


# ---- sample mode --------------------------------------------------------------------------------


def test_sample_mode_delegates_to_the_sample_generator(api, tmp_path, monkeypatch):
    calls = []

    def ensure_sample(root_dir, schema, start, end, roots):
        calls.append((root_dir, schema, start, end, roots))
        path = Path(root_dir) / "ohlcv-1d.dbn.zst"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * 123)
        return path

    fake = types.ModuleType("assets.market.sample_data")
    fake.ensure_sample = ensure_sample
    fake.ROOTS = sample_data.ROOTS  # which dataset each root's samples are of
    monkeypatch.setitem(sys.modules, "assets.market.sample_data", fake)
    fetched = DatabentoSource(sample_dir=str(tmp_path), api_key=None).fetch(
        "ohlcv-1d", ["ES.FUT", "CL.FUT"], *JAN
    )
    assert calls == [(tmp_path, "ohlcv-1d", *JAN, ["ES.FUT", "CL.FUT"])]
    assert fetched == Fetched(
        path=tmp_path / "ohlcv-1d.dbn.zst",
        origin=(tmp_path / "ohlcv-1d.dbn.zst").as_posix(),
        schema="ohlcv-1d",
        start=JAN[0],
        end=JAN[1],
        bytes=123,
    )
    assert api.requests == []  # no key needed, nothing called


def test_sample_mode_refuses_a_root_of_another_dataset(tmp_path):
    with pytest.raises(ValueError, match=r"^BRN.FUT is sample data of IFEU.IMPACT, not GLBX"):
        DatabentoSource(sample_dir=str(tmp_path)).fetch("ohlcv-1d", ["BRN.FUT"], *JAN)

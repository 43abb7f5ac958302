"""The live clients against a real HTTP server on 127.0.0.1 that speaks the APIs' formats
(tests/fakes/energy_api.py): pagination, retries, timeouts, errors, and key hygiene."""

import logging
import time
import traceback
from datetime import UTC, date, datetime, timedelta

import dagster as dg
import pytest
import requests

from assets.energy import sample_data as sd
from assets.energy.sources import (
    EIAResource,
    FREDResource,
    MissingAPIKeyError,
    YahooFinanceResource,
)
from resources.http import SourceError, get_json, retry_after_seconds
from tests.fakes.energy_api import FakeEnergyAPI, Fault

THROUGH = date(2024, 12, 31)
FAST = {"backoff_s": 0.01, "max_retries": 2, "timeout_s": 5.0}


@pytest.fixture(scope="module")
def sample():
    return sd.build_sample(THROUGH)


@pytest.fixture(scope="module")
def server(sample):
    with FakeEnergyAPI(sample=sample) as api:
        yield api


@pytest.fixture(scope="module")
def sample_files(tmp_path_factory):
    return tmp_path_factory.mktemp("energy-sample")


@pytest.fixture
def api(server):
    server.reset()
    yield server
    server.reset()


@pytest.fixture
def logs(caplog):
    caplog.set_level(logging.DEBUG)  # urllib3 logs request lines at DEBUG: they must be clean too
    return caplog


def eia(api, **kw):
    return EIAResource(mode="live", api_key=api.eia_key, base_url=api.eia_url, **{**FAST, **kw})


def fred(api, **kw):
    return FREDResource(mode="live", api_key=api.fred_key, base_url=api.fred_url, **{**FAST, **kw})


def yahoo(api, **kw):
    return YahooFinanceResource(mode="live", base_url=api.yahoo_url, **{**FAST, **kw})


def assert_no_key(api, *texts):
    for text in texts:
        assert api.eia_key not in text and api.fred_key not in text


def exception_texts(exc):
    return [str(exc), repr(exc), "".join(traceback.format_exception(exc))]


# ---- the same observations as sample mode -------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "series_id"),
    [(eia, "RWTC"), (eia, "RNGWHHD"), (fred, "DCOILBRENTEU"), (yahoo, "NG=F"), (yahoo, "CL=F")],
)
def test_live_matches_sample_mode(api, sample_files, make, series_id):
    start, end = date(2020, 3, 30), date(2020, 5, 4)
    live = make(api).fetch(series_id, start, end)
    offline = type(make(api))(sample_dir=str(sample_files)).fetch(series_id, start, end)
    key = [(o.source, o.series_id, o.date, o.value, o.vintage, o.raw) for o in live]
    assert key == [(o.source, o.series_id, o.date, o.value, o.vintage, o.raw) for o in offline]
    good_friday_dot = 1 if series_id == "DCOILBRENTEU" else 0  # FRED lists it as "."
    assert len(live) == len(sd.trading_days(start, end)) + good_friday_dot


def test_eia_request_is_the_documented_one(api):
    obs = eia(api).fetch("RBRTE", date(2024, 1, 1), date(2024, 2, 1))
    [seen] = api.requests
    assert seen.path == "/v2/petroleum/pri/spt/data/"
    assert dict(seen.params) == {
        "api_key": api.eia_key,
        "frequency": "daily",
        "data[0]": "value",
        "facets[series][]": "RBRTE",
        "start": "2024-01-01",
        "end": "2024-01-31",  # inclusive on the wire: end - 1 day
        "sort[0][column]": "period",
        "sort[0][direction]": "asc",
        "offset": "0",
        "length": "5000",
    }
    assert obs[0].date == "2024-01-02" and obs[-1].date == "2024-01-31"
    assert obs[0].origin == "eia petroleum/pri/spt RBRTE offset=0#row=0"
    assert isinstance(obs[0].value, str)


def test_fred_request_and_vintages(api):
    fix = sd.FRED_CORRECTION
    obs = fred(api).fetch(fix.series_id, fix.date, fix.date + timedelta(days=1))
    [seen] = api.requests
    assert seen.path == "/fred/series/observations"
    assert {k: v for k, v in seen.params if k != "api_key"} == {
        "series_id": "DCOILWTICO",
        "file_type": "json",
        "observation_start": "2022-03-08",
        "observation_end": "2022-03-08",
        "limit": "100000",
        "offset": "0",
    }
    assert [o.vintage for o in obs] == [fix.first_vintage, fix.corrected_vintage]
    assert obs[0].origin == "fred series/observations DCOILWTICO offset=0#row=0"


def test_yahoo_request_and_exchange_dates(api):
    obs = yahoo(api).fetch("CL=F", date(2020, 4, 20), date(2020, 4, 21))
    [seen] = api.requests
    assert seen.path == "/v8/finance/chart/CL=F"
    assert seen.param("interval") == "1d" and seen.param("events") == "history"
    assert [(o.date, o.value) for o in obs] == [("2020-04-20", "-37.63")]
    assert obs[0].raw["low"] == -40.32
    # A window on a weekend: an empty answer, no error.
    assert yahoo(api).fetch("CL=F", date(2024, 1, 6), date(2024, 1, 8)) == []


# ---- pagination ---------------------------------------------------------------------------------


def test_eia_paginates_past_5000_rows_and_returns_each_row_once():
    through = date(2036, 1, 1)
    with FakeEnergyAPI(through=through) as api:
        obs = eia(api).fetch("RWTC", sd.SAMPLE_START, through + timedelta(days=1))
        expected = api.sample.eia_rows["RWTC"]
        offsets = [r.param("offset") for r in api.requests]
    assert len(expected) > 5000
    assert offsets == ["0", "5000"]
    assert [o.raw for o in obs] == expected  # all rows, in order, exactly once
    assert obs[5000].origin == "eia petroleum/pri/spt RWTC offset=5000#row=0"


def test_eia_follows_short_pages_by_rows_received(sample):
    with FakeEnergyAPI(sample=sample, eia_page_rows=700) as api:
        obs = eia(api).fetch("RNGWHHD", date(2015, 1, 1), date(2025, 1, 1))
        offsets = [int(r.param("offset")) for r in api.requests]
    assert [o.raw for o in obs] == sample.eia_rows["RNGWHHD"]
    assert offsets == list(range(0, len(obs), 700))


def test_fred_paginates_by_count(sample):
    with FakeEnergyAPI(sample=sample, fred_page_rows=1000) as api:
        obs = fred(api).fetch("DHHNGSP", date(2015, 1, 1), date(2025, 1, 1))
        assert len(api.requests) == 3
    assert [o.raw for o in obs] == sample.fred_observations["DHHNGSP"]


# ---- retries ------------------------------------------------------------------------------------


def test_429_honours_retry_after(api, logs):
    api.script("/v2/", Fault.rate_limited("eia", retry_after="1"))
    started = time.monotonic()
    obs = eia(api).fetch("RWTC", date(2024, 1, 2), date(2024, 1, 3))
    assert [o.value for o in obs] == [obs[0].raw["value"]]
    first, second = api.requests
    assert second.at - first.at >= 1.0  # backoff_s is 0.01: the wait came from Retry-After
    assert time.monotonic() - started < 5
    [warning] = [r for r in logs.records if r.levelno == logging.WARNING]
    assert "HTTP 429: OVER_RATE_LIMIT" in warning.getMessage()
    assert "retry 1/2" in warning.getMessage()
    # urllib3's own request lines were captured, with the key scrubbed.
    assert any(
        r.name == "urllib3.connectionpool" and "api_key=***" in r.getMessage() for r in logs.records
    )
    assert_no_key(api, logs.text)


def test_fred_429_then_500_then_success(api, logs):
    api.script("/fred/", Fault.rate_limited("fred", retry_after=None), Fault.server_error(503))
    obs = fred(api).fetch("DCOILWTICO", date(2024, 1, 2), date(2024, 1, 4))
    assert len(obs) == 2 and len(api.requests) == 3
    messages = [r.getMessage() for r in logs.records if r.levelno == logging.WARNING]
    assert "Exceeded Rate Limit" in messages[0] and "HTTP 503" in messages[1]
    assert_no_key(api, logs.text)


def test_500_then_success(api, logs):
    api.script("/v8/", Fault.server_error(500))
    obs = yahoo(api).fetch("BZ=F", date(2024, 1, 2), date(2024, 1, 3))
    assert len(obs) == 1 and len(api.requests) == 2
    assert any("HTTP 500" in r.getMessage() for r in logs.records if r.levelno == logging.WARNING)


def test_timeout_is_retried(api, logs):
    api.script("/v2/", Fault.slow(1.0))
    started = time.monotonic()
    obs = eia(api, timeout_s=0.2).fetch("RWTC", date(2024, 1, 2), date(2024, 1, 3))
    assert len(obs) == 1 and len(api.requests) == 2
    assert time.monotonic() - started < 1.0  # did not wait for the slow answer
    assert any("timed out after 0.2 s" in r.getMessage() for r in logs.records)


def test_exhausted_retries_name_the_attempts(api, logs):
    api.script("/fred/", *[Fault.server_error(502)] * 3)
    with pytest.raises(SourceError) as info:
        fred(api).fetch("DCOILWTICO", date(2024, 1, 2), date(2024, 1, 3))
    assert len(api.requests) == 3  # 1 + max_retries
    message = str(info.value)
    assert message.startswith("FRED: GET http://127.0.0.1:")
    assert "/fred/series/observations?series_id=DCOILWTICO&api_key=***&" in message
    assert "-> HTTP 502: <html><body><h1>502 Server Error</h1></body></html>" in message
    assert message.endswith("(gave up after 3 attempts)")
    assert info.value.status == 502 and info.value.attempts == 3
    assert len([r for r in logs.records if r.levelno == logging.WARNING]) == 2
    assert_no_key(api, logs.text, *exception_texts(info.value))


def test_exhausted_timeouts(api):
    api.script("/v8/", *[Fault.slow(0.6)] * 2)
    with pytest.raises(SourceError, match=r"no response: timed out after 0.15 s \(gave up after 2"):
        yahoo(api, timeout_s=0.15, max_retries=1).fetch("NG=F", date(2024, 1, 2), date(2024, 1, 3))


def test_connection_refused_is_retried_then_fails(logs):
    with FakeEnergyAPI(sample=sd.build_sample(date(2015, 1, 31))) as api:
        url, key = api.eia_url, api.eia_key
    resource = EIAResource(mode="live", api_key=key, base_url=url, backoff_s=0.01, max_retries=1)
    with pytest.raises(SourceError, match="connection failed") as info:
        resource.fetch("RWTC", date(2015, 1, 2), date(2015, 1, 3))
    assert info.value.attempts == 2
    assert key not in logs.text and all(key not in t for t in exception_texts(info.value))


# ---- failures that are not retried --------------------------------------------------------------


def test_malformed_json_fails_at_once(api, logs):
    api.script("/v2/", Fault.malformed_json())
    with pytest.raises(SourceError) as info:
        eia(api).fetch("RWTC", date(2024, 1, 2), date(2024, 1, 3))
    assert len(api.requests) == 1
    message = str(info.value)
    assert message.startswith("EIA: GET http://127.0.0.1:")
    assert "/v2/petroleum/pri/spt/data/?api_key=***&frequency=daily" in message
    assert "-> HTTP 200: malformed JSON" in message
    assert_no_key(api, logs.text, *exception_texts(info.value))


def test_eia_invalid_key_fails_at_once(api, logs):
    resource = EIAResource(mode="live", api_key="wrong-key-123456", base_url=api.eia_url, **FAST)
    with pytest.raises(SourceError) as info:
        resource.fetch("RWTC", date(2024, 1, 2), date(2024, 1, 3))
    assert len(api.requests) == 1
    message = str(info.value)
    assert "-> HTTP 403: API_KEY_INVALID: An invalid api_key was supplied." in message
    assert "api_key=***" in message
    assert "wrong-key-123456" not in logs.text
    assert all("wrong-key-123456" not in t for t in exception_texts(info.value))


def test_fred_invalid_key_fails_at_once(api, logs):
    resource = FREDResource(mode="live", api_key="0" * 32, base_url=api.fred_url, **FAST)
    with pytest.raises(SourceError, match=r"HTTP 400: Bad Request\.  The value for variable "
                       r"api_key is not registered") as info:  # fmt: skip
        resource.fetch("DHHNGSP", date(2024, 1, 2), date(2024, 1, 3))
    assert len(api.requests) == 1
    assert "0" * 32 not in logs.text and all("0" * 32 not in t for t in exception_texts(info.value))


def test_yahoo_unknown_symbol_is_404(api):
    with pytest.raises(
        SourceError, match="HTTP 404: Not Found: No data found, symbol may be delisted"
    ):
        yahoo(api).fetch("XX=F", date(2024, 1, 2), date(2024, 1, 3))
    assert len(api.requests) == 1


def test_key_echoed_by_the_server_is_scrubbed(api, logs):
    echo = f'{{"error":{{"code":"API_KEY_INVALID","message":"key {api.eia_key} is suspended"}}}}'
    api.script("/v2/", Fault.raw(403, echo.encode()))
    with pytest.raises(SourceError, match=r"key \*\*\* is suspended") as info:
        eia(api).fetch("RWTC", date(2024, 1, 2), date(2024, 1, 3))
    assert_no_key(api, logs.text, *exception_texts(info.value))


def test_body_of_the_wrong_shape_names_the_request(api):
    api.script("/fred/", Fault.raw(200, b'{"error_code": 200, "seriess": []}'))
    with pytest.raises(SourceError, match=r"FRED: GET .*api_key=\*\*\*.* -> HTTP 200: unexpected"):
        fred(api).fetch("DHHNGSP", date(2024, 1, 2), date(2024, 1, 3))


# ---- keys ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cls", "env"), [(EIAResource, "EIA_API_KEY"), (FREDResource, "FRED_API_KEY")]
)
def test_live_mode_without_a_key_names_the_env_var(cls, env):
    with pytest.raises(MissingAPIKeyError, match=env):
        cls(mode="live").fetch("X", date(2024, 1, 2), date(2024, 1, 3))


def test_key_is_not_in_the_resource_repr(api):
    for resource in (eia(api), fred(api)):
        assert_no_key(api, repr(resource), str(resource))


def test_key_from_envvar_through_dagster(api, monkeypatch, logs):
    monkeypatch.setenv("HEADWATER_TEST_EIA_KEY", api.eia_key)

    @dg.asset
    def wti(eia: EIAResource) -> int:
        return len(eia.fetch("RWTC", date(2024, 1, 2), date(2024, 1, 6)))

    resource = EIAResource(
        mode="live", api_key=dg.EnvVar("HEADWATER_TEST_EIA_KEY"), base_url=api.eia_url
    )
    result = dg.materialize([wti], resources={"eia": resource})
    assert result.output_for_node("wti") == 4
    assert_no_key(api, logs.text)


# ---- the retry helper on its own ----------------------------------------------------------------


def test_retry_after_parsing():
    now = datetime(2024, 1, 2, 12, 0, 0, tzinfo=UTC)
    assert retry_after_seconds("3", now) == 3.0
    assert retry_after_seconds("Tue, 02 Jan 2024 12:00:07 GMT", now) == 7.0
    assert retry_after_seconds("Tue, 02 Jan 2024 11:00:00 GMT", now) == 0.0  # in the past
    assert retry_after_seconds("soon", now) is None
    assert retry_after_seconds(None, now) is None


def test_retry_after_http_date_is_honoured_and_capped(api):
    later = datetime.now(UTC) + timedelta(seconds=30)
    api.script(
        "/v2/", Fault(429, b"{}", {"Retry-After": later.strftime("%a, %d %b %Y %H:%M:%S GMT")})
    )
    started = time.monotonic()
    with requests.Session() as session:
        body = get_json(
            session,
            "EIA",
            f"{api.eia_url}/petroleum/pri/spt/data/",
            {"api_key": api.eia_key, "facets[series][]": "RWTC", "start": "2024-01-02",
             "end": "2024-01-02"},
            timeout_s=5,
            max_retries=1,
            backoff_s=0.01,
            max_backoff_s=0.5,
        )  # fmt: skip
    assert 0.4 <= time.monotonic() - started < 5  # waited, but no more than the cap
    assert body["response"]["total"] == "1"

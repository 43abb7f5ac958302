"""Keys stay secret whatever a server sends back, and settings that cannot mean what they say
are refused.

The fake server (tests/fakes/energy_api.py) echoes the key the request carried in each
place a careless server might: a 200 whose JSON is an error, 4xx and 5xx bodies, a header,
the reason phrase, a redirect's Location. Every raised error and every log line must be
clean, and so must everything a Dagster run leaves behind: the instance directory (event
log databases, index, compute logs), the warehouse and the console.
"""

import logging
import traceback
from datetime import date
from pathlib import Path
from urllib.parse import quote, quote_plus

import dagster as dg
import pydantic
import pytest
import requests

from assets.energy import sample_data as sd
from assets.energy import wire_formats as wf
from assets.energy.assets import staging_assets, staging_key
from assets.energy.sources import (
    EIAResource,
    FREDResource,
    SourceConfigError,
    YahooFinanceResource,
)
from headwater.cli.runs import RANGE_END_TAG, RANGE_START_TAG
from resources.http import MIN_SECRET_LEN, Scrubber, SourceError, get_json
from resources.warehouse import DuckDBWarehouse
from tests.fakes.energy_api import FakeEnergyAPI, Fault

THROUGH = date(2024, 12, 31)
FAST = {"backoff_s": 0.01, "max_retries": 2, "timeout_s": 5.0}
# The key, and one whose URL-encoded forms differ from it ("/" "+" "=" " ").
KEYS = ["SECRETKEY123", "s3cr3t/K+y= 9f8e7d"]
JAN = (date(2024, 1, 2), date(2024, 1, 3))
EIA_ERROR_200 = '{"error": "Invalid facet for api_key {api_key}: facets[series][] RWTC"}'


def forms(key: str) -> set[str]:
    """The key as it may appear: raw and URL-encoded."""
    return {key, quote(key, safe=""), quote(key), quote_plus(key)}


def assert_clean(key: str, *texts: str) -> None:
    for text in texts:
        for form in forms(key):
            assert form not in text, f"{form!r} found in {text[:300]!r}"


def exception_texts(exc: BaseException) -> list[str]:
    return [str(exc), repr(exc), "".join(traceback.format_exception(exc))]


@pytest.fixture(scope="module")
def sample():
    return sd.build_sample(THROUGH)


@pytest.fixture(scope="module", params=KEYS, ids=["plain-key", "key-with-url-characters"])
def server(request, sample):
    with FakeEnergyAPI(sample=sample, eia_key=request.param, fred_key=request.param) as api:
        yield api


@pytest.fixture
def api(server):
    server.reset()
    yield server
    server.reset()


@pytest.fixture
def logs(caplog):
    caplog.set_level(logging.DEBUG)  # urllib3's request lines included
    return caplog


def eia(api, **kw):
    return EIAResource(mode="live", api_key=api.eia_key, base_url=api.eia_url, **{**FAST, **kw})


def fred(api, **kw):
    return FREDResource(mode="live", api_key=api.fred_key, base_url=api.fred_url, **{**FAST, **kw})


def failing_fetch(resource, series_id="RWTC") -> SourceError:
    with pytest.raises(SourceError) as info:
        resource.fetch(series_id, *JAN)
    return info.value


# ---- the server echoes the key -----------------------------------------------------------------


def test_200_with_an_eia_error_body_fails_naming_the_source_and_message(api, logs):
    api.script("/v2/", Fault.echo(200, EIA_ERROR_200))
    error = failing_fetch(eia(api))
    assert len(api.requests) == 1  # an API error is not retried
    assert error.status == 200
    assert str(error).startswith("EIA: GET http://127.0.0.1:")
    assert "-> HTTP 200: API error: Invalid facet for api_key ***: facets[series][] RWTC" in str(
        error
    )
    assert_clean(api.eia_key, logs.text, *exception_texts(error))


def test_200_with_an_eia_error_object(api, logs):
    body = '{"error": {"code": "INVALID_FACET", "message": "bad facet for {api_key}"}}'
    api.script("/v2/", Fault.echo(200, body))
    error = failing_fetch(eia(api))
    assert "HTTP 200: API error: INVALID_FACET: bad facet for ***" in str(error)
    assert_clean(api.eia_key, logs.text, *exception_texts(error))


def test_200_with_a_fred_error_body(api, logs):
    body = '{"error_code": 400, "error_message": "Bad Request. api_key {api_key} is locked."}'
    api.script("/fred/", Fault.echo(200, body))
    error = failing_fetch(fred(api), "DCOILWTICO")
    assert len(api.requests) == 1
    assert str(error).startswith("FRED: GET ")
    assert "HTTP 200: API error: Bad Request. api_key *** is locked." in str(error)
    assert_clean(api.fred_key, logs.text, *exception_texts(error))


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (403, '{"error": {"code": "API_KEY_INVALID", "message": "key {api_key} is suspended"}}'),
        (400, "Bad request: {query}"),  # the raw query string: the key URL-encoded
        (404, "<html><body>No route for ?api_key={api_key}</body></html>"),
    ],
)
def test_4xx_body_echoing_the_key(api, logs, status, body):
    api.script("/v2/", Fault.echo(status, body))
    error = failing_fetch(eia(api))
    assert len(api.requests) == 1 and error.status == status
    assert "***" in error.message
    assert_clean(api.eia_key, logs.text, *exception_texts(error))


def test_5xx_body_echoing_the_key_is_retried_then_fails(api, logs):
    body = "<html><body><h1>502</h1>upstream said: GET /v2/?{query} key={api_key}</body></html>"
    api.script("/v2/", *[Fault.echo(502, body)] * 3)
    error = failing_fetch(eia(api))
    assert len(api.requests) == 3 and error.attempts == 3
    warnings = [r.getMessage() for r in logs.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2 and all("HTTP 502" in w and "***" in w for w in warnings)
    assert_clean(api.eia_key, logs.text, *exception_texts(error))


def test_key_in_a_header_of_a_good_answer_and_of_a_retried_one(api, logs):
    echoing = {"X-Echo-Api-Key": "{api_key}", "Link": "<https://x.invalid/?{query}>"}
    api.script(
        "/v2/",
        Fault.echo(503, "busy", headers=echoing),
        Fault.echo(200, headers=echoing),  # the normal answer, with the headers
    )
    obs = eia(api).fetch("RWTC", *JAN)
    assert len(obs) == 1 and len(api.requests) == 2
    assert_clean(api.eia_key, logs.text)


def test_key_in_a_header_and_the_reason_phrase_of_an_empty_error(api, logs):
    api.script(
        "/v2/",
        Fault.echo(
            401,
            "",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token {api_key}"'},
            reason="Unauthorized key {api_key}",
        ),
    )
    error = failing_fetch(eia(api))
    assert "HTTP 401: Unauthorized key ***" in str(error)  # an empty body: the reason phrase
    assert_clean(api.eia_key, logs.text, *exception_texts(error))


@pytest.mark.parametrize(
    "location",
    [
        "http://elsewhere.invalid/v2/petroleum/pri/spt/data/?{query}",
        "http://elsewhere.invalid/keys/{api_key}/data/",
        "/v2/petroleum/pri/spt/data/?{query}",  # the same server: not followed either
    ],
)
def test_redirect_of_a_keyed_request_is_not_followed(api, logs, location):
    api.script("/v2/", Fault.redirect(location, status=302))
    error = failing_fetch(eia(api))
    assert len(api.requests) == 1  # the key was sent once, to the configured host only
    assert error.status == 302
    assert "-> HTTP 302: redirected to " in str(error)
    assert str(error).endswith("not followed: the request carries a secret")
    assert "***" in error.message
    assert_clean(api.eia_key, logs.text, *exception_texts(error))


def test_redirect_of_a_keyless_request_is_followed(api):
    api.script("/v8/", Fault.redirect(f"{api.root}/v8/finance/chart/CL=F?{{query}}", status=301))
    obs = YahooFinanceResource(mode="live", base_url=api.yahoo_url, **FAST).fetch("CL=F", *JAN)
    assert len(obs) == 1 and len(api.requests) == 2


def test_a_data_row_carrying_the_key_is_refused(api, logs):
    row = wf.eia_row("RWTC", "2024-01-02", "{api_key}")
    page = wf.eia_page(
        [row], route="petroleum/pri/spt", series_id="RWTC", start="", end="", total=1, offset=0
    )
    api.script("/v2/", Fault.echo(200, wf.dumps(page).decode()))
    error = failing_fetch(eia(api))
    assert "the answer's data carries the API key" in str(error)
    assert_clean(api.eia_key, logs.text, *exception_texts(error))


def test_a_token_sent_in_a_header_is_scrubbed_and_not_redirected(api, logs):
    """How a client with a header token (Databento, a notifier) uses the same mechanism."""
    token = "tok-" + api.eia_key
    api.script("/v2/", Fault.raw(401, f"token {token} expired".encode(), "text/plain"))
    with requests.Session() as session, pytest.raises(SourceError) as info:
        get_json(
            session,
            "Databento",
            f"{api.root}/v2/x/data/",
            None,
            headers={"Authorization": f"Bearer {token}"},
            secrets=[token],
            **FAST,
        )
    assert "HTTP 401: token *** expired" in str(info.value)
    api.script("/v2/", Fault.redirect("/v2/elsewhere/"))
    with requests.Session() as session, pytest.raises(SourceError, match="not followed"):
        get_json(session, "Databento", f"{api.root}/v2/x/data/", None, secrets=[token], **FAST)
    assert_clean(token, logs.text, *exception_texts(info.value))


# ---- the scrubber on its own --------------------------------------------------------------------


def test_scrubber_replaces_every_form_of_every_secret():
    scrub = Scrubber(["s3cr3t/K+y= 9f", "second-token", None, ""])
    text = (
        "raw s3cr3t/K+y= 9f, query s3cr3t%2FK%2By%3D+9f, lower s3cr3t%2fK%2by%3d+9f, "
        'path s3cr3t/K%2By%3D%209f, json "s3cr3t\\/K+y= 9f", other second-token, '
        "someone else's ?api_key=OTHERKEY&x=1"
    )
    assert scrub(text) == (
        'raw ***, query ***, lower ***, path ***, json "***", other ***, '
        "someone else's ?api_key=***&x=1"
    )
    assert "s3cr3t" not in repr(scrub) and "second" not in repr(scrub)
    assert scrub.found_in("x second-token y") and not scrub.found_in("nothing")


def test_scrubber_ignores_secrets_too_short_to_matter():
    assert MIN_SECRET_LEN == 4
    scrub = Scrubber(["abc", "abcd"])
    assert scrub("abc abcd abcde") == "abc *** ***e"
    assert not Scrubber(["abc"])


def test_log_filter_scrubs_only_what_is_active(caplog):
    caplog.set_level(logging.DEBUG)
    logger = logging.getLogger("urllib3.connectionpool")
    with Scrubber(["outer-secret"]).active(), Scrubber(["inner-secret"]).active():
        logger.debug('"GET /?q=%s&k=%s HTTP/1.1" 200', "outer-secret", "inner-secret")
        try:
            raise ValueError("failed with inner-secret")
        except ValueError:
            logger.exception("boom")
    logger.debug("after: %s", "outer-secret")
    assert '"GET /?q=***&k=*** HTTP/1.1" 200' in caplog.text
    assert "failed with ***" in caplog.text
    assert "inner-secret" not in caplog.text
    assert "after: outer-secret" in caplog.text  # no longer in force: nothing to hide


# ---- configuration that cannot mean what it says ------------------------------------------------


@pytest.mark.parametrize(
    ("cls", "name"),
    [(EIAResource, "EIAResource"), (FREDResource, "FREDResource"), (YahooFinanceResource, "Yahoo")],
)
def test_base_url_without_live_mode_is_refused(cls, name):
    with pytest.raises(SourceConfigError) as info:
        cls(base_url="http://127.0.0.1:8080/v2")
    message = str(info.value)
    assert message.startswith(name)
    assert "base_url is set but mode is 'sample'" in message
    assert "set mode: live to call http://127.0.0.1:8080/v2, or drop base_url" in message


def test_the_refusal_never_shows_a_key():
    key = "SECRETKEY123"
    with pytest.raises(SourceConfigError) as info:
        EIAResource(api_key=key, base_url=f"https://user:{key}@eia.example/v2?api_key={key}")
    assert "https://user:***@eia.example/v2?api_key=***" in str(info.value)
    assert_clean(key, *exception_texts(info.value))
    # Nor does a field that fails validation (pydantic would print its input).
    with pytest.raises(pydantic.ValidationError) as bad:
        EIAResource(mode="live", api_key=[key])
    assert_clean(key, *exception_texts(bad.value))


def test_data_origin(tmp_path, api):
    assert EIAResource(sample_dir=str(tmp_path)).data_origin() == f"sample files in {tmp_path}"
    assert EIAResource(mode="live", api_key="k" * 8).data_origin() == "live https://api.eia.gov"
    assert FREDResource(mode="live").data_origin() == "live https://api.stlouisfed.org"
    assert (
        YahooFinanceResource(mode="live").data_origin() == "live https://query1.finance.yahoo.com"
    )
    port = api.root.rsplit(":", 1)[1]
    password = quote(api.eia_key, safe="")
    resource = EIAResource(
        mode="live",
        api_key=api.eia_key,
        base_url=api.eia_url.replace("http://", f"http://me:{password}@") + "?api_key=x",
    )
    assert resource.data_origin() == f"live http://127.0.0.1:{port}"
    # A URL too broken to parse still never shows the key.
    broken = EIAResource(mode="live", api_key=api.eia_key, base_url=f"http://{api.eia_key}:x/")
    assert_clean(api.eia_key, broken.data_origin())
    # Default sample files inside the repository are shown relative to it.
    assert EIAResource(sample_dir="data/sample/energy").data_origin().startswith("sample files in")


# ---- end to end through Dagster -----------------------------------------------------------------

INSTANCE_YAML = """\
# Route urllib3's request lines and our retry warnings into the event log too.
python_logs:
  python_log_level: DEBUG
  managed_python_loggers: [urllib3, resources.http]
telemetry:
  enabled: false
"""


def files_holding(root: Path, key: str) -> list[str]:
    found = []
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            if any(form.encode() in data for form in forms(key)):
                found.append(str(path))
    return found


@pytest.mark.parametrize("key", KEYS, ids=["plain-key", "key-with-url-characters"])
def test_a_run_against_an_echoing_server_leaves_the_key_nowhere(
    tmp_path, sample, monkeypatch, capfd, key
):
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(INSTANCE_YAML)
    warehouse_path = tmp_path / "warehouse.duckdb"
    monkeypatch.setenv("HEADWATER_TEST_EIA_KEY", key)
    [eia_staging] = [a for a in staging_assets if a.key == staging_key("eia")]

    with FakeEnergyAPI(sample=sample, eia_key=key) as api:
        api.script(
            "/v2/",
            Fault.echo(
                503,
                "<h1>Unavailable</h1> GET /v2/?{query} for {api_key}",
                headers={"X-Echo-Api-Key": "{api_key}"},
                reason="Unavailable for {api_key}",
            ),
            Fault.echo(200, EIA_ERROR_200),
        )
        with dg.DagsterInstance.from_config(str(home)) as instance:
            result = dg.materialize(
                [eia_staging],
                instance=instance,
                resources={
                    "warehouse": DuckDBWarehouse(path=str(warehouse_path)),
                    "eia": EIAResource(
                        mode="live",
                        api_key=dg.EnvVar("HEADWATER_TEST_EIA_KEY"),
                        base_url=api.eia_url,
                        backoff_s=0.01,
                    ),
                },
                tags={RANGE_START_TAG: "2020-04-01", RANGE_END_TAG: "2020-04-01"},
                raise_on_error=False,
            )
            events = instance.all_logs(result.run_id)
        seen_keys = {r.param("api_key") for r in api.requests}

    # The server did receive the key and echo it: there was something to leak.
    assert seen_keys == {key} and len(api.requests) == 2
    assert not result.success
    [failure] = result.get_step_failure_events()
    error = failure.event_specific_data.error.to_string()
    assert "HTTP 200: API error: Invalid facet for api_key ***: facets[series][] RWTC" in error
    messages = "\n".join(e.user_message for e in events)
    assert "HTTP 503: <h1>Unavailable</h1> GET /v2/?api_key=***" in messages  # the retry
    assert "api_key=***&frequency=daily" in messages  # urllib3's request line

    console = capfd.readouterr()
    compute_logs = [p for p in home.rglob("*") if p.is_file() and p.suffix in (".out", ".err")]
    assert compute_logs, "the run captured no compute logs: nothing was searched"
    assert any(p.suffix == ".db" for p in home.rglob("*"))  # the SQLite event log and index
    assert files_holding(home, key) == []
    assert files_holding(tmp_path, key) == []  # the warehouse and anything beside it
    assert_clean(key, console.out, console.err, error, messages)

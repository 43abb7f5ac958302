"""Run notifications, end to end on real components: real runs in a real Dagster instance
(a job that succeeds, one that fails in a step, one whose WARN check fails, one that
quarantines rows), the real sensors, a real HTTP receiver standing in for the Slack webhook
and a real SMTP server (aiosmtpd, with and without STARTTLS and login) on loopback.

Secrets: the webhook URL's path and the SMTP password must never show up in a log line, a
skip reason, or a message, even when a server or a failing step echoes them back.
"""

import logging
import time

import dagster as dg
import pytest

from assets.operations.config import (
    EmailChannel,
    Notifications,
    OperationsConfig,
    SlackChannel,
)
from assets.operations.definitions import SETTINGS, defs, notifier_resources
from assets.operations.notifications import (
    FAILURE_SENSOR,
    SUCCESS_SENSOR,
    RunSummary,
    build_notification_sensors,
    build_summary,
    email_message,
    format_duration,
    slack_payload,
)
from headwater.config import ConfigError, validate_section
from resources.notifiers import (
    SLACK_WEBHOOK_ENV,
    SMTP_PASSWORD_ENV,
    SMTP_USERNAME_ENV,
    SlackWebhookNotifier,
)
from tests.fakes.receivers import Answer, HTTPReceiver, SMTPServer, closed_port

WEBHOOK_TOKEN = "xq7TOKENw4BzS3cr3tPath9"
WEBHOOK_PATH = f"/services/T0HEADW4T/B0N0T1FY/{WEBHOOK_TOKEN}"
PASSWORD = "pw-Zq9!s3cret#smtp"
USER = "headwater-bot"
SECRETS = (WEBHOOK_TOKEN, WEBHOOK_PATH, PASSWORD)
UI = "http://ui.test:3000"
TO = ["data-team@example.com", "oncall@example.com"]


# ---- tiny assets and jobs, run for real ---------------------------------------------------------


@dg.asset(key=["staging", "clean"])
def clean():
    return dg.MaterializeResult(metadata={"dagster/row_count": 40, "rows_quarantined": 0})


@dg.asset(key=["staging", "upstream_ok"])
def upstream_ok():
    return dg.MaterializeResult(metadata={"dagster/row_count": 5})


@dg.asset(key=["staging", "broken"], deps=[upstream_ok])
def broken():
    # A careless error that quotes a secret: the notification must not repeat it.
    raise ValueError(f"lookup <table> failed with token {WEBHOOK_TOKEN}\nsecond line of the error")


@dg.asset(
    key=["canonical", "warned"],
    check_specs=[
        dg.AssetCheckSpec("values_in_range", asset=["canonical", "warned"]),
        dg.AssetCheckSpec("unique_keys", asset=["canonical", "warned"]),
    ],
)
def warned():
    yield dg.MaterializeResult(metadata={"dagster/row_count": 12})
    yield dg.AssetCheckResult(
        check_name="values_in_range",
        passed=False,
        severity=dg.AssetCheckSeverity.WARN,
        description="W-01 WARN: 2 values out of range",
    )
    yield dg.AssetCheckResult(check_name="unique_keys", passed=True)


@dg.asset(key=["staging", "quarantining"])
def quarantining():
    return dg.MaterializeResult(metadata={"dagster/row_count": 97, "rows_quarantined": 3})


JOBS = {
    "success": dg.define_asset_job("clean_job", selection=[clean]),
    "failure": dg.define_asset_job("broken_job", selection=[upstream_ok, broken]),
    "warn_check": dg.define_asset_job("warned_job", selection=[warned]),
    "quarantine": dg.define_asset_job("quarantine_job", selection=[quarantining]),
}
RUN_DEFS = dg.Definitions(
    assets=[clean, upstream_ok, broken, warned, quarantining], jobs=list(JOBS.values())
)
OUTCOME = {
    "success": "success",
    "failure": "failure",
    "warn_check": "partial",
    "quarantine": "partial",
}


def execute(kind: str, instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    job = RUN_DEFS.resolve_job_def(JOBS[kind].name)
    return job.execute_in_process(instance=instance, raise_on_error=False)


@pytest.fixture(scope="module")
def instance():
    with dg.instance_for_test() as instance:
        yield instance


@pytest.fixture(scope="module")
def runs(instance) -> dict[str, dg.ExecuteInProcessResult]:
    out = {kind: execute(kind, instance) for kind in JOBS}
    assert not out["failure"].success and out["success"].success
    return out


@pytest.fixture(scope="module")
def hooks():
    with HTTPReceiver() as receiver:
        yield receiver


@pytest.fixture(scope="module")
def smtp():
    with SMTPServer() as server:
        yield server


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    for name in (SLACK_WEBHOOK_ENV, SMTP_USERNAME_ENV, SMTP_PASSWORD_ENV):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def received(hooks, smtp):
    """The receivers, emptied for this test."""
    hooks.reset()
    smtp.reset()
    return hooks, smtp


# ---- helpers ------------------------------------------------------------------------------------


def settings(
    smtp_port: int,
    *,
    slack=("failure", "partial"),
    email=("failure", "partial"),
    slack_on=True,
    email_on=True,
    **email_extra,
) -> OperationsConfig:
    return OperationsConfig(
        ui_base_url=UI + "/",
        notifications=Notifications(
            slack=SlackChannel(enabled=slack_on, notify_on=list(slack)),
            email=EmailChannel(
                enabled=email_on,
                notify_on=list(email),
                smtp_host="127.0.0.1",
                smtp_port=smtp_port,
                to_addrs=TO,
                **email_extra,
            ),
            timeout_s=2.0,
            max_retries=2,
            backoff_s=0.01,  # tiny: the tests' retries take milliseconds
        ),
    )


class Recorder(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)

    def lines(self, level=logging.DEBUG) -> list[str]:
        return [r.getMessage() for r in self.records if r.levelno >= level]


def evaluate(cfg: OperationsConfig, result, instance, resources=None):
    """Evaluate the sensor that watches this run's status, as the daemon would call it;
    return (what it returned, the log lines it wrote)."""
    success, failure = build_notification_sensors(cfg)
    sensor = success if result.success else failure
    event = result.get_run_success_event() if result.success else result.get_run_failure_event()
    context = dg.build_run_status_sensor_context(
        sensor_name=sensor.name,
        dagster_instance=instance,
        dagster_run=result.dagster_run,
        dagster_event=event,
        resources=resources if resources is not None else notifier_resources(cfg),
    )
    recorder = Recorder()
    context.log.addHandler(recorder)
    returned = sensor(context)
    return returned, recorder


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text, f"secret leaked in: {text[:300]}"


# ---- plain functions ----------------------------------------------------------------------------


def test_build_summary_reads_the_run(runs, instance):
    ok = build_summary(instance, runs["success"].dagster_run, ui_base_url=UI)
    assert ok.outcome == "success"
    assert (ok.job_name, ok.assets, ok.rows, ok.rows_quarantined) == (
        "clean_job",
        ("staging/clean",),
        40,
        0,
    )
    assert ok.run_url == f"{UI}/runs/{runs['success'].run_id}"
    assert ok.duration_s is not None and 0 <= ok.duration_s < 60
    assert not ok.failed_steps and not ok.failed_checks

    failed = build_summary(instance, runs["failure"].dagster_run, ui_base_url=UI)
    assert failed.outcome == "failure"
    assert failed.assets == ("staging/upstream_ok",) and failed.rows == 5
    [step] = failed.failed_steps
    assert step.step == "staging__broken"
    # The error the step's code raised, first line only, not Dagster's wrapper around it.
    assert step.error == f"ValueError: lookup <table> failed with token {WEBHOOK_TOKEN}"

    warned = build_summary(instance, runs["warn_check"].dagster_run, ui_base_url=UI)
    assert warned.outcome == "partial" and warned.checks_passed == 1
    [check] = warned.failed_checks
    assert (check.asset, check.check, check.severity) == (
        "canonical/warned",
        "values_in_range",
        "WARN",
    )
    assert check.description == "W-01 WARN: 2 values out of range"

    quarantined = build_summary(instance, runs["quarantine"].dagster_run, ui_base_url=UI)
    assert (quarantined.outcome, quarantined.rows_quarantined, quarantined.rows) == (
        "partial",
        3,
        97,
    )


def test_slack_payload_and_email_message(runs, instance):
    summaries = {
        kind: build_summary(instance, runs[kind].dagster_run, ui_base_url=UI) for kind in runs
    }
    colours = {kind: slack_payload(s)["attachments"][0]["color"] for kind, s in summaries.items()}
    assert colours == {
        "success": "good",
        "failure": "danger",
        "warn_check": "warning",
        "quarantine": "warning",
    }

    failed = summaries["failure"]
    payload = slack_payload(failed)
    attachment = payload["attachments"][0]
    assert attachment["title_link"] == f"{UI}/runs/{failed.run_id}"
    fields = {f["title"]: f["value"] for f in attachment["fields"]}
    assert fields["Job"] == "broken_job"
    assert fields["Assets"] == "1 materialized: staging/upstream_ok"
    assert fields["Rows"] == "5; 0 quarantined"
    # Slack's reserved characters are escaped in what the run said.
    assert fields["Failed step"].startswith("staging__broken: ValueError: lookup &lt;table&gt;")
    assert f"<{UI}/runs/{failed.run_id}|" in payload["text"]

    message = email_message(summaries["warn_check"])
    assert message["Subject"] == (
        f"[Headwater] partial success: warned_job (run {summaries['warn_check'].short_id})"
    )
    body = message.get_content()
    assert "Failed check: canonical/warned values_in_range (WARN): W-01 WARN: 2 values" in body
    assert "Checks:       1 passed, 1 failed" in body
    assert body.rstrip().endswith(f"Open the run: {UI}/runs/{summaries['warn_check'].run_id}")


def test_summary_texts_for_many_assets_and_partitions():
    summary = RunSummary(
        outcome="partial",
        job_name="energy_daily_prices",
        run_id="0123456789abcdef",
        run_url=f"{UI}/runs/0123456789abcdef",
        assets=tuple(f"staging/t{n}" for n in range(7)),
        materializations=20,
        rows=1234567,
        rows_quarantined=12,
        duration_s=3725.0,
        partitions="2024-01-01...2024-03-01",
    )
    assert summary.assets_text() == (
        "7 materialized (20 partition materializations): "
        "staging/t0, staging/t1, staging/t2, staging/t3, staging/t4, +2 more"
    )
    assert summary.rows_text() == "1,234,567; 12 quarantined"
    body = email_message(summary).get_content()
    lines = {
        line.split(":", 1)[0]: line.split(":", 1)[1].strip() for line in body.splitlines()[2:9]
    }
    assert lines["Partitions"] == "2024-01-01...2024-03-01" and lines["Duration"] == "1 h 02 min"
    assert [format_duration(s) for s in (None, 4.04, 75)] == ["unknown", "4.0 s", "1 min 15 s"]


def test_settings_defaults_and_errors():
    assert not SETTINGS.notifications.slack.enabled and not SETTINGS.notifications.email.enabled
    assert SETTINGS.ui_base_url == "http://127.0.0.1:3000"
    bad = {
        "notifications": {"slack": {"enabled": True, True: ["failure"]}},
    }
    with pytest.raises(ConfigError, match="operations.notifications.slack: .*write notify_on"):
        validate_section({"operations": bad}, "operations", OperationsConfig, "h.yaml")
    with pytest.raises(ConfigError, match=r"notify_on\[0\]: .*'success', 'partial' or 'failure'"):
        validate_section(
            {"operations": {"notifications": {"email": {"notify_on": ["sometimes"]}}}},
            "operations",
            OperationsConfig,
        )
    with pytest.raises(ConfigError, match="email: .*at least one recipient"):
        validate_section(
            {"operations": {"notifications": {"email": {"enabled": True}}}},
            "operations",
            OperationsConfig,
        )
    with pytest.raises(ConfigError, match="notifications: .*could take 93 s"):
        validate_section(
            {"operations": {"notifications": {"timeout_s": 30, "max_retries": 2}}},
            "operations",
            OperationsConfig,
        )


def test_definitions_wire_secrets_from_the_environment(monkeypatch):
    sensors = {s.name: s for s in defs.sensors}
    assert set(sensors) == {"headwater_dead_runs", SUCCESS_SENSOR, FAILURE_SENSOR}
    assert all(s.default_status == dg.DefaultSensorStatus.RUNNING for s in sensors.values())
    assert notifier_resources(SETTINGS)["slack_notifier"].webhook_url is None
    monkeypatch.setenv(SLACK_WEBHOOK_ENV, "https://hooks.example.test" + WEBHOOK_PATH)
    monkeypatch.setenv(SMTP_PASSWORD_ENV, PASSWORD)
    wired = notifier_resources(SETTINGS)
    assert isinstance(wired["slack_notifier"].webhook_url, dg.EnvVar)
    assert isinstance(wired["email_notifier"].password, dg.EnvVar)
    built = SlackWebhookNotifier(webhook_url="https://hooks.example.test" + WEBHOOK_PATH)
    assert_no_secret(repr(built), built.target())


# ---- the sensors: what arrives for each outcome and trigger setting ------------------------------


TRIGGERS = {
    "defaults": dict(),  # both channels on failure and partial
    "split": dict(slack=("success",), email=("failure", "partial")),
    "slack_only": dict(email_on=False, slack=("success", "partial", "failure")),
    "off": dict(slack_on=False, email_on=False),
}


@pytest.mark.parametrize("trigger", TRIGGERS)
@pytest.mark.parametrize("kind", list(JOBS))
def test_what_arrives_for_each_outcome(trigger, kind, runs, instance, received, monkeypatch):
    hooks, smtp = received
    monkeypatch.setenv(SLACK_WEBHOOK_ENV, hooks.url(WEBHOOK_PATH))
    cfg = settings(smtp.port, **TRIGGERS[trigger])
    result = runs[kind]
    outcome = OUTCOME[kind]
    returned, log = evaluate(cfg, result, instance)

    assert returned is None  # handled: the sensor goes on with the next run of the tick
    assert log.lines(logging.WARNING) == []
    slack_wanted = cfg.notifications.slack.wants(outcome)
    email_wanted = cfg.notifications.email.wants(outcome)
    assert len(hooks.requests) == int(slack_wanted)
    assert len(smtp.messages) == int(email_wanted)
    link = f"{UI}/runs/{result.run_id}"
    if slack_wanted:
        [request] = hooks.requests
        assert (request.method, request.path) == ("POST", WEBHOOK_PATH)
        attachment = request.json()["attachments"][0]
        assert attachment["color"] == {"success": "good", "partial": "warning"}.get(
            outcome, "danger"
        )
        assert attachment["title_link"] == link
        assert any(f["value"] == JOBS[kind].name for f in attachment["fields"])
        assert_no_secret(request.raw.decode())
    if email_wanted:
        [mail] = smtp.messages
        assert mail.rcpt_tos == TO and mail.mail_from == "headwater@localhost"
        assert mail.message["To"] == ", ".join(TO)
        assert JOBS[kind].name in mail.message["Subject"]
        assert not mail.tls and mail.login is None  # this server offers neither
        body = mail.message.get_content()
        assert link in body
        assert_no_secret(body, str(mail.message))
    if outcome == "failure" and (slack_wanted or email_wanted):
        sent = (
            hooks.requests[0].raw.decode()
            if slack_wanted
            else smtp.messages[0].message.get_content()
        )
        # The failing step and its error's first line, the secret it quoted scrubbed.
        assert "staging__broken" in sent and "lookup" in sent and "***" in sent
        assert "second line" not in sent
    if kind == "warn_check" and email_wanted:
        assert "values_in_range (WARN)" in smtp.messages[0].message.get_content()
    if kind == "quarantine" and email_wanted:
        assert "97; 3 quarantined" in smtp.messages[0].message.get_content()
    sent_lines = [line for line in log.lines(logging.INFO) if ": sent " in line]
    assert len(sent_lines) == int(slack_wanted) + int(email_wanted)
    assert_no_secret(*log.lines())


# ---- email: STARTTLS and login --------------------------------------------------------------------


def test_email_uses_starttls_and_logs_in(runs, instance, tmp_path, monkeypatch):
    ca = tmp_path / "ca.pem"
    with SMTPServer(tls=True, credentials=(USER, PASSWORD), ca_file=ca) as server:
        cfg = settings(server.port, slack_on=False, tls_ca_file=ca)
        monkeypatch.setenv(SMTP_USERNAME_ENV, USER)
        monkeypatch.setenv(SMTP_PASSWORD_ENV, PASSWORD)
        # Slack is off but its webhook is set: its secret is scrubbed from the email too.
        monkeypatch.setenv(SLACK_WEBHOOK_ENV, "https://hooks.example.test" + WEBHOOK_PATH)
        returned, log = evaluate(cfg, runs["failure"], instance)
        assert returned is None and log.lines(logging.WARNING) == []
        [mail] = server.messages
        assert mail.tls and mail.login == USER
        assert_no_secret(*log.lines(), mail.message.get_content())

        # Without credentials: STARTTLS still, no login attempted.
        monkeypatch.delenv(SMTP_USERNAME_ENV)
        monkeypatch.delenv(SMTP_PASSWORD_ENV)
        server.reset()
        _, log = evaluate(cfg, runs["failure"], instance)
        assert server.logins == []
        # This server requires AUTH: refused for good (5xx), not retried.
        [line] = log.lines(logging.WARNING)
        assert "SMTP 530" in line and "attempts" not in line


def test_email_refuses_to_send_a_password_in_clear(runs, instance, received, monkeypatch):
    _, smtp = received
    monkeypatch.setenv(SMTP_USERNAME_ENV, USER)
    monkeypatch.setenv(SMTP_PASSWORD_ENV, PASSWORD)
    cfg = settings(smtp.port, slack_on=False)
    returned, log = evaluate(cfg, runs["failure"], instance)
    [line] = log.lines(logging.WARNING)
    assert line.startswith("email: failure of run") and "password is not sent in clear" in line
    assert smtp.messages == [] and isinstance(returned, dg.SkipReason)
    assert_no_secret(*log.lines(), returned.skip_message)


def test_enabled_channel_without_its_variable_is_skipped_in_one_line(
    runs, instance, received, monkeypatch
):
    hooks, smtp = received
    monkeypatch.setenv(SMTP_USERNAME_ENV, USER)  # the password is missing
    cfg = settings(smtp.port)
    returned, log = evaluate(cfg, runs["failure"], instance)
    assert returned is None
    warnings = log.lines(logging.WARNING)
    assert warnings == [
        f"slack: enabled in operations.notifications.slack but {SLACK_WEBHOOK_ENV} is not set; "
        f"not sent (failure of run {runs['failure'].run_id})",
        f"email: enabled in operations.notifications.email but {SMTP_USERNAME_ENV} is set but "
        f"{SMTP_PASSWORD_ENV} is not; not sent (failure of run {runs['failure'].run_id})",
    ]
    assert hooks.requests == [] and smtp.messages == []


# ---- notifiers that are down or failing ---------------------------------------------------------


def _one_warning_per_channel(log: Recorder) -> dict[str, str]:
    warnings = log.lines(logging.WARNING)
    by_channel = {line.split(":", 1)[0]: line for line in warnings}
    assert len(warnings) == len(by_channel), warnings
    return by_channel


def test_servers_down_never_fail_the_sensor(runs, instance, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG, logger="resources.notifiers")
    port = closed_port()
    monkeypatch.setenv(SLACK_WEBHOOK_ENV, f"http://127.0.0.1:{port}{WEBHOOK_PATH}")
    monkeypatch.setenv(SMTP_USERNAME_ENV, USER)
    monkeypatch.setenv(SMTP_PASSWORD_ENV, PASSWORD)
    cfg = settings(port)
    started = time.monotonic()
    returned, log = evaluate(cfg, runs["failure"], instance)
    assert time.monotonic() - started < 10
    warnings = _one_warning_per_channel(log)
    assert set(warnings) == {"slack", "email"}
    assert (
        "connection failed" in warnings["slack"] and "gave up after 3 attempts" in warnings["slack"]
    )
    assert f"POST http://127.0.0.1:{port}:" in warnings["slack"]
    assert "ConnectionRefusedError" in warnings["email"] and "3 attempts" in warnings["email"]
    # The tick ends after this run: the cursor has moved past it, the next runs wait a tick.
    assert isinstance(returned, dg.SkipReason)
    assert "slack, email not delivered" in returned.skip_message
    assert_no_secret(*log.lines(), returned.skip_message, caplog.text)
    assert "retry 2/2" in caplog.text  # the retries are in the Python log, at DEBUG


def test_slack_answering_500_is_retried_then_reported_once(
    runs, instance, received, monkeypatch, caplog
):
    hooks, smtp = received
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv(SLACK_WEBHOOK_ENV, hooks.url(WEBHOOK_PATH))
    # A careless server that echoes the request path (the secret) in its error.
    hooks.script(*[Answer(500, "internal error at {path}")] * 3)
    cfg = settings(smtp.port)
    returned, log = evaluate(cfg, runs["warn_check"], instance)
    assert len(hooks.requests) == 3  # 1 + max_retries
    [line] = log.lines(logging.WARNING)
    assert line.startswith("slack: partial of run") and "HTTP 500: internal error at" in line
    assert "gave up after 3 attempts" in line and "***" in line
    assert len(smtp.messages) == 1  # the other channel is not held up
    assert isinstance(returned, dg.SkipReason)
    assert_no_secret(*log.lines(), returned.skip_message, caplog.text)


def test_slack_recovers_within_its_retries(runs, instance, received, monkeypatch):
    hooks, smtp = received
    monkeypatch.setenv(SLACK_WEBHOOK_ENV, hooks.url(WEBHOOK_PATH))
    hooks.script(Answer(503, "busy", {"Retry-After": "0"}))
    returned, log = evaluate(settings(smtp.port, email_on=False), runs["failure"], instance)
    assert returned is None and log.lines(logging.WARNING) == []
    assert len(hooks.requests) == 2
    assert any(line.endswith("after 2 attempts") for line in log.lines(logging.INFO))


def test_slack_4xx_is_not_retried(runs, instance, received, monkeypatch):
    hooks, smtp = received
    monkeypatch.setenv(SLACK_WEBHOOK_ENV, hooks.url(WEBHOOK_PATH))
    hooks.script(Answer(403, "invalid_token"))
    returned, log = evaluate(settings(smtp.port, email_on=False), runs["failure"], instance)
    assert len(hooks.requests) == 1
    [line] = log.lines(logging.WARNING)
    assert "HTTP 403: invalid_token" in line and "attempts" not in line


@pytest.mark.parametrize(
    "reply, attempts",
    [(f"451 4.3.0 mailbox busy, {PASSWORD}", 3), (f"554 5.7.1 rejected for {PASSWORD}", 1)],
)
def test_smtp_errors_are_reported_once_without_the_password(
    reply, attempts, runs, instance, tmp_path, monkeypatch
):
    ca = tmp_path / "ca.pem"
    with SMTPServer(tls=True, credentials=(USER, PASSWORD), ca_file=ca) as server:
        # Logged in, then DATA answered with an error that echoes the password.
        server.script(*[reply] * 3)
        monkeypatch.setenv(SMTP_USERNAME_ENV, USER)
        monkeypatch.setenv(SMTP_PASSWORD_ENV, PASSWORD)
        cfg = settings(server.port, slack_on=False, tls_ca_file=ca)
        returned, log = evaluate(cfg, runs["failure"], instance)
        assert server.pending() == 3 - attempts  # 451 retried, 554 not
        assert server.messages == [] and server.logins == [USER] * attempts
    [line] = log.lines(logging.WARNING)
    assert line.startswith("email: failure of run") and f"SMTP {reply[:3]}" in line
    assert ("gave up after 3 attempts" in line) == (attempts == 3)
    assert "***" in line
    assert_no_secret(*log.lines(), returned.skip_message)


# ---- through the sensor machinery: cursor and ticks -----------------------------------------------


def test_ticks_notify_each_run_once_and_move_on_when_a_channel_is_down(received, monkeypatch):
    hooks, smtp = received
    monkeypatch.setenv(SLACK_WEBHOOK_ENV, hooks.url(WEBHOOK_PATH))
    cfg = settings(smtp.port, slack=("failure", "partial", "success"))
    success_sensor, failure_sensor = build_notification_sensors(cfg)
    with dg.instance_for_test() as instance:

        def tick(sensor, cursor):
            context = dg.build_sensor_context(
                instance=instance, cursor=cursor, resources=notifier_resources(cfg)
            )
            recorder = Recorder()
            context.log.addHandler(recorder)
            data = sensor.evaluate_tick(context)
            return data, recorder

        first, _ = tick(failure_sensor, None)  # the first tick only sets the cursor
        execute("failure", instance)
        execute("failure", instance)
        second, _ = tick(failure_sensor, first.cursor)
        assert len(hooks.requests) == 2 and len(smtp.messages) == 2
        assert len(second.dagster_run_reactions) == 2
        assert all(r.error is None for r in second.dagster_run_reactions)
        third, _ = tick(failure_sensor, second.cursor)
        assert len(hooks.requests) == 2  # nothing sent twice

        # Slack down: the tick does not fail, reports once, and the cursor moves past the run.
        hooks.script(*[Answer(500, "down")] * 3)
        execute("failure", instance)
        execute("failure", instance)
        fourth, log = tick(failure_sensor, third.cursor)
        assert fourth.cursor != third.cursor
        assert "not delivered" in fourth.skip_message
        assert len(log.lines(logging.WARNING)) == 1
        fifth, _ = tick(failure_sensor, fourth.cursor)  # the second run, Slack back up
        assert len(hooks.requests) == 2 + 3 + 1 and len(smtp.messages) == 4
        assert len(fifth.dagster_run_reactions) == 1

        # The success sensor sees successful runs only.
        start, _ = tick(success_sensor, None)
        execute("success", instance)
        tick(success_sensor, start.cursor)
        assert hooks.requests[-1].json()["attachments"][0]["color"] == "good"
        assert len(smtp.messages) == 4  # email is not on for success

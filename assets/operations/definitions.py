"""Operations shared by every domain: the daemon's clean-up of runs whose process died, and
run notifications (Slack and email) as operations.notifications says."""

import dagster as dg

from assets.operations.config import OperationsConfig, load_operations_config
from assets.operations.notifications import build_notification_sensors
from headwater.dead_runs import reap_dead_runs
from headwater.domain import Domain
from resources.notifiers import (
    SLACK_WEBHOOK_ENV,
    SMTP_PASSWORD_ENV,
    SMTP_USERNAME_ENV,
    EmailNotifier,
    SlackWebhookNotifier,
)

SETTINGS = load_operations_config()


@dg.sensor(
    name="headwater_dead_runs",
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Marks failed the runs of this host whose process ended without reporting "
    "(kill -9, OOM), with the reason, and frees their concurrency slots, so nothing queued "
    "behind them on the warehouse pool waits for ever.",
)
def dead_runs_sensor(context: dg.SensorEvaluationContext) -> dg.SkipReason:
    reaped = reap_dead_runs(context.instance)
    for dead in reaped:
        context.log.warning(dead.line())
    return dg.SkipReason(
        f"marked {len(reaped)} dead run(s) failed: " + "; ".join(d.run_id for d in reaped)
        if reaped
        else "no dead run"
    )


def _secret(name: str) -> dg.EnvVar | None:
    """EnvVar(name) when the variable is set, else None. An EnvVar whose variable is unset
    fails the resource's set-up before the sensor function runs, so every tick would fail;
    None lets the sensor say which variable is missing and skip that channel."""
    return dg.EnvVar(name) if dg.EnvVar(name).get_value() else None


def notifier_resources(settings: OperationsConfig) -> dict:
    notifications = settings.notifications
    retries = {
        "timeout_s": notifications.timeout_s,
        "max_retries": notifications.max_retries,
        "backoff_s": notifications.backoff_s,
    }
    email = notifications.email
    return {
        "slack_notifier": SlackWebhookNotifier(webhook_url=_secret(SLACK_WEBHOOK_ENV), **retries),
        "email_notifier": EmailNotifier(
            smtp_host=email.smtp_host,
            smtp_port=email.smtp_port,
            starttls=email.starttls,
            tls_ca_file=str(email.tls_ca_file) if email.tls_ca_file else None,
            from_addr=email.from_addr,
            to_addrs=list(email.to_addrs),
            username=_secret(SMTP_USERNAME_ENV),
            password=_secret(SMTP_PASSWORD_ENV),
            **retries,
        ),
    }


defs = dg.Definitions(
    sensors=[dead_runs_sensor, *build_notification_sensors(SETTINGS)],
    resources=notifier_resources(SETTINGS),
)

DOMAIN = Domain(name="operations", defs=defs)

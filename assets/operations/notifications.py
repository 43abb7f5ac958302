"""Run notifications: a Slack message and an email when a run of this code location ends.

Three outcomes: *failure* (the run failed), *partial* (the run succeeded, but a check
failed without blocking, e.g. a WARN check, or records were quarantined), *success*.
Which channel hears of which outcome is a setting (`operations.notifications`).

Message building is plain functions: `build_summary` reads a finished run from the
instance, `slack_payload` and `email_message` render it. The two sensors (one per run
status) pick the channels, send, and report each outcome in one sensor log line; they
never raise, so a notifier that is down never fails a run or a tick, and the cursor moves
on. Every text that leaves (message, log line, skip reason) is scrubbed of the notifiers'
secrets.
"""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from email.message import EmailMessage

import dagster as dg
from dagster import DagsterEventType

from assets.operations.config import DEFAULT_UI_BASE_URL, OperationsConfig, Outcome
from resources.http import Scrubber
from resources.notifiers import EmailNotifier, NotifierError, SlackWebhookNotifier

SUCCESS_SENSOR = "headwater_notify_success"
FAILURE_SENSOR = "headwater_notify_failure"

ROW_COUNT = "dagster/row_count"
# What the domains put on a materialization for records set aside by record rules (energy,
# prospects, workforce, market: rows_quarantined; records_quarantined for other shapes).
QUARANTINE_KEYS = ("rows_quarantined", "records_quarantined")
ASSETS_SHOWN = 5
CHECKS_SHOWN = 10
STEPS_SHOWN = 3
LINE_CHARS = 300

SLACK_COLOUR = {"success": "good", "partial": "warning", "failure": "danger"}
TITLE = {"success": "succeeded", "partial": "partial success", "failure": "failed"}
# Dagster's wrappers around the error the step's code raised: the message shows that error.
_WRAPPERS = ("DagsterExecutionStepExecutionError", "DagsterUserCodeExecutionError")


# ---- the run, summarized ----------------------------------------------------------------------


@dataclass(frozen=True)
class FailedCheck:
    asset: str
    check: str
    severity: str  # WARN or ERROR
    description: str | None = None

    def line(self) -> str:
        tail = f": {self.description}" if self.description else ""
        return f"{self.asset} {self.check} ({self.severity}){tail}"


@dataclass(frozen=True)
class FailedStep:
    step: str
    error: str  # the first line of the error its code raised

    def line(self) -> str:
        return f"{self.step}: {self.error}"


@dataclass(frozen=True)
class RunSummary:
    outcome: Outcome
    job_name: str
    run_id: str
    run_url: str
    assets: tuple[str, ...] = ()  # distinct asset keys, in the order first materialized
    materializations: int = 0  # one per asset and partition
    rows: int | None = None  # sum of dagster/row_count; None when no materialization gives it
    rows_quarantined: int = 0
    duration_s: float | None = None
    partitions: str | None = None
    checks_passed: int = 0
    failed_checks: tuple[FailedCheck, ...] = ()
    failed_steps: tuple[FailedStep, ...] = ()
    run_error: str | None = None  # a failed run without a failed step: why it failed

    @property
    def short_id(self) -> str:
        return self.run_id[:8]

    def title(self) -> str:
        return f"Headwater run {TITLE[self.outcome]}: {self.job_name}"

    def scrubbed(self, scrub: Scrubber) -> "RunSummary":
        """A copy with every text run through `scrub` (errors and check descriptions may
        quote anything, a secret included)."""
        if not scrub:
            return self
        return replace(
            self,
            job_name=scrub(self.job_name),
            run_url=scrub(self.run_url),
            assets=tuple(scrub(a) for a in self.assets),
            partitions=scrub(self.partitions) if self.partitions else None,
            failed_checks=tuple(
                FailedCheck(
                    scrub(c.asset),
                    scrub(c.check),
                    c.severity,
                    scrub(c.description) if c.description else None,
                )
                for c in self.failed_checks
            ),
            failed_steps=tuple(
                FailedStep(scrub(s.step), scrub(s.error)) for s in self.failed_steps
            ),
            run_error=scrub(self.run_error) if self.run_error else None,
        )

    def lines(self) -> list[tuple[str, str]]:
        """(label, text) pairs, the message's body in reading order."""
        out = [("Job", self.job_name), ("Run", self.run_id)]
        if self.partitions:
            out.append(("Partitions", self.partitions))
        out.append(("Duration", format_duration(self.duration_s)))
        out.append(("Assets", self.assets_text()))
        out.append(("Rows", self.rows_text()))
        out.append(("Checks", self.checks_text()))
        for step in self.failed_steps[:STEPS_SHOWN]:
            out.append(("Failed step", step.line()))
        if len(self.failed_steps) > STEPS_SHOWN:
            out.append(("Failed step", f"... and {len(self.failed_steps) - STEPS_SHOWN} more"))
        if self.run_error and not self.failed_steps:
            out.append(("Error", self.run_error))
        for check in self.failed_checks[:CHECKS_SHOWN]:
            out.append(("Failed check", check.line()))
        if len(self.failed_checks) > CHECKS_SHOWN:
            out.append(("Failed check", f"... and {len(self.failed_checks) - CHECKS_SHOWN} more"))
        return out

    def assets_text(self) -> str:
        if not self.assets:
            return "none materialized"
        shown = ", ".join(self.assets[:ASSETS_SHOWN])
        more = (
            f", +{len(self.assets) - ASSETS_SHOWN} more" if len(self.assets) > ASSETS_SHOWN else ""
        )
        # A partitioned asset has one materialization per partition.
        parts = (
            f" ({self.materializations} partition materializations)"
            if self.materializations > len(self.assets)
            else ""
        )
        return f"{len(self.assets)} materialized{parts}: {shown}{more}"

    def rows_text(self) -> str:
        rows = "not reported" if self.rows is None else f"{self.rows:,}"
        return f"{rows}; {self.rows_quarantined:,} quarantined"

    def checks_text(self) -> str:
        return f"{self.checks_passed} passed, {len(self.failed_checks)} failed"


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {secs:02d} s"


def first_line(text: str | None) -> str:
    line = next((ln.strip() for ln in (text or "").splitlines() if ln.strip()), "")
    return line if len(line) <= LINE_CHARS else line[: LINE_CHARS - 3] + "..."


def error_line(error) -> str:
    """The first line of the error the step's code raised (a SerializableErrorInfo), not of
    Dagster's wrapper around it."""
    while error is not None and error.cls_name in _WRAPPERS and error.cause is not None:
        error = error.cause
    return first_line(error.message) if error is not None else ""


def _number(value) -> int | None:
    raw = getattr(value, "value", value)
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        return None
    return int(raw)


def _partitions(run: dg.DagsterRun) -> str | None:
    tags = run.tags
    if tags.get("dagster/partition"):
        return tags["dagster/partition"]
    start, end = (
        tags.get("dagster/asset_partition_range_start"),
        tags.get("dagster/asset_partition_range_end"),
    )
    if start and end:
        return start if start == end else f"{start}...{end}"
    return None


def build_summary(
    instance: dg.DagsterInstance, run: dg.DagsterRun, *, ui_base_url: str = DEFAULT_UI_BASE_URL
) -> RunSummary:
    """What a finished run did, from its event log: outcome, assets, rows, checks, errors."""
    records = instance.get_records_for_run(
        run.run_id,
        of_type={
            DagsterEventType.ASSET_MATERIALIZATION,
            DagsterEventType.ASSET_CHECK_EVALUATION,
            DagsterEventType.STEP_FAILURE,
            DagsterEventType.RUN_FAILURE,
        },
    ).records
    assets: dict[str, None] = {}
    materializations = 0
    rows: int | None = None
    quarantined = 0
    passed = 0
    failed_checks: list[FailedCheck] = []
    failed_steps: list[FailedStep] = []
    run_error: str | None = None
    for record in records:
        event = record.event_log_entry.dagster_event
        if event is None:
            continue
        kind = event.event_type
        if kind == DagsterEventType.ASSET_MATERIALIZATION:
            materialization = event.event_specific_data.materialization
            assets.setdefault(materialization.asset_key.to_user_string())
            materializations += 1
            metadata = materialization.metadata
            count = _number(metadata.get(ROW_COUNT))
            if count is not None:
                rows = (rows or 0) + count
            # One figure per materialization: the first quarantine key it carries.
            for key in QUARANTINE_KEYS:
                n = _number(metadata.get(key))
                if n is not None:
                    quarantined += n
                    break
        elif kind == DagsterEventType.ASSET_CHECK_EVALUATION:
            evaluation = event.event_specific_data
            if evaluation.passed:
                passed += 1
            else:
                failed_checks.append(
                    FailedCheck(
                        asset=evaluation.asset_key.to_user_string(),
                        check=evaluation.check_name,
                        severity=evaluation.severity.value,
                        description=first_line(evaluation.description) or None,
                    )
                )
        elif kind == DagsterEventType.STEP_FAILURE:
            error = event.event_specific_data.error if event.event_specific_data else None
            failed_steps.append(
                FailedStep(event.step_key or "?", error_line(error) or first_line(event.message))
            )
        elif kind == DagsterEventType.RUN_FAILURE:
            data = event.event_specific_data
            run_error = (error_line(data.error) if data and data.error else "") or first_line(
                event.message
            )

    if run.status == dg.DagsterRunStatus.FAILURE:
        outcome: Outcome = "failure"
    elif failed_checks or quarantined > 0:
        outcome = "partial"
    else:
        outcome = "success"

    record = instance.get_run_record_by_id(run.run_id)
    duration = None
    if record is not None and record.start_time and record.end_time:
        duration = max(0.0, record.end_time - record.start_time)
    return RunSummary(
        outcome=outcome,
        job_name=run.job_name,
        run_id=run.run_id,
        run_url=f"{ui_base_url.rstrip('/')}/runs/{run.run_id}",
        assets=tuple(assets),
        materializations=materializations,
        rows=rows,
        rows_quarantined=quarantined,
        duration_s=duration,
        partitions=_partitions(run),
        checks_passed=passed,
        failed_checks=tuple(failed_checks),
        failed_steps=tuple(failed_steps),
        run_error=run_error,
    )


# ---- the messages -----------------------------------------------------------------------------


def _slack_escape(text: str) -> str:
    # Slack's mrkdwn reserves these three; everything else is sent as is.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(summary: RunSummary) -> dict:
    """A Slack incoming-webhook message: one attachment coloured by outcome (good, warning,
    danger), the run's figures as fields, a link to the run in the UI."""
    title = summary.title()
    fields = [
        {"title": label, "value": _slack_escape(text), "short": label in ("Job", "Duration")}
        for label, text in summary.lines()
        if label != "Run"
    ]
    fields.append(
        {"title": "Run", "value": f"<{summary.run_url}|{summary.run_id}>", "short": False}
    )
    return {
        "text": f"{_slack_escape(title)} (<{summary.run_url}|run {summary.short_id}>)",
        "attachments": [
            {
                "color": SLACK_COLOUR[summary.outcome],
                "fallback": f"{title}: {summary.run_url}",
                "title": _slack_escape(title),
                "title_link": summary.run_url,
                "fields": fields,
                "footer": "Headwater",
            }
        ],
    }


def email_message(summary: RunSummary) -> EmailMessage:
    """A plain-text email: subject with the outcome, job and short run id; the body lists
    the run's figures and ends with the link. From and To are the notifier's."""
    message = EmailMessage()
    message["Subject"] = (
        f"[Headwater] {TITLE[summary.outcome]}: {summary.job_name} (run {summary.short_id})"
    )
    width = max(len(label) for label, _ in summary.lines()) + 1
    body = [summary.title(), ""]
    body += [f"{label + ':':<{width}} {text}" for label, text in summary.lines()]
    body += ["", f"Open the run: {summary.run_url}", ""]
    message.set_content("\n".join(body))
    return message


# ---- the sensors ------------------------------------------------------------------------------


def notify(
    context,
    settings: OperationsConfig,
    slack: SlackWebhookNotifier,
    email: EmailNotifier,
    outcomes: Sequence[Outcome],
) -> dg.SkipReason | None:
    """Send the run's summary to each channel that wants its outcome. Never raises.

    Returns None when every wanted channel got it (the sensor goes on with the next run of
    the tick), or a SkipReason after a failed delivery: that ends the tick after this run
    (the cursor has moved past it), so a dead notifier costs at most one run's retries per
    tick and the evaluation stays within the daemon's time limit.
    """
    run = context.dagster_run
    channels = settings.notifications
    wanted = [
        (name, notifier, channel)
        for name, notifier, channel in (
            ("slack", slack, channels.slack),
            ("email", email, channels.email),
        )
        if any(channel.wants(outcome) for outcome in outcomes)
    ]
    if not wanted:
        return None
    scrub = slack.scrubber() + email.scrubber()
    try:
        summary = build_summary(context.instance, run, ui_base_url=settings.ui_base_url)
    except Exception as exc:  # never raise: the tick would fail and the run get the error
        context.log.warning(
            scrub(f"notifications: run {run.run_id} not summarized: {type(exc).__name__}: {exc}")
        )
        return None
    summary = summary.scrubbed(scrub)
    failures = []
    for name, notifier, channel in wanted:
        if not channel.wants(summary.outcome):
            continue
        missing = notifier.missing()
        if missing:
            context.log.warning(
                scrub(
                    f"{name}: enabled in operations.notifications.{name} but {missing}; "
                    f"not sent ({summary.outcome} of run {run.run_id})"
                )
            )
            continue
        try:
            if name == "slack":
                attempts = notifier.send(slack_payload(summary))
            else:
                attempts = notifier.send(email_message(summary))
        except Exception as exc:  # NotifierError, or a bug: the other channel still sends
            detail = str(exc) if isinstance(exc, NotifierError) else f"{type(exc).__name__}: {exc}"
            failures.append(name)
            context.log.warning(
                scrub(
                    f"{name}: {summary.outcome} of run {run.run_id} ({summary.job_name}) not "
                    f"delivered: {detail}"
                )
            )
            continue
        tail = f" after {attempts} attempts" if attempts > 1 else ""
        context.log.info(
            scrub(
                f"{name}: sent {summary.outcome} of run {run.run_id} ({summary.job_name}) "
                f"to {notifier.target()}{tail}"
            )
        )
    if failures:
        return dg.SkipReason(
            f"{', '.join(failures)} not delivered for run {run.run_id} (see the log); "
            "the next runs are notified at the next tick"
        )
    return None


def build_notification_sensors(settings: OperationsConfig) -> list[dg.SensorDefinition]:
    """The success sensor (success and partial outcomes) and the failure sensor, watching
    every job of this code location, running by default."""

    def described(outcomes: Sequence[Outcome]) -> str:
        on = [
            f"{name} ({', '.join(o for o in outcomes if channel.wants(o))})"
            for name, channel in (
                ("Slack", settings.notifications.slack),
                ("email", settings.notifications.email),
            )
            if any(channel.wants(o) for o in outcomes)
        ]
        return "; now on: " + ", ".join(on) if on else "; now off (operations.notifications)"

    @dg.run_status_sensor(
        name=SUCCESS_SENSOR,
        run_status=dg.DagsterRunStatus.SUCCESS,
        default_status=dg.DefaultSensorStatus.RUNNING,
        monitor_all_code_locations=False,
        description="Sends a Slack message and an email when a run of this code location "
        "succeeds, or succeeds partially (a check failed without blocking, or records were "
        "quarantined), as operations.notifications says" + described(("success", "partial")),
    )
    def notify_success(
        context: dg.RunStatusSensorContext,
        slack_notifier: SlackWebhookNotifier,
        email_notifier: EmailNotifier,
    ):
        return notify(context, settings, slack_notifier, email_notifier, ("success", "partial"))

    @dg.run_failure_sensor(
        name=FAILURE_SENSOR,
        default_status=dg.DefaultSensorStatus.RUNNING,
        monitor_all_code_locations=False,
        description="Sends a Slack message and an email when a run of this code location "
        "fails: the failed step and its error, and a link to the run, as "
        "operations.notifications says" + described(("failure",)),
    )
    def notify_failure(
        context: dg.RunFailureSensorContext,
        slack_notifier: SlackWebhookNotifier,
        email_notifier: EmailNotifier,
    ):
        return notify(context, settings, slack_notifier, email_notifier, ("failure",))

    return [notify_success, notify_failure]

"""Freshness: Dagster freshness policies on what users read, built from the settings, and
the rows `headwater status` prints from them.

The policies are Dagster's own (`dg.FreshnessPolicy`, on the asset specs): the daemon
evaluates them every 30 s and records each change of state in the instance, the UI shows
that state, and `headwater status` reads the same records. Before the daemon has evaluated
a policy (no record yet), status applies `evaluate`, the rule of Dagster's evaluators, to
the same policy object and the same last materialization, and says so.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import dagster as dg

# How long after a schedule's time what it loads is due: the runs take minutes.
GRACE = timedelta(hours=1)
# A weekday deadline judges the run since the previous day's deadline (Dagster allows at
# most the smallest interval between deadlines, a day).
DAY = timedelta(days=1)

# Dagster's freshness states as status prints them.
STATUS = {
    "PASS": "FRESH",
    "WARN": "WARN",
    "FAIL": "STALE",
    "UNKNOWN": "NO DATA",
    "NOT_APPLICABLE": "n/a",
}


def weekday_deadline(
    schedule_time: str, timezone: str, grace: timedelta = GRACE
) -> dg.FreshnessPolicy:
    """Due every weekday by `schedule_time` + `grace` in `timezone`: fresh when materialized
    after the previous day's deadline; Friday's run holds over the weekend."""
    hour, minute = (int(part) for part in schedule_time.split(":"))
    due = datetime.combine(datetime(2001, 1, 1), time(hour, minute)) + grace
    # Past midnight, the deadline of a weekday's run falls on the next day.
    days = "1-5" if due.day == 1 else "2-6"
    return dg.FreshnessPolicy.cron(
        deadline_cron=f"{due.minute} {due.hour} * * {days}",
        lower_bound_delta=DAY,
        timezone=timezone,
    )


def max_age(days: int, grace: timedelta = GRACE) -> dg.FreshnessPolicy:
    """WARN once the newest materialization is more than `days` days (and `grace`) old: the
    day's is late; FAIL a day later: a whole day is missing."""
    return dg.FreshnessPolicy.time_window(
        fail_window=timedelta(days=days + 1), warn_window=timedelta(days=days) + grace
    )


def with_policies(
    assets: Iterable[dg.AssetsDefinition], policies: Mapping[dg.AssetKey, dg.FreshnessPolicy]
) -> list[dg.AssetsDefinition]:
    """`assets` with each policy on its asset's spec (multi-assets included); a policy for
    a key none of them has is an error, not a policy silently dropped."""
    out, placed = [], set()
    for asset in assets:
        if policies.keys() & asset.keys:
            asset = asset.map_asset_specs(
                lambda spec: (
                    spec.replace_attributes(freshness_policy=policies[spec.key])
                    if spec.key in policies
                    else spec
                )
            )
            placed |= policies.keys() & asset.keys
        out.append(asset)
    missing = sorted(k.to_user_string() for k in policies.keys() - placed)
    if missing:
        raise ValueError(f"freshness policies for assets not defined here: {', '.join(missing)}")
    return out


def _span(delta: timedelta) -> str:
    """`2 days`, `1 day 1 h`, `30 min`."""
    days, seconds = divmod(int(delta.total_seconds()), 86400)
    hours, minutes = seconds // 3600, seconds % 3600 // 60
    parts = [f"{days} day{'s' if days != 1 else ''}"] if days else []
    parts += [f"{hours} h"] if hours else []
    parts += [f"{minutes} min"] if minutes else []
    return " ".join(parts) or "0 min"


def describe(policy: dg.FreshnessPolicy) -> str:
    """A policy in a few words: `weekdays by 07:00 America/New_York`, `warn 1 day 1 h, fail
    2 days`."""
    if hasattr(policy, "fail_window"):  # the time-window form (not exported by dagster)
        fail = _span(policy.fail_window.to_timedelta())
        if policy.warn_window is None:
            return f"fail after {fail}"
        return f"warn after {_span(policy.warn_window.to_timedelta())}, fail after {fail}"
    minute, hour, *rest = policy.deadline_cron.split()
    days = {"* * 1-5": "weekdays", "* * 2-6": "Tuesday-Saturday", "* * *": "daily"}
    when = days.get(" ".join(rest))
    if when and minute.isdigit() and hour.isdigit():
        return f"{when} by {int(hour):02d}:{int(minute):02d} {policy.timezone}"
    return f"cron '{policy.deadline_cron}' {policy.timezone}, within {policy.lower_bound_delta}"


def latest_deadline(cron: str, timezone: str, now: datetime) -> datetime:
    """The last tick of `cron` (in `timezone`) at or before `now`: the end of the last
    complete window of a partitions definition on that cron."""
    ticks = dg.TimeWindowPartitionsDefinition(
        cron_schedule=cron,
        timezone=timezone,
        start=(now - timedelta(days=400)).strftime("%Y-%m-%d %H:%M"),
        fmt="%Y-%m-%d %H:%M",
    )
    keys = ticks.get_partition_keys(current_time=now)
    if not keys:
        raise ValueError(f"no tick of '{cron}' in the 400 days before {now}")
    return ticks.time_window_for_partition_key(keys[-1]).end


def evaluate(policy: dg.FreshnessPolicy, last_materialized: float | None, now: datetime) -> str:
    """PASS, WARN, FAIL or UNKNOWN (never materialized): the rule of Dagster's freshness
    evaluators (dagster/_core/definitions/freshness_evaluator.py), which the daemon runs."""
    if last_materialized is None:
        return "UNKNOWN"
    if hasattr(policy, "fail_window"):
        age = now.timestamp() - last_materialized
        if age >= policy.fail_window.to_timedelta().total_seconds():
            return "FAIL"
        warn = policy.warn_window
        if warn is not None and age >= warn.to_timedelta().total_seconds():
            return "WARN"
        return "PASS"
    tick = latest_deadline(policy.deadline_cron, policy.timezone, now)
    window_start = tick.timestamp() - policy.lower_bound_delta.total_seconds()
    return "PASS" if last_materialized >= window_start else "FAIL"


def iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat()


def as_text(value: Any) -> str | None:
    """A date (or the date of a datetime) from a status query, as YYYY-MM-DD."""
    if isinstance(value, datetime):
        value = value.date()
    return value.isoformat() if isinstance(value, date) else None


@dataclass
class Freshness:
    """One row of `headwater status`'s freshness: an asset with a policy, or a domain that
    has none (workforce)."""

    domain: str
    asset: str  # its key, "canonical/commodity_prices"; "" for a domain without a policy
    status: str  # FRESH, WARN, STALE, NO DATA (never materialized), n/a
    state: str | None  # Dagster's: PASS, WARN, FAIL, UNKNOWN
    policy: str  # described (describe), or why there is none
    evaluated_by: str  # "daemon" (the state the UI shows) or "headwater status" (no state yet)
    since: str | None  # when the daemon recorded this state (ISO)
    last_materialized: str | None  # ISO
    newest: str | None = None  # the newest data in its table: information, not the rule
    primary: bool = True  # counts for the domain's status
    note: str = ""

    def to_json(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class StatusInputs:
    """What a domain's freshness function gets."""

    facts: Mapping[str, dict | None]  # its status queries' results (None: no such table)
    last_materialized: Callable[[str], float | None]  # asset key ("a/b") -> timestamp
    now: datetime
    warehouse_state: str  # ok, missing, busy, error
    # asset key -> its row, for every asset with a policy (domain: the asset's group)
    policies: Mapping[str, Freshness]

    @property
    def warehouse_readable(self) -> bool:
        return self.warehouse_state not in ("busy", "error")


def policy_rows(
    domain: str, inputs: StatusInputs, newest: Mapping[str, str | None]
) -> list[Freshness]:
    """The domain's assets with a policy, each with the newest data of its table (`newest`,
    from the status queries) beside it."""
    rows = sorted(
        (row for row in inputs.policies.values() if row.domain == domain), key=lambda r: r.asset
    )
    for row in rows:
        if not inputs.warehouse_readable:
            row.note = "; ".join(filter(None, [row.note, f"warehouse {inputs.warehouse_state}"]))
        else:
            row.newest = newest.get(row.asset)
    return rows


def domain_status(domains: list[str], rows: list[Freshness]) -> dict[str, str]:
    """A domain is FRESH when every primary row is; NO DATA when none was ever materialized;
    n/a when it is not time-based; STALE when one is stale or was never materialized; WARN
    when one warns."""
    out = {}
    for domain in domains:
        states = [r.status for r in rows if r.domain == domain and r.primary]
        if not states or "n/a" in states:
            out[domain] = "n/a"
        elif all(s == "NO DATA" for s in states):
            out[domain] = "NO DATA"
        elif all(s == "FRESH" for s in states):
            out[domain] = "FRESH"
        elif "STALE" in states or "NO DATA" in states:
            out[domain] = "STALE"
        else:
            out[domain] = "WARN"
    return out

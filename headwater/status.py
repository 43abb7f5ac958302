"""`headwater status`: the warehouse, freshness per domain and source, every asset's last
materialization and checks, per-asset health, and the schedules and sensors.

    headwater status
    headwater status --json

Read-only, and safe while runs are in progress:

- The instance (runs, materializations, checks, schedules and sensors) is read through
  Dagster's instance API; SQLite serves readers while a run writes.
- The warehouse is read through a read-only DuckDB connection held for a few
  milliseconds. DuckDB refuses a second process while one has the file open for writing,
  and a writer that starts while a reader has it open fails at once ("Could not set
  lock") instead of waiting. So the read takes the warehouse writer lock, shared and
  without waiting (resources.warehouse.warehouse_lock, timeout 0): when a run holds it,
  nothing is opened and the warehouse is reported busy with the run that holds it; when
  status holds it, a writer starting then waits in the lock's queue for the moment the
  read lasts (measured, `read_s` in the JSON), never fails; another status or doctor
  reads alongside. Nothing is created in the warehouse.

Freshness thresholds (docs/operations.md, "Status and history"):

- energy: the newest price per commodity in canonical.commodity_prices (and per source in
  staging) at most `energy.freshness_business_days` business days behind the last
  business day before today: the rule of the check prices_are_fresh (W-04).
- market: the newest daily bar per configured symbol in canonical.market_ohlcv_1d at most
  MARKET_FRESHNESS_BUSINESS_DAYS business days behind the last business day before today.
- prospects: the newest snapshot in snapshots.prospects_history at most
  PROSPECTS_MAX_AGE_DAYS days old (today in `prospects.schedule_timezone`; the daily
  snapshot comes after the 07:00 refresh, so yesterday's is still fresh in the morning);
  each source's last load (its staging asset's last materialization) by the same rule.
- workforce: a simulation, not time-based: n/a, with the years stored and its last run.

A domain is FRESH when everything its users read is fresh (canonical prices for energy;
every symbol for market; the snapshot for prospects), NO DATA when none of it exists,
STALE otherwise, UNKNOWN when the warehouse could not be read.
"""

import argparse
import contextlib
import json
import os
import sys
import time
import warnings
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import dagster as dg

from headwater import history, settings
from headwater.dead_runs import find_dead_runs

MARKET_FRESHNESS_BUSINESS_DAYS = 2  # a weekday's bars load at 18:00 Chicago; a holiday's slack
PROSPECTS_MAX_AGE_DAYS = 1  # today's snapshot, or yesterday's before the morning refresh
HEALTH_WINDOW_DAYS = 30  # per-asset health looks at the runs of the last 30 days ...
HEALTH_MAX_RUNS = 100  # ... at most this many (one event query each)
DAEMON_ALIVE_S = 120  # the daemon beats every 30 s; older than this and it is not running

DOMAINS = ("energy", "workforce", "prospects", "market")

# What the freshness rules read: (table, static SQL). Run only when the table exists.
FACT_QUERIES = {
    "energy_canonical": (
        "canonical.commodity_prices",
        "SELECT commodity, max(price_date) FROM canonical.commodity_prices GROUP BY 1",
    ),
    "energy_eia": ("staging.eia_prices", "SELECT 'eia', max(price_date) FROM staging.eia_prices"),
    "energy_fred": (
        "staging.fred_prices",
        "SELECT 'fred', max(price_date) FROM staging.fred_prices",
    ),
    "energy_yahoo": (
        "staging.yahoo_prices",
        "SELECT 'yahoo', max(price_date) FROM staging.yahoo_prices",
    ),
    "market_daily": (
        "canonical.market_ohlcv_1d",
        "SELECT root, CAST(max(bar_date) AS DATE) FROM canonical.market_ohlcv_1d GROUP BY 1",
    ),
    "prospects_snapshot": (
        "snapshots.prospects_history",
        "SELECT 'snapshot', max(snapshot_date) FROM snapshots.prospects_history",
    ),
    "workforce_years": (
        "workforce.fct_workforce_snapshot",
        "SELECT simulation_year, count(*) FROM workforce.fct_workforce_snapshot GROUP BY 1",
    ),
}


def add_parser(sub) -> None:
    p = sub.add_parser(
        "status",
        epilog="examples:\n  headwater status\n  headwater status --json",
        help="warehouse, freshness, assets and their checks, schedules and sensors (read-only)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--json", action="store_true", help="one JSON object instead of the tables")
    p.set_defaults(func=run)


# ---- the warehouse -------------------------------------------------------------------------


@dataclass
class WarehouseView:
    path: str
    state: str  # ok, missing, busy, error
    detail: str | None = None  # who holds it, or what went wrong
    size_bytes: int | None = None
    tables: list[dict] = field(default_factory=list)  # schema, table, kind, rows
    facts: dict[str, dict | None] = field(default_factory=dict)  # FACT_QUERIES results
    read_s: float | None = None  # how long the writer lock was held

    def layers(self) -> list[dict]:
        out: dict[str, dict] = {}
        for t in self.tables:
            layer = out.setdefault(
                t["schema"], {"layer": t["schema"], "tables": 0, "views": 0, "rows": 0}
            )
            if t["kind"] == "table":
                layer["tables"] += 1
                layer["rows"] += t["rows"] or 0
            else:
                layer["views"] += 1
        return list(out.values())


def _quoted(*parts: str) -> str:
    # Names come from DuckDB's own catalog, not from a user; quoted all the same.
    return ".".join('"' + p.replace('"', '""') + '"' for p in parts)


def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else None


def read_warehouse(path: Path) -> WarehouseView:
    """Tables, row counts and the freshness facts, read under the writer lock taken without
    waiting (module docstring); busy when a run holds the lock or another program the file."""
    import re

    import duckdb

    from resources.warehouse import describe_holder, lock_holder, warehouse_lock

    view = WarehouseView(path=str(path), state="missing")
    if not path.exists():
        view.detail = "not created yet (the first run creates it)"
        return view
    if path.is_dir():
        return WarehouseView(str(path), "error", "is a directory, not a DuckDB file")
    wal = path.with_name(path.name + ".wal")
    view.size_bytes = path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)
    # A writer kept waiting by this read says who it waits for.
    describe_holder(f"headwater status (read-only, pid {os.getpid()})")
    try:
        with warehouse_lock(path, timeout_s=0, shared=True):
            started = time.monotonic()
            try:
                con = duckdb.connect(str(path), read_only=True)
            except duckdb.Error as exc:
                first = (str(exc).strip().splitlines() or [""])[0]
                if "lock" in first.lower():  # a program outside headwater has it open
                    pid = re.search(r"\(PID \d+\)", first)
                    view.state = "busy"
                    view.detail = f"another process {pid.group(0) if pid else ''}".strip()
                    return view
                view.state, view.detail = "error", first
                return view
            try:
                _read(lambda sql: con.execute(sql).fetchall(), view)
            except duckdb.Error as exc:  # a damaged file: say so, report the rest
                view.state = "error"
                view.detail = (str(exc).strip().splitlines() or [""])[0]
                return view
            finally:
                con.close()
            view.read_s = round(time.monotonic() - started, 4)
    except TimeoutError:
        view.state = "busy"
        view.detail = lock_holder(str(path.with_suffix(".lock")))
        return view
    view.state = "ok"
    return view


def read_postgres_warehouse() -> WarehouseView:
    """The distributed profile's warehouse: tables, row counts and the freshness facts,
    read in autocommit (PostgreSQL readers never wait for writers). Nothing is created."""
    from resources.warehouse_postgres import PostgresWarehouse

    warehouse = PostgresWarehouse()
    view = WarehouseView(path=f"postgres {warehouse.where}", state="missing")
    started = time.monotonic()
    try:
        con = warehouse._connect_raw()
    except Exception as exc:  # psycopg2.OperationalError: absent database or server down
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        if "does not exist" in first:
            view.detail = "not created yet (the first run creates it)"
        else:
            view.state, view.detail = "error", first
        return view
    try:
        con.autocommit = True

        def fetch(sql: str) -> list[tuple]:
            with con.cursor() as cur:
                cur.execute(sql)
                return cur.fetchall()

        [(view.size_bytes,)] = fetch("SELECT pg_database_size(current_database())")
        _read(fetch, view)
    finally:
        con.close()
    view.read_s = round(time.monotonic() - started, 4)
    view.state = "ok"
    return view


def _read(fetch, view: WarehouseView) -> None:
    """Fill `view` through `fetch(sql) -> rows` (DuckDB and PostgreSQL alike)."""
    found = fetch(
        "SELECT table_schema, table_name, table_type FROM information_schema.tables "
        "WHERE table_catalog = current_database() "
        "AND table_schema NOT IN ('information_schema', 'pg_catalog') ORDER BY 1, 2"
    )
    for schema, name, kind in found:
        rows = None
        if kind == "BASE TABLE":  # a view is not counted: that would run its query
            [(rows,)] = fetch(f"SELECT count(*) FROM {_quoted(schema, name)}")
        view.tables.append(
            {
                "schema": schema,
                "table": name,
                "kind": "table" if kind == "BASE TABLE" else "view",
                "rows": rows,
            }
        )
    present = {f"{t['schema']}.{t['table']}" for t in view.tables}
    for fact, (table, sql) in FACT_QUERIES.items():
        if table not in present:
            view.facts[fact] = None
            continue
        try:
            view.facts[fact] = {k: v for k, v in fetch(sql)}
        except Exception:  # a table of another shape than this version expects
            view.facts[fact] = None


# ---- freshness -----------------------------------------------------------------------------


@dataclass
class Freshness:
    domain: str
    source: str
    newest: date | None
    expected: date | None  # the day newest is measured against
    behind: int | None  # in `unit`s
    max_behind: int | None  # the threshold: fresh while behind <= max_behind
    unit: str  # business days (energy, market) or days (prospects)
    threshold: str  # the threshold as text, with the setting it comes from
    status: str  # FRESH, STALE, NO DATA, UNKNOWN, n/a
    primary: bool = True  # counts for the domain's status
    note: str = ""

    def to_json(self) -> dict:
        out = asdict(self)
        for name in ("newest", "expected"):
            out[name] = out[name].isoformat() if out[name] else None
        return out


def business_days_rule(
    domain: str,
    source: str,
    newest: date | None,
    today: date,
    max_days: int,
    primary: bool,
    setting: str,
) -> Freshness:
    """Fresh when `newest` is at most `max_days` business days behind the last business day
    before `today` (the rule of energy's prices_are_fresh)."""
    from assets.energy.rules import business_days_between, last_business_day_before

    expected = last_business_day_before(today)
    threshold = f"<= {max_days} business days ({setting})"
    behind = None if newest is None else business_days_between(newest, expected)
    state = "NO DATA" if behind is None else "FRESH" if behind <= max_days else "STALE"
    return Freshness(
        domain,
        source,
        newest,
        expected,
        behind,
        max_days,
        "business days",
        threshold,
        state,
        primary,
    )


def days_rule(
    domain: str,
    source: str,
    newest: date | None,
    today: date,
    max_days: int,
    primary: bool,
    zone: str,
) -> Freshness:
    """Fresh when `newest` is at most `max_days` days before `today` (in `zone`)."""
    threshold = f"<= {max_days} day{'s' if max_days != 1 else ''} ({zone})"
    behind = None if newest is None else max(0, (today - newest).days)
    state = "NO DATA" if behind is None else "FRESH" if behind <= max_days else "STALE"
    return Freshness(
        domain, source, newest, today, behind, max_days, "days", threshold, state, primary
    )


def freshness(
    view: WarehouseView,
    configs: dict[str, Any],
    last_loads: dict[str, float | None],
    workforce_last_run: float | None,
    now: datetime,
) -> list[Freshness]:
    """Every freshness row (module docstring). `last_loads`: prospects source -> timestamp of
    its staging asset's last materialization (from the instance)."""
    today = now.astimezone().date()
    unreadable = view.state in ("busy", "error")
    facts = view.facts
    rows: list[Freshness] = []

    energy = configs["energy"]
    setting = "energy.freshness_business_days"
    for src in ("eia", "fred", "yahoo"):
        found = (facts.get(f"energy_{src}") or {}).get(src)
        rows.append(
            business_days_rule(
                "energy",
                f"{src} (staging)",
                _as_date(found),
                today,
                energy.freshness_business_days,
                False,
                setting,
            )
        )
    canonical = facts.get("energy_canonical") or {}
    for name in energy.commodities:
        rows.append(
            business_days_rule(
                "energy",
                f"{name} (canonical)",
                _as_date(canonical.get(name)),
                today,
                energy.freshness_business_days,
                True,
                setting,
            )
        )

    market = configs["market"]
    bars = facts.get("market_daily") or {}
    for symbol in market.symbols:
        rows.append(
            business_days_rule(
                "market",
                f"{symbol} daily bars",
                _as_date(bars.get(symbol)),  # the parent symbol, as canonical's root holds it
                today,
                MARKET_FRESHNESS_BUSINESS_DAYS,
                True,
                "headwater/status.py",
            )
        )

    prospects = configs["prospects"]
    zone = prospects.schedule_timezone
    local_today = now.astimezone(ZoneInfo(zone)).date()
    snapshot = (facts.get("prospects_snapshot") or {}).get("snapshot")
    rows.append(
        days_rule(
            "prospects",
            "snapshot",
            _as_date(snapshot),
            local_today,
            PROSPECTS_MAX_AGE_DAYS,
            True,
            zone,
        )
    )
    for src, ts in last_loads.items():
        day = None if ts is None else datetime.fromtimestamp(ts, ZoneInfo(zone)).date()
        row = days_rule(
            "prospects", f"{src} (last load)", day, local_today, PROSPECTS_MAX_AGE_DAYS, False, zone
        )
        row.note = "from the instance"
        rows.append(row)

    if unreadable:
        for row in rows:
            if not row.note:  # read from the warehouse, which could not be read
                row.status, row.newest, row.behind = "UNKNOWN", None, None
                row.note = f"warehouse {view.state}"

    years = sorted((facts.get("workforce_years") or {}).keys())
    stored = f"years {years[0]}..{years[-1]} stored" if years else "no year stored"
    if unreadable:
        stored = f"warehouse {view.state}"
    last = (
        f"last run {history.local_time(workforce_last_run)}" if workforce_last_run else "never run"
    )
    rows.append(
        Freshness(
            "workforce",
            "simulation",
            None,
            None,
            None,
            None,
            "",
            "n/a: simulation, not time-based",
            "n/a",
            True,
            f"{stored}; {last}",
        )
    )
    return rows


def domain_status(rows: list[Freshness]) -> dict[str, str]:
    out = {}
    for domain in DOMAINS:
        states = [r.status for r in rows if r.domain == domain and r.primary]
        if not states or "n/a" in states:
            out[domain] = "n/a"
        elif "UNKNOWN" in states:
            out[domain] = "UNKNOWN"
        elif all(s == "NO DATA" for s in states):
            out[domain] = "NO DATA"
        elif all(s == "FRESH" for s in states):
            out[domain] = "FRESH"
        else:
            out[domain] = "STALE"
    return out


# ---- assets, checks, health ------------------------------------------------------------------


def _check_status(record, run_status: dict[str, str]) -> dict:
    """One check's latest execution: PASSED, WARN, FAILED (ERROR severity), IN_PROGRESS,
    SKIPPED (its run ended without evaluating it), EXECUTION_FAILED (its run failed first)."""
    if record is None:
        return {"status": "NOT_RUN", "severity": None, "run_id": None, "timestamp": None}
    event = record.event.dagster_event if record.event else None
    when = record.event.timestamp if record.event else record.create_timestamp
    out = {"severity": None, "run_id": record.run_id, "timestamp": history.iso(when)}
    if event is not None and event.event_type_value == "ASSET_CHECK_EVALUATION":
        data = event.event_specific_data
        severity = getattr(data.severity, "value", str(data.severity))
        status = "PASSED" if data.passed else ("WARN" if severity == "WARN" else "FAILED")
        return {"status": status, **out, "severity": severity}
    # Planned, not evaluated: still running, or its run ended first.
    run = run_status.get(record.run_id)
    if run in {s.value for s in history.IN_PROGRESS}:
        return {"status": "IN_PROGRESS", **out}
    return {"status": "EXECUTION_FAILED" if run == "FAILURE" else "SKIPPED", **out}


def _defined_assets(defs) -> tuple[dict[dg.AssetKey, str], dict[dg.AssetKey, list[str]]]:
    """asset key -> group, and asset key -> its checks' names, from the Definitions."""
    groups = {spec.key: spec.group_name or "default" for spec in defs.resolve_all_asset_specs()}
    checks: dict[dg.AssetKey, list[str]] = {}
    for check_key in defs.resolve_asset_graph().asset_check_keys:
        checks.setdefault(check_key.asset_key, []).append(check_key.name)
    return groups, {k: sorted(v) for k, v in checks.items()}


def assets_report(
    instance: dg.DagsterInstance,
    groups: dict[dg.AssetKey, str],
    checks: dict[dg.AssetKey, list[str]],
    window: list[history.RunFacts],
) -> list[dict]:
    """Every asset: its last materialization (with the rows its run wrote), its checks'
    latest outcomes, and its health over the window's runs."""
    keys = list(groups)
    for key in instance.get_asset_keys():  # materialized once, no longer defined
        if key not in groups:
            groups[key] = "(not defined)"
            keys.append(key)
    latest = instance.get_latest_materialization_events(keys)
    check_keys = [dg.AssetCheckKey(key, name) for key in keys for name in checks.get(key, [])]
    # One query for every check (the instance's per-key method is one query each).
    latest_checks = instance.event_log_storage.get_latest_asset_check_execution_by_key(check_keys)
    records = {(c.asset_key, c.name): latest_checks.get(c) for c in check_keys}
    by_run = {f.run_id: f for f in window}
    wanted = {e.run_id for e in latest.values() if e} | {r.run_id for r in records.values() if r}
    missing = [run_id for run_id in wanted if run_id not in by_run]
    run_status = {f.run_id: f.status for f in window}
    if missing:
        for record in instance.get_run_records(filters=dg.RunsFilter(run_ids=missing)):
            facts = history.run_facts(instance, record)
            by_run[facts.run_id] = facts
            run_status[facts.run_id] = facts.status

    order = {d: i for i, d in enumerate(DOMAINS)}
    out = []
    for key in sorted(
        keys, key=lambda k: (order.get(groups[k], 99), groups[k], k.to_user_string())
    ):
        entry = latest.get(key)
        last = None
        if entry is not None:
            m = entry.dagster_event.event_specific_data.materialization
            in_run = by_run.get(entry.run_id)
            asset_in_run = in_run.assets.get(key) if in_run else None
            partitions = sorted(asset_in_run.partitions) if asset_in_run else []
            last = {
                "timestamp": history.iso(entry.timestamp),
                "run_id": entry.run_id,
                "partition": m.partition,
                "partitions_in_run": len(partitions) or None,
                "first_partition": partitions[0] if partitions else m.partition,
                "last_partition": partitions[-1] if partitions else m.partition,
                "rows": asset_in_run.rows if asset_in_run else history.row_count(m),
            }
        touched = [f for f in window if f.finished and f.touches(key)]
        done = [f for f in touched if f.assets[key].materializations]
        durations = [s for f in done if (s := f.asset_seconds(key)) is not None]
        health = {
            "runs": len(touched),
            "materialized": len(done),
            "success_rate": round(len(done) / len(touched), 3) if touched else None,
            "mean_duration_s": round(sum(durations) / len(durations), 3) if durations else None,
            "rows": sum(f.assets[key].rows or 0 for f in done) if done else None,
        }
        out.append(
            {
                "key": key.to_user_string(),
                "group": groups[key],
                "last_materialization": last,
                "checks": [
                    {"name": name} | _check_status(records[(key, name)], run_status)
                    for name in checks.get(key, [])
                ],
                "health": health,
            }
        )
    return out


# ---- schedules and sensors -------------------------------------------------------------------


def automation_report(instance: dg.DagsterInstance, defs, now: float) -> dict:
    beats = instance.get_daemon_heartbeats() or {}
    newest = max((b.timestamp for b in beats.values()), default=None)
    daemon = {
        "running": newest is not None and now - newest <= DAEMON_ALIVE_S,
        "last_heartbeat": history.iso(newest),
    }
    states: dict[tuple[str, str], Any] = {}
    for state in instance.all_instigator_state():
        kind = state.instigator_type.value.lower()  # schedule / sensor
        location = getattr(
            getattr(getattr(state.origin, "repository_origin", None), "code_location_origin", None),
            "location_name",
            None,
        )
        # Prefer the state of the headwater location when several locations share a name.
        if (kind, state.instigator_name) not in states or location == "headwater":
            states[(kind, state.instigator_name)] = state

    def entry(kind: str, name: str, default: str, detail: str) -> dict:
        state = states.get((kind, name))
        stored = state.status.value if state is not None else None
        if stored in ("RUNNING", "STOPPED"):
            status, set_by = stored, "instance (UI or CLI)"
        else:
            status, set_by = default, "default in code"
        last_tick = None
        if state is not None:
            try:
                ticks = instance.get_ticks(state.instigator_origin_id, state.selector_id, limit=1)
            except Exception:  # an older storage without tick selectors: no tick shown
                ticks = []
            if ticks:
                last_tick = {
                    "timestamp": history.iso(ticks[0].timestamp),
                    "status": ticks[0].status.value,
                }
        return {
            "kind": kind,
            "name": name,
            "status": status,
            "set_by": set_by,
            "detail": detail,
            "last_tick": last_tick,
        }

    items = []
    if defs is not None:
        for schedule in defs.schedules or []:
            resolved = defs.resolve_schedule_def(schedule.name)
            detail = f"{resolved.cron_schedule} {resolved.execution_timezone or 'UTC'}"
            items.append(entry("schedule", resolved.name, resolved.default_status.value, detail))
        for sensor in defs.sensors or []:
            resolved = defs.resolve_sensor_def(sensor.name)
            every = getattr(resolved, "minimum_interval_seconds", None)
            items.append(
                entry(
                    "sensor",
                    resolved.name,
                    resolved.default_status.value,
                    f"every {every} s" if every else "",
                )
            )
    known = {(i["kind"], i["name"]) for i in items}
    for kind, name in sorted(states):
        if (kind, name) not in known:  # in the instance only (another location, or removed)
            items.append(entry(kind, name, "STOPPED", "not in the definitions"))
    return {"daemon": daemon, "items": items}


# ---- the whole report ------------------------------------------------------------------------


def _load_defs() -> tuple[Any, str | None]:
    """The code location's Definitions, or None and why (status still reports the rest)."""
    try:
        # The definitions announce beta features and the like: nothing to act on here; and
        # whatever they print must not mix into --json.
        with warnings.catch_warnings(), contextlib.redirect_stdout(sys.stderr):
            warnings.simplefilter("ignore")
            from definitions import defs
        return defs, None
    except settings.SettingsError:
        raise
    except Exception as exc:
        first = (str(exc).strip().splitlines() or [""])[0]
        return None, f"the definitions do not load ({type(exc).__name__}: {first})"


def collect() -> dict:
    """The whole report as one JSON-ready document (the shape `--json` prints)."""
    from assets.energy.config import load_energy_config
    from assets.market.config import load_market_config
    from assets.prospects.config import SOURCES as PROSPECT_SOURCES
    from assets.prospects.config import load_prospects_config

    now = datetime.now(UTC)
    configs = {
        "energy": load_energy_config(),
        "market": load_market_config(),
        "prospects": load_prospects_config(),
    }
    defs, defs_problem = _load_defs()
    view = (
        read_postgres_warehouse()
        if settings.distributed()
        else read_warehouse(settings.warehouse_path())
    )

    with dg.DagsterInstance.get() as instance:
        in_progress = [
            history.run_facts(instance, r)
            for r in instance.get_run_records(
                filters=dg.RunsFilter(statuses=list(history.IN_PROGRESS))
            )
        ]
        # Runs whose process has ended (kill -9): status only reads, so they are still
        # STARTED here; the next command that runs (or the daemon's sensor) marks them.
        ended = {run.run_id: reason for run, reason in find_dead_runs(instance)}
        window = [
            history.run_facts(instance, r)
            for r in instance.get_run_records(
                filters=dg.RunsFilter(created_after=now - timedelta(days=HEALTH_WINDOW_DAYS)),
                limit=HEALTH_MAX_RUNS,
            )
        ]
        if defs is not None:
            groups, checks = _defined_assets(defs)
        else:
            groups, checks = {}, {}
        assets = assets_report(instance, groups, checks, window)
        automation = automation_report(instance, defs, now.timestamp())
        runs_total = instance.get_runs_count()

    def last_ts(key: str) -> float | None:
        found = next((a for a in assets if a["key"] == key), None)
        last = found and found["last_materialization"]
        return datetime.fromisoformat(last["timestamp"]).timestamp() if last else None

    loads = {src: last_ts(f"staging/prospects_{src}") for src in PROSPECT_SOURCES}
    rows = freshness(view, configs, loads, last_ts("workforce/fct_workforce_snapshot"), now)
    return {
        "generated_at": history.iso(now.timestamp()),
        "instance": {
            "dagster_home": str(settings.dagster_home()),
            "runs": runs_total,
            "in_progress": [
                f.to_json(now.timestamp()) | {"process_ended": f.run_id in ended}
                for f in in_progress
            ],
            "definitions": defs_problem or "loaded",
        },
        "warehouse": {
            "path": view.path,
            "state": view.state,
            "reachable": view.state == "ok",
            "busy": view.state == "busy",
            "detail": view.detail,
            "size_bytes": view.size_bytes,
            "read_s": view.read_s,
            "layers": view.layers(),
            "tables": view.tables,
        },
        "freshness": {
            "rows": [r.to_json() for r in rows],
            "domains": domain_status(rows),
        },
        "assets": assets,
        "health_window": {
            "days": HEALTH_WINDOW_DAYS,
            "max_runs": HEALTH_MAX_RUNS,
            "runs": len(window),
        },
        "automation": automation,
    }


# ---- text ------------------------------------------------------------------------------------


def _size(n: int | None) -> str:
    if n is None:
        return "-"
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return ""


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _when(iso_text: str | None) -> str:
    return "-" if not iso_text else history.local_time(datetime.fromisoformat(iso_text).timestamp())


def _checks_text(checks: list[dict]) -> str:
    if not checks:
        return "-"
    counts: dict[str, list[str]] = {}
    for c in checks:
        counts.setdefault(c["status"], []).append(c["name"])
    parts = []
    for status, label, named in (
        ("FAILED", "FAILED", True),
        ("EXECUTION_FAILED", "errored", True),
        ("WARN", "WARN", True),
        ("IN_PROGRESS", "running", False),
        ("PASSED", "passed", False),
        ("SKIPPED", "skipped", False),
        ("NOT_RUN", "not run", False),
    ):
        names = counts.get(status)
        if names:
            parts.append(f"{len(names)} {label}" + (f" ({', '.join(names)})" if named else ""))
    return ", ".join(parts)


def render(doc: dict) -> list[str]:
    lines = []
    zone = datetime.now().astimezone().tzname()
    lines.append(f"Headwater status at {_when(doc['generated_at'])} {zone}")
    lines.append("")

    inst = doc["instance"]
    running = inst["in_progress"]
    ended = sum(r["process_ended"] for r in running)
    lines.append(
        f"Instance   {inst['dagster_home']}: {inst['runs']:,} runs, {len(running)} in progress"
        + (f" ({ended} whose process has ended)" if ended else "")
    )
    for r in running:
        lines.append(
            f"  {r['run_id'][:8]}  {r['job']}  {r['status']}  since "
            f"{_when(r['started'] or r['created'])}  ({r['trigger']['kind']})"
            + (
                "  process ended: the next headwater command marks it failed"
                if r["process_ended"]
                else ""
            )
        )
    if inst["definitions"] != "loaded":
        lines.append(f"  {inst['definitions']}: assets and automation from the instance only")

    wh = doc["warehouse"]
    if wh["state"] == "ok":
        n_tables = sum(layer["tables"] for layer in wh["layers"])
        n_views = sum(layer["views"] for layer in wh["layers"])
        lines.append(
            f"Warehouse  {wh['path']}: reachable, {_size(wh['size_bytes'])}, "
            f"{_plural(n_tables, 'table')}, {_plural(n_views, 'view')} "
            f"(read in {wh['read_s']:.3f} s)"
        )
        rows = [
            [layer["layer"], layer["tables"], layer["views"], f"{layer['rows']:,}"]
            for layer in wh["layers"]
        ]
        lines += [
            "  " + line
            for line in history.format_table(
                ["layer", "tables", "views", "rows"], rows, right={1, 2, 3}
            )
        ]
    elif wh["state"] == "busy":
        lines.append(
            f"Warehouse  {wh['path']}: busy, {_size(wh['size_bytes'])}: {wh['detail']} "
            "has it open; tables and freshness not read (status never waits)"
        )
    elif wh["state"] == "missing":
        lines.append(f"Warehouse  {wh['path']}: {wh['detail']}")
    else:
        lines.append(f"Warehouse  {wh['path']}: does not open ({wh['detail']})")
    lines.append("")

    fresh = doc["freshness"]
    domains = fresh["domains"]
    lines.append("Freshness  " + ", ".join(f"{d} {s}" for d, s in domains.items()))
    rows = [
        [
            r["domain"],
            r["source"],
            r["newest"] or "-",
            r["status"],
            "-" if r["behind"] is None else r["behind"],
            r["threshold"],
            r["note"],
        ]
        for r in fresh["rows"]
    ]
    lines += [
        "  " + line
        for line in history.format_table(
            ["domain", "source", "newest", "status", "behind", "threshold", "note"], rows, right={4}
        )
    ]
    lines.append("")

    window = doc["health_window"]
    lines.append(
        f"Assets     last materialization and checks; health over the last "
        f"{window['days']} days ({window['runs']} runs, at most {window['max_runs']})"
    )
    rows = []
    for a in doc["assets"]:
        last, h = a["last_materialization"], a["health"]
        if last:
            first_p, last_p = last["first_partition"], last["last_partition"]
            part = (
                "-" if first_p is None else first_p if first_p == last_p else f"{first_p}..{last_p}"
            )
            if last["partitions_in_run"] and last["partitions_in_run"] > 1:
                part += f" ({last['partitions_in_run']})"
        rows.append(
            [
                a["group"],
                a["key"],
                _when(last["timestamp"]) if last else "never",
                part if last else "-",
                history.count_text(last["rows"]) if last else "-",
                _checks_text(a["checks"]),
                h["runs"] or "-",
                "-" if h["success_rate"] is None else f"{h['success_rate']:.0%}",
                history.seconds_text(h["mean_duration_s"]),
            ]
        )
    lines += [
        "  " + line
        for line in history.format_table(
            [
                "group",
                "asset",
                "last materialized",
                "partitions",
                "rows",
                "checks",
                "runs",
                "success",
                "mean time",
            ],
            rows,
            right={4, 6, 7, 8},
        )
    ]
    lines.append("")

    auto = doc["automation"]
    daemon = auto["daemon"]
    if daemon["running"]:
        state = f"daemon running (heartbeat {_when(daemon['last_heartbeat'])})"
    elif daemon["last_heartbeat"]:
        state = (
            f"daemon NOT running (last heartbeat {_when(daemon['last_heartbeat'])}): "
            "nothing ticks; make dev starts it"
        )
    else:
        state = "daemon NOT running (never seen): nothing ticks; make dev starts it"
    lines.append(f"Automation {state}")
    rows = [
        [
            i["kind"],
            i["name"],
            i["status"],
            i["set_by"],
            i["detail"],
            f"{_when(i['last_tick']['timestamp'])} {i['last_tick']['status']}"
            if i["last_tick"]
            else "-",
        ]
        for i in auto["items"]
    ]
    lines += [
        "  " + line
        for line in history.format_table(
            ["kind", "name", "status", "set by", "when", "last tick"], rows
        )
    ]
    return lines


def run(args) -> int:
    doc = collect()
    if args.json:
        print(json.dumps(doc, indent=2, default=str))
    else:
        for line in render(doc):
            print(line)
    return 0

"""`headwater status`'s view of the instance: every asset's last materialization, its
checks' latest outcomes and its health over recent runs; the schedules and sensors."""

from typing import Any

import dagster as dg

from headwater.cli import history

DAEMON_ALIVE_S = 120  # the daemon beats every 30 s; older than this and it is not running


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


def defined_assets(defs) -> tuple[dict[dg.AssetKey, str], dict[dg.AssetKey, list[str]]]:
    """asset key -> group, and asset key -> its checks' names, from the Definitions."""
    groups = {spec.key: spec.group_name or "default" for spec in defs.resolve_all_asset_specs()}
    checks: dict[dg.AssetKey, list[str]] = {}
    for check_key in defs.resolve_asset_graph().asset_check_keys:
        checks.setdefault(check_key.asset_key, []).append(check_key.name)
    return groups, {k: sorted(v) for k, v in checks.items()}


def assets_report(
    instance: dg.DagsterInstance,
    domains: list[str],
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

    order = {d: i for i, d in enumerate(domains)}
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

"""`headwater status`: the warehouse, freshness per domain and source, every asset's last
materialization and checks, per-asset health, and the schedules and sensors.

    headwater status
    headwater status --json

Read-only, and safe while runs are in progress:

- The instance (runs, materializations, checks, schedules and sensors) is read through
  Dagster's instance API; SQLite serves readers while a run writes.
- The warehouse is read through a read-only connection held for a few milliseconds,
  under the writer lock taken shared and without waiting (headwater.cli.warehouse_view):
  a run that writes is never made to fail, and a busy warehouse is reported as busy.

Freshness: the Dagster freshness policies on what users read (each domain's `status`
module: canonical prices, the daily and minute market bars, the prospects snapshot), in the
state the daemon recorded and the UI shows; before the daemon has evaluated a policy, the
same policy evaluated here, and the row says so (docs/operations.md, "Status and history").
A domain is FRESH when all of them are, NO DATA when none was ever materialized, STALE when
one is late, WARN when one is close to it.
"""

import argparse
import contextlib
import json
import sys
import warnings
from datetime import UTC, datetime, timedelta
from typing import Any

import dagster as dg

from headwater import settings
from headwater.cli import history
from headwater.cli.status_freshness import policy_states
from headwater.cli.status_instance import assets_report, automation_report, defined_assets
from headwater.cli.status_text import render
from headwater.cli.warehouse_view import read_postgres_warehouse, read_warehouse
from headwater.dead_runs import find_dead_runs
from headwater.freshness import Freshness, StatusInputs, domain_status

HEALTH_WINDOW_DAYS = 30  # per-asset health looks at the runs of the last 30 days ...
HEALTH_MAX_RUNS = 100  # ... at most this many (one event query each)

__all__ = ["collect", "read_postgres_warehouse", "read_warehouse", "render", "run"]


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


def _load_defs() -> tuple[Any, tuple, str | None]:
    """The code location's Definitions and domains, or None, () and why (status still
    reports the rest)."""
    try:
        # The definitions announce beta features and the like: nothing to act on here; and
        # whatever they print must not mix into --json.
        with warnings.catch_warnings(), contextlib.redirect_stdout(sys.stderr):
            warnings.simplefilter("ignore")
            from definitions import DOMAINS, defs
        return defs, DOMAINS, None
    except settings.SettingsError:
        raise
    except Exception as exc:
        first = (str(exc).strip().splitlines() or [""])[0]
        return None, (), f"the definitions do not load ({type(exc).__name__}: {first})"


def collect(now: datetime | None = None) -> dict:
    """The whole report as one JSON-ready document (the shape `--json` prints); `now`: the
    time freshness is judged at (tests)."""
    now = now or datetime.now(UTC)
    defs, domains, defs_problem = _load_defs()
    queries = {name: q for domain in domains for name, q in domain.status_queries.items()}
    view = (
        read_postgres_warehouse(queries)
        if settings.distributed()
        else read_warehouse(settings.warehouse_path(), queries)
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
            groups, checks = defined_assets(defs)
            specs = list(defs.resolve_all_asset_specs())
        else:
            groups, checks, specs = {}, {}, []
        names = [domain.name for domain in domains]
        assets = assets_report(instance, names, groups, checks, window)
        automation = automation_report(instance, defs, now.timestamp())
        runs_total = instance.get_runs_count()
        last_materialized = {
            dg.AssetKey.from_user_string(a["key"]): datetime.fromisoformat(
                a["last_materialization"]["timestamp"]
            ).timestamp()
            for a in assets
            if a["last_materialization"]
        }
        policies = policy_states(instance, specs, now, automation["daemon"]["running"])

    def last_ts(key: str) -> float | None:
        return last_materialized.get(dg.AssetKey.from_user_string(key))

    rows = freshness(domains, StatusInputs(view.facts, last_ts, now, view.state, policies))
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
            "domains": domain_status([d.name for d in domains if d.freshness], rows),
        },
        "assets": assets,
        "health_window": {
            "days": HEALTH_WINDOW_DAYS,
            "max_runs": HEALTH_MAX_RUNS,
            "runs": len(window),
        },
        "automation": automation,
    }


def freshness(domains, inputs: StatusInputs) -> list[Freshness]:
    """Every domain's freshness rows, then any asset with a policy that no domain showed (a
    policy is never hidden). The states come from the instance, so they are there also when
    the warehouse is busy; only the newest data beside them is not."""
    rows = [row for domain in domains if domain.freshness for row in domain.freshness(inputs)]
    shown = {row.asset for row in rows}
    return rows + [row for key, row in inputs.policies.items() if key not in shown]


def run(args) -> int:
    doc = collect()
    if args.json:
        print(json.dumps(doc, indent=2, default=str))
    else:
        for line in render(doc):
            print(line)
    return 0

"""`headwater status` as text: the tables the command prints from the report."""

from datetime import datetime

from headwater.cli import history


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


def _evaluated(row: dict) -> str:
    if row["evaluated_by"] == "daemon":
        return f"daemon, since {_when(row['since'])}"
    return row["evaluated_by"] or "-"


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
            r["asset"] or "-",
            r["status"],
            _when(r["last_materialized"]) if r["last_materialized"] else "-",
            r["newest"] or "-",
            r["policy"],
            _evaluated(r),
            r["note"],
        ]
        for r in fresh["rows"]
    ]
    lines += [
        "  " + line
        for line in history.format_table(
            [
                "domain",
                "asset",
                "status",
                "last materialized",
                "newest",
                "policy",
                "state by",
                "note",
            ],
            rows,
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

"""The warehouse as `headwater status` and `headwater doctor` see it: tables, row counts and
the domains' status queries, read without ever making a writer fail.

DuckDB refuses a second process while one has the file open for writing, and a writer
that starts while a reader has it open fails at once ("Could not set lock") instead of
waiting. So the read takes the warehouse writer lock, shared and without waiting
(resources.warehouse.warehouse_lock, timeout 0): when a run holds it, nothing is opened
and the warehouse is reported busy with the run that holds it; when the read holds it, a
writer starting then waits in the lock's queue for the moment the read lasts (`read_s`),
never fails; another status or doctor reads alongside. Nothing is created.
"""

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

# name -> (table, static SQL), from each domain's status queries (headwater.domain).
Queries = Mapping[str, tuple[str, str]]


@dataclass
class WarehouseView:
    path: str
    state: str  # ok, missing, busy, error
    detail: str | None = None  # who holds it, or what went wrong
    size_bytes: int | None = None
    tables: list[dict] = field(default_factory=list)  # schema, table, kind, rows
    facts: dict[str, dict | None] = field(
        default_factory=dict
    )  # the domains' status queries' results
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


def read_warehouse(path: Path, queries: Queries | None = None) -> WarehouseView:
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
                _read(lambda sql: con.execute(sql).fetchall(), view, queries or {})
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


def read_postgres_warehouse(queries: Queries | None = None) -> WarehouseView:
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
        _read(fetch, view, queries or {})
    finally:
        con.close()
    view.read_s = round(time.monotonic() - started, 4)
    view.state = "ok"
    return view


def _read(fetch, view: WarehouseView, queries: Queries) -> None:
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
    for fact, (table, sql) in queries.items():
        if table not in present:
            view.facts[fact] = None
            continue
        try:
            view.facts[fact] = {k: v for k, v in fetch(sql)}
        except Exception:  # a table of another shape than this version expects
            view.facts[fact] = None

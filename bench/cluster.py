"""A distributed setup on this machine's services, for benchmarks and tests: its own
RabbitMQ virtual host, its own instance and warehouse databases on the local PostgreSQL,
and N `headwater worker` processes; everything removed on exit."""

import os
import shutil
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg2
from psycopg2 import sql

from headwater.settings import REPO_ROOT

BIN = Path(sys.executable).parent
PG = dict(host="127.0.0.1", port=5432, user="postgres", password="")
RABBITMQCTL = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
# Variables a setup sets itself: whatever the calling shell has is dropped first.
OWN = ("HEADWATER_INSTANCE", "HEADWATER_PROFILE", "DAGSTER_EVENT_BATCH_SIZE", "HEADWATER_PG_DB")

# Runs (job, partition range or None) in order, in a fresh process, and prints one JSON
# line: per run the job, run id, success, seconds inside run_job, and the Celery workers
# that ran its steps.
RUN_PLAN = textwrap.dedent(
    """
    import json, sys, time
    import dagster as dg
    from headwater import settings
    from headwater.cli.runs import load_defs, run_job

    settings.ensure_dagster_home()
    settings.export_warehouse_env()
    defs = load_defs()
    out = []
    with dg.DagsterInstance.get() as instance:
        for job, partitions in json.loads(sys.argv[1]):
            started = time.perf_counter()
            result = run_job(
                defs, job, tuple(partitions) if partitions else None, instance,
                log_level="WARNING",
            )
            seconds = time.perf_counter() - started
            workers = sorted({
                e.event_specific_data.metadata["Celery worker"].value
                for e in result.all_events
                if e.event_type_value == "ENGINE_EVENT"
                and "Celery worker" in (e.event_specific_data.metadata or {})
            })
            out.append([job, result.run_id, result.success, workers, seconds])
    print(json.dumps(out))
    """
)


def admin():
    con = psycopg2.connect(dbname="postgres", **PG)
    con.autocommit = True
    return con


def rabbitmqctl(*args: str) -> None:
    subprocess.run([RABBITMQCTL, *args], check=True, capture_output=True, timeout=60)


def base_env(**changes: str) -> dict[str, str]:
    env = os.environ | {"PATH": f"{BIN}:{os.environ['PATH']}"}
    for name in OWN:
        env.pop(name, None)
    return env | changes


def drop_databases(*names: str) -> None:
    con = admin()
    try:
        with con.cursor() as cur:
            for db in names:
                cur.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                    [db],
                )
                cur.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(db)))
    finally:
        con.close()


@contextmanager
def local_cluster(
    work: Path, workers: int = 2, broker_url: str | None = None, **changes: str
) -> Iterator[dict]:
    """Yields {"env": the distributed environment, "workers": [(process, log path)]}.
    `broker_url`: a broker of the caller's own (a PrivateBroker, Redis) instead of a new
    virtual host on the machine's RabbitMQ."""
    suffix = uuid.uuid4().hex[:10]
    vhost = f"headwater_test_{suffix}" if broker_url is None else None
    if vhost:
        rabbitmqctl("add_vhost", vhost)
    env = base_env(
        **{
            "HEADWATER_PROFILE": "distributed",
            "HEADWATER_PG_DB": f"headwater_test_{suffix}_instance",
            "HEADWATER_WAREHOUSE_DB": f"headwater_test_{suffix}_warehouse",
            "HEADWATER_CELERY_BROKER": broker_url or f"pyamqp://guest:guest@127.0.0.1:5672/{vhost}",
            "DAGSTER_HOME": str(work / f"distributed_home_{suffix}"),
            "HEADWATER_DATA_DIR": str(work / f"distributed_data_{suffix}"),
        }
        | changes
    )
    started: list[tuple[subprocess.Popen, Path, object]] = []
    try:
        if vhost:
            rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
        for n in range(1, workers + 1):
            path = work / f"worker{n}_{suffix}.log"
            log = open(path, "w")  # noqa: SIM115 - closed with the worker
            process = subprocess.Popen(
                [str(BIN / "headwater"), "worker", "--name", f"w{n}@test"],
                cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
            started.append((process, path, log))
        deadline = time.monotonic() + 120
        while not all("ready." in path.read_text() for _, path, _ in started):
            dead = [path for process, path, _ in started if process.poll() is not None]
            if dead:
                raise RuntimeError(f"a worker ended: {dead[0].read_text()[-2000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError("workers did not start within 120 s")
            time.sleep(0.5)
        yield {"env": env, "workers": [(process, path) for process, path, _ in started]}
    finally:
        for process, _, _ in started:
            process.terminate()
        for process, _, log in started:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
            log.close()
        drop_databases(env["HEADWATER_PG_DB"], env["HEADWATER_WAREHOUSE_DB"])
        if vhost:
            rabbitmqctl("delete_vhost", vhost)


def run_plan(env: dict, plan: list, timeout: float = 1800) -> list:
    """RUN_PLAN in a fresh process with `env`; raises with its output if it fails."""
    import json

    done = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", RUN_PLAN, json.dumps(plan)],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(done.stdout[-2000:] + done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


RABBITMQ_SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server"  # run as this user, not the service's


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivateBroker:
    """A RabbitMQ node of its own (own ports, own data directory under `work`), which a
    test may stop and start again without touching the machine's broker. Its data
    survives a restart, as a real broker's does."""

    def __init__(self, work: Path):
        self.port = _free_port()
        self.name = f"headwater{self.port}@localhost"
        base = work / f"rabbitmq-{self.port}"
        base.mkdir(parents=True)
        self.env = os.environ | {
            "RABBITMQ_NODENAME": self.name,
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(_free_port()),
            "RABBITMQ_MNESIA_BASE": str(base / "mnesia"),
            "RABBITMQ_LOG_BASE": str(base / "log"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(base / "enabled_plugins"),
            "RABBITMQ_CONFIG_FILE": str(base / "rabbitmq"),
        }
        self.log = base / "server.log"
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"pyamqp://guest:guest@127.0.0.1:{self.port}//"

    def start(self, timeout: float = 60) -> float:
        """Start the node and wait until it takes AMQP connections; returns seconds."""
        import kombu

        started = time.monotonic()
        with open(self.log, "a") as log:
            self.process = subprocess.Popen(
                [RABBITMQ_SERVER], env=self.env, stdout=log, stderr=subprocess.STDOUT,
                cwd=self.log.parent,  # where Erlang would leave a crash dump
            )  # fmt: skip
        while True:
            try:
                with kombu.Connection(self.url, connect_timeout=1) as connection:
                    connection.ensure_connection(max_retries=1)
                return time.monotonic() - started
            except Exception:  # not up yet (refused, reset, handshake)
                if self.process.poll() is not None or time.monotonic() - started > timeout:
                    raise RuntimeError(
                        f"RabbitMQ did not start: {self.log.read_text()[-2000:]}"
                    ) from None
                time.sleep(0.3)

    def stop(self) -> None:
        """A clean shutdown (SIGTERM), as a service manager stops it."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=60)

"""Runs whose process is gone: found, marked failed with a reason, their slots freed.

A run killed without reporting (kill -9, OOM, a closed laptop lid) stays STARTED in
the instance for ever, and every run queued behind it on the `warehouse` pool waits
for it. So every run records the process that executes it (host, pid and the pid's
start time, so a reused pid is not taken for the run's) as run tags; `headwater`
commands and the daemon's `headwater_dead_runs` sensor look at the runs still in
progress on this host and mark those whose process has ended as failed.
"""

import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime

import dagster as dg

HOST_TAG = "headwater/host"
PID_TAG = "headwater/pid"
PID_START_TAG = "headwater/pid_start"  # the process's start time, in clock ticks after boot

IN_PROGRESS = [
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


def _start_ticks(pid: int) -> str | None:
    """Field 22 of /proc/<pid>/stat: when the process started (None if it is gone)."""
    try:
        stat = open(f"/proc/{pid}/stat").read()  # noqa: SIM115 - one small read
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after its last ")".
    return stat.rpartition(")")[2].split()[19]


def process_tags() -> dict[str, str]:
    """Tags naming this process, for a run it executes."""
    pid = os.getpid()
    return {
        HOST_TAG: socket.gethostname(),
        PID_TAG: str(pid),
        PID_START_TAG: _start_ticks(pid) or "",
    }


def process_alive(pid: int, start_ticks: str) -> bool:
    """Whether the process `pid`, started at `start_ticks`, still runs (a zombie has ended)."""
    found = _start_ticks(pid)
    if found is None or (start_ticks and found != start_ticks):
        return False
    try:
        state = open(f"/proc/{pid}/stat").read().rpartition(")")[2].split()[0]  # noqa: SIM115
    except OSError:
        return False
    return state != "Z"


@dataclass(frozen=True)
class DeadRun:
    run_id: str
    job_name: str
    reason: str

    def line(self) -> str:
        return f"run {self.run_id} ({self.job_name}): {self.reason}"


def find_dead_runs(instance: dg.DagsterInstance) -> list[tuple[dg.DagsterRun, str]]:
    """In-progress runs executed on this host whose process has ended, with the reason."""
    host = socket.gethostname()
    dead = []
    for record in instance.get_run_records(
        filters=dg.RunsFilter(statuses=IN_PROGRESS, tags={HOST_TAG: host})
    ):
        run = record.dagster_run
        try:
            pid = int(run.tags.get(PID_TAG, ""))
        except ValueError:
            continue
        if process_alive(pid, run.tags.get(PID_START_TAG, "")):
            continue
        now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        dead.append(
            (run, f"process {pid} on host {host} ended without reporting; marked failed at {now}")
        )
    return dead


def reap_dead_runs(instance: dg.DagsterInstance) -> list[DeadRun]:
    """Mark every dead run failed (with its reason) and free its concurrency slots."""
    reaped = []
    for run, reason in find_dead_runs(instance):
        instance.report_run_failed(run, message=reason)
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        reaped.append(DeadRun(run.run_id, run.job_name, reason))
    return reaped

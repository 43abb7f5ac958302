"""Each `headwater` command's own log file: two commands started in the same second (two
terminals, a cron job beside a person) never write into one file."""

import os
import subprocess
import sys

from tests.conftest import REPO_ROOT

PRINT_LOG_PATH = "from headwater.cli.output import log_path; print(log_path('ingest'))"


def test_two_commands_at_once_have_their_own_log_files(tmp_path):
    env = os.environ | {"DAGSTER_HOME": str(tmp_path)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", PRINT_LOG_PATH],
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for _ in range(2)
    ]
    paths = [p.communicate(timeout=60)[0].strip() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert len(set(paths)) == 2, paths
    for path, proc in zip(paths, procs, strict=True):
        assert path.startswith(f"{tmp_path}/logs/ingest-") and path.endswith(f"-{proc.pid}.log")

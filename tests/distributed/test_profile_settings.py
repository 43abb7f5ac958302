"""Choosing the profile: one setting, and every way it can be wrong is one line naming the
setting, exit code 2, before anything runs (no traceback)."""

import pytest

from tests.foundation.test_doctor import finish, fresh_env, start

INGEST = ["ingest", "--api", "eia", "--start-date", "2024-01-01", "--end-date", "2024-01-31"]

CASES = {
    "bad_profile": (
        {"HEADWATER_PROFILE": "cluster"},
        INGEST,
        "headwater: HEADWATER_PROFILE='cluster': expected one of embedded, distributed",
    ),
    "sqlite_instance": (
        {"HEADWATER_PROFILE": "distributed", "HEADWATER_INSTANCE": "sqlite"},
        INGEST,
        "headwater: HEADWATER_INSTANCE='sqlite' with HEADWATER_PROFILE=distributed: Celery "
        "workers share the run's instance, which must be postgres (unset HEADWATER_INSTANCE)",
    ),
    "postgres_down_ingest": (
        {"HEADWATER_PROFILE": "distributed", "HEADWATER_PG_PORT": "1"},
        INGEST,
        "headwater: Postgres instance storage at 127.0.0.1:1/dagster cannot be used",
    ),
    "postgres_down_worker": (
        {"HEADWATER_PROFILE": "distributed", "HEADWATER_PG_PORT": "1"},
        ["worker"],
        "headwater: Postgres instance storage at 127.0.0.1:1/dagster cannot be used",
    ),
    "broker_down_ingest": (
        {
            "HEADWATER_PROFILE": "distributed",
            "HEADWATER_CELERY_BROKER": "pyamqp://guest:hush@127.0.0.1:1//",
        },
        INGEST,
        "headwater: HEADWATER_CELERY_BROKER=pyamqp://guest:***@127.0.0.1:1// cannot be reached "
        "([Errno 111] Connection refused): start the broker",
    ),
    "worker_bad_concurrency": (
        {"HEADWATER_PROFILE": "distributed"},
        ["worker", "--concurrency", "0"],
        "headwater: --concurrency '0': expected a whole number of at least 1",
    ),
    "worker_bad_loglevel": (
        {"HEADWATER_PROFILE": "distributed"},
        ["worker", "--loglevel", "BOGUS"],
        "headwater: --loglevel 'BOGUS': expected one of DEBUG, INFO, WARNING, ERROR, CRITICAL",
    ),
    "worker_on_embedded": (
        {},
        ["worker"],
        "headwater: headwater worker runs steps of the distributed profile: set "
        "HEADWATER_PROFILE=distributed",
    ),
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("profiles")
    procs = {}
    for case, (changes, args, _) in CASES.items():
        env = fresh_env(root / case)
        for name in (
            "HEADWATER_PROFILE",
            "HEADWATER_INSTANCE",
            "HEADWATER_PG_PORT",
            "HEADWATER_CELERY_BROKER",
        ):
            env.pop(name, None)
        procs[case] = start(args, env | changes)
    return {case: finish(proc) for case, proc in procs.items()}


@pytest.mark.parametrize("case", CASES)
def test_a_bad_profile_setting_is_one_line(runs, case):
    done = runs[case]
    expected = CASES[case][2]
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(expected), done.stderr
    assert "Traceback" not in done.stderr
    assert "hush" not in done.stdout + done.stderr


def test_the_deploy_templates_name_real_commands_and_settings():
    """deploy/distributed/: every Procfile command exists in the venv, and every variable of
    the environment template is one Headwater or Dagster reads (no stale names, no secret)."""
    import re
    import sys
    from pathlib import Path

    from tests.conftest import REPO_ROOT

    deploy = REPO_ROOT / "deploy" / "distributed"
    for line in (deploy / "Procfile").read_text().splitlines():
        if line and not line.startswith("#"):
            binary = line.split(":", 1)[1].split()[0]
            assert (REPO_ROOT / binary).exists(), line
            assert Path(binary).name in {p.name for p in Path(sys.executable).parent.iterdir()}
    code = (
        "".join(
            path.read_text()
            for folder in ("headwater", "resources")
            for path in (REPO_ROOT / folder).glob("*.py")
        )
        + (REPO_ROOT / "dbt_project" / "profiles.yml").read_text()
    )
    template = (deploy / "headwater.env.example").read_text()
    names = re.findall(r"^([A-Z_]+)=(.*)$", template, re.MULTILINE)
    assert len(names) >= 10
    for name, value in names:
        assert name in code or name in {"DAGSTER_HOME", "DAGSTER_EVENT_BATCH_SIZE"}, name
        if "PASSWORD" in name:
            assert value == "", name

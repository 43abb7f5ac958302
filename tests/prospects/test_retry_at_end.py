"""Retry at end: a run that failed on one source is re-executed from failure, as the UI's
"Re-execute from failure" does; only the failed step and what is downstream run again."""

import json
import os
import shutil
import subprocess
import sys
import textwrap

from assets.prospects.sample_data import build_files, ensure_sample_data, sample_paths
from tests.conftest import REPO_ROOT

SCRIPT = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    import dagster as dg

    def prospects_refresh():
        from definitions import defs
        return defs.resolve_job_def("prospects_refresh")

    def steps(run_id, instance, kind):
        return sorted(
            e.step_key for e in instance.all_logs(run_id) if e.dagster_event
            and e.dagster_event.event_type_value == kind
        )

    if __name__ == "__main__":
        espn, good = Path(sys.argv[1]), Path(sys.argv[2])
        job = dg.reconstructable(prospects_refresh)
        with dg.DagsterInstance.get() as instance:
            first = dg.execute_job(job, instance, tags={"dagster/partition": "2024"})
            espn.write_bytes(good.read_bytes())  # the source is back
            # The UI's re-execution copies the failed run's tags: its partition among them.
            again = dg.execute_job(
                job, instance, tags=instance.get_run_by_id(first.run_id).tags,
                reexecution_options=dg.ReexecutionOptions.from_failure(first.run_id, instance),
            )
            print(json.dumps({
                "first": first.success, "again": again.success,
                "failed_first": steps(first.run_id, instance, "STEP_FAILURE"),
                "ran_again": steps(again.run_id, instance, "STEP_SUCCESS"),
                "partition": instance.get_run_by_id(again.run_id).tags.get("dagster/partition"),
            }))
    """
)


def test_reexecute_from_failure_runs_only_the_failed_source_and_downstream(tmp_path):
    sample = tmp_path / "sample"
    ensure_sample_data(sample / "prospects")
    espn = sample_paths(sample / "prospects", 2024)["espn"]
    good = tmp_path / "injuries_2024.json"
    good.write_bytes(build_files(2024)["espn"])
    espn.write_bytes(b"")  # ESPN's file is empty this morning
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(REPO_ROOT / "dagster.yaml", home / "dagster.yaml")
    script = tmp_path / "retry.py"
    script.write_text(SCRIPT)
    env = os.environ | {
        "DAGSTER_HOME": str(home),
        "HEADWATER_WAREHOUSE": str(tmp_path / "wh.duckdb"),
        "HEADWATER_SAMPLE_DIR": str(sample),
        "HEADWATER_DATA_DIR": str(tmp_path / "data"),
        "PYTHONPATH": str(REPO_ROOT),
    }
    done = subprocess.run(
        [sys.executable, str(script), str(espn), str(good)],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert (outcome["first"], outcome["again"]) == (False, True), done.stderr[-6000:]
    assert outcome["failed_first"] == ["staging__prospects_espn"]
    assert outcome["ran_again"] == ["prospects_reconcile", "staging__prospects_espn"]
    assert outcome["partition"] == "2024"

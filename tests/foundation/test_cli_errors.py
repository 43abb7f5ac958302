"""Bad settings stop the `headwater` CLI with one line naming the setting, exit code 2.

Every command runs the checks it needs (headwater.cli.doctor) before building anything, so
a bad setting is one line on stderr, no traceback, and `simulate --dry-run` says so too.
"""

import os
import subprocess

import pytest

from tests.foundation.test_doctor import BAD_SETUPS, bad_env, finish, fresh_env, start

COMMANDS = {"demo": ["demo"], "simulate_dry_run": ["simulate", "--dry-run"]}
# Both commands go through the same checks: demo runs on a few setups (the live-mode
# trace came from it), simulate --dry-run on all of them.
DEMO_CASES = ["live_without_eia_key", "bogus_mode", "bad_config"]
BAD_CONFIG = "energy:\n  authority_order: [eia, eia, fred]\n"

# Settings whose line is known word for word.
EXACT = {
    "bogus_mode": (
        {"HEADWATER_MODE": "bogus"},
        "headwater: HEADWATER_MODE='bogus': expected one of sample, live (unset means sample)",
    ),
    "bad_config": (
        {"HEADWATER_CONFIG": "{bad}"},
        "headwater: {bad}: energy.authority_order: Value error, must list "
        "each of eia, fred, yahoo exactly once (got ['eia', 'eia', 'fred'])",
    ),
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[tuple[str, str], tuple[subprocess.CompletedProcess, list]]:
    """Every command on every bad setup, all started at once (each stops at its checks)."""
    root = tmp_path_factory.mktemp("cli_errors")
    bad = root / "headwater.yaml"
    bad.write_text(BAD_CONFIG)
    setups = {}
    for case in BAD_SETUPS:
        setups[case] = bad_env(root / case, case)
    for case, (changes, line) in EXACT.items():
        env = fresh_env(root / case, **{k: v.format(bad=bad) for k, v in changes.items()})
        setups[case] = (env, [line.format(bad=bad)])
    procs = {
        (case, command): (start(args, env), expected)
        for case, (env, expected) in setups.items()
        for command, args in COMMANDS.items()
        if command != "demo" or case in DEMO_CASES
    }
    return {key: (finish(proc), expected) for key, (proc, expected) in procs.items()}


@pytest.mark.parametrize(
    "case, command",
    [(case, "simulate_dry_run") for case in [*BAD_SETUPS, *EXACT]]
    + [(case, "demo") for case in DEMO_CASES],
)
def test_a_bad_setting_is_one_line_naming_it_and_what_to_do(runs, case, command):
    done, expected = runs[(case, command)]
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    (line,) = done.stderr.splitlines()
    if case in EXACT:
        assert line == expected[0]
    else:
        assert line.startswith("headwater: ")
        for text in expected:
            assert text in line
    assert done.stdout == ""  # stopped before building anything


def test_config_option_is_the_settings_file_for_the_whole_command(tmp_path):
    """`headwater ingest --config FILE` takes its partitions from FILE too, not only its jobs
    and symbols: the range check names FILE's market.start_date, whatever HEADWATER_CONFIG
    says (here: unset, so config/headwater.yaml, whose market.start_date is 2024-01-01)."""
    import yaml

    from headwater import settings

    data = yaml.safe_load(settings.config_path().read_text())
    assert data["market"]["start_date"] != "2023-01-01"
    data["market"]["start_date"] = "2023-01-01"
    own = tmp_path / "headwater.yaml"
    own.write_text(yaml.safe_dump(data, sort_keys=False))
    env = fresh_env(tmp_path / "home")
    ingest = ["ingest", "--api", "databento", "--schema", "ohlcv-1d", "--symbols", "CL.FUT"]
    done = finish(
        start(
            [
                *ingest,
                "--config",
                str(own),
                "--start-date",
                "2022-12-15",
                "--end-date",
                "2023-06-30",
            ],
            env,
        )
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == (
        "ingest: --start-date 2022-12-15 is before the first month partition 2023-01-01 "
        "(market.start_date in the settings file)"
    ), done.stderr


def test_a_reader_that_goes_away_stops_the_command_quietly(tmp_path):
    """`headwater history | head -1`: the pipe closes before the command has written; it
    stops as a Unix tool does on SIGPIPE (141), without a BrokenPipeError traceback."""
    proc = start(["history", "--limit", "50"], fresh_env(tmp_path))
    proc.stdout.close()
    err = proc.stderr.read()
    proc.wait(timeout=120)
    assert "Traceback" not in err and "BrokenPipeError" not in err, err
    assert proc.returncode == 141, err


def test_history_limit_beyond_what_the_instance_can_count_is_a_bad_parameter(tmp_path):
    done = finish(start(["history", "--limit", "99999999999999999999999"], fresh_env(tmp_path)))
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == (
        "history: --limit 99999999999999999999999: expected at most 1,000,000 runs"
    )


def test_history_of_a_job_or_asset_that_does_not_exist_is_a_bad_parameter(tmp_path):
    env = fresh_env(tmp_path)
    job, asset, known = (
        start(["history", "--job", "nosuch"], env),
        start(["history", "--asset", "nosuch/asset"], env),
        start(["history", "--job", "energy_daily_prices"], env),
    )
    done = finish(job)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("history: --job 'nosuch': no such job; expected one of ")
    assert "energy_daily_prices" in done.stderr and len(done.stderr.splitlines()) == 1
    done = finish(asset)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("history: --asset 'nosuch/asset': no such asset;")
    done = finish(known)  # a job that exists and has not run: an empty history
    assert (done.returncode, done.stdout.strip()) == (0, "no runs match"), done.stderr


def test_config_option_holds_for_its_command_only(tmp_path, monkeypatch, capsys):
    """main() runs in process too (tests, embedding): --config must not stay behind in the
    environment, where the next command, and every process started after, would read it."""
    from headwater import cli, settings

    monkeypatch.delenv("HEADWATER_CONFIG", raising=False)
    own = tmp_path / "headwater.yaml"
    own.write_text(settings.config_path().read_text())
    assert cli.main(["list-jobs", "--config", str(own)]) == 0
    assert "HEADWATER_CONFIG" not in os.environ
    monkeypatch.setenv("HEADWATER_CONFIG", "/somewhere/else.yaml")
    assert cli.main(["list-jobs", "--config", str(own)]) == 0
    assert os.environ["HEADWATER_CONFIG"] == "/somewhere/else.yaml"
    capsys.readouterr()

"""The `headwater` command line: domain tasks that launch runs recorded in the Dagster instance."""

import argparse
import os
import signal
import sys
import warnings
from pathlib import Path

from headwater import settings
from headwater.cli import doctor

# The checks (headwater.cli.doctor) each command runs before it builds anything, so a bad
# setting stops it with one line, not a traceback mid-run: the instance opens (it is
# created if new) and the warehouse file, if there is one, opens read-only (unless a
# writer holds it: then it is in use, and fine). Commands that launch runs check the
# broker too (the distributed profile's; nothing else).
RUNS = ["settings", "mode", "keys", "endpoints", "instance", "warehouse", "samples"]
CHECKS_BEFORE = {
    "demo": [*RUNS, "reports", "broker"],
    "simulate": [*RUNS, "reports", "broker"],
    "ingest": [*RUNS, "broker"],
    "list-jobs": ["settings"],
    # Read-only reports: the settings (status reads the thresholds) and the instance.
    "status": ["settings", "instance"],
    "history": ["instance"],
    "worker": ["settings", "mode", "keys", "instance_dir"],
}


# Commands that only read: they leave the instance as it is (no dead-run clean-up).
READ_ONLY = {"status", "history", "list-jobs", "worker"}


def build_parser() -> argparse.ArgumentParser:
    from headwater.cli import demo, history, ingest, simulate, status, worker

    parser = argparse.ArgumentParser(
        prog="headwater",
        description=__doc__,
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"headwater {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="command")
    demo.add_parser(sub)
    simulate.add_parser(sub)
    ingest.add_parser(sub)
    doctor.add_parser(sub)
    status.add_parser(sub)
    history.add_parser(sub)
    worker.add_parser(sub)
    return parser


EXAMPLES = """examples:
  headwater demo                                          everything, on sample data
  headwater simulate --start-year 2025 --end-year 2029    the workforce simulation
  headwater simulate --resume                             only the years not done
  headwater ingest --api databento --schema ohlcv-1d --symbols CL.FUT,ES.FUT \
      --start-date 2024-01-02 --end-date 2024-01-31      futures daily bars
  headwater list-jobs                                     predefined ingest jobs
  headwater doctor                                        check the setup, one line each
  headwater status                                        warehouse, freshness, assets, automation
  headwater history --limit 50 --job energy_daily_prices  past runs, newest first
  HEADWATER_PROFILE=distributed headwater worker          run steps on Celery (scaling out)

Each command's own help: headwater <command> --help"""


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("headwater")
    except PackageNotFoundError:  # run from a checkout without installing
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    # dagster-dbt imports sqlglot[rs], whose Rust tokenizer announces its own deprecation
    # when imported: nothing a user can act on, and it would bury one-line errors. Imported
    # here with the warning off (later imports reuse the module and warn no more).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            import sqlglotrs  # noqa: F401
        except ImportError:
            pass
    args = build_parser().parse_args(argv)
    if not getattr(args, "config", None):
        return _main(args)
    # --config FILE is the settings file for the whole command: the code location it loads
    # reads its partitions and jobs from it too, as from HEADWATER_CONFIG. Set for this
    # command only (main() also runs in process, in tests).
    saved = os.environ.get("HEADWATER_CONFIG")
    os.environ["HEADWATER_CONFIG"] = str(Path(args.config).resolve())
    try:
        return _main(args)
    finally:
        if saved is None:
            os.environ.pop("HEADWATER_CONFIG", None)
        else:
            os.environ["HEADWATER_CONFIG"] = saved


def _main(args: argparse.Namespace) -> int:
    try:
        if args.command == "doctor":  # reports every check itself and starts no run
            return doctor.run(args)
        problems = doctor.problems(CHECKS_BEFORE[args.command], getattr(args, "config", None))
        for problem in problems:
            say(problem)
        if problems:
            return 2
        settings.ensure_dagster_home()
        if args.command not in READ_ONLY:
            reap_dead_runs_and_say_so()
        return int(args.func(args) or 0)
    except settings.SettingsError as exc:
        # Bad settings are the user's to fix: say which, without a traceback.
        say(str(exc))
        return 2
    except BrokenPipeError:
        # The reader went away (`headwater history | head`): stop as a Unix tool does on
        # SIGPIPE, quietly; Python would report the pipe again when it flushes at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + signal.SIGPIPE


def say(message: str) -> None:
    for line in message.splitlines():
        print(f"headwater: {line}", file=sys.stderr, flush=True)


def reap_dead_runs_and_say_so() -> None:
    """Runs of this host whose process died are marked failed before anything else runs."""
    import dagster as dg

    from headwater.dead_runs import reap_dead_runs

    with dg.DagsterInstance.get() as instance:
        for dead in reap_dead_runs(instance):
            print(f"headwater: {dead.line()}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())

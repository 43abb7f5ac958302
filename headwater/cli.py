"""The `headwater` command line: domain tasks that launch runs recorded in the Dagster instance."""

import argparse
import sys

from headwater import settings


def build_parser() -> argparse.ArgumentParser:
    from headwater import demo, simulate

    parser = argparse.ArgumentParser(prog="headwater", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    demo.add_parser(sub)
    simulate.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    settings.ensure_dagster_home()
    args = build_parser().parse_args(argv)
    try:
        reap_dead_runs_and_say_so()
        return int(args.func(args) or 0)
    except settings.SettingsError as exc:
        # Bad settings are the user's to fix: say which, without a traceback.
        print(f"headwater: {exc}", file=sys.stderr)
        return 2


def reap_dead_runs_and_say_so() -> None:
    """Runs of this host whose process died are marked failed before anything else runs."""
    import dagster as dg

    from headwater.dead_runs import reap_dead_runs

    with dg.DagsterInstance.get() as instance:
        for dead in reap_dead_runs(instance):
            print(f"headwater: {dead.line()}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())

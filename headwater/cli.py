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
        return int(args.func(args) or 0)
    except settings.SettingsError as exc:
        # Bad settings are the user's to fix: say which, without a traceback.
        print(f"headwater: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

"""`headwater worker`: a Celery worker of the distributed profile (HEADWATER_PROFILE=distributed).

Runs the steps that runs send to the broker (HEADWATER_CELERY_BROKER). Start as many as
the machines allow, on any machine with this checkout at the same path, the same
environment (HEADWATER_PROFILE, HEADWATER_PG_*, HEADWATER_WAREHOUSE_DB, the broker) and
network access to PostgreSQL and the broker. A worker takes one step at a time per
process; a step whose worker dies is handed to another worker.
"""

import argparse
import os
import socket
import sys

from headwater import settings


def add_parser(sub) -> None:
    p = sub.add_parser(
        "worker",
        epilog=(
            "examples:\n"
            "  HEADWATER_PROFILE=distributed headwater worker\n"
            "  HEADWATER_PROFILE=distributed headwater worker --name etl-1 --concurrency 2"
        ),
        help="run steps of the distributed profile on this machine (a Celery worker)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    # Parsed in run(), not by argparse, so a bad value is one line (argparse adds its usage).
    p.add_argument(
        "--concurrency",
        default="1",
        help="steps at once: 1 (default) runs them in the worker's own process; more forks "
        "that many processes",
    )
    p.add_argument("--name", help="worker name (default: headwater-<pid>@<host>)")
    p.add_argument("--loglevel", default="INFO", help="Celery's log level (default INFO)")
    p.set_defaults(func=run)


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")  # Celery's (any case)


def command(concurrency: int, name: str, loglevel: str) -> list[str]:
    pool = ["--pool", "solo"] if concurrency == 1 else ["--pool", "prefork", "-c", str(concurrency)]
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "headwater.celery_app",
        "worker",
        *pool,
        "--prefetch-multiplier=1",
        "-Q",
        "dagster",
        "-n",
        name,
        "--loglevel",
        loglevel,
        "--without-gossip",
        "--without-mingle",
    ]


def run(args) -> int:
    if not settings.distributed():
        raise settings.SettingsError(
            "headwater worker runs steps of the distributed profile: set "
            "HEADWATER_PROFILE=distributed (and the same settings as the UI and daemon)"
        )
    try:
        concurrency = int(args.concurrency)
        if concurrency < 1:
            raise ValueError
    except ValueError:
        raise settings.SettingsError(
            f"--concurrency {args.concurrency!r}: expected a whole number of at least 1"
        ) from None
    if args.loglevel.upper() not in LOG_LEVELS:
        raise settings.SettingsError(
            f"--loglevel {args.loglevel!r}: expected one of {', '.join(LOG_LEVELS)}"
        )
    from resources.warehouse_postgres import PostgresWarehouse

    PostgresWarehouse().check()
    name = args.name or f"headwater-{os.getpid()}@{socket.gethostname()}"
    argv = command(concurrency, name, args.loglevel)
    sys.stdout.flush()
    sys.stderr.flush()
    # The worker replaces this process: signals (Ctrl-C, SIGTERM from a process manager)
    # reach Celery itself, which finishes or hands back the step it runs.
    os.execv(argv[0], argv)
    return 0  # not reached

#!/usr/bin/env bash
# Dagster UI and daemon on 127.0.0.1:3000, both served by one code server that loads the code
# location once (headwater/cli/devserver.py); not `dagster dev`, which re-parses dbt in every
# process. Ctrl-C stops all three.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
if [ "${HEADWATER_INSTANCE:-sqlite}" = postgres ] || [ "${HEADWATER_PROFILE:-embedded}" = distributed ]; then
  # The Postgres instance reads its connection from these (deploy/postgres-storage.yaml).
  export HEADWATER_PG_HOST="${HEADWATER_PG_HOST:-127.0.0.1}" HEADWATER_PG_PORT="${HEADWATER_PG_PORT:-5432}"
  export HEADWATER_PG_USER="${HEADWATER_PG_USER:-postgres}" HEADWATER_PG_PASSWORD="${HEADWATER_PG_PASSWORD:-}"
  export HEADWATER_PG_DB="${HEADWATER_PG_DB:-dagster}" DAGSTER_EVENT_BATCH_SIZE="${DAGSTER_EVENT_BATCH_SIZE:-500}"
fi
# Create the instance's SQLite storage before the webserver, the daemon and their code servers
# all open it at the same time: concurrent first-time creation leaves two rows in runs.db's
# alembic_version ("more than one head present") and the instance unusable. The helper
# creates it once, under a lock, and says in one line what is wrong with DAGSTER_HOME.
if [ -n "${DAGSTER_HOME:-}" ]; then
  "$BIN/python" -m headwater.cli.setup >/dev/null || exit 2
fi
# The code server, the webserver and the daemon, each in its own process group, stopped together
# on Ctrl-C (headwater/cli/devserver.py). Bound to loopback unless HEADWATER_UI_HOST says otherwise (e.g.
# 0.0.0.0 behind a proxy); HEADWATER_UI_PORT, default 3000.
exec "$BIN/python" -m headwater.cli.devserver

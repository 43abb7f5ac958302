#!/usr/bin/env bash
# Dagster UI and daemon on 127.0.0.1:3000. Started as two processes after one `dbt parse`
# (not `dagster dev`, which re-parses dbt in every process); Ctrl-C stops both.
set -euo pipefail
set -m  # own process groups, so the signal reaches each server's children too
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
  "$BIN/python" -m headwater.settings >/dev/null || exit 2
fi
# Bound to loopback unless HEADWATER_UI_HOST says otherwise (e.g. 0.0.0.0 behind a proxy).
"$BIN/dagster-webserver" -h "${HEADWATER_UI_HOST:-127.0.0.1}" -p "${HEADWATER_UI_PORT:-3000}" -w workspace.yaml &
web=$!
"$BIN/dagster-daemon" run -w workspace.yaml &
daemon=$!
running() { kill -0 "$web" 2>/dev/null || kill -0 "$daemon" 2>/dev/null; }
# Each gets GRACE seconds to finish what it is doing (a tick, open requests); then it is
# killed, so that Ctrl-C always returns the terminal.
GRACE="${HEADWATER_STOP_GRACE_S:-15}"
stop() {
  trap - INT TERM
  echo "headwater: stopping the UI and daemon"
  kill -TERM -- "-$web" "-$daemon" 2>/dev/null || true
  for _ in $(seq 1 $((GRACE * 4))); do
    running || break
    sleep 0.25
  done
  if running; then
    echo "headwater: still running ${GRACE} s after SIGTERM; killing them"
    kill -KILL -- "-$web" "-$daemon" 2>/dev/null || true
  fi
  wait "$web" "$daemon" 2>/dev/null || true
  echo "headwater: UI and daemon stopped"
}
# Exit from the trap: otherwise the script resumes after `wait -n` and stops (and says so) twice.
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM
echo "headwater: UI on http://${HEADWATER_UI_HOST:-127.0.0.1}:${HEADWATER_UI_PORT:-3000} (Ctrl-C stops it)"
wait -n "$web" "$daemon" || true
stop

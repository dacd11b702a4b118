#!/usr/bin/env bash
# Benchmark: complete calls per second end to end — the app and the Zoho Desk sandbox in their
# own processes (release build, SQLite, 127.0.0.1), all rules on (docs/bench-calls.py).
# Bounded: a throwaway database, 10 minutes at most. Usage: make bench-calls [CALLS=3000]
# With BENCH_POSTGRES=postgres://postgres@127.0.0.1:5432 the app runs on a new PostgreSQL
# database there (dropped afterwards) instead of SQLite.
set -euo pipefail
cd "$(dirname "$0")/.."
SB_PORT=${SB_PORT:-3920}; APP_PORT=${APP_PORT:-3921}
export SB="http://127.0.0.1:$SB_PORT" APP="http://127.0.0.1:$APP_PORT"
export SECRET=bench-webhook-secret-0123456789 PW=bench-admin-password
DIR=$(mktemp -d)
DB_URL="sqlite://$DIR/helpdesk.db"; PGDB=""
if [ -n "${BENCH_POSTGRES:-}" ]; then
  PGDB="helpdesk_bench_$$"
  psql -q -d "$BENCH_POSTGRES/postgres" -c "CREATE DATABASE $PGDB"
  DB_URL="$BENCH_POSTGRES/$PGDB"
fi
trap 'kill $SB_PID $APP_PID 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$DIR";
  [ -z "$PGDB" ] || psql -q -d "$BENCH_POSTGRES/postgres" -c "DROP DATABASE IF EXISTS $PGDB WITH (FORCE)"' EXIT
HELPDESK_ADDR="127.0.0.1:$SB_PORT" HELPDESK_SANDBOX_APP_URL="$APP" RUST_LOG=error \
  ./target/release/server sandbox & SB_PID=$!
HELPDESK_ADDR="127.0.0.1:$APP_PORT" HELPDESK_WEBHOOK_SECRET=$SECRET HELPDESK_ADMIN_PASSWORD=$PW \
  DATABASE_URL="$DB_URL" HELPDESK_DATA_DIR="$DIR" RUST_LOG=error LEPTOS_SITE_ROOT=target/site \
  ./target/release/server & APP_PID=$!
for _ in $(seq 100); do
  curl -fs "$APP/healthz" >/dev/null && curl -fs "$SB/sandbox/control" >/dev/null && break
  sleep 0.1
done
# CPU seconds a process has used so far (user + system).
cpu() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.1f", ($14 + $15) / hz}' "/proc/$1/stat"; }
python3 docs/bench-calls.py
echo "app RSS after the run: $(grep VmRSS /proc/$APP_PID/status | awk '{print $2/1024 " MB"}')"
echo "CPU used since start: app $(cpu $APP_PID) s, Zoho sandbox $(cpu $SB_PID) s (the load generator and the database the rest)"

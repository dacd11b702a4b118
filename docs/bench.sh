#!/usr/bin/env bash
# `make bench`: every benchmark of docs/benchmarks.md in one run, on the release build, on this
# machine (bounded: about five minutes). Prints the machine, then each figure; copy them into
# docs/benchmarks.md with the date. CALLS (default 3000) sets the end-to-end runs' size;
# BENCH_POSTGRES (default postgres://postgres@127.0.0.1:5432, empty to skip) adds the
# end-to-end run on PostgreSQL. SUSTAIN_RATE (default 150) is the pace offered for 60 s.
set -euo pipefail
cd "$(dirname "$0")/.."
export CALLS=${CALLS:-3000}
PG=${BENCH_POSTGRES-postgres://postgres@127.0.0.1:5432}
echo "== machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)," \
  "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $(date -u +%F); $(git rev-parse --short HEAD)"
echo; echo "== the Zoho Desk sandbox alone (what the end-to-end runs can at most ask of it)"
bash docs/bench-sandbox.sh
echo; echo "== the intake alone"
bash docs/bench-intake.sh
echo; echo "== complete calls end to end, SQLite ($CALLS calls)"
bash docs/bench-calls.sh
if [ -n "$PG" ] && pg_isready -q -d "$PG/postgres"; then
  echo; echo "== complete calls end to end, PostgreSQL ($CALLS calls)"
  BENCH_POSTGRES=$PG bash docs/bench-calls.sh
fi
SUSTAIN_RATE=${SUSTAIN_RATE:-150}
echo; echo "== complete calls sustained: $SUSTAIN_RATE calls/s offered for 60 s (SQLite)"
RATE=$SUSTAIN_RATE DURATION=60 bash docs/bench-calls.sh | grep -E '^ |^intake answer|^sustained|^nothing|^MISMATCH|^app RSS'
echo; echo "== Zoho lookup requests per call on issue 17's reference mix (1,000 calls, SQLite)"
MIX=reference CALLS=1000 bash docs/bench-calls.sh | grep -E '^reference mix|^nothing|^MISMATCH'
echo; echo "== pages: server-rendering, memory, weight"
bash docs/bench-site.sh
echo; echo "== screen pop: the PBX's ringing event to the agent's live connection, to the agent's page, to its window.open and to the new tab (Chromium)"
(cd end2end && npx playwright test --config bench/pop.config.ts 2>&1 | grep -E '^screen pop|passed|failed')

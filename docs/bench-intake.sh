#!/usr/bin/env bash
# Benchmark: call events per second through the public intake (release build, SQLite, every
# event stored durably before its 200), under wrk. Each request is one new event of a new call
# (a "ringing" on an unbound extension, so no Zoho work follows). Then the same with redeliveries
# (one event id over and over: 200, nothing stored).
# Bounded: 127.0.0.1 only, 10 s per run, a throwaway database. Usage: make bench-intake
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-3901}
BASE="http://127.0.0.1:$PORT"
SECRET=bench-webhook-secret-0123456789
DIR=$(mktemp -d)
LUA=$(mktemp --suffix .lua)
trap 'kill $PID 2>/dev/null || true; rm -rf "$DIR" "$LUA"' EXIT

HELPDESK_ADDR="127.0.0.1:$PORT" HELPDESK_WEBHOOK_SECRET=$SECRET HELPDESK_ADMIN_PASSWORD=bench-admin-pw \
  DATABASE_URL="sqlite://$DIR/helpdesk.db" RUST_LOG=error LEPTOS_SITE_ROOT=target/site \
  ./target/release/server &
PID=$!
for _ in $(seq 100); do curl -fs "$BASE/healthz" >/dev/null && break; sleep 0.1; done

cat > "$LUA" <<'LUA'
local n = 0
local thread_id = 0
function setup(thread) thread_id = thread_id + 1; thread:set("tid", thread_id) end
request = function()
  n = n + 1
  local id = "bench-" .. tid .. "-" .. n
  local body = '{"event_id":"' .. id .. '","call_id":"' .. id .. '","kind":"ringing",' ..
    '"at":"2026-11-28T09:15:02Z","direction":"inbound","external_number":"+8613800138000",' ..
    '"extension":"9' .. (n % 1000) .. '"}'
  return wrk.format("POST", "/api/pbx/call-events", nil, body)
end
LUA

echo "== new events (stored)"
wrk -t2 -c16 -d10s -s "$LUA" -H "Authorization: Bearer $SECRET" -H "Content-Type: application/json" \
  "$BASE" | grep -E 'Requests/sec|Latency|Non-2xx' || true
echo "== redeliveries (duplicates)"
cat > "$LUA" <<'LUA'
wrk.method = "POST"
wrk.body = '{"event_id":"dup-1","call_id":"dup-1","kind":"ringing","at":"2026-11-28T09:15:02Z","direction":"inbound","external_number":"+8613800138000","extension":"9001"}'
LUA
wrk -t2 -c16 -d10s -s "$LUA" -H "Authorization: Bearer $SECRET" -H "Content-Type: application/json" \
  "$BASE/api/pbx/call-events" | grep -E 'Requests/sec|Latency|Non-2xx' || true
echo "stored calls: $(curl -fs "$BASE/metrics" | grep -E '^helpdesk_call_events_total' || true)"

#!/usr/bin/env bash
# Sends one whole call to the call-event intake, signed like a PBX (for demos and load).
#   docs/simulate-call.sh <base-url> <webhook-secret> <external-number> <extension> [answered|no_answer|busy]
# Example: docs/simulate-call.sh http://127.0.0.1:3000 "$SECRET" +8613800138000 2005 answered
# Needs bash, curl and openssl. Event times are spread over the last minute.
set -euo pipefail
base=${1:?base URL}; secret=${2:?webhook secret}; number=${3:?external number}; ext=${4:?extension}
result=${5:-answered}
call="cli$(date +%s%N | cut -c1-13).$RANDOM"
at() { date -u -d "@$(( $(date +%s) - $1 ))" +%Y-%m-%dT%H:%M:%SZ; }
ev() { # kind seconds-ago [result]
  local r=""; [ -n "${3:-}" ] && r=",\"result\":\"$3\""
  printf '{"event_id":"%s-%s","call_id":"%s","kind":"%s","at":"%s","direction":"inbound","external_number":"%s","extension":"%s"%s}' \
    "$call" "$1" "$call" "$1" "$(at "$2")" "$number" "$ext" "$r"
}
if [ "$result" = answered ]; then
  body="[$(ev ringing 60),$(ev answered 50),$(ev ended 0 answered)]"
else
  body="[$(ev ringing 30),$(ev ended 0 "$result")]"
fi
sig="sha256=$(printf '%s' "$body" | openssl dgst -sha256 -hmac "$secret" -hex | sed 's/^.*= //')"
curl -sS --fail-with-body -X POST "$base/api/pbx/call-events" \
  -H 'Content-Type: application/json' -H "X-Helpdesk-Signature: $sig" --data-binary "$body"
echo "  (call $call)"

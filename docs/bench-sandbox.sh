#!/usr/bin/env bash
# Benchmark: requests per second of the standalone Zoho Desk sandbox (release build) under wrk.
# Bounded: 127.0.0.1 only, 10 s per endpoint. Usage: make bench-sandbox
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-3900}
BASE="http://127.0.0.1:$PORT"
CLIENT=1000.SANDBOXDEMOCLIENT0000000000000
SECRET=sandbox-demo-secret-0123456789abcdef
REDIRECT="$BASE/oauth/zoho/callback"

HELPDESK_ADDR="127.0.0.1:$PORT" RUST_LOG=error ./target/release/server sandbox &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -fs "$BASE/sandbox/control" >/dev/null && break; sleep 0.1; done

enc() { python3 -c 'import sys,urllib.parse;print(urllib.parse.quote(sys.argv[1],safe=""))' "$1"; }
AUTH="$BASE/sandbox/accounts/oauth/v2/auth?response_type=code&client_id=$CLIENT&redirect_uri=$(enc "$REDIRECT")&scope=Desk.basic.READ,Desk.settings.READ,Desk.search.READ,Desk.contacts.READ&access_type=offline"
PAGE=$(curl -fs "$AUTH")
CONSENT=$(sed -n 's/.*name="consent_id" value="\([^"]*\)".*/\1/p' <<<"$PAGE")
# Every organization the consent page offers stays ticked.
ORGS=$(grep -o 'name="org" value="[^"]*"' <<<"$PAGE" | sed 's/.*value="\([^"]*\)"/\&org=\1/' | tr -d '\n')
LOCATION=$(curl -fs -o /dev/null -w '%{redirect_url}' -X POST -d "consent_id=$CONSENT&decision=accept$ORGS" "$BASE/sandbox/accounts/oauth/v2/auth")
CODE=$(python3 -c 'import sys,urllib.parse as u;print(u.parse_qs(u.urlparse(sys.argv[1]).query)["code"][0])' "$LOCATION")
TOKEN=$(curl -fs -X POST "$BASE/sandbox/accounts/oauth/v2/token" \
  -d "grant_type=authorization_code&client_id=$CLIENT&client_secret=$SECRET&redirect_uri=$(enc "$REDIRECT")&code=$CODE" \
  | python3 -c 'import json,sys;print(json.load(sys.stdin)["access_token"])')
ORG=$(curl -fs -H "Authorization: Zoho-oauthtoken $TOKEN" "$BASE/sandbox/desk/api/v1/organizations" \
  | python3 -c 'import json,sys;print(json.load(sys.stdin)["data"][0]["id"])')

for path in "/organizations" "/contacts/search?phone=5503301" "/contacts/search?phone=*8000" "/agents?limit=10"; do
  echo "== GET $path"
  wrk -t2 -c16 -d10s -H "Authorization: Zoho-oauthtoken $TOKEN" -H "orgId: $ORG" \
    "$BASE/sandbox/desk/api/v1$path" | grep -E 'Requests/sec|Latency|Non-2xx' || true
done

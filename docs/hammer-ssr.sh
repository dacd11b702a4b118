#!/usr/bin/env bash
# Loads the server-rendered admin pages many times at once (signed in) and fails if any
# response does not complete: the check for the streamed-SSR stall of docs/decisions.md.
#   HELPDESK_ADMIN_PASSWORD=… docs/hammer-ssr.sh <base-url> [requests=1000] [concurrency=20]
set -euo pipefail
base=${1:?base URL}; n=${2:-1000}; c=${3:-20}
pw=${HELPDESK_ADMIN_PASSWORD:?set HELPDESK_ADMIN_PASSWORD}
jar=$(mktemp); trap 'rm -f "$jar"' EXIT
curl -s -o /dev/null -c "$jar" -b "$jar" -H "Origin: $base" -H 'Accept: application/json' \
  --data-urlencode username=admin --data-urlencode "password=$pw" "$base/api/sign_in"
export base jar
results=$(seq "$n" | xargs -P "$c" -I{} bash -c '
  case $(( {} % 5 )) in 0) p=/integrations/helpdesk;; 1) p=/integrations/helpdesk/log;; 2) p=/pbx/extensions;;
    3) p=/pbx/contacts;; 4) p=/pbx/simulator;; esac
  curl -s -o /dev/null -b "$jar" --max-time 15 -w "%{http_code} $p\n" "$base$p" || echo "STALL $p"')
echo "$results" | sort | uniq -c
! echo "$results" | grep -q -v '^200 '

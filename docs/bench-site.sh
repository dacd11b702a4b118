#!/usr/bin/env bash
# Benchmark: the admin pages' server-rendering time to first byte (signed in, one at a time,
# 200 loads of each), the process's memory idle and after that load, and the bytes a browser
# downloads for a page (release build, SQLite, sandbox on, 127.0.0.1). Usage: make bench-site
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-3903}; N=${N:-200}
BASE="http://127.0.0.1:$PORT"; PW=bench-admin-password
DIR=$(mktemp -d); JAR="$DIR/jar"
trap 'kill $PID 2>/dev/null || true; rm -rf "$DIR"' EXIT
HELPDESK_ADDR="127.0.0.1:$PORT" HELPDESK_SANDBOX=1 HELPDESK_ADMIN_PASSWORD=$PW \
  DATABASE_URL="sqlite://$DIR/helpdesk.db" RUST_LOG=error LEPTOS_SITE_ROOT=target/site \
  ./target/release/server & PID=$!
for _ in $(seq 100); do curl -fs "$BASE/healthz" >/dev/null && break; sleep 0.1; done
sleep 2
rss() { grep VmRSS /proc/$PID/status | awk '{printf "%.1f MB", $2/1024}'; }
echo "RSS idle: $(rss)"
curl -s -o /dev/null -c "$JAR" -b "$JAR" -H "Origin: $BASE" -H 'Accept: application/json' \
  --data-urlencode username=admin --data-urlencode "password=$PW" "$BASE/api/sign_in"
for p in /integrations/helpdesk /integrations/helpdesk/log /pbx/extensions /pbx/connection \
         /pbx/contacts /pbx/simulator; do
  for _ in $(seq "$N"); do
    curl -s -o /dev/null -b "$JAR" -w '%{http_code} %{time_starttransfer}\n' "$BASE$p"
  done > "$DIR/times"
  bad=$(awk '$1 != 200' "$DIR/times" | wc -l)
  awk '{ print $2 * 1000 }' "$DIR/times" | sort -n | awk -v page="$p" -v bad="$bad" '
    { t[NR] = $1 }
    END { p99 = int(NR * 0.99) + 1; if (p99 > NR) p99 = NR
          note = ""; if (bad > 0) note = ", " bad " not 200"
          printf "SSR %-28s %d loads: TTFB median %.1f ms, p99 %.1f ms, max %.1f ms%s\n",
          page, NR, t[int(NR * 0.5) + 1], t[p99], t[NR], note }'
done
echo "RSS after $((N * 6)) page loads: $(rss)"
# What each page makes the browser download besides its HTML: the WASM and JS it names
# (brotli, as the server sends them), and the stylesheet they all share.
PKG=target/site/pkg
kb() { awk -v b="$1" 'BEGIN { printf "%.0f KB", b / 1000 }'; }
br() { if [ -f "target/site$1.br" ]; then stat -c %s "target/site$1.br"; else stat -c %s "target/site$1"; fi; }
css=$(ls $PKG/*.css | head -1)
echo "stylesheet (every page): $(kb "$(stat -c %s "$css")") raw, $(kb "$(stat -c %s "$css.br")") brotli"
for p in /login "/oauth/zoho/callback?state=bench" /integrations/helpdesk /integrations/helpdesk/log \
         /pbx/connection /pbx/extensions /pbx/contacts /pbx/simulator /agent; do
  wasm=0; js=0
  html=$(curl -s -b "$JAR" "$BASE$p")
  for f in $(printf '%s' "$html" | grep -oE '/pkg/[A-Za-z0-9_.-]+\.(wasm|js)' | sort -u); do
    case $f in *.wasm) wasm=$((wasm + $(br "$f")));; *) js=$((js + $(br "$f")));; esac
  done
  # The scripts written into the page itself (the plain pages' few lines, Leptos's hydration
  # data), gzipped as the page travels (no brotli tool here: gzip is the larger of the two).
  inline=$(printf '%s' "$html" | python3 -c 'import re,sys; print("".join(re.findall(r"<script[^>]*>(.*?)</script>", sys.stdin.read(), re.S)), end="")' | gzip -9 | wc -c)
  printf 'page weight %-28s WASM %s + JS %s brotli = %s (+ %s of inline script, gzip)\n' "${p%%\?*}" "$(kb $wasm)" "$(kb $js)" "$(kb $((wasm + js)))" "$(kb $inline)"
done

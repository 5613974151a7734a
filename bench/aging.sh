#!/usr/bin/env bash
# The aging benchmark (issue 15): finance's receivables aging page over 1,000 accounts × 50 open
# invoices (50,000 open invoices, every bucket filled, 100 unapplied payments), over HTTP, signed in
# as the demo's finance user. Prints requests/s and p50/p99 for the page (one client, then 4), the
# CSV of every account, and one account's statement.
#
#   bench/aging.sh sqlite      # seeds /tmp/portico-aging.db (demo + `--scale aging`), then measures
#   bench/aging.sh postgres    # seeds database portico_aging on 127.0.0.1:5432, then measures
#   SCALE=large bench/aging.sh …  # on the full large dataset (100k products, 1M prices) plus the invoices
#   PORTICO_BIN=target/debug/portico bench/aging.sh …  # measure that binary (no release build)
set -euo pipefail
cd "$(dirname "$0")/.."
BACKEND="${1:-sqlite}"
DURATION="${DURATION:-10s}"
SCALE="${SCALE:-aging}"
BIN="${PORTICO_BIN:-${CARGO_TARGET_DIR:-target}/release/portico}"
command -v wrk >/dev/null || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk; }
[ -n "${PORTICO_BIN:-}" ] || cargo build --release --quiet

case "$BACKEND" in
  sqlite)
    FILE=/tmp/portico-aging-$SCALE.db
    URL="sqlite://$FILE"
    if [ -n "${RESEED:-}" ] || [ ! -f "$FILE" ]; then
      rm -f "$FILE" "$FILE-wal" "$FILE-shm"
      "$BIN" demo --scale "$SCALE" --no-serve --database-url "$URL" >/dev/null
    fi ;;
  postgres)
    ADMIN=postgres://postgres@127.0.0.1:5432/postgres
    DB=portico_aging_$SCALE
    URL=postgres://postgres@127.0.0.1:5432/$DB
    if [ -n "${RESEED:-}" ] || ! psql "$ADMIN" -tAc "SELECT 1 FROM pg_database WHERE datname='$DB'" | grep -q 1; then
      psql "$ADMIN" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
      "$BIN" demo --scale "$SCALE" --no-serve --database-url "$URL" >/dev/null
    fi ;;
  *) echo "usage: $0 sqlite|postgres" >&2; exit 2 ;;
esac

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
PORTICO_LOG=warn "$BIN" serve --database-url "$URL" --bind "127.0.0.1:$PORT" &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
BASE="http://127.0.0.1:$PORT"

JAR=$(mktemp)
TOKEN=$(curl -s -c "$JAR" "$BASE/login" | sed -n 's/.*name="csrf-token" content="\([0-9a-f]*\)".*/\1/p')
curl -s -b "$JAR" -c "$JAR" -o /dev/null --data-urlencode "_csrf=$TOKEN" --data-urlencode "email=fiona.walsh@meridian-supply.example" \
  --data-urlencode "password=meridian-demo-2026" "$BASE/login"
SESSION=$(awk '$6=="portico_session"{print $7}' "$JAR")
[ -n "$SESSION" ] || { echo "sign-in failed" >&2; exit 1; }
COOKIE="Cookie: portico_session=$SESSION"
PAGE=$(curl -s -H "$COOKIE" "$BASE/finance/aging")
echo "backend=$BACKEND scale=$SCALE  /finance/aging: $(echo "$PAGE" | wc -c) bytes, $(echo "$PAGE" | grep -o '[0-9,]* accounts* with open items' | head -1), rows on the page: $(echo "$PAGE" | grep -c 'data-account=')"
echo "open invoices: $(curl -s -H "$COOKIE" "$BASE/finance/aging/csv" | tail -1)"
ACCOUNT=$(echo "$PAGE" | grep -o '/accounts/[0-9a-f-]*/statement' | sed -n 1p || true)

run() {
  local label=$1 path=$2 clients=$3
  echo "--- $label ($path), wrk -t1 -c$clients -d$DURATION"
  wrk -t1 -c"$clients" -d"$DURATION" --latency -H "$COOKIE" "$BASE$path" | grep -E 'Requests/sec|^ +50%|^ +99%|Non-2xx|Socket errors'
}
run "aging page, one client" "/finance/aging" 1
run "aging page, 4 clients" "/finance/aging" 4
run "aging CSV (every account)" "/finance/aging/csv" 1
run "one account's statement" "$ACCOUNT" 1
echo "server peak RSS: $(grep VmHWM /proc/$PID/status | awk '{print $2/1024 " MB"}')"

#!/usr/bin/env bash
# Benchmarks on the large dataset (100k products, 1,000 accounts, 1M contract prices), with wrk:
# a signed-in buyer's catalog page (50 products with their prices and stock) at concurrency 16,
# catalog search, a 500-line price quote, order placement (10 random lines per order, through the
# API and the full pipeline: visibility, rules, pricing, reservation, audit, outbox) at
# concurrency 16, and a 500-line quick-order paste. Prints requests/s, p50/p99 latency and the
# server's peak RSS.
#
#   bench/run.sh sqlite      # seeds /tmp/portico-bench.db once (minutes; kept as .seeded, and
#                            # every run starts from that copy), then measures
#   bench/run.sh postgres    # seeds database portico_bench on 127.0.0.1:5432 once, then measures
#   RESEED=1 bench/run.sh …  # start from a fresh dataset
#   ONLY=orders bench/run.sh … # only order placement and quick order (ONLY=catalog: only the rest)
#   WORKER=0 bench/run.sh …  # the server without its outbox worker (`serve --no-worker`): what
#                            # the worker's deliveries and counting cost placement
#   PORTICO_BIN=/path/to/portico bench/run.sh … # measure that binary (e.g. an earlier commit's
#                            # release build, for before/after figures in one session); it skips
#                            # the build and the in-process timing of this tree
# The orders part ends with benches/quick_order.rs: parse + price + validate of the same 500-line
# paste, and a 500-line quote, timed in-process (the server time the targets speak of).
set -euo pipefail
cd "$(dirname "$0")/.."
BACKEND="${1:-sqlite}"
DURATION="${DURATION:-15s}"
BIN="${PORTICO_BIN:-target/release/portico}"
command -v wrk >/dev/null || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk; }
[ -n "${PORTICO_BIN:-}" ] || cargo build --release --quiet

case "$BACKEND" in
  sqlite)
    FILE=/tmp/portico-bench.db
    URL="sqlite://$FILE"
    if [ -n "${RESEED:-}" ] || [ ! -f "$FILE" ] || [ ! -f "$FILE.seeded" ]; then
      "$BIN" demo --scale large --no-serve --database-url "$URL" >/dev/null
      # The database is two files: the file and its rollup file (who buys what, store::rollup).
      cp "$FILE" "$FILE.seeded"
      cp "$FILE-rollup" "$FILE.seeded-rollup"
    fi
    # Every run starts from the freshly seeded data: the orders earlier runs placed made later runs
    # slower and the figures hard to compare. (Without a seeded rollup file, from before there
    # was one, the migrations fill it from the orders.)
    rm -f "$FILE-wal" "$FILE-shm" "$FILE-rollup" "$FILE-rollup-wal" "$FILE-rollup-shm"
    cp "$FILE.seeded" "$FILE"
    if [ -f "$FILE.seeded-rollup" ]; then cp "$FILE.seeded-rollup" "$FILE-rollup"; fi
    # Written to disk now, not by the kernel's writeback in the middle of a run (its ~480 MB
    # competed with the log's fsyncs: p99 jumped to 255–383 ms in two runs of about eight).
    sync "$FILE" "$FILE-rollup" ;;
  postgres)
    ADMIN=postgres://postgres@127.0.0.1:5432/postgres
    URL=postgres://postgres@127.0.0.1:5432/portico_bench
    if [ -n "${RESEED:-}" ] || ! psql "$ADMIN" -tAc "SELECT 1 FROM pg_database WHERE datname='portico_bench'" | grep -q 1; then
      psql "$ADMIN" -qc "DROP DATABASE IF EXISTS portico_bench WITH (FORCE)" -c "CREATE DATABASE portico_bench"
      "$BIN" demo --scale large --no-serve --database-url "$URL" >/dev/null
    fi ;;
  *) echo "usage: $0 sqlite|postgres" >&2; exit 2 ;;
esac

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
NO_WORKER=""
[ "${WORKER:-1}" = 0 ] && NO_WORKER="--no-worker"
PORTICO_LOG=warn "$BIN" serve $NO_WORKER --database-url "$URL" --bind "127.0.0.1:$PORT" &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done

# Sign in as benchmark buyer 7 through the real form.
JAR=$(mktemp)
TOKEN=$(curl -s -c "$JAR" "http://127.0.0.1:$PORT/login" | sed -n 's/.*name="csrf-token" content="\([0-9a-f]*\)".*/\1/p')
curl -s -b "$JAR" -c "$JAR" -o /dev/null --data-urlencode "_csrf=$TOKEN" --data-urlencode "email=buyer7@scale.example" \
  --data-urlencode "password=meridian-demo-2026" "http://127.0.0.1:$PORT/login"
SESSION=$(awk '$6=="portico_session"{print $7}' "$JAR")
[ -n "$SESSION" ] || { echo "sign-in failed" >&2; exit 1; }
COOKIE="Cookie: portico_session=$SESSION"
PAGE_BYTES=$(curl -s -H "$COOKIE" "http://127.0.0.1:$PORT/portal/catalog" | wc -c)
ROWS=$(curl -s -H "$COOKIE" "http://127.0.0.1:$PORT/portal/catalog" | grep -c 'class="price"' || true)
echo "backend=$BACKEND  page=/portal/catalog  bytes=$PAGE_BYTES  priced rows=$ROWS"

run() {
  local label=$1 path=$2
  echo "--- $label ($path), wrk -t2 -c16 -d$DURATION"
  wrk -t2 -c16 -d"$DURATION" --latency -H "$COOKIE" "http://127.0.0.1:$PORT$path" \
    | grep -E 'Requests/sec|^ +50%|^ +99%|Non-2xx|Socket errors'
}
part() { [ -z "${ONLY:-}" ] || [ "$ONLY" = "$1" ]; }
if part catalog; then
run "catalog page 1" "/portal/catalog"
CATEGORY=$(curl -s -H "$COOKIE" "http://127.0.0.1:$PORT/portal/catalog" | grep -o 'catalog?category=[0-9a-f-]*' | sed -n 5p)
run "catalog category page" "/portal/$CATEGORY"
run "catalog search" "/portal/catalog?q=nitrile+gloves+0001"
fi
# Batch price quote: 500 lines for one account through the API, as an integration token.
BASE="http://127.0.0.1:$PORT"
AJAR=$(mktemp)
T=$(curl -s -c "$AJAR" "$BASE/login" | sed -n 's/.*name="csrf-token" content="\([0-9a-f]*\)".*/\1/p')
curl -s -b "$AJAR" -c "$AJAR" -o /dev/null --data-urlencode "_csrf=$T" --data-urlencode "email=admin@meridian-supply.example" \
  --data-urlencode "password=meridian-demo-2026" "$BASE/login"
T=$(curl -s -b "$AJAR" "$BASE/admin/api-tokens" | sed -n 's/.*name="csrf-token" content="\([0-9a-f]*\)".*/\1/p')
API_TOKEN=$(curl -s -b "$AJAR" --data-urlencode "_csrf=$T" --data-urlencode "name=bench $(date +%s)" --data-urlencode "scope_pricing:read=1" \
  "$BASE/admin/api-tokens" | grep -o 'pt_[0-9a-f]*' | head -1)
[ -n "$API_TOKEN" ] || { echo "could not create an API token" >&2; exit 1; }
if part catalog; then
QUOTE=$(mktemp)
python3 -c 'import json; print(json.dumps({"lines": [{"sku": "SKU-%06d" % (i * 199 % 100000), "quantity": 1 + i % 60} for i in range(500)]}))' > "$QUOTE"
LUA=$(mktemp --suffix=.lua)
cat > "$LUA" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $API_TOKEN"
local f = io.open("$QUOTE", "r"); wrk.body = f:read("*a"); f:close()
LUA
PRICED=$(curl -s -X POST -H "Authorization: Bearer $API_TOKEN" -H "Content-Type: application/json" --data @"$QUOTE" \
  "$BASE/api/v1/accounts/S-00007/price-quote" | grep -o '"unit_price":"' | wc -l)
echo "--- price quote, 500 lines for account S-00007 ($PRICED priced), one client: wrk -t1 -c1 -d$DURATION"
wrk -t1 -c1 -d"$DURATION" --latency -s "$LUA" "$BASE/api/v1/accounts/S-00007/price-quote" | grep -E 'Requests/sec|^ +50%|^ +99%|Non-2xx'
fi

if part orders; then
# Order placement: every request is a new 10-line order of random SKUs (quantity 1) for S-00007.
T=$(curl -s -b "$AJAR" "$BASE/admin/api-tokens" | sed -n 's/.*name="csrf-token" content="\([0-9a-f]*\)".*/\1/p')
ORDER_TOKEN=$(curl -s -b "$AJAR" --data-urlencode "_csrf=$T" --data-urlencode "name=bench orders $(date +%s)" --data-urlencode "scope_orders:write=1" \
  "$BASE/admin/api-tokens" | grep -o 'pt_[0-9a-f]*' | head -1)
[ -n "$ORDER_TOKEN" ] || { echo "could not create an orders API token" >&2; exit 1; }
OLUA=$(mktemp --suffix=.lua)
cat > "$OLUA" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $ORDER_TOKEN"
request = function()
  local lines = {}
  for i = 1, 10 do lines[i] = string.format('{"sku":"SKU-%06d","quantity":1}', math.random(0, 99999)) end
  return wrk.format(nil, nil, nil, '{"account":"S-00007","lines":[' .. table.concat(lines, ",") .. ']}')
end
LUA
echo "--- order placement, 10 lines each, API, wrk -t2 -c16 -d$DURATION"
wrk -t2 -c16 -d"$DURATION" --latency -s "$OLUA" "$BASE/api/v1/orders" | grep -E 'Requests/sec|^ +50%|^ +99%|Non-2xx|Socket errors'

# Quick order: a 500-line paste (valid SKUs, some repeated) by the signed-in buyer.
CSRF=$(curl -s -H "$COOKIE" "$BASE/portal/quick-order" | sed -n 's/.*name="csrf-token" content="\([0-9a-f]*\)".*/\1/p')
PASTE=$(mktemp)
python3 -c 'import urllib.parse,sys; print(urllib.parse.urlencode({"_csrf": sys.argv[1], "lines": "\n".join("SKU-%06d\t%d" % (i * 997 % 100000, 1 + i % 5) for i in range(500))}), end="")' "$CSRF" > "$PASTE"
QLUA=$(mktemp --suffix=.lua)
cat > "$QLUA" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Origin"] = "$BASE"
local f = io.open("$PASTE", "r"); wrk.body = f:read("*a"); f:close()
LUA
ADDED=$(curl -s -H "$COOKIE" -H "Origin: $BASE" -H "Content-Type: application/x-www-form-urlencoded" --data @"$PASTE" "$BASE/portal/quick-order" | grep -o '[0-9]* lines added' | head -1)
echo "--- quick order, 500 pasted lines ($ADDED), one client: wrk -t1 -c1 -d$DURATION"
wrk -t1 -c1 -d"$DURATION" --latency -H "$COOKIE" -s "$QLUA" "$BASE/portal/quick-order" | grep -E 'Requests/sec|^ +50%|^ +99%|Non-2xx'
fi
if part orders && [ -z "${PORTICO_BIN:-}" ]; then
echo "--- server time without HTTP or rendering (cargo bench --bench quick_order)"
PORTICO_BENCH_URL="$URL" cargo bench --quiet --bench quick_order 2>/dev/null | grep -E 'p50|priced'
fi
echo "server peak RSS: $(grep VmHWM /proc/$PID/status | awk '{print $2/1024 " MB"}')  now: $(grep -E 'RssAnon|RssFile' /proc/$PID/status | awk '{printf "%s %.0f MB  ", $1, $2/1024}')(RssFile is the memory-mapped database, shared with the OS page cache)"

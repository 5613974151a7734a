#!/usr/bin/env bash
# Browser end-to-end tests for Portico.
#
# Starts `portico demo` on a free port with a fresh temporary SQLite file, waits for /healthz,
# runs tests/*.test.mjs with node's test runner (playwright-core driving the system Chromium),
# always stops the server, and exits with the tests' status.
#
# Builds nothing: point PORTICO_BIN at a built binary (default: ../target/debug/portico).
# Extra arguments go to `node --test`, e.g. `./run.sh --test-name-pattern=admin`.
# Screenshots land in e2e/screenshots/, the server log in e2e/test-results/server.log.
set -euo pipefail

E2E_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$E2E_DIR"

PORTICO_BIN="${PORTICO_BIN:-../target/debug/portico}"
CHROMIUM_BIN="${CHROMIUM_BIN:-/usr/bin/chromium}"
export CHROMIUM_BIN

if [[ ! -x "$PORTICO_BIN" ]]; then
  echo "run.sh: no portico binary at $PORTICO_BIN (build it with 'cargo build' or set PORTICO_BIN)" >&2
  exit 2
fi
PORTICO_BIN="$(cd "$(dirname "$PORTICO_BIN")" && pwd)/$(basename "$PORTICO_BIN")"

if [[ ! -x "$CHROMIUM_BIN" ]]; then
  echo "run.sh: installing chromium" >&2
  SUDO=""
  if [[ "$(id -u)" != 0 ]]; then SUDO="sudo"; fi
  $SUDO apt-get update -q
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium
fi

if [[ ! -d node_modules/playwright-core || ! -d node_modules/axe-core ]]; then
  if [[ -f package-lock.json ]]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
fi

# A free TCP port on the loopback interface (the OS picks it).
PORT="${PORTICO_E2E_PORT:-$(node -e '
  const s = require("net").createServer();
  s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });
')}"
BASE_URL="http://127.0.0.1:$PORT"

WORK_DIR="$(mktemp -d "${TMPDIR:-/tmp}/portico-e2e.XXXXXX")"
mkdir -p test-results screenshots
SERVER_LOG="$E2E_DIR/test-results/server.log"
SERVER_PID=""

cleanup() {
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Run from the temp dir so nothing the server writes lands in the repository.
(
  cd "$WORK_DIR"
  # The webhooks test receives deliveries on the loopback address, which is refused by default.
  PORTICO_WEBHOOKS_ALLOW_NETWORKS=127.0.0.1/32 exec "$PORTICO_BIN" demo --database-url "sqlite://$WORK_DIR/demo.db" --bind "127.0.0.1:$PORT"
) >"$SERVER_LOG" 2>&1 &
SERVER_PID=$!

ready=""
for _ in $(seq 1 150); do
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "run.sh: the demo server exited early; its log:" >&2
    cat "$SERVER_LOG" >&2
    exit 1
  fi
  if node -e '
    fetch(process.argv[1]).then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1));
  ' "$BASE_URL/healthz" 2>/dev/null; then
    ready=1
    break
  fi
  sleep 0.2
done
if [[ -z "$ready" ]]; then
  echo "run.sh: $BASE_URL/healthz did not answer within 30 s; server log:" >&2
  cat "$SERVER_LOG" >&2
  exit 1
fi
echo "run.sh: demo server up at $BASE_URL (pid $SERVER_PID)"

status=0
# PORTICO_BIN lets a test start its own server (seller-setup runs `portico serve` on an empty database).
PORTICO_BIN="$PORTICO_BIN" PORTICO_URL="$BASE_URL" PORTICO_SERVER_LOG="$SERVER_LOG" node --test --test-concurrency=1 --test-timeout=90000 "$@" tests/*.test.mjs || status=$?
if [[ $status -ne 0 ]]; then
  echo "run.sh: tests failed (status $status); server log: $SERVER_LOG" >&2
fi
exit "$status"

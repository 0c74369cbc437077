#!/usr/bin/env bash
# npm test: every test. Unit and integration tests (vitest, on SQLite and a throwaway PostgreSQL
# started here for the whole run), then a production build and the browser tests (Playwright on
# Debian's Chromium, installed here with apt-get when missing).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x node_modules/.bin/next ]; then
  echo "Installing dependencies (npm ci)..."
  npm ci --no-audit --no-fund
fi

CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ ! -x "$CHROMIUM" ]; then
  echo "Installing Chromium for the browser tests (apt-get)..."
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

# One throwaway PostgreSQL for the whole run (vitest's suites on both dialects make databases of
# their own in it; Playwright's later). TEST_DATABASE_URL set by the caller (a superuser's URL)
# means an existing server is used instead. The server reads its standard input from this shell:
# it stops on the trap below, and also when this shell dies without running it.
if [ -z "${TEST_DATABASE_URL:-}" ]; then
  echo "== a throwaway PostgreSQL for the tests"
  coproc THROWAWAY_PG { exec node --import tsx scripts/throwaway-postgres-cli.ts; }
  # Bash forgets a coproc's pid and pipe once it exits: keep both.
  THROWAWAY_PG_PROCESS=$THROWAWAY_PG_PID
  exec {THROWAWAY_PG_OUT}<&"${THROWAWAY_PG[0]}"
  trap 'kill "$THROWAWAY_PG_PROCESS" 2>/dev/null || true; wait "$THROWAWAY_PG_PROCESS" 2>/dev/null || true' EXIT
  while :; do
    if ! IFS= read -r -t 600 line <&"$THROWAWAY_PG_OUT"; then
      echo "The throwaway PostgreSQL did not start (see above)." >&2
      exit 1
    fi
    case "$line" in
      postgres://*) TEST_DATABASE_URL="$line"; break ;;
      *) echo "$line" >&2 ;;
    esac
  done
fi
export TEST_DATABASE_URL
export E2E_DATABASE_URL="${E2E_DATABASE_URL:-$TEST_DATABASE_URL}"

# Each stage says how long it took (the README quotes these).
stage() {
  local name="$1"
  shift
  echo "== $name"
  local started=$SECONDS
  "$@"
  echo "== $name: $((SECONDS - started)) s"
}

stage "type check" npx tsc --noEmit -p .
stage "unit and integration tests (vitest)" npx vitest run
stage "production build" env NEXT_TELEMETRY_DISABLED=1 npx next build
stage "browser tests (playwright, $CHROMIUM)" env CHROMIUM_PATH="$CHROMIUM" npx playwright test

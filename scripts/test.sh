#!/usr/bin/env bash
# npm test: every test. Unit and integration tests (vitest), then a production build and the
# browser tests (Playwright on Debian's Chromium, installed here with apt-get when missing).
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

echo "== type check"
npx tsc --noEmit -p .

echo "== unit and integration tests (vitest)"
npx vitest run

echo "== production build"
NEXT_TELEMETRY_DISABLED=1 npx next build

echo "== browser tests (playwright, $CHROMIUM)"
CHROMIUM_PATH="$CHROMIUM" npx playwright test

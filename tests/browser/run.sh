#!/usr/bin/env bash
# Hearth's real-browser checks (issue #3): XSS corpus, axe-core WCAG 2.2 A/AA, keyboard.
# Run from anywhere: bash tests/browser/run.sh. Needs Debian's chromium at /usr/bin/chromium
# (or HEARTH_CHROMIUM), Node.js 20+, and target/debug/hearth (or HEARTH_BIN).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
chromium="${HEARTH_CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$chromium" ]; then
  echo "Chromium not found at $chromium: install Debian's package first (apt-get install -y chromium)."
  echo "The browser that npm's playwright would download does not work here; do not run 'npx playwright install'."
  echo "0 passed, 1 failed"
  exit 1
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "node and npm are needed for the browser checks."
  echo "0 passed, 1 failed"
  exit 1
fi
cd "$here"
# Never let npm's playwright try to download a browser of its own.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
npm ci --no-audit --no-fund
exec node run.mjs

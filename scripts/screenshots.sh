#!/bin/sh
# Regenerate docs/screenshots/verify-<language>-<width>.png: the hosted page in English,
# French and Arabic at 390 px (a phone) and 1366 px (a laptop), taken in headless Chromium
# by tests/e2e/test_pages_browser.py against a real server.
set -eu
cd "$(dirname "$0")/.."
REVERSE_OTP_SCREENSHOTS="$PWD/docs/screenshots" \
  .venv/bin/pytest -q -p no:cacheprovider tests/e2e/test_pages_browser.py -k screenshots "$@"

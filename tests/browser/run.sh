#!/bin/sh
# Runs the verification page's browser tests (page.test.mjs) with Node's test runner.
# Usage: run.sh PATH_TO_GOVCHAIN. Needs Debian's chromium and playwright-core, which
# `make deps` installs (apt-get, then npm ci here); a missing one fails the test with a
# clear message rather than skipping it.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
govchain=$1
chromium=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$chromium" ]; then
    echo "browser tests: $chromium is missing (apt-get install chromium, or make deps)" >&2
    exit 1
fi
if [ ! -d "$here/node_modules/playwright-core" ]; then
    echo "browser tests: playwright-core is missing (cd tests/browser && npm ci, or make deps)" >&2
    exit 1
fi
cd "$here"
GOVCHAIN=$govchain CHROMIUM=$chromium exec node --test --test-concurrency=1 page.test.mjs

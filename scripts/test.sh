#!/usr/bin/env bash
# `npm test`: bootstrap, static checks, then mocha against a private stack (its own ports and a
# temporary data directory, started by test/setup/global-stack.ts), so a running dev stack is untouched.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
# The admin page's browser tests need Debian's chromium (installed once; npm run dev does not).
bash scripts/ensure-chromium.sh
npx eslint .
npx prettier --check . --log-level warn
# The whole suite unless a test file is named: mocha adds a config file's `spec` to the files given
# on the command line, so the glob lives here and `npx mocha dist/test/x.test.js` runs just that file.
spec_given=false
for arg in "$@"; do case "$arg" in *.js) spec_given=true ;; esac; done
$spec_given || set -- "$@" 'dist/test/**/*.test.js'
npx mocha "$@"

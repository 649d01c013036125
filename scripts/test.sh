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
npx mocha "$@"

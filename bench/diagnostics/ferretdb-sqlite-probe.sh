#!/usr/bin/env bash
# Builds a diagnostic FerretDB: the bootstrap's build (scripts/build-ferretdb.sh, the same version
# and patches) with its SQLite instrumented by instrument-sqlite.py (busy-handler sleeps per second,
# WAL checkpoint durations, written to $FERRETDB_PROBE_DIR, default /tmp). Never installed by the
# project. To measure with it, copy the binary over .tools/bin/ferretdb for the run; to go back,
# delete .tools/bin/.ferretdb-stamp and run `bash scripts/bootstrap.sh` (the stamp alone would still
# say the right build is there).
#
#   bash bench/diagnostics/ferretdb-sqlite-probe.sh <output binary> [--without-write-queue]
#
# How the write-queue patch was measured (README, "Why FerretDB is patched for speed").
set -euo pipefail
here=$(dirname "$0")
bash "$here/../../scripts/build-ferretdb.sh" "$@" --sqlite-hook "$here/instrument-sqlite.py"
echo "probes write to \${FERRETDB_PROBE_DIR:-/tmp}/busy.log and checkpoint.log"

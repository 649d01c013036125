#!/usr/bin/env bash
# Builds a diagnostic FerretDB: the bootstrap's build (the same version and patches) with its SQLite
# instrumented by instrument-sqlite.py (busy-handler sleeps per second, WAL checkpoint durations,
# written to $FERRETDB_PROBE_DIR, default /tmp). Never installed by the project. To measure with it,
# copy the binary over .tools/bin/ferretdb for the run; to go back, delete .tools/bin/.ferretdb-stamp
# and run `bash scripts/bootstrap.sh` (the stamp alone would still say the right build is there).
#
#   bash bench/diagnostics/ferretdb-sqlite-probe.sh <output binary> [--without-write-queue]
#
# How the write-queue patch was measured (README, "Why FerretDB is patched for speed").
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$(realpath -m "$1")
without_write_queue=${2:-}
version=v1.24.2
export GOTOOLCHAIN=local GOFLAGS=-mod=mod
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
module_dir() { go mod download -json "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])'; }
cp -r "$(module_dir "github.com/FerretDB/FerretDB@${version}")" "$work/ferretdb"
chmod -R u+w "$work/ferretdb"
echo "$version" > "$work/ferretdb/build/version/version.txt"
python3 - "$work/ferretdb/internal/backends/sqlite/metadata/metadata.go" <<'PY'
import sys
path = sys.argv[1]
text = open(path).read()
old = "IDColumn = DefaultColumn + \"->'$._id'\""
assert text.count(old) == 1, "the _id patch does not apply"
open(path, "w").write(text.replace(old, "IDColumn = DefaultColumn + \"->'_id'\""))
PY
repo=$PWD
(cd "$work/ferretdb" && git apply "$repo/scripts/ferretdb-pushdown.patch")
[ "$without_write_queue" = --without-write-queue ] ||
  (cd "$work/ferretdb" && git apply "$repo/scripts/ferretdb-write-queue.patch")
libc=$(cd "$work/ferretdb" && go list -m -f '{{.Version}}' modernc.org/libc)
sqlite=$(cd "$work/ferretdb" && go list -m -f '{{.Version}}' modernc.org/sqlite)
cp -r "$(module_dir "modernc.org/libc@${libc}")" "$work/modernc-libc"
cp -r "$(module_dir "modernc.org/sqlite@${sqlite}")" "$work/modernc-sqlite"
chmod -R u+w "$work/modernc-libc" "$work/modernc-sqlite"
python3 scripts/patch-sqlite-memops.py "$work/modernc-libc"
python3 bench/diagnostics/instrument-sqlite.py "$work/modernc-sqlite"
(cd "$work/ferretdb" &&
  go mod edit -replace modernc.org/libc=../modernc-libc -replace modernc.org/sqlite=../modernc-sqlite &&
  go build -trimpath -o "$out" ./cmd/ferretdb)
echo "built $out (probes write to \${FERRETDB_PROBE_DIR:-/tmp}/busy.log and checkpoint.log)"

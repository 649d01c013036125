#!/usr/bin/env bash
# Installs what the production-shape stack needs on top of scripts/bootstrap.sh, idempotently and
# fast when already there (stamp files under .tools/):
#   PostgreSQL 15 (Debian package, apt-get when missing), temporal-server and its SQL schema tool
#   v1.28.1 (the version docker-compose.yml runs) and the Temporal UI server, all built from the Go
#   module proxy into .tools/bin; the PostgreSQL schemas are copied out of the server module into
#   .tools/temporal-schema so nothing reads Go's module cache at run time.
#   Used by `npm run stack:prod` and `npm run test:prod` (src/stack/prod-stack.ts).
#
#   bash scripts/bootstrap-prod.sh --check   only prints what a run would install or build
set -euo pipefail
cd "$(dirname "$0")/.."

# Keep in step with docker-compose.yml (test/compose-file.test.ts checks both against
# src/stack/prod-settings.ts, where these versions are repeated for the TypeScript side).
TEMPORAL_SERVER_VERSION=v1.28.1
TEMPORAL_UI_VERSION=v2.39.0
POSTGRES_MAJOR=15
PG_BIN=/usr/lib/postgresql/${POSTGRES_MAJOR}/bin

say() { printf '[bootstrap-prod] %s\n' "$*" >&2; }

# Same rule as bootstrap.sh: decisions read stamp files, never `tool --version | grep -q` pipelines.
stamp_is() { [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; }
postgres_needed() { [ ! -x "$PG_BIN/postgres" ] || [ ! -x "$PG_BIN/initdb" ] || [ ! -x "$PG_BIN/pg_ctl" ]; }
server_needed() {
  ! stamp_is .tools/bin/.temporal-server-stamp "$TEMPORAL_SERVER_VERSION" ||
    [ ! -x .tools/bin/temporal-server ] || [ ! -x .tools/bin/temporal-sql-tool ] ||
    [ ! -d .tools/temporal-schema/postgresql/v12/temporal/versioned ]
}
ui_needed() { ! stamp_is .tools/bin/.temporal-ui-stamp "$TEMPORAL_UI_VERSION" || [ ! -x .tools/bin/temporal-ui-server ]; }

if [ "${1:-}" = "--check" ]; then
  bash scripts/bootstrap.sh --check
  decide() { if "$1"; then say "would $2"; else say "up to date: $3"; fi; }
  decide postgres_needed "apt-get install postgresql-${POSTGRES_MAJOR}" "PostgreSQL ${POSTGRES_MAJOR}"
  decide server_needed "build temporal-server ${TEMPORAL_SERVER_VERSION} and its sql tool" "temporal-server"
  decide ui_needed "build the Temporal UI server ${TEMPORAL_UI_VERSION}" "Temporal UI server"
  exit 0
fi

bash scripts/bootstrap.sh

mkdir -p .tools/bin
exec 8>.tools/.bootstrap-prod.lock
if ! flock -n 8; then
  say "another bootstrap-prod is running; waiting for it"
  flock 8
fi

# --- PostgreSQL ---------------------------------------------------------------------------------
if postgres_needed; then
  if [ "$(id -u)" != 0 ]; then
    say "PostgreSQL ${POSTGRES_MAJOR} is missing ($PG_BIN/postgres); install it: sudo apt-get install -y postgresql-${POSTGRES_MAJOR}"
    exit 1
  fi
  say "installing PostgreSQL ${POSTGRES_MAJOR} (apt-get)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "postgresql-${POSTGRES_MAJOR}" >/dev/null ||
    { apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "postgresql-${POSTGRES_MAJOR}" >/dev/null; }
  postgres_needed && { say "PostgreSQL installed but $PG_BIN/postgres is still missing"; exit 1; }
fi
# PostgreSQL refuses to run as root: the stack runs it as this user (Debian's package creates it).
if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
  say "running as root but there is no 'postgres' user to run PostgreSQL as (the Debian package creates it)"
  exit 1
fi

# --- Go builds ------------------------------------------------------------------------------------
export GOTOOLCHAIN=local GOFLAGS=-mod=mod
# `go install` names binaries after their package directory (server, sql): build into a scratch
# GOBIN and move them to names that say what they are.
go_install() { # <package@version> <target name>
  local scratch
  scratch=$(mktemp -d)
  GOBIN="$scratch" go install -trimpath "$1"
  mv "$scratch/$(basename "${1%@*}")" ".tools/bin/$2"
  rm -rf "$scratch"
}

if server_needed; then
  say "building temporal-server ${TEMPORAL_SERVER_VERSION} and its sql tool into .tools/bin (about 3-10 minutes cold)"
  rm -f .tools/bin/.temporal-server-stamp
  go_install "go.temporal.io/server/cmd/server@${TEMPORAL_SERVER_VERSION}" temporal-server
  go_install "go.temporal.io/server/cmd/tools/sql@${TEMPORAL_SERVER_VERSION}" temporal-sql-tool
  module_dir=$(go mod download -json "go.temporal.io/server@${TEMPORAL_SERVER_VERSION}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
  rm -rf .tools/temporal-schema
  mkdir -p .tools/temporal-schema/postgresql
  cp -r "$module_dir/schema/postgresql/v12" .tools/temporal-schema/postgresql/v12
  chmod -R u+w .tools/temporal-schema
  .tools/bin/temporal-server --help >/dev/null
  echo "$TEMPORAL_SERVER_VERSION" > .tools/bin/.temporal-server-stamp
fi

if ui_needed; then
  say "building the Temporal UI server ${TEMPORAL_UI_VERSION} into .tools/bin (about a minute cold)"
  rm -f .tools/bin/.temporal-ui-stamp
  go_install "github.com/temporalio/ui-server/v2/cmd/server@${TEMPORAL_UI_VERSION}" temporal-ui-server
  echo "$TEMPORAL_UI_VERSION" > .tools/bin/.temporal-ui-stamp
fi

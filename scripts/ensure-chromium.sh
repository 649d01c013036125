#!/usr/bin/env bash
# The admin page's browser tests drive Debian's chromium with playwright-core (the npm package,
# which downloads no browser). Installs chromium when it is missing; instant when it is there.
# `npm test` runs this; `npm run dev` does not need a browser.
set -euo pipefail
if [[ -n "${CHROMIUM_PATH:-}" && -x "${CHROMIUM_PATH}" ]] || command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if [[ "$(id -u)" != "0" ]]; then
  echo "ensure-chromium: chromium is not installed; run 'sudo apt-get install -y chromium' (or set CHROMIUM_PATH)" >&2
  exit 1
fi
echo "[ensure-chromium] installing Debian's chromium for the browser tests (once)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium >/dev/null
command -v chromium >/dev/null

#!/usr/bin/env bash
# Installs what is missing, builds, and serves the app on http://localhost:${PORT:-8080}/
# with the cross-origin isolation headers that wasm threads need.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
exec node scripts/http_server.js web "${PORT:-8080}"

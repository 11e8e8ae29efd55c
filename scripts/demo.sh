#!/usr/bin/env bash
# Sets up a fresh machine, builds the browser package and serves the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build-web.sh
exec node scripts/serve.mjs

#!/usr/bin/env bash
# README command 1: build everything and start the dashboard on the embedded SQLite
# default (data/perfwatch.db); an empty database gets the demo data set.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
scripts/setup.sh
scripts/build-site.sh
cargo build --release -p perfwatch-server
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/perfwatch"
export PERFWATCH_SITE_ROOT="$ROOT/target/site"
exec "$BIN" serve "$@"

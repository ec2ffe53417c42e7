#!/usr/bin/env bash
# README command 1: build everything and start the dashboard on the embedded SQLite
# default (data/perfwatch.db); an empty database gets the demo data set.
#
# The server's release build runs beside the tools and the browser bundle: on a fresh
# two-core machine each has long stretches that keep one core busy or none (the
# downloads, a big crate compiled alone, the links, wasm-opt), so side by side they
# finish sooner than one after the other (docs/benchmarks.md, cold start).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
mkdir -p "$TARGET"
SERVER_LOG="$TARGET/dev-server-build.log"
echo "== building the server (release) in the background: $SERVER_LOG"
cargo build --release -p perfwatch-server >"$SERVER_LOG" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
scripts/setup.sh
scripts/build-site.sh
if ! wait "$server"; then
  tail -n 40 "$SERVER_LOG"
  echo "the server build failed (whole log: $SERVER_LOG)" >&2
  exit 1
fi
trap - EXIT
BIN="$TARGET/release/perfwatch"
export PERFWATCH_SITE_ROOT="$ROOT/target/site"
exec "$BIN" serve "$@"

#!/usr/bin/env bash
# README command 1: build everything and start the dashboard on the embedded SQLite
# default (data/perfwatch.db); an empty database gets the demo data set.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
# The browser bundle (tools, wasm build, wasm-opt) is built beside the server, at the
# lowest priority: while the server's dependencies keep both cores busy it barely runs,
# and in the server build's last minutes, one large crate after another on one core,
# it takes the idle one. On a new machine that is most of the bundle's four
# CPU-minutes off the wall time (docs/benchmarks.md, "Cold start").
set -m  # the bundle job gets its own process group, so one kill stops all of it
nice -n 19 bash -c 'scripts/setup.sh && scripts/build-site.sh' &
site=$!
set +m
trap 'kill -- -"$site" 2>/dev/null || true' EXIT
cargo build --release -p perfwatch-server
if ! wait "$site"; then
  echo "dev.sh: building the browser bundle failed (output above)" >&2
  exit 1
fi
trap - EXIT
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/perfwatch"
export PERFWATCH_SITE_ROOT="$ROOT/target/site"
exec "$BIN" serve "$@"

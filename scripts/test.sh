#!/usr/bin/env bash
# README command 2: every check and test. Installs what it needs, starts a throwaway
# PostgreSQL cluster unless TEST_DATABASE_URL is given, runs fmt, the dependency audit
# (scripts/deny.sh), clippy on the server
# and the wasm builds, builds the browser bundle, then the whole test suite (unit,
# property, SQLite + PostgreSQL integration, headless Chromium). Exits non-zero on
# any failure.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
FRONT_TARGET="${CARGO_TARGET_DIR:-$ROOT/target}/front"

scripts/setup.sh --test

PGDIR=""
cleanup() {
  if [[ -n "$PGDIR" ]]; then
    as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$PGDIR"
  fi
  pkill -f "pw-chrome-" >/dev/null 2>&1 || true
}
trap cleanup EXIT

as_pg() {
  if [[ $(id -u) -eq 0 ]]; then
    su postgres -s /bin/bash -c "$(printf '%q ' "$@")"
  else
    "$@"
  fi
}

if [[ -z "${TEST_DATABASE_URL:-}" ]]; then
  PGBIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
  PGDIR="$(mktemp -d /tmp/perfwatch-pg.XXXXXX)"
  [[ $(id -u) -eq 0 ]] && chown postgres "$PGDIR"
  PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  echo "== starting a throwaway PostgreSQL on 127.0.0.1:$PORT"
  as_pg "$PGBIN/initdb" -D "$PGDIR/data" -U postgres --auth=trust >/dev/null
  as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/log" \
    -o "-p $PORT -k $PGDIR -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300" -w start >/dev/null
  export TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$PORT/postgres"
fi

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== store rows read by column name"
# A positional read (`row.try_get(3)`, `try_get(o + 19)`) silently shifts when a column
# is added to its SELECT; every store read goes by name (docs/architecture.md).
if grep -rnE 'try_get(::<[^>]*>)?\(\s*([0-9]|o\b|o \+|offset)' backend/src/store; then
  echo "positional row reads in backend/src/store (above): read by column name" >&2
  exit 1
fi

echo "== dependency audit (cargo deny: advisories, licences, bans, sources)"
scripts/deny.sh

echo "== clippy, server build (ssr)"
cargo clippy --workspace --all-targets -- -D warnings

echo "== clippy, wasm build (hydrate)"
cargo clippy -p perfwatch-app --features hydrate --target wasm32-unknown-unknown \
  --target-dir "$FRONT_TARGET" -- -D warnings

echo "== browser bundle"
scripts/build-site.sh

echo "== tests"
# setup.sh installed Prometheus: tests that need it must run, never skip.
export PERFWATCH_REQUIRE_PROMETHEUS=1
# The soak and crash-safety tests start the `perfwatch` binary that this `cargo test`
# builds; naming it keeps them from running a `cargo build` of their own in the middle
# of the run (whose different feature set rebuilt libraries the doc tests then linked).
export PERFWATCH_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/perfwatch"
# Property tests draw from a fixed seed here, so a run of the suite is reproducible and
# a commit that passed keeps passing; new random cases are searched on purpose with
# `scripts/props.sh` (random seeds, more cases), and every case found is kept as a
# plain test. Set PROPTEST_RNG_SEED yourself to draw other cases.
export PROPTEST_RNG_SEED="${PROPTEST_RNG_SEED:-20261207}"
cargo test --workspace --no-fail-fast

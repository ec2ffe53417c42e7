#!/usr/bin/env bash
# Installs what building and testing perfwatch needs, idempotently:
#   the wasm32 target, the wasm-bindgen CLI matching Cargo.lock (into
#   $PERFWATCH_TOOLS, default ~/.cache/perfwatch-tools, shared by every checkout),
#   and with --test also Chromium + ChromeDriver, PostgreSQL 15 and Prometheus (Debian packages).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
TOOLS="${PERFWATCH_TOOLS:-$HOME/.cache/perfwatch-tools}"

want_test=0
[[ "${1:-}" == "--test" ]] && want_test=1

if ! rustup target list --installed | grep -q '^wasm32-unknown-unknown$'; then
  echo "== installing the wasm32 target"
  rustup target add wasm32-unknown-unknown
fi

# The CLI must equal the wasm-bindgen crate version pinned in Cargo.toml.
WBG_VERSION="$(grep -E '^wasm-bindgen = ' Cargo.toml | sed -E 's/.*"=?([0-9.]+)".*/\1/')"
if ! "$TOOLS/bin/wasm-bindgen" --version 2>/dev/null | grep -q "$WBG_VERSION"; then
  echo "== installing wasm-bindgen-cli $WBG_VERSION into $TOOLS"
  # Unoptimised (`--debug`): it builds in ~70 s instead of ~150 s, and still turns the
  # bundle around in under a second, byte for byte the same output.
  cargo install --debug wasm-bindgen-cli --version "$WBG_VERSION" --root "$TOOLS"
fi

# wasm-opt from npm's binaryen (Debian's 108 builds a wasm that fails at start).
if [[ ! -x "$TOOLS/npm/node_modules/.bin/wasm-opt" ]] && command -v npm >/dev/null; then
  echo "== installing binaryen (wasm-opt) into $TOOLS/npm"
  npm install --silent --prefix "$TOOLS/npm" binaryen@132 || echo "wasm-opt unavailable: the bundle stays unoptimised"
fi

apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if ((${#missing[@]})); then
    echo "== installing ${missing[*]}"
    if [[ $(id -u) -ne 0 ]]; then SUDO=sudo; else SUDO=; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

if ((want_test)); then
  apt_install chromium chromium-driver postgresql-15 prometheus
fi

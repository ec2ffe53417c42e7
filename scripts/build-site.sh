#!/usr/bin/env bash
# Builds the browser bundle (hydrate build of the app crate to wasm, then wasm-bindgen)
# into target/site/pkg, where the server serves /pkg from.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
FRONT_TARGET="${CARGO_TARGET_DIR:-$ROOT/target}/front"
SITE="$ROOT/target/site"
mkdir -p "$SITE/pkg"
cargo build -p perfwatch-app --features hydrate --target wasm32-unknown-unknown \
  --profile wasm-release --target-dir "$FRONT_TARGET"
WASM="$FRONT_TARGET/wasm32-unknown-unknown/wasm-release/perfwatch_app.wasm"
"$ROOT/.tools/bin/wasm-bindgen" --target web --no-typescript --out-dir "$SITE/pkg" --out-name perfwatch "$WASM"
gzip -9 -k -f "$SITE/pkg/perfwatch_bg.wasm"
gzip -9 -k -f "$SITE/pkg/perfwatch.js"
raw=$(stat -c %s "$SITE/pkg/perfwatch_bg.wasm"); gz=$(stat -c %s "$SITE/pkg/perfwatch_bg.wasm.gz")
echo "wasm bundle: $raw bytes raw, $gz bytes gzip ($SITE/pkg)"

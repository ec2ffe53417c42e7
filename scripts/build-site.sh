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
"${PERFWATCH_TOOLS:-$HOME/.cache/perfwatch-tools}/bin/wasm-bindgen" --target web --no-typescript --out-dir "$SITE/pkg" --out-name perfwatch "$WASM"
WASM_OPT="${PERFWATCH_TOOLS:-$HOME/.cache/perfwatch-tools}/npm/node_modules/.bin/wasm-opt"
if [[ -x "$WASM_OPT" ]]; then
  before=$(stat -c %s "$SITE/pkg/perfwatch_bg.wasm")
  "$WASM_OPT" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
    -o "$SITE/pkg/perfwatch_bg.wasm" "$SITE/pkg/perfwatch_bg.wasm"
  echo "wasm-opt -Oz: $before → $(stat -c %s "$SITE/pkg/perfwatch_bg.wasm") bytes"
fi
gzip -9 -k -f "$SITE/pkg/perfwatch_bg.wasm"
gzip -9 -k -f "$SITE/pkg/perfwatch.js"
raw=$(stat -c %s "$SITE/pkg/perfwatch_bg.wasm"); gz=$(stat -c %s "$SITE/pkg/perfwatch_bg.wasm.gz")
echo "wasm bundle: $raw bytes raw, $gz bytes gzip ($SITE/pkg)"

#!/usr/bin/env bash
# Builds the browser bundle (hydrate build of the app crate to wasm, then wasm-bindgen,
# wasm-opt -Oz and gzip -9) into target/site/pkg, where the server serves /pkg from.
# wasm-opt takes a minute or more, so the post-processing is skipped when the wasm
# cargo produced is the one the current pkg/ was made from (a stamp holds its SHA-256):
# a second `scripts/dev.sh` with nothing changed then costs seconds.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
FRONT_TARGET="${CARGO_TARGET_DIR:-$ROOT/target}/front"
SITE="$ROOT/target/site"
TOOLS="${PERFWATCH_TOOLS:-$HOME/.cache/perfwatch-tools}"
mkdir -p "$SITE/pkg"
cargo build -p perfwatch-app --features hydrate --target wasm32-unknown-unknown \
  --profile wasm-release --target-dir "$FRONT_TARGET"
WASM="$FRONT_TARGET/wasm32-unknown-unknown/wasm-release/perfwatch_app.wasm"
STAMP="$SITE/bundle-source.txt"  # outside pkg/, which is served
# The stamp also names the tools, so a new wasm-bindgen or wasm-opt rebuilds the bundle.
WASM_OPT="$TOOLS/npm/node_modules/.bin/wasm-opt"
source_id="$(sha256sum "$WASM" | cut -d' ' -f1) $("$TOOLS/bin/wasm-bindgen" --version) $([[ -x "$WASM_OPT" ]] && "$WASM_OPT" --version)"
report() {
  raw=$(stat -c %s "$SITE/pkg/perfwatch_bg.wasm"); gz=$(stat -c %s "$SITE/pkg/perfwatch_bg.wasm.gz")
  echo "wasm bundle: $raw bytes raw, $gz bytes gzip ($SITE/pkg)"
}
if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$source_id" && -f "$SITE/pkg/perfwatch_bg.wasm.gz" && -f "$SITE/pkg/perfwatch.js.gz" ]]; then
  echo "wasm unchanged since the last bundle: kept"
  report
  exit 0
fi
rm -f "$STAMP"
"$TOOLS/bin/wasm-bindgen" --target web --no-typescript --out-dir "$SITE/pkg" --out-name perfwatch "$WASM"
if [[ -x "$WASM_OPT" ]]; then
  before=$(stat -c %s "$SITE/pkg/perfwatch_bg.wasm")
  "$WASM_OPT" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
    -o "$SITE/pkg/perfwatch_bg.wasm" "$SITE/pkg/perfwatch_bg.wasm"
  echo "wasm-opt -Oz: $before → $(stat -c %s "$SITE/pkg/perfwatch_bg.wasm") bytes"
fi
gzip -9 -k -f "$SITE/pkg/perfwatch_bg.wasm"
gzip -9 -k -f "$SITE/pkg/perfwatch.js"
echo "$source_id" > "$STAMP"
report

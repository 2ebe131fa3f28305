#!/usr/bin/env bash
# bench_learn_ftps.sh - what learning our in-process server costs, per
# alphabet size, with the model as domain knowledge (the closed sink and the
# cover set + probes as counterexample candidates) against without it
# (`learn --no-model`), and L# against the L* baseline (`--algorithm
# lstar`, with the model): states, queries, symbols, equivalence queries,
# queries answered from the sink, learning wall time and queries per second
# (release build; the machine is shared, so wall time is indicative).
# usage: bench/bench_learn_ftps.sh [ALPHABETS (default "small core security")]
#        [EQ_TESTS (random equivalence tests per round, default 1000)]
# "small" is AUTH_TLS HANDSHAKE USER_OK PASS_OK (4 inputs).
set -euo pipefail
cd "$(dirname "$0")/.."
ALPHABETS=${1:-small core security}
EQ=${2:-1000}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ftpsfuzz-bench-learn.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

echo "== building (release)"
cmake --preset release >/dev/null
cmake --build --preset release --target ftpsfuzz >/dev/null
BIN=build/release/cli/ftpsfuzz
printf 'AUTH_TLS\nHANDSHAKE\nUSER_OK\nPASS_OK\n' >"$WORK/small"

field() { sed -n "s/^$1: \([0-9.]*\).*/\1/p" "$2"; }

printf '\n%-9s %-13s %7s %9s %10s %9s %9s %8s %8s %7s\n' alphabet run inputs states queries \
  symbols eq-queries sink-q "learn s" "q/s"
for a in $ALPHABETS; do
  spec=$a
  [ "$a" = small ] && spec=$WORK/small
  for mode in with without lstar; do
    extra=()
    [ "$mode" = without ] && extra=(--no-model)
    [ "$mode" = lstar ] && extra=(--algorithm lstar)
    out=$WORK/$a-$mode
    rc=0
    "$BIN" learn --quiet --alphabet "$spec" --eq-tests "$EQ" "${extra[@]}" --out "$out" \
      >"$out.log" 2>&1 || rc=$?
    if [ "$rc" -ne 0 ]; then
      echo "$a $mode: exit $rc: $(tail -n 3 "$out.log")"
      continue
    fi
    s=$out/summary.txt
    q=$(field queries "$s")
    t=$(field "learn wall time" "$s")
    label=$mode
    case $mode in with) label="L# model" ;; without) label="L# no model" ;; lstar) label="L* model" ;; esac
    printf '%-9s %-13s %7s %9s %10s %9s %9s %8s %8s %7.0f\n' "$a" "$label" \
      "$(sed -n 's/^alphabet: .*(\([0-9]*\) inputs)/\1/p' "$s")" "$(field states "$s")" "$q" \
      "$(field symbols "$s")" "$(field 'equivalence queries' "$s")" \
      "$(sed -n 's/^sink savings: \([0-9]*\) queries.*/\1/p' "$s")" "$t" \
      "$(awk -v q="$q" -v t="$t" 'BEGIN { print (t > 0 ? q / t : 0) }')"
  done
done

#!/usr/bin/env bash
# bench_learn_concurrency.sh - `ftpsfuzz learn --connect --concurrency N`
# against a local `ftpsfuzz serve` (release build, 127.0.0.1, TLS required,
# the users file made with --iterations 1000): for each N, states, queries,
# symbols, equivalence queries, unused batch answers, learning wall time
# (learning steps and equivalence tests, both batched) and the diff's
# replays and wall time; then whether the counts and the diff agree across
# N (they must: batching changes wall time only). One server, the runs one
# after another; the machine is shared, so wall times are indicative.
# usage: bench/bench_learn_concurrency.sh [CONCURRENCIES (default "1 4")]
#        [ALPHABET (default AUTH_TLS HANDSHAKE USER_OK PASS_OK PBSZ_0 PROT_P)]
# FTPSFUZZ_LEARN_ARGS replaces the learn options "--seed 1 --eq-tests 100
# --rate 0" (e.g. "--seed 1 --eq-tests 100 --rate 20 --settle 100").
set -euo pipefail
cd "$(dirname "$0")/.."
CONCURRENCIES=${1:-1 4}
ALPHABET=${2:-AUTH_TLS HANDSHAKE USER_OK PASS_OK PBSZ_0 PROT_P}
LEARN_ARGS=${FTPSFUZZ_LEARN_ARGS:---seed 1 --eq-tests 100 --rate 0}

echo "== building (release)"
cmake --preset release >/dev/null
cmake --build --preset release --target ftpsfuzz >/dev/null
FTPSFUZZ=$PWD/build/release/cli/ftpsfuzz
. tests/interop/lib.sh

mkdir -p "$WORK/root/pub" "$WORK/root/upload"
printf 'hello\n' >"$WORK/root/pub/hello.txt"
start_server bench "$WORK/root"
# shellcheck disable=SC2086 # one input a line
printf '%s\n' $ALPHABET >"$WORK/alphabet"

field() { sed -n "s/^$1: \([0-9.]*\).*/\1/p" "$2"; }
counts() { grep -E '^(states|queries|symbols|equivalence queries|rounds|cache hits):' "$1"; }

printf '\n%-4s %6s %8s %8s %9s %7s %8s %8s %7s\n' N states queries symbols eq-queries unused \
  "learn s" replays "diff s"
first=
for n in $CONCURRENCIES; do
  out=$WORK/c$n
  rc=0
  # shellcheck disable=SC2086
  "$FTPSFUZZ" learn --quiet --connect "127.0.0.1:$PORT" --user "$USER_NAME" --pass "$USER_PASS" \
    --alphabet "$WORK/alphabet" $LEARN_ARGS --concurrency "$n" --out "$out" \
    >"$out.log" 2>&1 || rc=$?
  s=$out/summary.txt
  if [ ! -f "$s" ] || [ "$rc" -gt 1 ]; then
    echo "N=$n: exit $rc: $(tail -n 3 "$out.log")"
    continue
  fi
  printf '%-4s %6s %8s %8s %9s %7s %8s %8s %7s\n' "$n" "$(field states "$s")" \
    "$(field queries "$s")" "$(field symbols "$s")" "$(field 'equivalence queries' "$s")" \
    "$(sed -n 's/^unused batch answers: \([0-9]*\) queries.*/\1/p' "$s" | grep . || echo 0)" \
    "$(field 'learn wall time' "$s")" \
    "$(sed -n 's/^diff: .* \([0-9]*\) replays in.*/\1/p' "$s")" \
    "$(sed -n 's/^diff: .* replays in \([0-9.]*\) s.*/\1/p' "$s")"
  if [ -z "$first" ]; then
    first=$out
  elif [ "$(counts "$first/summary.txt")" = "$(counts "$s")" ] &&
    cmp -s "$first/diff.md" "$out/diff.md"; then
    echo "     N=$n: the same counts and diff.md as N=${first##*/c}"
  else
    echo "     N=$n: counts or diff.md DIFFER from N=${first##*/c}"
  fi
done

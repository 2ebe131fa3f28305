#!/usr/bin/env bash
# bench_fuzz.sh - the fuzzing benchmark of issue 5, in one run:
#  1. execs/s of every harness over its seeds (bench_harnesses: release
#     build, no sanitizers, per CPU second; goals fuzz_session >= 50,000/s on
#     plaintext inputs, fuzz_sequence >= 20,000/s without TLS steps and with
#     them; bench_sequence_speed.sh has fuzz_sequence under ASan+UBSan);
#  2. a race from an empty corpus to every model transition the cover set
#     takes (`ftpsfuzz gen --cover --goal`), libFuzzer on fuzz_sequence with
#     the model mutator against the same harness without it
#     (fuzz_sequence_bytes), both without sanitizers, side by side (one core
#     each, same seed, same dictionary), RUNS times; the harness ends a run
#     when the goal is complete (FTPSFUZZ_TRANSITIONS_GOAL, see
#     harnesses/transition_goal.h). A run that misses the goal by CAP seconds
#     counts as CAP, so the ratio is then a lower bound. Goal: the model
#     mutator gets there >= 10x sooner.
# usage: bench/bench_fuzz.sh [RUNS (default 3)] [CAP seconds (default 600)]
# Builds what it needs under build/release and build/bench-libfuzzer.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-3}
CAP=${2:-600}
SRC=$PWD
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ftpsfuzz-bench-fuzz.XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

scripts/deps.sh >/dev/null
echo "== building (release; libFuzzer without sanitizers)"
cmake --preset release >/dev/null
cmake --build --preset release --target bench_harnesses ftpsfuzz >/dev/null
cmake -S . -B build/bench-libfuzzer -G Ninja -DCMAKE_C_COMPILER=clang-14 \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS_RELEASE="-O2 -DNDEBUG" \
  -DFTPS_FUZZ_ENGINE=libfuzzer -DFTPS_SANITIZE=OFF >/dev/null
cmake --build build/bench-libfuzzer --target fuzz_sequence fuzz_sequence_bytes >/dev/null

echo
echo "== 1. harness speed"
harness_rc=0
build/release/bench/bench_harnesses corpus 3 || harness_rc=$?

echo
echo "== 2. race to every model transition (cap ${CAP} s, ${RUNS} runs)"
build/release/cli/ftpsfuzz gen --cover -o "$WORK/cover" --goal "$WORK/goal" >/dev/null
total=$(grep -vc '^#' "$WORK/goal")
echo "goal: the $total transitions of the cover set (ftpsfuzz gen --cover --goal)"

pin() { # pin CPU: taskset when there is one, else nothing
  if command -v taskset >/dev/null 2>&1; then taskset -c "$1" "${@:2}"; else "${@:2}"; fi
}

# race_one BIN RUN CPU LOG: one libFuzzer run from an empty corpus.
race_one() {
  local bin=$1 run=$2 cpu=$3 log=$4 dir
  dir=$(mktemp -d "$WORK/corpus.XXXXXX")
  mkdir -p "$dir.art"
  FTPSFUZZ_TRANSITIONS_GOAL="$WORK/goal" FTPSFUZZ_TRANSITIONS_GOAL_PROGRESS=1 \
    pin "$cpu" "$bin" -seed="$run" -max_total_time="$CAP" -dict="$SRC/fuzz/ftp.dict" \
    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$dir.art/" "$dir" \
    >"$log" 2>&1 || true
}

# result LOG: "<seconds> <inputs> <how>" of one run.
result() {
  local log=$1 line
  line=$(grep -m1 'transition goal reached' "$log" || true)
  if [ -n "$line" ]; then
    echo "$line" | sed -n 's/.*after \([0-9]*\) inputs, \([0-9.]*\) s.*/\2 \1 reached/p'
    return
  fi
  local got execs how=cap
  got=$(grep -c '^ftpsfuzz: transition [0-9]' "$log" || true)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  grep -q 'ERROR: libFuzzer\|FINDING' "$log" && how=finding
  echo "$CAP ${execs:-?} $how:$got/$total"
}

printf '%-4s  %-28s  %-28s  %s\n' run "model mutator (s, inputs)" "bytes only (s, inputs)" ratio
with_times=() without_times=()
for run in $(seq 1 "$RUNS"); do
  race_one build/bench-libfuzzer/harnesses/fuzz_sequence "$run" 0 "$WORK/with.$run.log" &
  pids=($!)
  race_one build/bench-libfuzzer/harnesses/fuzz_sequence_bytes "$run" 1 "$WORK/without.$run.log" &
  pids+=($!)
  wait "${pids[@]}"
  pids=()
  read -r tw iw hw <<<"$(result "$WORK/with.$run.log")"
  read -r tn in hn <<<"$(result "$WORK/without.$run.log")"
  with_times+=("$tw")
  without_times+=("$tn")
  ratio=$(awk -v a="$tn" -v b="$tw" 'BEGIN { printf "%.1f", a / b }')
  [ "$hn" = reached ] || ratio=">=$ratio"
  printf '%-4s  %-28s  %-28s  %s\n' "$run" "$tw $iw $hw" "$tn $in $hn" "$ratio"
  if [ "$hn" != reached ]; then
    # Where bytes only stopped: how long the model mutator took to get there.
    got=$(grep -c '^ftpsfuzz: transition [0-9]' "$WORK/without.$run.log" || true)
    last=$(grep '^ftpsfuzz: transition [0-9]' "$WORK/without.$run.log" | tail -n 1 |
      sed -n 's/.* \([0-9.]*\) s$/\1/p')
    same=$(grep '^ftpsfuzz: transition [0-9]' "$WORK/with.$run.log" | sed -n "${got}p" |
      sed -n 's/.* \([0-9.]*\) s$/\1/p')
    [ -n "$same" ] && [ -n "$last" ] && awk -v g="$got" -v t="$total" -v a="$last" -v b="$same" \
      'BEGIN { printf "      the %d/%d bytes only reached (its last at %.1f s): model mutator at %.2f s, %.0fx sooner\n", g, t, a, b, a / (b > 0.001 ? b : 0.001) }'
  fi
  for f in with without; do
    if grep -q 'ERROR: libFuzzer\|FINDING' "$WORK/$f.$run.log"; then
      echo "  $f run $run ended on a finding:"
      grep -m3 'FINDING\|ERROR: libFuzzer' "$WORK/$f.$run.log" | sed 's/^/    /'
      mkdir -p build/bench-fuzz-findings
      for a in "$WORK"/corpus.*.art/*; do
        [ -f "$a" ] || continue
        cp "$a" build/bench-fuzz-findings/ && echo "    kept: build/bench-fuzz-findings/${a##*/}"
        rm -f "$a"
      done
    fi
  done
done
median() {
  printf '%s\n' "$@" | sort -g |
    awk '{ v[NR] = $1 } END { print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
mw=$(median "${with_times[@]}")
mn=$(median "${without_times[@]}")
awk -v a="$mn" -v b="$mw" 'BEGIN {
  r = a / b
  verdict = (r >= 10) ? "met" : "MISSED"
  printf "median: model mutator %.1f s, bytes only %.1f s: %.1fx sooner (goal >= 10x: %s)\n",
         b, a, r, verdict }'
exit "$harness_rc"

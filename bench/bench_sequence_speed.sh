#!/usr/bin/env bash
# bench_sequence_speed.sh - fuzz_sequence execs/s over its seed corpus
# (corpus/seeds/fuzz_sequence/), with resumed TLS 1.2 handshakes
# (fuzz_fast_tls, the default) next to full TLS 1.3 handshakes
# (FTPSFUZZ_FULL_HANDSHAKES=1, how every TLS step ran before), in one run:
#  1. release build, no sanitizers: bench_harnesses' fuzz_sequence lines
#     (plain seeds, all seeds, all seeds with full handshakes), execs per CPU
#     second; goal for all seeds >= 20,000/s;
#  2. the ASan+UBSan libFuzzer build (preset libfuzzer, what `ftpsfuzz fuzz`
#     runs): (a) the seeds replayed ROUNDS times (`fuzz_sequence -runs=N
#     FILES`: the target alone), (b) a libFuzzer campaign of CAMPAIGN seconds
#     from a copy of the seeds (mutator, coverage collection, corpus writes
#     included), same -seed, same dictionary; execs per CPU second of the
#     process (the machine is shared: wall-clock rates measure its load), and
#     libFuzzer's own wall-clock exec/s in brackets; goal >= 5,000/s.
# usage: bench/bench_sequence_speed.sh [ROUNDS (default 60)] [CAMPAIGN s (default 20)]
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-60}
CAMPAIGN=${2:-20}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ftpsfuzz-bench-seq.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
SEEDS=corpus/seeds/fuzz_sequence

echo "== building (release; libfuzzer = clang ASan+UBSan)"
cmake --preset release >/dev/null
cmake --build --preset release --target bench_harnesses >/dev/null
cmake --preset libfuzzer >/dev/null
cmake --build --preset libfuzzer --target fuzz_sequence >/dev/null
BIN=build/libfuzzer/harnesses/fuzz_sequence

echo
echo "== 1. release build"
rc=0
build/release/bench/bench_harnesses corpus 3 fuzz_sequence || rc=$?

# cpu_of CMD...: runs CMD (output to $WORK/out) and prints its user+sys CPU
# seconds.
cpu_of() {
  local TIMEFORMAT='%3U %3S' t
  t=$( { time "$@" >"$WORK/out" 2>&1; } 2>&1 ) || true
  awk -v t="$t" 'BEGIN { split(t, a, " "); printf "%.3f", a[1] + a[2] }'
}

mapfile -t files < <(find "$SEEDS" -maxdepth 1 -type f ! -name 'README*' | sort)
echo
echo "== 2. ASan+UBSan libFuzzer build ($BIN)"
printf '%-28s %22s %30s\n' "" "replay ${#files[@]} seeds x $ROUNDS" "campaign ${CAMPAIGN} s from the seeds"
declare -A rate
for mode in fast full; do
  full=0
  [ "$mode" = full ] && full=1
  cpu=$(cpu_of env FTPSFUZZ_FULL_HANDSHAKES=$full "$BIN" -runs="$ROUNDS" "${files[@]}")
  replay=$(awk -v n=$((ROUNDS * ${#files[@]})) -v c="$cpu" 'BEGIN { printf "%.0f", n / c }')
  rm -rf "$WORK/corpus" && mkdir "$WORK/corpus" && cp "${files[@]}" "$WORK/corpus/"
  cpu=$(cpu_of env FTPSFUZZ_FULL_HANDSHAKES=$full "$BIN" -seed=1 -max_total_time="$CAMPAIGN" \
    -print_final_stats=1 -dict=fuzz/ftp.dict -timeout=10 -artifact_prefix="$WORK/" "$WORK/corpus")
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$WORK/out" | tail -n 1)
  wall=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$WORK/out" | tail -n 1)
  if grep -q 'FINDING\|ERROR: libFuzzer' "$WORK/out"; then
    echo "  the $mode campaign ended on a finding:" && grep -m2 'FINDING\|ERROR: libFuzzer' "$WORK/out"
  fi
  campaign=$(awk -v n="${execs:-0}" -v c="$cpu" 'BEGIN { printf "%.0f", n / c }')
  rate[$mode.replay]=$replay
  rate[$mode.campaign]=$campaign
  label="resumed TLS 1.2 (default)"
  [ "$mode" = full ] && label="full TLS 1.3 (FULL_HANDSHAKES)"
  printf '%-28s %18s/s %21s/s (%s/s wall)\n' "$label" "$replay" "$campaign" "${wall:-?}"
done
awk -v a="${rate[fast.replay]}" -v b="${rate[full.replay]}" -v c="${rate[fast.campaign]}" \
  -v d="${rate[full.campaign]}" 'BEGIN {
  printf "%-28s %19.1fx %22.1fx\n", "speed-up", a / b, c / d
  printf "goal >= 5,000/s: replay %s, campaign %s\n", (a >= 5000 ? "met" : "MISSED"),
         (c >= 5000 ? "met" : "MISSED") }'
exit "$rc"

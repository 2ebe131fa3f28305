#!/usr/bin/env bash
# bench_planted.sh - a planted-bug benchmark: ground truth for the campaign,
# the harnesses and the oracle (the idea of Magma and LAVA-M, at our scale).
#
# Each patch in bench/planted/ plants one realistic server bug; its second
# line says what a campaign must report ("# expect: INVARIANT" or a
# sanitizer's kind, e.g. heap-buffer-overflow). One at a time, in a scratch
# copy of the tree (git worktree at HEAD), the patch is applied and
#   1. the default campaign runs (ftpsfuzz fuzz --harness all, --time S);
#   2. one harness runs alone (--harness H, default fuzz_sequence; give
#      fuzz_sequence_bytes to race the model mutator's absence), --single S;
# (one scratch worktree serves every bug, reset between them, so only the
# first build is a full one) and the script prints, per bug, the fuzzing seconds to the first finding
# of each run (summary.json's first_finding_s / first_finding_harness_s)
# and whether a finding names the expected bug. A clean control (no patch)
# must find nothing. Campaigns start from the seeds only (--no-corpus), so
# runs compare; summary.json of every run is kept under OUT.
#
# usage: bench/bench_planted.sh [--time S] [--single S] [--harness H]
#                               [--out DIR] [PATCH...]
# Defaults: --time 60 --single 30 --harness fuzz_sequence, every patch.
# Wall time: about (build ~1-2 min + S + single) per patch, plus the control.
set -uo pipefail
cd "$(dirname "$0")/.."
src=$PWD
time_s=60 single_s=30 harness=fuzz_sequence out=$src/out/bench-planted
patches=()
while [ $# -gt 0 ]; do
  case $1 in
    --time) time_s=$2; shift 2 ;;
    --single) single_s=$2; shift 2 ;;
    --harness) harness=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    -*) echo "bench_planted: unknown option $1" >&2; exit 2 ;;
    *) patches+=("$1"); shift ;;
  esac
done
[ ${#patches[@]} -gt 0 ] || patches=(bench/planted/*.patch)

cmake --preset release >/dev/null && cmake --build --preset release --target ftpsfuzz >/dev/null ||
  { echo "bench_planted: cannot build ftpsfuzz" >&2; exit 2; }
ftpsfuzz=$src/build/release/cli/ftpsfuzz
mkdir -p "$out"
scratch=$(mktemp -d)
cleanup() {
  git -C "$src" worktree remove --force "$scratch/tree" >/dev/null 2>&1
  rm -rf "$scratch"
}
trap cleanup EXIT

# first_hit SUMMARY EXPECT -> "seconds harness" of the first finding that
# names EXPECT, or "- -" ("miss:<what was found>" when something else was).
first_hit() {
  python3 - "$1" "$2" <<'PY'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except Exception as e:
    print("- error"); sys.exit(0)
want, best, other = sys.argv[2], None, []
for h in d.get("harnesses", []):
    reps = h.get("finding_reports") or []
    if not reps:
        continue
    named = any(want in r for r in reps)
    t = h.get("first_finding_s")
    th = h.get("first_finding_harness_s")
    if named and t is not None and (best is None or t < best[0]):
        best = (t, th, h["name"])
    elif not named:
        other.append(h["name"])
if best:
    print("%.1f %.1f %s" % best)
elif other:
    print("- - miss:" + ",".join(other))
else:
    print("- - -")
PY
}

# run_bug NAME PATCH|"" EXPECT
results=()
run_bug() {
  local name=$1 patch=$2 expect=$3 tree=$scratch/tree
  # one scratch worktree for every bug, reset to HEAD each time: its build
  # tree stays, so each bug costs an incremental build only
  if [ ! -d "$tree" ]; then
    git -C "$src" worktree add --detach -q "$tree" HEAD || { echo "bench_planted: worktree" >&2; exit 2; }
  fi
  git -C "$tree" checkout -q -- . || { echo "bench_planted: cannot reset $tree" >&2; exit 2; }
  if [ -n "$patch" ] && ! git -C "$tree" apply "$src/$patch"; then
    results+=("$name|$expect|patch does not apply|||")
    return
  fi
  local o=$out/$name
  rm -rf "$o"
  mkdir -p "$o"
  local t0=$SECONDS
  "$ftpsfuzz" fuzz --source "$tree" --build-root "$tree/build" --harness all --time "$time_s" \
    --no-coverage --no-regressions --no-corpus --no-minimize --out "$o/all" >"$o/all.log" 2>&1
  local rc_all=$?
  "$ftpsfuzz" fuzz --source "$tree" --build-root "$tree/build" --harness "$harness" \
    --time "$single_s" --no-build --no-coverage --no-regressions --no-corpus --no-minimize --out "$o/one" \
    >"$o/one.log" 2>&1
  local rc_one=$?
  local a b
  a=$(first_hit "$o/all/report/summary.json" "$expect")
  b=$(first_hit "$o/one/report/summary.json" "$expect")
  results+=("$name|$expect|$a|$b|$rc_all/$rc_one|$((SECONDS - t0))")
  printf '  %-20s campaign: %s   %s alone: %s   (exit %s/%s, %d s)\n' "$name" "$a" "$harness" \
    "$b" "$rc_all" "$rc_one" $((SECONDS - t0))
}

echo "bench_planted: --time $time_s, $harness alone for $single_s s; runs under $out"
run_bug control "" "FINDING"
for p in "${patches[@]}"; do
  n=$(basename "$p" .patch)
  e=$(sed -n '2s/^# expect: *//p' "$p")
  [ -n "$e" ] || { echo "bench_planted: $p has no '# expect:' second line" >&2; exit 2; }
  run_bug "$n" "$p" "$e"
done

echo
printf '%-20s %-22s %-26s %-26s %s\n' bug expected "campaign (s, harness s)" \
  "$harness alone (s)" "wall"
for r in "${results[@]}"; do
  IFS='|' read -r n e a b rc w <<<"$r"
  read -r a1 a2 a3 <<<"$a"
  read -r b1 b2 b3 <<<"$b"
  if [ "$n" = control ]; then
    # the control must find nothing: any finding is a false one
    verdict=$([ "$a1" = - ] && [ "${a3:-}" = - ] && [ "$b1" = - ] && [ "${b3:-}" = - ] &&
      echo "clean" || echo "FALSE FINDING (${a3:-}${b3:-})")
    printf '%-20s %-22s %s\n' control "no finding" "$verdict"
    continue
  fi
  printf '%-20s %-22s %-26s %-26s %ss\n' "$n" "$e" "${a1} (${a2}, ${a3:-})" "${b1} (${b3:-})" "$w"
done

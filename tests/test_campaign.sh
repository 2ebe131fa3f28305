#!/usr/bin/env bash
# test_campaign.sh - `ftpsfuzz fuzz` end to end on a tiny libFuzzer target
# built here (clang-14) that aborts with a FINDING line when its input holds
# "BUG", in a scratch source tree and build root (--no-build): the seeds are
# copied, not written; the finding is minimized to "BUG", copied to the
# regressions directory with a README.md line; summary.json has the figures;
# `ftpsfuzz replay` on a libFuzzer build names the finding; the same bug from
# another input is reported as known; Ctrl-C stops the engine, still writes
# the report, and leaves no process behind. Three fake harnesses check the
# schedule of --harness all (slices, priorities, time to the productive one),
# and two runs over one --corpus the continuous campaign. The AFL++
# path's stability figure is checked with stand-in afl-fuzz/afl-cmin scripts
# that write fixture fuzzer_stats files (the lowest instance is reported).
# usage: test_campaign.sh FTPSFUZZ
set -uo pipefail
ftpsfuzz=${1:?usage: $0 FTPSFUZZ}
if ! command -v clang-14 >/dev/null; then
  echo "test_campaign: clang-14 not installed (scripts/deps.sh)" >&2
  exit 1
fi
tmp=$(mktemp -d)
trap 'pkill -KILL -f "$tmp/build/" 2>/dev/null; rm -rf "$tmp"' EXIT
fail=0
check() {
  if [ "$2" -ne 0 ]; then echo "FAIL: $1"; fail=1; else echo "ok: $1"; fi
}

src=$tmp/src hd=$tmp/build/libfuzzer/harnesses
mkdir -p "$src/corpus/seeds/fuzz_fake" "$src/fuzz" "$hd"
echo '{}' >"$src/CMakePresets.json"
printf 'xxBUxx' >"$src/corpus/seeds/fuzz_fake/seed1"
printf 'hello' >"$src/corpus/seeds/fuzz_fake/seed2"
printf 'bug="BUG"\n' >"$src/fuzz/fake.dict"
printf '[libfuzzer]\ndict = fake.dict\nmax_len = 64\n' >"$src/fuzz/fuzz_fake.options"
printf '# test\nfuzz_fake\n' >"$hd/harnesses.list"
cat >"$tmp/fake.c" <<'C'
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
  for (size_t i = 0; i + 3 <= n; i++)
    if (memcmp(d + i, "BUG", 3) == 0) {
      fprintf(stderr, "FINDING TEST_BUG: the input holds BUG\n");
      abort();
    }
  return 0;
}
C
clang-14 -g -fsanitize=fuzzer,address "$tmp/fake.c" -o "$hd/fuzz_fake" || exit 1
seeds_before=$(cat "$src"/corpus/seeds/fuzz_fake/* | sha256sum)

out=$("$ftpsfuzz" fuzz --no-build --no-coverage --source "$src" --build-root "$tmp/build" \
  --harness fuzz_fake --time 8 --out "$tmp/out" --regressions "$tmp/reg" 2>&1); rc=$?
echo "$out"
check "a finding: exit 1" $([ $rc -eq 1 ]; echo $?)
check "progress lines" $(echo "$out" | grep -q '^\[fuzz_fake .*execs [0-9]* (.*/s)  edges'; echo $?)
json=$tmp/out/report/summary.json
check "summary.json is JSON with execs > 0 and findings > 0" $(python3 - "$json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
h = d["harnesses"][0]
sys.exit(0 if h["name"] == "fuzz_fake" and h["execs"] > 0 and h["findings"] > 0
         and h["new_regressions"] == 1 and d["engine"] == "libfuzzer"
         and h["stability_pct"] is None else 1)
PY
echo $?)
check "libFuzzer: no stability in the table" \
  $(echo "$out" | grep -Eq '^fuzz_fake +[0-9]+s( +[0-9-]+){5} +- +-( |$)'; echo $?)
reg=$(find "$tmp/reg/fuzz_fake" -type f ! -name README.md ! -name '.*')
check "one regression file, minimized to BUG" \
  $([ "$(echo "$reg" | wc -l)" -eq 1 ] && [ "$(cat "$reg")" = "BUG" ]; echo $?)
check "named by its sha256" $([ "$(basename "$reg")" = "$(sha256sum "$reg" | cut -d' ' -f1)" ]; echo $?)
check "README.md line with the report" \
  $(grep -q "^- \`$(basename "$reg")\`: FINDING TEST_BUG: the input holds BUG (ftpsfuzz fuzz, libfuzzer" "$tmp/reg/fuzz_fake/README.md"; echo $?)
check ".signatures names the file with the finding's signature" \
  $(grep -Eq "^fuzz_fake/FINDING:TEST_BUG/[0-9a-f]{16} $(basename "$reg")\$" "$tmp/reg/fuzz_fake/.signatures"; echo $?)
check "seeds untouched" $([ "$(cat "$src"/corpus/seeds/fuzz_fake/* | sha256sum)" = "$seeds_before" ] &&
  [ "$(ls "$src/corpus/seeds/fuzz_fake" | wc -l)" -eq 2 ]; echo $?)
check "merged corpus written" $([ -d "$tmp/out/fuzz_fake/corpus" ] && [ "$(ls "$tmp/out/fuzz_fake/corpus" | wc -l)" -ge 1 ]; echo $?)
check "no engine left running" $(! pgrep -f "$hd/fuzz_fake" >/dev/null; echo $?)

out=$("$ftpsfuzz" replay --harness-dir "$hd" "$tmp/reg" 2>&1); rc=$?
check "replay through the libFuzzer build names the finding" \
  $([ $rc -eq 1 ] && echo "$out" | grep -q "^FAIL $reg \[fuzz_fake\]: .*FINDING TEST_BUG"; echo $?)

# The same bug again, from another input: reported as known, not saved again,
# not minimized, and still exit 1 (the tree has the bug).
readme_before=$(cat "$tmp/reg/fuzz_fake/README.md")
printf 'zzzzBUGzzzz' >"$src/corpus/seeds/fuzz_fake/seed3"
out=$("$ftpsfuzz" fuzz --no-build --no-coverage --no-corpus --source "$src" \
  --build-root "$tmp/build" --harness fuzz_fake --time 4 --out "$tmp/out5" \
  --regressions "$tmp/reg" 2>&1); rc=$?
echo "$out"
rm -f "$src/corpus/seeds/fuzz_fake/seed3"
check "known finding: exit 1" $([ $rc -eq 1 ]; echo $?)
check "known finding: reported as known" \
  $(echo "$out" | grep -q '^    finding: known: .*FINDING TEST_BUG: the input holds BUG'; echo $?)
check "known finding: nothing saved, README unchanged" \
  $([ "$(find "$tmp/reg/fuzz_fake" -type f ! -name README.md ! -name '.*' | wc -l)" -eq 1 ] &&
    [ "$(cat "$tmp/reg/fuzz_fake/README.md")" = "$readme_before" ]; echo $?)
check "known finding: not minimized" \
  $(! ls "$tmp/out5/fuzz_fake/findings/" | grep -q minimize; echo $?)
check "known finding: summary.json counts it" $(python3 - "$tmp/out5/report/summary.json" <<'PY2'
import json, sys
h = json.load(open(sys.argv[1]))["harnesses"][0]
sys.exit(0 if h["known_findings"] == 1 and h["new_findings"] == 0
         and h["new_regressions"] == 0 and h["findings"] > 0 else 1)
PY2
echo $?)

# Ctrl-C: stop the engine, still write the report, leave nothing running.
rm -f "$src/corpus/seeds/fuzz_fake/seed1" # no quick finding this time
"$ftpsfuzz" fuzz --no-build --no-coverage --source "$src" --build-root "$tmp/build" \
  --harness fuzz_fake --time 120 --out "$tmp/out2" --no-regressions --no-corpus >"$tmp/int.log" 2>&1 &
pid=$!
for _ in $(seq 50); do grep -q '^=== fuzz_fake' "$tmp/int.log" && break; sleep 0.2; done
sleep 2
start=$(date +%s)
kill -INT $pid
wait $pid
took=$(( $(date +%s) - start ))
cat "$tmp/int.log"
check "Ctrl-C ends the campaign promptly ($took s)" $([ $took -lt 30 ]; echo $?)
check "report written after Ctrl-C" \
  $(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d["interrupted"] else 1)' \
    "$tmp/out2/report/summary.json"; echo $?)
check "no engine left running after Ctrl-C" $(! pgrep -f "$hd/fuzz_fake" >/dev/null; echo $?)

# AFL++: stand-ins for afl-fuzz (writes a fixture fuzzer_stats per instance,
# main 97.31%, s1 88.12%) and afl-cmin (copies the queue) on PATH.
bin=$tmp/fakebin ad=$tmp/build/afl/harnesses
mkdir -p "$bin" "$ad"
cp "$hd/harnesses.list" "$hd/fuzz_fake" "$ad/"
cat >"$bin/afl-fuzz" <<'SH'
#!/bin/sh
while [ $# -gt 0 ]; do
  case $1 in
  -o) o=$2; shift ;;
  -M | -S) name=$2; shift ;;
  --) break ;;
  esac
  shift
done
stab=97.31
[ "$name" = main ] || stab=88.12
mkdir -p "$o/$name/queue" "$o/$name/crashes" "$o/$name/hangs"
printf 'seed' >"$o/$name/queue/id:000000,time:0,execs:0,orig:seed2"
cat >"$o/$name/fuzzer_stats" <<EOF
start_time        : 1700000000
last_update       : 1700000003
run_time          : 3
fuzzer_pid        : $$
cycles_done       : 0
execs_done        : 600
execs_per_sec     : 200.00
corpus_count      : 1
corpus_variable   : 1
stability         : $stab%
bitmap_cvg        : 0.01%
saved_crashes     : 0
saved_hangs       : 0
edges_found       : 7
var_byte_count    : 1
afl_version       : ++4.04c
target_mode       : shmem_testcase default
EOF
sleep 2
SH
cat >"$bin/afl-cmin" <<'SH'
#!/bin/sh
while [ $# -gt 0 ]; do
  case $1 in
  -i) i=$2; shift ;;
  -o) o=$2; shift ;;
  --) break ;;
  esac
  shift
done
mkdir -p "$o" && cp "$i"/* "$o"/
SH
chmod +x "$bin/afl-fuzz" "$bin/afl-cmin"
out=$(PATH="$bin:$PATH" "$ftpsfuzz" fuzz --engine afl --jobs 2 --no-build --no-coverage \
  --source "$src" --build-root "$tmp/build" --harness fuzz_fake --time 3 --out "$tmp/out4" \
  --no-regressions 2>&1); rc=$?
echo "$out"
check "afl: exit 0" $([ $rc -eq 0 ]; echo $?)
check "afl: the lowest instance's stability in the table" \
  $(echo "$out" | grep -Eq '^fuzz_fake +[0-9]+s( +[0-9-]+){5} +- +88\.12%( |$)'; echo $?)
check "afl: the lowest instance's stability in summary.json" \
  $(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); h=d["harnesses"][0]
sys.exit(0 if d["engine"] == "afl" and h["stability_pct"] == 88.12 and h["execs"] == 1200 else 1)' \
    "$tmp/out4/report/summary.json"; echo $?)

# The schedule: three harnesses, --harness all, 20 s. Every harness gets a
# slice in the first window (fuzz_sequence first, with three times the
# others' slice), the next slice goes to the one still finding features,
# and the slices add up to the budget.
s2=$tmp/src2 hd2=$tmp/build2/libfuzzer/harnesses
mkdir -p "$s2/corpus/seeds/fuzz_a" "$hd2"
echo '{}' >"$s2/CMakePresets.json"
printf 'hello' >"$s2/corpus/seeds/fuzz_a/seed1"
printf 'fuzz_a\nfuzz_b\nfuzz_sequence\n' >"$hd2/harnesses.list"
cat >"$tmp/maze.c" <<'C'
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);
/* a few nested byte tests: new edges for a while */
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
  volatile int s = 0;
  if (n > 0 && d[0] == 'F') {
    s++;
    if (n > 1 && d[1] == 'T') {
      s++;
      if (n > 2 && d[2] == 'P') {
        s++;
        if (n > 3 && d[3] == 'S')
          s++;
      }
    }
  }
  for (size_t i = 0; i < n && i < 8; i++)
    if (d[i] == (uint8_t)(0x40 + i))
      s++;
  return 0;
}
C
cat >"$tmp/flat.c" <<'C'
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }
C
clang-14 -g -fsanitize=fuzzer,address "$tmp/maze.c" -o "$hd2/fuzz_a" &&
  clang-14 -g -fsanitize=fuzzer,address "$tmp/flat.c" -o "$hd2/fuzz_b" &&
  cp "$hd2/fuzz_b" "$hd2/fuzz_sequence" || exit 1
out=$("$ftpsfuzz" fuzz --no-build --no-coverage --no-corpus --source "$s2" \
  --build-root "$tmp/build2" --harness all --time 20 --out "$tmp/sched" --no-regressions 2>&1); rc=$?
echo "$out"
check "schedule: exit 0" $([ $rc -eq 0 ]; echo $?)
check "schedule: every harness in the first window, fuzz_sequence first and 3x" \
  $(python3 - "$tmp/sched/report/summary.json" <<'PY2'
import json, sys
d = json.load(open(sys.argv[1]))
hs = {h["name"]: h for h in d["harnesses"]}
first = {n: h["slices"][0] for n, h in hs.items() if h["slices"]}
ok = len(first) == 3
ok = ok and first["fuzz_sequence"]["start_s"] == 0
# the explore round is half the budget, slices overrun by a second or two
ok = ok and all(s["start_s"] <= 14 for s in first.values())
ok = ok and first["fuzz_sequence"]["seconds"] >= 1.6 * first["fuzz_a"]["seconds"]
ok = ok and hs["fuzz_sequence"]["weight"] == 3 and hs["fuzz_a"]["weight"] == 1
# the first slice after the explore round goes to the harness that found
# new features (fuzz_a), not to the flat ones
order = sorted((s["start_s"], n) for n, h in hs.items() for s in h["slices"])
ok = ok and len(order) >= 4 and order[3][1] == "fuzz_a"
total = sum(s["seconds"] for h in hs.values() for s in h["slices"])
ok = ok and 16 <= total <= 30
ok = ok and all(set(s) >= {"start_s", "seconds", "new_edges", "new_features", "new_inputs"}
                for h in hs.values() for s in h["slices"])
print("slices:", {n: [(s["start_s"], s["seconds"], s["new_edges"]) for s in h["slices"]]
                  for n, h in hs.items()})
sys.exit(0 if ok else 1)
PY2
echo $?)
check "schedule: the table says how the time went" \
  $(echo "$out" | grep -Eq '^    [0-9]+ slice\(s\): @0s [0-9]+s \+[0-9]+e \+[0-9]+i'; echo $?)

# Continuous campaigns: the second run starts from the first run's merged
# corpus (--corpus), counts it, and says what it added; the persistent
# corpus is then the second run's merged one.
pc=$tmp/pcorpus
"$ftpsfuzz" fuzz --no-build --no-coverage --source "$s2" --build-root "$tmp/build2" \
  --harness fuzz_a --time 4 --out "$tmp/c1" --no-regressions --corpus "$pc" >"$tmp/c1.log" 2>&1
rc=$?
n1=$(find "$pc/fuzz_a" -type f ! -name '.*' | wc -l)
check "continuous: first run exit 0, corpus saved ($n1 inputs)" \
  $([ $rc -eq 0 ] && [ "$n1" -ge 1 ] && grep -q '^inputs '"$n1"'$' "$pc/fuzz_a/.campaign" &&
    grep -Eq '^edges [0-9]+$' "$pc/fuzz_a/.campaign"; echo $?)
out=$("$ftpsfuzz" fuzz --no-build --no-coverage --source "$s2" --build-root "$tmp/build2" \
  --harness fuzz_a --time 4 --out "$tmp/c2" --no-regressions --corpus "$pc" 2>&1); rc=$?
echo "$out"
check "continuous: second run exit 0, starts from the first run's inputs" \
  $([ $rc -eq 0 ] && echo "$out" | grep -q "1 seed(s) + $n1 from the last campaign"; echo $?)
check "continuous: summary.json has the previous run and what was added" \
  $(python3 - "$tmp/c2/report/summary.json" "$n1" "$pc/fuzz_a" <<'PY2'
import json, os, sys
d = json.load(open(sys.argv[1]))
h = d["harnesses"][0]
p, a = h["previous"], h["added"]
kept = [f for f in os.listdir(sys.argv[3]) if not f.startswith(".")]
ok = p is not None and p["inputs"] == int(sys.argv[2]) and p["inputs_loaded"] == int(sys.argv[2])
ok = ok and p["edges"] is not None and a["inputs"] is not None and a["inputs"] >= 0
ok = ok and a["edges"] is not None and a["edges"] >= 0
ok = ok and h["corpus_merged"] == len(kept) == p["inputs"] + a["inputs"]
ok = ok and d["corpus_dir"] == os.path.dirname(sys.argv[3])
print("previous:", p, "added:", a, "merged:", h["corpus_merged"], "kept:", len(kept))
sys.exit(0 if ok else 1)
PY2
echo $?)
check "continuous: the table shows the added inputs and edges" \
  $(echo "$out" | grep -Eq '^fuzz_a +[0-9]+s .* 1 +\+[0-9]+ +\+[0-9]+ +- *$'; echo $?)

"$ftpsfuzz" fuzz --engine honggfuzz >/dev/null 2>&1; rc=$?
check "bad engine: exit 2" $([ $rc -eq 2 ]; echo $?)
"$ftpsfuzz" fuzz --no-build --source "$src" --build-root "$tmp/build" --harness nope \
  --out "$tmp/out3" >/dev/null 2>&1; rc=$?
check "unknown harness: exit 2" $([ $rc -eq 2 ]; echo $?)
exit $fail

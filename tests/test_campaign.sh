#!/usr/bin/env bash
# test_campaign.sh - `ftpsfuzz fuzz` end to end on a tiny libFuzzer target
# built here (clang-14) that aborts with a FINDING line when its input holds
# "BUG", in a scratch source tree and build root (--no-build): the seeds are
# copied, not written; the finding is minimized to "BUG", copied to the
# regressions directory with a README.md line; summary.json has the figures;
# `ftpsfuzz replay` on a libFuzzer build names the finding; Ctrl-C stops the
# engine, still writes the report, and leaves no process behind. The AFL++
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
reg=$(find "$tmp/reg/fuzz_fake" -type f ! -name README.md)
check "one regression file, minimized to BUG" \
  $([ "$(echo "$reg" | wc -l)" -eq 1 ] && [ "$(cat "$reg")" = "BUG" ]; echo $?)
check "named by its sha256" $([ "$(basename "$reg")" = "$(sha256sum "$reg" | cut -d' ' -f1)" ]; echo $?)
check "README.md line with the report" \
  $(grep -q "^- \`$(basename "$reg")\`: FINDING TEST_BUG: the input holds BUG (ftpsfuzz fuzz, libfuzzer" "$tmp/reg/fuzz_fake/README.md"; echo $?)
check "seeds untouched" $([ "$(cat "$src"/corpus/seeds/fuzz_fake/* | sha256sum)" = "$seeds_before" ] &&
  [ "$(ls "$src/corpus/seeds/fuzz_fake" | wc -l)" -eq 2 ]; echo $?)
check "merged corpus written" $([ -d "$tmp/out/fuzz_fake/corpus" ] && [ "$(ls "$tmp/out/fuzz_fake/corpus" | wc -l)" -ge 1 ]; echo $?)
check "no engine left running" $(! pgrep -f "$hd/fuzz_fake" >/dev/null; echo $?)

out=$("$ftpsfuzz" replay --harness-dir "$hd" "$tmp/reg" 2>&1); rc=$?
check "replay through the libFuzzer build names the finding" \
  $([ $rc -eq 1 ] && echo "$out" | grep -q "^FAIL $reg \[fuzz_fake\]: .*FINDING TEST_BUG"; echo $?)

# Ctrl-C: stop the engine, still write the report, leave nothing running.
rm -f "$src/corpus/seeds/fuzz_fake/seed1" # no quick finding this time
"$ftpsfuzz" fuzz --no-build --no-coverage --source "$src" --build-root "$tmp/build" \
  --harness fuzz_fake --time 120 --out "$tmp/out2" --no-regressions >"$tmp/int.log" 2>&1 &
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

"$ftpsfuzz" fuzz --engine honggfuzz >/dev/null 2>&1; rc=$?
check "bad engine: exit 2" $([ $rc -eq 2 ]; echo $?)
"$ftpsfuzz" fuzz --no-build --source "$src" --build-root "$tmp/build" --harness nope \
  --out "$tmp/out3" >/dev/null 2>&1; rc=$?
check "unknown harness: exit 2" $([ $rc -eq 2 ]; echo $?)
exit $fail

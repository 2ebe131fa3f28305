#!/usr/bin/env bash
# test_ossfuzz_build.sh - runs fuzz/oss-fuzz/build.sh the way OSS-Fuzz does
# for libFuzzer + ASan (CC, CFLAGS, LIB_FUZZING_ENGINE, OUT, SRC, WORK set),
# then checks that every harness of the build's harnesses.list is in $OUT
# with its seed corpus zip and options, and that each fuzzer runs one of its
# seeds. BUILD_SCRIPT (default fuzz/oss-fuzz/build.sh, relative to the
# source tree) is the script run: test_cflite.sh passes .clusterfuzzlite/build.sh.
# usage: test_ossfuzz_build.sh SOURCE_DIR [BUILD_SCRIPT]
set -euo pipefail
src=$(cd "${1:?usage: $0 SOURCE_DIR [BUILD_SCRIPT]}" && pwd)
script=${2:-fuzz/oss-fuzz/build.sh}
if ! command -v clang-14 >/dev/null; then
  echo "test_ossfuzz_build: clang-14 not installed (scripts/deps.sh)" >&2
  exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

export CC=clang-14
export CFLAGS="-O1 -fno-omit-frame-pointer -gline-tables-only -fsanitize=address,fuzzer-no-link"
export LIB_FUZZING_ENGINE=-fsanitize=fuzzer
export OUT=$tmp/out SRC=$(dirname "$src") WORK=$tmp/work
(cd "$src" && bash "$script") >"$tmp/build.log" 2>&1 || {
  tail -30 "$tmp/build.log" >&2
  echo "FAIL: $script failed" >&2
  exit 1
}

fail=0
harnesses=$(grep -v '^#' "$WORK/ftpsfuzz-build/harnesses/harnesses.list" | grep .)
[ -n "$harnesses" ] || { echo "FAIL: empty harness list" >&2; exit 1; }
for h in $harnesses; do
  if [ ! -x "$OUT/$h" ]; then echo "FAIL: $OUT/$h missing"; fail=1; continue; fi
  [ -f "$src/fuzz/$h.options" ] && { [ -f "$OUT/$h.options" ] || { echo "FAIL: $h.options missing"; fail=1; }; }
  if [ ! -d "$src/corpus/seeds/$h" ]; then
    echo "note: $h has no seeds; running it on an empty input"
    : >"$tmp/empty"
    seed=$tmp/empty
  else
    zip=$OUT/${h}_seed_corpus.zip
    [ -f "$zip" ] || { echo "FAIL: $zip missing"; fail=1; continue; }
    mkdir -p "$tmp/seeds/$h"
    (cd "$tmp/seeds/$h" && unzip -q "$zip")
    n=$(find "$tmp/seeds/$h" -type f | wc -l)
    want=$(find "$src/corpus/seeds/$h" -maxdepth 1 -type f ! -name '.*' ! -name 'README*' | wc -l)
    [ "$n" -eq "$want" ] || { echo "FAIL: $h seed zip holds $n files, corpus/seeds/$h $want"; fail=1; }
    seed=$(find "$tmp/seeds/$h" -type f | sort | sed -n 1p)
  fi
  if (cd "$tmp" && "$OUT/$h" -runs=1 "$seed") >"$tmp/$h.log" 2>&1; then
    echo "ok: $h runs $(basename "$seed")"
  else
    tail -20 "$tmp/$h.log"
    echo "FAIL: $h did not run its seed"
    fail=1
  fi
done
exit $fail

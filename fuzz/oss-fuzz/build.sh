#!/bin/bash -eu
# build.sh - OSS-Fuzz / ClusterFuzzLite build of every ftpsfuzz harness.
#
# Uses the OSS-Fuzz variables: $CC, $CFLAGS (sanitizer + coverage flags),
# $LIB_FUZZING_ENGINE (the engine to link: -fsanitize=fuzzer, libAFLDriver.a,
# ...), $OUT (where the fuzzers go), $SRC, $WORK (scratch). For each harness
# in the build's harnesses/harnesses.list (one ftps_harness() line in
# harnesses/CMakeLists.txt adds one) it writes to $OUT:
#   <h>                   the fuzzer
#   <h>_seed_corpus.zip   corpus/seeds/<h>/
#   <h>.options           fuzz/<h>.options, and the dictionary it names
# The libraries (server/, model/, driver/, the fuzz driver) are built by
# CMake with $CC $CFLAGS and no engine (FTPS_FUZZ_ENGINE=none); only the
# final link adds $LIB_FUZZING_ENGINE, as OSS-Fuzz requires.
#
# BoringSSL: the Debian/Ubuntu package android-libboringssl-dev (headers in
# /usr/include/android, shared libraries in /usr/lib/x86_64-linux-gnu/android),
# installed by the Dockerfile. It is not instrumented, and the OSS-Fuzz
# runner image does not have it, so its two shared libraries are copied to
# $OUT/lib and the fuzzers find them through an $ORIGIN rpath.
#
# Local use (tests/test_ossfuzz_build.sh):
#   CC=clang-14 CFLAGS="-O1 -fno-omit-frame-pointer -gline-tables-only \
#     -fsanitize=address,fuzzer-no-link" LIB_FUZZING_ENGINE=-fsanitize=fuzzer \
#     OUT=/tmp/out SRC=/path/to/parent bash fuzz/oss-fuzz/build.sh
set -euo pipefail # also when run as "bash build.sh", which ignores the #! flags

# The source tree: $FTPSFUZZ_SRC, else the working directory (OSS-Fuzz's
# WORKDIR), else relative to this script, else $SRC/ftpsfuzz.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=
for d in "${FTPSFUZZ_SRC:-}" "$PWD" "$here/../.." "$here/.." "${SRC:-/src}/ftpsfuzz"; do
  if [ -n "$d" ] && [ -f "$d/CMakePresets.json" ] && [ -d "$d/harnesses" ]; then
    src=$(cd "$d" && pwd)
    break
  fi
done
if [ -z "$src" ]; then
  echo "build.sh: cannot find the ftpsfuzz source tree (set FTPSFUZZ_SRC)" >&2
  exit 2
fi

: "${CC:?set CC}" "${OUT:?set OUT}" "${LIB_FUZZING_ENGINE:?set LIB_FUZZING_ENGINE}"
CFLAGS=${CFLAGS:-}
work=${WORK:-$(mktemp -d)}
build=$work/ftpsfuzz-build
boringssl_lib=/usr/lib/x86_64-linux-gnu/android
mkdir -p "$OUT" "$OUT/lib" "$work"

generator=()
if command -v ninja >/dev/null 2>&1; then generator=(-G Ninja); fi
cmake -S "$src" -B "$build" "${generator[@]}" \
  -DCMAKE_C_COMPILER="$CC" -DCMAKE_C_FLAGS="$CFLAGS" -DCMAKE_BUILD_TYPE=None \
  -DFTPS_FUZZ_ENGINE=none -DFTPS_ALLOW_MISSING_TESTS=ON >"$work/cmake.log" ||
  { cat "$work/cmake.log" >&2; exit 1; }
cmake --build "$build" --target ftps_fuzz_driver -j"$(nproc)"

list=$build/harnesses/harnesses.list
harnesses=$(grep -v '^#' "$list" | grep .)
libs=("$build/harnesses/libftps_fuzz_driver.a" "$build/driver/libftps_driver.a"
      "$build/model/libftps_model.a" "$build/server/libftps_server.a")
includes=(-I"$src/harnesses" -I"$src/driver" -I"$src/model" -I"$src/server"
          -isystem /usr/include/android)

cp -L "$boringssl_lib/libssl.so.0" "$boringssl_lib/libcrypto.so.0" "$OUT/lib/"

for h in $harnesses; do
  echo "build.sh: $h"
  # shellcheck disable=SC2086 # CFLAGS and LIB_FUZZING_ENGINE are word lists
  $CC $CFLAGS -std=c11 -D_GNU_SOURCE "${includes[@]}" -c "$src/harnesses/$h.c" -o "$work/$h.o"
  # shellcheck disable=SC2086
  $CC $CFLAGS "$work/$h.o" "${libs[@]}" $LIB_FUZZING_ENGINE \
    -L"$OUT/lib" -l:libssl.so.0 -l:libcrypto.so.0 -Wl,-rpath,'$ORIGIN/lib' -o "$OUT/$h"
  if [ -d "$src/corpus/seeds/$h" ]; then
    rm -f "$OUT/${h}_seed_corpus.zip"
    (cd "$src/corpus/seeds/$h" && zip -q -r "$OUT/${h}_seed_corpus.zip" . -x 'README*' '.*')
  fi
  if [ -f "$src/fuzz/$h.options" ]; then
    cp "$src/fuzz/$h.options" "$OUT/"
    dict=$(sed -n 's/^[[:space:]]*dict[[:space:]]*=[[:space:]]*//p' "$src/fuzz/$h.options" | head -1)
    if [ -n "$dict" ]; then cp "$src/fuzz/$dict" "$OUT/"; fi
  fi
done
echo "build.sh: $(echo $harnesses | wc -w) fuzzers in $OUT"

#!/usr/bin/env bash
# The test command (README, .ci/run): install what is missing, build the dev
# preset (ASan+UBSan), run every ctest, fuzz every harness for two minutes
# (exit 1 on any finding), then run the transcript scripts under valgrind in
# a release build.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh

cmake --preset dev >/dev/null
cmake --build --preset dev
ctest --preset dev

# CI fuzzes: every harness for a short while under libFuzzer (ASan+UBSan),
# and any finding fails the run, so a harness's reference and the server
# (or the oracle) can never drift apart unnoticed. Findings stay in the
# campaign directory (out/ci-fuzz), never in corpus/regressions.
rm -rf out/ci-fuzz
build/dev/cli/ftpsfuzz fuzz --harness all --time "${FTPSFUZZ_CI_FUZZ_TIME:-120}" \
  --no-coverage --no-regressions --out out/ci-fuzz

cmake --preset release >/dev/null
cmake --build --preset release --target ftpsfuzz
scripts/valgrind-scripts.sh build/release/cli/ftpsfuzz

#!/usr/bin/env bash
# The test command (README, .ci/run): install what is missing, build the dev
# preset (ASan+UBSan), run every ctest, then run the transcript scripts under
# valgrind in a release build.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh

cmake --preset dev >/dev/null
cmake --build --preset dev
ctest --preset dev

cmake --preset release >/dev/null
cmake --build --preset release --target ftpsfuzz
scripts/valgrind-scripts.sh build/release/cli/ftpsfuzz

#!/usr/bin/env bash
# The main job (README): install what is missing, build, and run the default
# fuzzing campaign - every harness, libFuzzer (clang-14, ASan+UBSan), 60 s of
# fuzzing - ending with the summary table and the report path
# (out/campaign-<timestamp>/report). `ftpsfuzz fuzz` builds the libfuzzer and
# coverage presets itself. Exit status 1 means the campaign found something:
# each finding is minimized into corpus/regressions/<harness>/.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target ftpsfuzz

exec build/release/cli/ftpsfuzz fuzz --time 60 --harness all --engine libfuzzer

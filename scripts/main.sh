#!/usr/bin/env bash
# The main job (README): install what is missing, build, and play the bundled
# example scripts against the in-process server, printing their transcripts.
# (The fuzzing campaign takes over this command when the harnesses land.)
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target ftpsfuzz

status=0
for script in examples/*.fts; do
  echo "=== $script"
  build/release/cli/ftpsfuzz run "$script" || status=1
done
exit $status

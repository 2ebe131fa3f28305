#!/usr/bin/env bash
# Plays every example and transcript-test script under valgrind (memcheck,
# full leak check). A script passes only when `ftpsfuzz run` exits 0: every
# script meets its expectations (ctest's test_runner checks the same without
# valgrind), so exit 99 (a memory error or leak, valgrind's --error-exitcode),
# 1 (a mismatch), 2 (the script or runner refused), a crash or a signal
# (128+N) all fail, each with valgrind's and the runner's standard error.
# Usage: valgrind-scripts.sh FTPSFUZZ
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:?usage: valgrind-scripts.sh path/to/ftpsfuzz}
command -v valgrind >/dev/null || { echo "valgrind: not installed (scripts/deps.sh)" >&2; exit 1; }

log=$(mktemp)
trap 'rm -f "$log"' EXIT
pass=0
fail=0
for script in examples/*.fts tests/scripts/*.fts; do
  [ -e "$script" ] || continue
  rc=0
  valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
    "$bin" run "$script" >/dev/null 2>"$log" || rc=$?
  if [ $rc -eq 0 ]; then
    pass=$((pass + 1))
    continue
  fi
  fail=$((fail + 1))
  case $rc in
    99) why="memory error or leak" ;;
    1) why="exit 1: expectation mismatch" ;;
    2) why="exit 2: bad script or runner error" ;;
    *) if [ $rc -gt 128 ]; then why="killed by signal $((rc - 128))"; else why="exit $rc"; fi ;;
  esac
  echo "valgrind: $script: $why" >&2
  cat "$log" >&2
done
echo "valgrind: $pass passed, $fail failed"
[ $fail -eq 0 ]

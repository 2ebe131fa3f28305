#!/usr/bin/env bash
# Plays every example and transcript-test script under valgrind (memcheck,
# full leak check); any error or leak fails. Usage: valgrind-scripts.sh FTPSFUZZ
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:?usage: valgrind-scripts.sh path/to/ftpsfuzz}

pass=0
fail=0
for script in examples/*.fts tests/scripts/*.fts; do
  [ -e "$script" ] || continue
  # Exit 1 is an expectation mismatch, already reported by ctest; here only
  # memory errors (exit 99) count.
  if valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
       "$bin" run "$script" >/dev/null 2>/tmp/ftpsfuzz-valgrind.$$; then
    pass=$((pass + 1))
  else
    rc=$?
    if [ $rc -eq 99 ]; then
      fail=$((fail + 1))
      echo "valgrind: $script" >&2
      cat /tmp/ftpsfuzz-valgrind.$$ >&2
    else
      pass=$((pass + 1))
    fi
  fi
done
rm -f /tmp/ftpsfuzz-valgrind.$$
echo "valgrind: $pass passed, $fail failed"
[ $fail -eq 0 ]

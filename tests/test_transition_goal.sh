#!/usr/bin/env bash
# test_transition_goal.sh FTPSFUZZ FUZZ_SEQUENCE - the harness switch
# FTPSFUZZ_TRANSITIONS_GOAL (harnesses/transition_goal.h) on the replay build
# of fuzz_sequence: it stops with status 0 and says so once every named
# transition was taken, runs on when one is missing, and refuses a bad file
# with status 2.
set -euo pipefail
FTPSFUZZ=${1:?usage: test_transition_goal.sh FTPSFUZZ FUZZ_SEQUENCE}
HARNESS=${2:?fuzz_sequence}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ftpsfuzz-goal.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

printf 'C: AUTH TLS\nT: handshake\nC: USER alice\nC: PASS wonderland\nC: QUIT\n' >"$WORK/s.fts"
"$FTPSFUZZ" encode "$WORK/s.fts" -o "$WORK/s.bin" >/dev/null || fail "ftpsfuzz encode failed"

# 1. every goal row taken: the message and exit 0, before the second input
printf '# goal\nGREETING\nAUTH_TLS_OK\nPASS_OK\n' >"$WORK/goal"
rc=0
FTPSFUZZ_TRANSITIONS_GOAL="$WORK/goal" "$HARNESS" "$WORK/s.bin" "$WORK/s.bin" \
  >"$WORK/out" 2>&1 || rc=$?
[ "$rc" -eq 0 ] || fail "goal reached: exit $rc"
grep -q 'transition goal reached: 3/3 transitions after 1 inputs' "$WORK/out" ||
  fail "no goal message: $(cat "$WORK/out")"
grep -q 'replayed' "$WORK/out" && fail "the harness went on after the goal"

# 2. a row the input never takes: no message, the replay runs to its end
printf 'GREETING\nADAT\n' >"$WORK/goal"
FTPSFUZZ_TRANSITIONS_GOAL="$WORK/goal" "$HARNESS" "$WORK/s.bin" >"$WORK/out" 2>&1 ||
  fail "goal not reached: exit $?"
grep -q 'goal reached' "$WORK/out" && fail "goal reported without ADAT"
grep -q 'replayed 1 inputs' "$WORK/out" || fail "replay did not finish: $(cat "$WORK/out")"

# 3. bad goal files: exit 2 with the reason
printf 'NO_SUCH_ROW\n' >"$WORK/goal"
rc=0
FTPSFUZZ_TRANSITIONS_GOAL="$WORK/goal" "$HARNESS" "$WORK/s.bin" >"$WORK/out" 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "unknown row: exit $rc"
grep -q "no model transition named 'NO_SUCH_ROW'" "$WORK/out" || fail "unknown row: $(cat "$WORK/out")"
rc=0
FTPSFUZZ_TRANSITIONS_GOAL="$WORK/missing" "$HARNESS" "$WORK/s.bin" >"$WORK/out" 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "missing file: exit $rc"
echo "transition goal switch: ok"

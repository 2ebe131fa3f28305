#!/usr/bin/env bash
# `ftpsfuzz learn` end to end (bounded: small alphabets, seconds each):
# - the in-process server under the built-in policy, core alphabet: the
#   learned machine has no diff against the model (exit 0), its Promela
#   passes SPIN and its picture parses;
# - a server that does not require TLS for login and allows CCC, declared
#   as the built-in policy (TLS required, no CCC), in-process
#   (--server-config) and over TCP (`serve --tls-login off --ccc`): the diff
#   names TLS_REQUIRED_LOGIN on the plaintext login and
#   TLS_REQUIRED_STAYS_TLS on the accepted CCC (exit 1), SPIN rejects the
#   learned Promela, and the CCC witness replays with
#   `run --connect --oracle` to the same violation; a short learning run
#   over TCP (plaintext alphabet, query budget) finds the plaintext login,
#   and with --concurrency 4 learns and diffs what it does with 1;
# - a query budget hit exits 3; usage errors exit 2.
# usage: test_cmd_learn.sh FTPSFUZZ
FTPSFUZZ=$1
. "$(dirname "$0")/interop/lib.sh"

# spin_errors PML: prints SPIN's error count (skipped without spin/cc).
spin_errors() {
  (cd "$(dirname "$1")" && spin -a "$(basename "$1")" >/dev/null &&
    cc -O0 -DSAFETY -o pan pan.c 2>/dev/null && ./pan | sed -n 's/.*errors: \([0-9]*\).*/\1/p')
}

# 1. our server, built-in policy, core alphabet: no diff
rc=0
"$FTPSFUZZ" learn --quiet --alphabet core --eq-tests 200 --out "$WORK/core" >"$WORK/core.log" 2>&1 || rc=$?
[ "$rc" -eq 0 ] || fail "learn core: exit $rc: $(cat "$WORK/core.log")"
grep -q '^states: [0-9]' "$WORK/core/summary.txt" || fail "no summary"
grep -q 'No learned transition breaks the model' "$WORK/core/diff.md" || fail "diff not empty"
# the sinks' transitions were never played: counted apart, not as judged
grep -q '^not exercised: [1-9][0-9]* transitions' "$WORK/core/summary.txt" &&
  grep -q 'were not exercised' "$WORK/core/diff.md" || fail "the sinks' transitions not reported"
[ -s "$WORK/core/access/q0.fts" ] && [ -s "$WORK/core/learned.dot" ] || fail "outputs missing"
# every access script replays in-process without a violation
for f in "$WORK"/core/access/*.fts; do
  "$FTPSFUZZ" run --oracle "$f" >/dev/null 2>&1 || fail "access script $f: violation or error"
done
echo "ok: core alphabet, in-process: $(grep '^states' "$WORK/core/summary.txt"), no diff"
if command -v dot >/dev/null; then
  dot -Tsvg "$WORK/core/learned.dot" -o /dev/null || fail "learned.dot does not parse"
fi
if command -v spin >/dev/null && command -v cc >/dev/null; then
  [ "$(spin_errors "$WORK/core/learned.pml")" = 0 ] || fail "SPIN rejects the conforming machine"
  echo "ok: SPIN: errors 0 on the learned machine"
fi

# 2. a server that differs from what is declared
printf 'AUTH_TLS\nHANDSHAKE\nUSER_OK\nPASS_OK\nCCC\n' >"$WORK/ccc.alphabet"
printf 'tls_login=off\nccc=on\n' >"$WORK/ccc.cfg"
check_diff() { # DIR WHAT
  grep -q 'TLS_REQUIRED_LOGIN' "$1/diff.md" || fail "$2: no TLS_REQUIRED_LOGIN in the diff"
  grep -q '| CCC | 200+tls_shutdown |.*TLS_REQUIRED_STAYS_TLS' "$1/diff.md" ||
    fail "$2: no CCC / TLS_REQUIRED_STAYS_TLS row: $(cat "$1/diff.md")"
  ls "$1"/witnesses/*-CCC-TLS_REQUIRED_STAYS_TLS.fts >/dev/null 2>&1 || fail "$2: no CCC witness"
}
rc=0
"$FTPSFUZZ" learn --quiet --alphabet "$WORK/ccc.alphabet" --server-config "$WORK/ccc.cfg" \
  --cache "$WORK/ccc.cache" --out "$WORK/inproc" >"$WORK/inproc.log" 2>&1 || rc=$?
[ "$rc" -eq 1 ] || fail "learn --server-config: exit $rc, expected 1: $(cat "$WORK/inproc.log")"
check_diff "$WORK/inproc" "in-process"
echo "ok: in-process, server without TLS-required login: the diff names both invariants"
# the same again from the query cache: nothing asked, the same machine
rc=0
"$FTPSFUZZ" learn --quiet --alphabet "$WORK/ccc.alphabet" --server-config "$WORK/ccc.cfg" \
  --cache "$WORK/ccc.cache" --out "$WORK/cached" >"$WORK/cached.log" 2>&1 || rc=$?
[ "$rc" -eq 1 ] || fail "learn from the cache: exit $rc: $(cat "$WORK/cached.log")"
grep -q '^queries: 0$' "$WORK/cached/summary.txt" || fail "the cache did not answer everything"
# (state numbers may differ: the states and the diff's rows without them may not)
rows() { sed -n 's/^| q[0-9]* [^|]*|\(.*\) | witnesses.*/\1/p' "$1/diff.md" | sort; }
[ "$(grep '^states' "$WORK/inproc/summary.txt")" = "$(grep '^states' "$WORK/cached/summary.txt")" ] &&
  [ "$(rows "$WORK/inproc")" = "$(rows "$WORK/cached")" ] || fail "cached run learned otherwise"
echo "ok: a second run from --cache asks nothing and learns the same machine"
if command -v spin >/dev/null && command -v cc >/dev/null; then
  [ "$(spin_errors "$WORK/inproc/learned.pml")" != 0 ] || fail "SPIN accepts the wrong machine"
  echo "ok: SPIN rejects the learned machine of the wrong server"
fi

# over TCP: the in-process witness replays against `serve` configured the
# same wrong way (the witness's "# config:" line is the declared policy,
# which over TCP only tells the judge)
mkdir -p "$WORK/root/pub" "$WORK/root/upload"
printf 'hello\n' >"$WORK/root/pub/hello.txt"
start_server ccc "$WORK/root" --tls-login off --ccc
W=$(ls "$WORK"/inproc/witnesses/*-CCC-TLS_REQUIRED_STAYS_TLS.fts | head -n 1)
rc=0
"$FTPSFUZZ" run --connect "127.0.0.1:$PORT" --oracle "$W" >"$WORK/replay.log" 2>&1 || rc=$?
[ "$rc" -eq 1 ] && grep -q 'VIOLATION TLS_REQUIRED_STAYS_TLS' "$WORK/replay.log" ||
  fail "witness replay over TCP: exit $rc: $(cat "$WORK/replay.log")"
echo "ok: the CCC witness replays over TCP to the violation"
# learning over TCP (bounded: a plaintext alphabet, a query budget): the
# plaintext login is in the diff, and its witness replays
printf 'USER_OK\nPASS_OK\nNOOP\n' >"$WORK/plain.alphabet"
rc=0
"$FTPSFUZZ" learn --quiet --connect "127.0.0.1:$PORT" --user "$USER_NAME" --pass "$USER_PASS" \
  --alphabet "$WORK/plain.alphabet" --rate 0 --settle 0 --timeout 2000 --max-queries 40 \
  --out "$WORK/tcp" >"$WORK/tcp.log" 2>&1 || rc=$?
[ "$rc" -eq 1 ] || fail "learn --connect: exit $rc, expected 1: $(cat "$WORK/tcp.log")"
grep -q '| q0 (.*) | USER_OK | 331 |.*TLS_REQUIRED_LOGIN' "$WORK/tcp/diff.md" ||
  fail "TCP: no plaintext USER row: $(cat "$WORK/tcp/diff.md")"
rc=0
"$FTPSFUZZ" run --connect "127.0.0.1:$PORT" --oracle "$WORK/tcp/witnesses/q0-USER_OK-TLS_REQUIRED_LOGIN.fts" \
  >"$WORK/replay2.log" 2>&1 || rc=$?
[ "$rc" -eq 1 ] || fail "TCP witness replay: exit $rc: $(cat "$WORK/replay2.log")"
echo "ok: learned over TCP ($(grep '^queries' "$WORK/tcp/summary.txt")): plaintext login in the diff"

# --concurrency 4 over TCP (learning queries, equivalence tests and the
# diff's replays in batches, 4 connections at once) learns what
# --concurrency 1 learns: the same states, query counts and diff (an
# alphabet without TLS: seconds, and no timing in the answers)
printf 'USER_OK\nPASS_OK\nNOOP\nPBSZ_0\nPROT_P\n' >"$WORK/conc.alphabet"
for c in 1 4; do
  rc=0
  "$FTPSFUZZ" learn --quiet --connect "127.0.0.1:$PORT" --user "$USER_NAME" --pass "$USER_PASS" \
    --alphabet "$WORK/conc.alphabet" --rate 0 --settle 0 --timeout 2000 --eq-tests 50 \
    --concurrency "$c" --out "$WORK/conc$c" >"$WORK/conc$c.log" 2>&1 || rc=$?
  [ "$rc" -eq 1 ] || fail "learn --concurrency $c: exit $rc, expected 1: $(cat "$WORK/conc$c.log")"
done
counts() { grep -E '^(states|queries|symbols|equivalence queries|rounds|cache hits):' "$1/summary.txt"; }
[ "$(counts "$WORK/conc1")" = "$(counts "$WORK/conc4")" ] ||
  fail "--concurrency 4 counted otherwise: $(counts "$WORK/conc1") / $(counts "$WORK/conc4")"
[ -n "$(rows "$WORK/conc1")" ] && [ "$(rows "$WORK/conc1")" = "$(rows "$WORK/conc4")" ] ||
  fail "--concurrency 4 learned another diff"
# the diff's replays ran 4 at once too: the same diff.md (rows in the same
# order), witnesses and replay counts
replays() { sed -n 's/^diff: \(.*\) replays in .*/\1/p' "$1/summary.txt"; }
cmp -s "$WORK/conc1/diff.md" "$WORK/conc4/diff.md" ||
  fail "--concurrency 4: another diff.md: $(diff "$WORK/conc1/diff.md" "$WORK/conc4/diff.md")"
[ "$(ls "$WORK/conc1/witnesses")" = "$(ls "$WORK/conc4/witnesses")" ] ||
  fail "--concurrency 4: other witnesses"
[ -n "$(replays "$WORK/conc1")" ] && [ "$(replays "$WORK/conc1")" = "$(replays "$WORK/conc4")" ] ||
  fail "--concurrency 4 replayed otherwise: $(replays "$WORK/conc1") / $(replays "$WORK/conc4")"
grep -q '^learn wall time: .*(up to 4 connections at once)' "$WORK/conc4/summary.txt" ||
  fail "--concurrency 4: the summary does not say so"
echo "ok: --concurrency 4 over TCP: the same machine and counts as 1 ($(counts "$WORK/conc4" | tr '\n' ' '))"

# 3. a budget that ends learning early: the last hypothesis, exit 3
rc=0
"$FTPSFUZZ" learn --quiet --alphabet core --no-model --max-queries 20 --out "$WORK/budget" \
  >"$WORK/budget.log" 2>&1 || rc=$?
[ "$rc" -eq 3 ] && grep -q '^budget: reached' "$WORK/budget/summary.txt" ||
  fail "learn --max-queries 20: exit $rc, expected 3: $(cat "$WORK/budget.log")"
echo "ok: --max-queries 20: exit 3 with the last hypothesis"

# 4. usage
for args in "--alphabet nosuch" "--concurrency 0" "--concurrency 17" "--algorithm nope" "--user x" \
  "--connect nohostport"; do
  rc=0
  # shellcheck disable=SC2086
  "$FTPSFUZZ" learn $args --out "$WORK/usage" >"$WORK/usage.log" 2>&1 || rc=$?
  [ "$rc" -eq 2 ] || fail "learn $args: exit $rc, expected 2"
done
echo "ok: usage errors exit 2"
echo "PASS"

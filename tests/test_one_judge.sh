#!/usr/bin/env bash
# test_one_judge.sh - the same transcript gets the same verdict from every
# command (issue: four judges that disagreed). Every script in tests/scripts,
# examples/ and the fuzz_sequence seeds is played three ways:
#   run --oracle SCRIPT            the in-process play's verdict
#   oracle TRANSCRIPT              the transcript run printed, judged offline
#   fuzz_sequence replay binary    the harness on the encoded script
# and the three verdicts (OK, or the invariant of the first violation) must
# agree (test_oracle checks that `check`'s judge, check_judge, reports the
# same invariants as `oracle --all` on every tests/oracle transcript). Then
# the offline judge honours a transcript's "# config:" lines and
# the built-in account's secret exactly as the in-process play does.
# usage: test_one_judge.sh FTPSFUZZ FUZZ_SEQUENCE_REPLAY
set -uo pipefail
ftpsfuzz=${1:?usage: $0 FTPSFUZZ FUZZ_SEQUENCE}
harness=${2:?usage: $0 FTPSFUZZ FUZZ_SEQUENCE}
src=${FTPS_SOURCE_DIR:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0 n=0

verdict_of_run() { # stderr of run --oracle -> OK | INVARIANT
  if grep -q '^oracle: OK' "$1"; then echo OK; else
    sed -n 's/^VIOLATION \([A-Z0-9_]*\) .*/\1/p' "$1" | head -1; fi
}
verdict_of_oracle() { sed -n 's/^OK$/OK/p; s/^VIOLATION \([A-Z0-9_]*\) .*/\1/p' "$1" | head -1; }
verdict_of_harness() { # harness stderr + exit
  if [ "$2" -eq 0 ]; then echo OK; else
    sed -n 's/.*FINDING \([A-Z0-9_]*\):.*/\1/p' "$1" | head -1; fi
}

judge_one() { # judge_one SCRIPT
  local s=$1 b
  b=$tmp/$(basename "$s")
  # expectations (S:/E:) are dropped: only the client's steps are played
  grep -v '^[SE]: ' "$s" >"$b.in"
  "$ftpsfuzz" run --oracle "$b.in" >"$b.t" 2>"$b.run" || true
  local v1 v2 v3 rc
  v1=$(verdict_of_run "$b.run")
  "$ftpsfuzz" oracle "$b.t" >"$b.or" 2>&1 || true
  v2=$(verdict_of_oracle "$b.or")
  "$ftpsfuzz" encode "$b.in" -o "$b.bin" >/dev/null 2>&1 || { echo "FAIL: encode $s"; fail=1; return; }
  "$harness" "$b.bin" >"$b.h" 2>&1; rc=$?
  v3=$(verdict_of_harness "$b.h" $rc)
  n=$((n + 1))
  if [ -z "$v1" ] || [ "$v1" != "$v2" ] || [ "$v1" != "$v3" ]; then
    echo "FAIL: $s: run --oracle '$v1', oracle '$v2', fuzz_sequence '$v3'"
    fail=1
  fi
}

for s in "$src"/tests/scripts/*.fts "$src"/examples/*.fts; do judge_one "$s"; done
for f in $(ls "$src"/corpus/seeds/fuzz_sequence | head -40); do
  "$ftpsfuzz" decode "$src/corpus/seeds/fuzz_sequence/$f" -o "$tmp/seed-$f.fts" >/dev/null 2>&1 &&
    judge_one "$tmp/seed-$f.fts"
done
echo "ok: $n scripts got one verdict from run --oracle, oracle and fuzz_sequence"

# A transcript's "# config:" lines decide the policy offline too: CCC
# accepted is right under ccc=on and tls_login=off, a violation without.
cat >"$tmp/ccc.fts" <<'T'
S: 220 ftpsfuzz ready.
C: AUTH TLS
S: 234 Proceed.
T: handshake
E: handshake ok
C: CCC
S: 200 CCC ok.
T: close_notify
C: QUIT
S: 221 Bye.
E: closed
T
out=$("$ftpsfuzz" oracle "$tmp/ccc.fts")
case $out in VIOLATION\ TLS_REQUIRED_STAYS_TLS*|VIOLATION\ ALLOWED_CODE*) ;; *)
  echo "FAIL: CCC 200 under the built-in policy: '$out'"; fail=1 ;; esac
{ echo '# config: ccc=on tls_login=off'; cat "$tmp/ccc.fts"; } >"$tmp/ccc-on.fts"
out=$("$ftpsfuzz" oracle "$tmp/ccc-on.fts")
[ "$out" = OK ] || { echo "FAIL: '# config: ccc=on tls_login=off' ignored offline: '$out'"; fail=1; }
echo '# config: ccc=maybe' >"$tmp/bad.fts"; cat "$tmp/ccc.fts" >>"$tmp/bad.fts"
"$ftpsfuzz" oracle "$tmp/bad.fts" >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || { echo "FAIL: a bad '# config:' line exits $rc, want 2"; fail=1; }

# The account's password in a reply is judged offline as in-process, also
# in a reply to a command other than PASS; a refused PASS's word is not.
cat >"$tmp/leak.fts" <<'T'
S: 220 ftpsfuzz ready.
C: SYST
S: 215 UNIX Type: L8 wonderland
C: QUIT
S: 221 Bye.
E: closed
T
out=$("$ftpsfuzz" oracle "$tmp/leak.fts")
case $out in VIOLATION\ NO_SECRET_ECHO*) ;; *) echo "FAIL: leaked secret offline: '$out'"; fail=1 ;; esac
cat >"$tmp/word.fts" <<'T'
S: 220 ftpsfuzz ready.
C: PASS TLS
S: 530 TLS required.
C: QUIT
S: 221 Bye.
E: closed
T
out=$("$ftpsfuzz" oracle "$tmp/word.fts")
[ "$out" = OK ] || { echo "FAIL: a refused PASS word matched the server's text: '$out'"; fail=1; }

[ $fail -eq 0 ] && echo "1 passed, 0 failed" || echo "0 passed, 1 failed"
exit $fail

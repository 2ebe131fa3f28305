#!/usr/bin/env bash
# test_cli_model.sh FTPSFUZZ - the model's command lines (cli/cmd_oracle.c,
# cli/cmd_model.c --table, cli/cmd_gen.c), as a user runs them:
#
# - `oracle` prints exactly OK (exit 0) or VIOLATION <NAME> step <n>: ...
#   (exit 1; one line per violation with --all); --profile and --policy
#   change verdicts where they should; malformed input and bad options exit 2
#   naming the file and line or the option;
# - `model --table` prints known rows;
# - `gen --cover` reaches 100.0%; `gen --walks` is identical for one seed and
#   differs for another.
# `gen --cover` searches against the in-process server (~30 s under ASan):
# it runs once.
set -u
FTPSFUZZ=${1:?usage: test_cli_model.sh FTPSFUZZ}
SRC=${FTPS_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
PASS=$SRC/tests/oracle/pass
VIOL=$SRC/tests/oracle/violate
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# run ARGS...: runs ftpsfuzz, leaving stdout in $out, stderr in $err, status in $rc.
run() {
  "$FTPSFUZZ" "$@" >"$W/out" 2>"$W/err"
  rc=$?
  out=$(cat "$W/out")
  err=$(cat "$W/err")
}

# expect_ok FILE ARGS...: the verdict is exactly "OK", exit 0.
expect_ok() {
  local f=$1
  shift
  run oracle "$f" "$@"
  if [ "$rc" -ne 0 ] || [ "$out" != "OK" ] || [ -n "$err" ]; then
    fail "oracle $(basename "$f") $*: want OK/0, got rc=$rc out='$out' err='$err'"
  else
    echo "ok: oracle $(basename "$f") $* -> OK"
  fi
}

# expect_violations FILE 'LINE-PREFIX;LINE-PREFIX...' ARGS...: exit 1 and
# exactly one stdout line per prefix, in order, each starting with it.
expect_violations() {
  local f=$1 want=$2
  shift 2
  run oracle "$f" "$@"
  local -a prefixes lines
  IFS=';' read -r -a prefixes <<<"$want"
  mapfile -t lines <<<"$out"
  local bad=0
  [ "$rc" -eq 1 ] || bad=1
  [ "${#lines[@]}" -eq "${#prefixes[@]}" ] || bad=1
  for i in "${!prefixes[@]}"; do
    [[ "${lines[$i]:-}" == "${prefixes[$i]}"* ]] || bad=1
  done
  if [ $bad -ne 0 ]; then
    fail "oracle $(basename "$f") $*: want rc=1 and '$want', got rc=$rc:"
    printf '%s\n' "$out" "$err"
  else
    echo "ok: oracle $(basename "$f") $* -> ${#lines[@]} violation line(s)"
  fi
}

# expect_usage PATTERN ARGS...: exit 2, nothing on stdout, PATTERN on stderr.
expect_usage() {
  local pat=$1
  shift
  run "$@"
  if [ "$rc" -ne 2 ] || [ -n "$out" ] || ! grep -qF -- "$pat" "$W/err"; then
    fail "$*: want rc=2 and '$pat' on stderr, got rc=$rc out='$out' err='$err'"
  else
    echo "ok: $* -> 2 ($pat)"
  fi
}

# --- oracle: verdicts ---
expect_ok "$PASS/ourserver-session.fts"
expect_ok "$PASS/ourserver-session.fts" --all
expect_violations "$VIOL/NO_SECOND_234-pureftpd.fts" \
  'VIOLATION NO_SECOND_234 step 9: AUTH_TLS answered 234 (state: sec=SECURE '
# Without --all only the first; with --all one line each.
expect_violations "$VIOL/PROT_LEVEL_KEPT-pureftpd-fallback.fts" \
  'VIOLATION PROT_LEVEL_KEPT step 17: PROT_OTHER refused with 534'
expect_violations "$VIOL/PROT_LEVEL_KEPT-pureftpd-fallback.fts" \
  'VIOLATION PROT_LEVEL_KEPT step 17: PROT_OTHER refused with 534;VIOLATION PROT_P_DATA_IS_TLS step 24: data moved in clear under PROT P' \
  --all
expect_violations "$VIOL/TLS_REQUIRED_LOGIN-plain-user-331.fts" \
  'VIOLATION TLS_REQUIRED_LOGIN step 5: USER answered 331;VIOLATION TLS_REQUIRED_LOGIN step 7: PASS answered 230' \
  --all

# --- oracle: --profile and --policy change verdicts ---
# A plaintext login is fine without a TLS-required policy, and under rfc
# (which ignores --policy and has no TLS policy at all).
expect_ok "$VIOL/TLS_REQUIRED_LOGIN-plain-user-331.fts" --policy tls-login=off
expect_ok "$VIOL/TLS_REQUIRED_LOGIN-plain-user-331.fts" --profile rfc
expect_ok "$VIOL/TLS_REQUIRED_LOGIN-plain-user-331.fts" --profile rfc --policy tls-login=on
# PWD answered 530 before login: the default profile's generic 530; RFC 959
# section 5.4 lists only 257 500 501 502 421 (+550) for PWD.
expect_ok "$PASS/plain-refusals.fts" --profile default
expect_violations "$PASS/plain-refusals.fts" 'VIOLATION ALLOWED_CODE step 15: PWD answered 530' \
  --profile rfc
# CCC accepted: fine with CCC on and TLS not required for login; a
# conformance error with CCC off; a security one when TLS is required.
expect_ok "$PASS/ccc-allowed.fts" --policy tls-login=off,ccc=on
expect_violations "$PASS/ccc-allowed.fts" 'VIOLATION ALLOWED_CODE step 18: CCC answered 200' \
  --policy tls-login=off
expect_violations "$PASS/ccc-allowed.fts" 'VIOLATION TLS_REQUIRED_STAYS_TLS step 18: CCC answered 200'

# --- oracle: bad input and bad usage exit 2 ---
printf 'S: 220 hi\nC: NOOP\nX: what\n' >"$W/bad.fts"
expect_usage "$W/bad.fts:3: unknown step letter 'X'" oracle "$W/bad.fts"
printf 'S: 220 hi\nW: soon\n' >"$W/badwait.fts"
expect_usage "$W/badwait.fts:2: W step" oracle "$W/badwait.fts"
expect_usage "$W/missing.fts: cannot open" oracle "$W/missing.fts"
expect_usage "--profile: expected rfc or default, got 'nope'" \
  oracle "$PASS/ourserver-session.fts" --profile nope
expect_usage "--policy: expected on or off in 'tls-login=maybe'" \
  oracle "$PASS/ourserver-session.fts" --policy tls-login=maybe
expect_usage "--policy: expected tls-login=, tls-data=, anon= or ccc= at 'foo=on'" \
  oracle "$PASS/ourserver-session.fts" --policy foo=on
expect_usage "usage: ftpsfuzz oracle" oracle "$PASS/ourserver-session.fts" --profile
expect_usage "usage: ftpsfuzz oracle" oracle

# --- model --table ---
run model --table
[ "$rc" -eq 0 ] || fail "model --table exited $rc: $err"
for row in \
  'QUIT_OK              QUIT             [-]  codes{221}  -> conn=closing' \
  'AUTH_TLS_OK          AUTH_TLS         [sec=PLAIN]  codes{234}  -> sec=NEGOTIATING login=NONE anon=no pbsz=no prot=C data=NONE ccc=no' \
  'PROT_P_OK            PROT_P           [pbsz=yes sx=yes]  codes{200}  -> prot=P' \
  'N_TLS_LOGIN          ANY              [sec=PLAIN tls-login]  drop{2xx 3xx}'; do
  if grep -qxF -- "$row" "$W/out"; then
    echo "ok: model --table has '${row%% *}'"
  else
    fail "model --table lacks the line: $row"
  fi
done
grep -qE '^# [0-9]+ transitions: NAME  EVENT' "$W/out" || fail "model --table header"

# --- gen --cover (once) ---
run gen --cover -o "$W/cover"
if [ "$rc" -eq 0 ] && grep -qE '^transitions covered ([0-9]+)/\1 \(100\.0%\)$' "$W/out"; then
  echo "ok: gen --cover: $(grep '^transitions covered' "$W/out")"
else
  fail "gen --cover: rc=$rc"; printf '%s\n' "$out" "$err"
fi
n=$(find "$W/cover" -name '*.fts' | wc -l)
grep -qF "wrote $n scripts to $W/cover" "$W/out" && [ "$n" -gt 10 ] || fail "gen --cover wrote $n scripts: $out"

# --- gen --walks: deterministic per seed ---
for d in a b c; do mkdir -p "$W/$d"; done
run gen --walks 5 --seed 7 -o "$W/a/w"
[ "$rc" -eq 0 ] || fail "gen --walks (a) exited $rc: $err"
run gen --walks 5 --seed 7 -o "$W/b/w"
[ "$rc" -eq 0 ] || fail "gen --walks (b) exited $rc: $err"
run gen --walks 5 --seed 8 -o "$W/c/w"
[ "$rc" -eq 0 ] || fail "gen --walks (c) exited $rc: $err"
n=$(find "$W/a/w" -name '*.fts' | wc -l)
[ "$n" -eq 5 ] || fail "gen --walks 5 wrote $n scripts"
if diff -r "$W/a/w" "$W/b/w" >/dev/null; then
  echo "ok: gen --walks 5 --seed 7 twice: identical"
else
  fail "gen --walks with the same seed differs"
fi
if diff -r "$W/a/w" "$W/c/w" >/dev/null; then
  fail "gen --walks with seeds 7 and 8 gives the same scripts"
else
  echo "ok: gen --walks --seed 8 differs from --seed 7"
fi

if [ $fails -ne 0 ]; then
  echo "$fails failure(s)"
  exit 1
fi
echo "all model command-line checks passed"

#!/usr/bin/env bash
# test_replay.sh - `ftpsfuzz replay` against fake harnesses (shell scripts
# that abort with a FINDING line on inputs holding BOOM and hang on HANG):
# harness from the corpus layout, one FAIL line per failing input with its
# reason, the summary, exit statuses, timeouts, README.md skipped.
# usage: test_replay.sh FTPSFUZZ
set -uo pipefail
ftpsfuzz=${1:?usage: $0 FTPSFUZZ}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
check() { # check NAME CONDITION-STATUS
  if [ "$2" -ne 0 ]; then echo "FAIL: $1"; fail=1; else echo "ok: $1"; fi
}

mkdir -p "$tmp/h" "$tmp/corpus/seeds/fake_a" "$tmp/corpus/regressions/fake_a" \
  "$tmp/corpus/seeds/fake_b" "$tmp/other"
printf '# test list\nfake_a\nfake_b\nfake_c\n' >"$tmp/h/harnesses.list"
cat >"$tmp/h/fake_a" <<'SH'
#!/usr/bin/env bash
for f in "$@"; do
  case $f in -*) continue ;; esac
  if grep -q BOOM "$f"; then echo "noise" >&2; echo "FINDING TEST_INVARIANT: boom" >&2; kill -ABRT $$; fi
  if grep -q HANG "$f"; then sleep 30; fi
done
echo "replayed $# inputs"
SH
chmod +x "$tmp/h/fake_a"
cp "$tmp/h/fake_a" "$tmp/h/fake_b"
echo ok1 >"$tmp/corpus/seeds/fake_a/ok1"
echo ok2 >"$tmp/corpus/seeds/fake_a/ok2"
echo BOOM >"$tmp/corpus/seeds/fake_a/boom1"
echo BOOM >"$tmp/corpus/regressions/fake_a/boom2"
echo "BOOM in a README is not an input" >"$tmp/corpus/regressions/fake_a/README.md"
echo ok3 >"$tmp/corpus/seeds/fake_b/ok3"
echo stray >"$tmp/other/x"

out=$("$ftpsfuzz" replay --harness-dir "$tmp/h" "$tmp/corpus" 2>&1); rc=$?
echo "$out"
check "failing inputs: exit 1" $([ $rc -eq 1 ]; echo $?)
check "boom1 named with its FINDING line" \
  $(echo "$out" | grep -q "^FAIL $tmp/corpus/seeds/fake_a/boom1 \[fake_a\]: signal 6 (Aborted): FINDING TEST_INVARIANT: boom$"; echo $?)
check "boom2 named" $(echo "$out" | grep -q "^FAIL $tmp/corpus/regressions/fake_a/boom2 \[fake_a\]"; echo $?)
check "README.md skipped, summary" $(echo "$out" | grep -q "^replay: 3 passed, 2 failed$"; echo $?)
check "exactly two FAIL lines" $([ "$(echo "$out" | grep -c '^FAIL ')" -eq 2 ]; echo $?)

out=$("$ftpsfuzz" replay --harness-dir "$tmp/h" --batch 1 "$tmp/corpus/seeds/fake_b" 2>&1); rc=$?
check "passing directory: exit 0" $([ $rc -eq 0 ]; echo $?)
check "passing summary" $(echo "$out" | grep -q "^replay: 1 passed, 0 failed$"; echo $?)

"$ftpsfuzz" replay --harness-dir "$tmp/h" "$tmp/other" >/dev/null 2>&1; rc=$?
check "unknown layout: exit 2" $([ $rc -eq 2 ]; echo $?)
out=$("$ftpsfuzz" replay --harness-dir "$tmp/h" --harness fake_b "$tmp/other" 2>&1); rc=$?
check "--harness overrides the layout" $([ $rc -eq 0 ] && echo "$out" | grep -q "1 passed"; echo $?)
"$ftpsfuzz" replay --harness-dir "$tmp/h" --harness nope "$tmp/other" >/dev/null 2>&1; rc=$?
check "unknown --harness: exit 2" $([ $rc -eq 2 ]; echo $?)
mkdir -p "$tmp/c/fake_c" && echo x >"$tmp/c/fake_c/x"
out=$("$ftpsfuzz" replay --harness-dir "$tmp/h" "$tmp/c" 2>&1); rc=$?
check "harness not built: exit 2 and says so" $([ $rc -eq 2 ] && echo "$out" | grep -q "not built"; echo $?)
mkdir -p "$tmp/empty/fake_a"
"$ftpsfuzz" replay --harness-dir "$tmp/h" "$tmp/empty" >/dev/null 2>&1; rc=$?
check "no input at all: exit 2" $([ $rc -eq 2 ]; echo $?)

mkdir -p "$tmp/hang/fake_a" && echo HANG >"$tmp/hang/fake_a/h1"
start=$(date +%s)
out=$("$ftpsfuzz" replay --harness-dir "$tmp/h" --timeout 2 "$tmp/hang" 2>&1); rc=$?
took=$(( $(date +%s) - start ))
check "hang: exit 1 with a timeout line, bounded ($took s)" \
  $([ $rc -eq 1 ] && [ $took -lt 15 ] && echo "$out" | grep -q "^FAIL $tmp/hang/fake_a/h1 \[fake_a\]: timeout after 2 s"; echo $?)
check "no harness left running" $(! pgrep -f "$tmp/h/fake_a" >/dev/null; echo $?)
exit $fail

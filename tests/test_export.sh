#!/usr/bin/env bash
# test_export.sh FTPSFUZZ - the model exporters (model/export_dot.c,
# model/export_promela.c, `ftpsfuzz model --dot/--promela`).
#
# - SPIN verifies the generated Promela model with no error, and reports an
#   assertion violation for every deliberately broken variant (so the check
#   can fail);
# - dot parses the DOT output, and the picture has a sane number of nodes;
# - --coverage judges transcripts, plays client scripts, reads the binary
#   form, skips junk, and colours what was taken;
# - bad usage exits 2.
set -u
FTPSFUZZ=${1:?usage: test_export.sh FTPSFUZZ}
SRC=${FTPS_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
for tool in spin dot cc; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed (scripts/deps.sh)"; exit 77; }
done
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# spin_check DIR [BROKEN]: generate, compile and verify in DIR; prints pan's
# output to DIR/pan.out. Returns 0 when pan ran.
spin_check() {
  local d=$1 broken=${2:-}
  mkdir -p "$d"
  (
    cd "$d" || exit 1
    if [ -n "$broken" ]; then
      "$FTPSFUZZ" model --promela --broken "$broken" -o model.pml || exit 1
    else
      "$FTPSFUZZ" model --promela -o model.pml || exit 1
    fi
    spin -a model.pml >spin.out 2>&1 || { cat spin.out; exit 1; }
    # -O0: pan.c is large; compiling it dominates, the search is ~5000 states.
    cc -O0 -DSAFETY -DMEMLIM=512 -o pan pan.c 2>cc.out || { cat cc.out; exit 1; }
    ./pan -m100000 >pan.out 2>&1
    exit 0
  )
}

# --- Promela: the real model, then every broken variant (two at a time) ---
broken=(plain-login second-234 hs-fail-secure prot-without-pbsz ccc-under-tls-login)
spin_check "$W/ok" &
pids=($!)
for b in "${broken[@]}"; do
  spin_check "$W/$b" "$b" &
  pids+=($!)
  if [ ${#pids[@]} -ge 2 ]; then wait "${pids[0]}" || fail "spin run ${pids[0]} did not run"; pids=("${pids[@]:1}"); fi
done
for p in "${pids[@]}"; do wait "$p" || fail "spin run $p did not run"; done

if grep -q "errors: 0" "$W/ok/pan.out" && ! grep -q "assertion violated" "$W/ok/pan.out"; then
  echo "ok: SPIN verifies the model: $(grep -E 'states, stored' "$W/ok/pan.out" | tr -s ' ')"
else
  fail "SPIN found an error in the real model:"; cat "$W/ok/pan.out"
fi
if ! grep -q "Full statespace search" "$W/ok/pan.out"; then
  fail "pan did not do a full search of the real model"
fi
for b in "${broken[@]}"; do
  if grep -q "assertion violated" "$W/$b/pan.out" && grep -q "errors: 1" "$W/$b/pan.out"; then
    echo "ok: SPIN rejects --broken $b: $(grep -m1 'assertion violated' "$W/$b/pan.out" | cut -c1-100)"
  else
    fail "SPIN did not reject --broken $b"; cat "$W/$b/pan.out" 2>/dev/null
  fi
done
# Every listed variant is tested here.
listed=$("$FTPSFUZZ" model --help | grep -E '^ {16}[a-z0-9-]+ {2,}' | awk '{print $1}' | sort | tr '\n' ' ')
want=$(printf '%s\n' "${broken[@]}" | sort | tr '\n' ' ')
[ "$listed" = "$want" ] || fail "broken variants listed by --help ($listed) differ from the tested ones ($want)"

# --- DOT: it parses, and the picture is of a readable size ---
"$FTPSFUZZ" model --dot -o "$W/model.dot" || fail "model --dot failed"
if dot -Tsvg "$W/model.dot" -o "$W/model.svg" 2>"$W/dot.err"; then
  nodes=$(grep -c 'class="node"' "$W/model.svg")
  edges=$(grep -c 'class="edge"' "$W/model.svg")
  echo "ok: dot renders the model: $nodes nodes (legend and start included), $edges edges"
  [ "$nodes" -ge 10 ] && [ "$nodes" -le 40 ] || fail "unexpected node count $nodes"
  [ "$edges" -ge 20 ] || fail "unexpected edge count $edges"
else
  fail "dot rejected the DOT output"; cat "$W/dot.err"
fi
grep -q 'transitions covered' "$W/model.dot" && fail "coverage line without --coverage"

# --- coverage ---
C="$W/corpus"
mkdir -p "$C"
cp "$SRC/examples/secure_session.fts" "$C/a_transcript.fts"
# a client script: the same session without S:/E: lines, so it must be played
grep -v -E '^(S|E):' "$SRC/examples/secure_session.fts" >"$C/b_script.fts"
"$FTPSFUZZ" encode "$SRC/examples/wrong_password.fts" -o "$C/c_binary.bin" || fail "encode failed"
printf 'not a transcript\n' >"$C/d_junk"
"$FTPSFUZZ" model --dot --coverage "$C" -o "$W/cov.dot" 2>"$W/cov.err" || { fail "model --dot --coverage failed"; cat "$W/cov.err"; }
grep -q '3 transcript(s) judged (1 client script(s) played), 1 skipped, 0 oracle violation' "$W/cov.err" \
  || { fail "coverage summary"; cat "$W/cov.err"; }
grep -q 'd_junk: skipped, not a transcript' "$W/cov.err" || fail "junk file not reported"
dot -Tsvg "$W/cov.dot" -o "$W/cov.svg" 2>/dev/null || fail "dot rejected the coverage DOT output"
cov=$(sed -n 's/.*<b>\([0-9]*\)\/\([0-9]*\) transitions covered.*/\1 \2/p' "$W/cov.dot")
read -r got total <<<"${cov:-0 0}"
if [ "$got" -gt 5 ] && [ "$got" -lt "$total" ]; then
  echo "ok: coverage $got/$total transitions"
else
  fail "coverage line: '$cov'"
fi
# AUTH TLS answered 234 from the initial state was taken: drawn green.
grep -q '<font color="#1a9850">AUTH_TLS_OK\|<font color="#1a9850">AUTH_TLS 234' "$W/cov.dot" \
  || fail "AUTH_TLS 234 not coloured as taken"
grep -q '#b0b0b0' "$W/cov.dot" || fail "no transition coloured as not taken"
grep -q 'legend' "$W/cov.dot" || fail "no legend"
# An empty corpus covers nothing.
mkdir -p "$W/empty"
"$FTPSFUZZ" model --dot --coverage "$W/empty" 2>/dev/null | grep -q '<b>0/' || fail "empty corpus covered something"

# --- bad usage ---
expect2() {
  "$@" >/dev/null 2>&1
  local rc=$?
  [ $rc -eq 2 ] || fail "expected exit 2 from: $* (got $rc)"
}
expect2 "$FTPSFUZZ" model --promela --broken no-such-variant
expect2 "$FTPSFUZZ" model --dot --broken plain-login
expect2 "$FTPSFUZZ" model --promela --coverage "$C"
expect2 "$FTPSFUZZ" model --dot --coverage "$W/does-not-exist"
expect2 "$FTPSFUZZ" model --dot --promela
expect2 "$FTPSFUZZ" model --dot -o "$W/no/such/dir/x.dot"

if [ $fails -ne 0 ]; then
  echo "$fails failure(s)"
  exit 1
fi
echo "all export checks passed"

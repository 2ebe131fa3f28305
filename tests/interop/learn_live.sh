#!/usr/bin/env bash
# learn_live.sh FTPSFUZZ SERVER[-ssl] - `ftpsfuzz learn` against a real FTPS
# server (Debian 12 packages, started by check_server.sh, TLS required for
# login and data, loopback only), bounded in time, with a small alphabet
# that reaches the server's known deviations; the diff must show them:
#   vsftpd    its plaintext "500 OOPS" on the TLS control connection after a
#             failed data handshake (LIST after PASV_DATA_CLEAR under PROT
#             P: NO_PLAINTEXT_AFTER_234), PROT without PBSZ
#   vsftpd-ssl  vsftpd again, AUTH SSL: data protected although PROT never
#             said P (PROT_LEVEL_KEPT)
#   proftpd   data protected after AUTH SSL although PROT never said P
#             (PROT_LEVEL_KEPT), PROT without PBSZ
#   pureftpd  a second 234 to AUTH TLS inside TLS (NO_SECOND_234), PROT
#             without PBSZ
# The witness of each such row replays over TCP to the row's first
# violation while the server is up (run --oracle names the first). Exit 77 (skipped) when the server cannot be had, as
# check_server.sh.
set -uo pipefail
FTPSFUZZ=$(realpath "${1:?usage: learn_live.sh FTPSFUZZ SERVER}")
SERVER=${2:?server}
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ftpsfuzz-learn-live.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
fail() {
  echo "FAIL: $*" >&2
  exit 1
}

LEARN_TIME=${FTPSFUZZ_LEARN_TIME:-75}
case $SERVER in
vsftpd) inputs="AUTH_TLS HANDSHAKE USER_OK PASS_OK PBSZ_0 PROT_P PASV_DATA_CLEAR LIST"
  want="LIST:NO_PLAINTEXT_AFTER_234 PROT_P:PBSZ_BEFORE_PROT" ;;
vsftpd-ssl) inputs="AUTH_SSL HANDSHAKE USER_OK PASS_OK PASV_DATA_TLS LIST"
  want="LIST:PROT_LEVEL_KEPT" SERVER=vsftpd LEARN_TIME=${FTPSFUZZ_LEARN_TIME:-60} ;;
proftpd) inputs="AUTH_SSL HANDSHAKE USER_OK PASS_OK PBSZ_0 PROT_P PASV_DATA_TLS LIST"
  want="LIST:PROT_LEVEL_KEPT PROT_P:PBSZ_BEFORE_PROT" ;;
pureftpd) inputs="AUTH_TLS HANDSHAKE USER_OK PASS_OK PBSZ_0 PROT_P"
  want="AUTH_TLS:NO_SECOND_234 PROT_P:PBSZ_BEFORE_PROT" ;;
*) fail "unknown server '$SERVER' (vsftpd, vsftpd-ssl, proftpd, pureftpd)" ;;
esac
printf '%s\n' $inputs >"$WORK/alphabet"

# After learning (server and fixture still there): replay each expected
# row's witness.
cat >"$WORK/then.sh" <<THEN
#!/usr/bin/env bash
for pair in $want; do
  input=\${pair%%:*} inv=\${pair#*:}
  # the first row of that input naming that invariant: its witness file
  # (run --oracle names the first violation: the row's first invariant)
  row=\$(awk -F' [|] ' -v i="\$input" -v v="\$inv" \
    '/^[|] q/ && \$2 == i && (" " \$5 " ") ~ (" " v " ") { split(\$5, f, " "); print f[1], \$6; exit }' \
    "$WORK/out/diff.md")
  [ -n "\$row" ] || continue
  set -- "\$1" "\$2" \$row
  echo "\$3" >"$WORK/replay-\$input-\$inv.first"
  "$FTPSFUZZ" run --connect "\$1:\$2" --oracle "$WORK/out/\$4" >"$WORK/replay-\$input-\$inv.log" 2>&1
  echo "\$?" >"$WORK/replay-\$input-\$inv.rc"
done
THEN
chmod +x "$WORK/then.sh"
export LEARN_FTPSFUZZ=$FTPSFUZZ LEARN_OUT=$WORK/out LEARN_THEN=$WORK/then.sh
# 4 connections at once, a time budget: the deviations show within it (the
# model's cover set leads the learner to the deep states early)
export LEARN_ARGS="--alphabet $WORK/alphabet --time $LEARN_TIME --timeout 1500 \
--rate 40 --settle 100 --repeats 5 --concurrency 4"
rc=0
FTPSFUZZ_SERVER_HOOK=$HERE/learn_hook.sh bash "$HERE/check_server.sh" "$FTPSFUZZ" "$SERVER" required \
  >"$WORK/run.log" 2>&1 || rc=$?
[ "$rc" -eq 77 ] && { tail -n 1 "$WORK/run.log"; exit 77; }
[ -f "$WORK/out/summary.txt" ] || fail "$SERVER: no result (exit $rc): $(tail -n 20 "$WORK/run.log")"
sed -n 's/^\(states\|queries\|symbols\|learn wall time\|diff\): /  &/p' "$WORK/out/summary.txt"
[ "$rc" -eq 1 ] || fail "$SERVER: learn exited $rc, expected 1 (a diff): $(cat "$WORK/out/summary.txt")"
for pair in $want; do
  input=${pair%%:*} inv=${pair#*:}
  grep -q "^| q[0-9]* ([^|]*) | $input | [^|]* | [^|]* | [^|]*$inv" "$WORK/out/diff.md" ||
    fail "$SERVER: no $input row with $inv in the diff: $(cat "$WORK/out/diff.md")"
  first=$(cat "$WORK/replay-$input-$inv.first" 2>/dev/null)
  [ "$(cat "$WORK/replay-$input-$inv.rc" 2>/dev/null)" = 1 ] && [ -n "$first" ] &&
    grep -q "VIOLATION $first " "$WORK/replay-$input-$inv.log" ||
    fail "$SERVER: the $input/$inv witness did not replay to the violation: $(cat "$WORK/replay-$input-$inv.log" 2>/dev/null)"
  echo "ok: $SERVER: $input row with $inv, its witness replays over TCP to $first"
done

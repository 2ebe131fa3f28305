#!/usr/bin/env bash
# bench_learn_live.sh - `ftpsfuzz learn` against real FTPS servers (vsftpd,
# Pure-FTPd, ProFTPD from Debian 12, started by tests/interop/check_server.sh
# as for `check`, TLS required for login and data), security alphabet,
# bounded by a time budget each: states, queries, symbols, wall time, and
# the diff's rows (the known deviations: Pure-FTPd's second 234, vsftpd's
# plaintext "500 OOPS" after a failed data handshake, PROT without PBSZ,
# ...). Outputs are kept under OUT/<server>/.
# usage: bench/bench_learn_live.sh FTPSFUZZ [SECONDS per server (default 300)]
#        [OUT (default learn-live)] [SERVERS (default "vsftpd pureftpd proftpd")]
# FTPSFUZZ_LEARN_ARGS adds options to every `learn` (e.g. "--settle 300"
# for a slow server; later options win).
set -uo pipefail
cd "$(dirname "$0")/.."
FTPSFUZZ=$(realpath "${1:?usage: bench_learn_live.sh FTPSFUZZ [SECONDS] [OUT] [SERVERS]}")
SECONDS_EACH=${2:-300}
OUT=$(realpath -m "${3:-learn-live}")
SERVERS=${4:-vsftpd pureftpd proftpd}
mkdir -p "$OUT"
# tests/interop/learn_hook.sh learns the server check_server.sh started
export LEARN_FTPSFUZZ=$FTPSFUZZ
export LEARN_ARGS="--alphabet security --time $SECONDS_EACH --timeout 1500 --rate 20 --settle 100 \
--repeats 5 ${FTPSFUZZ_LEARN_ARGS:-}"

printf '%-9s %6s %7s %8s %9s %7s  %s\n' server exit states queries symbols "wall s" "diff (input / output: invariant)"
for srv in $SERVERS; do
  LEARN_OUT=$OUT/$srv FTPSFUZZ_SERVER_HOOK=$PWD/tests/interop/learn_hook.sh \
    bash tests/interop/check_server.sh "$FTPSFUZZ" "$srv" required >"$OUT/$srv.log" 2>&1
  rc=$?
  s=$OUT/$srv/summary.txt
  if [ ! -f "$s" ]; then
    printf '%-9s %6s  %s\n' "$srv" "$rc" "no result: $(tail -n 1 "$OUT/$srv.log")"
    continue
  fi
  f() { sed -n "s/^$1: \([0-9.]*\).*/\1/p" "$s"; }
  # one line per (input, output, invariants), however many states show it
  rows=$(awk -F' [|] ' '/^[|] q/ { print $2 " / " $3 ": " $5 }' \
    "$OUT/$srv/diff.md" | sort | uniq -c | awk '{ c = $1; $1 = ""; printf "%s (x%d);", $0, c }' |
    head -c 1500)
  printf '%-9s %6s %7s %8s %9s %7s  %s\n' "$srv" "$rc" "$(f states)" "$(f queries)" \
    "$(f symbols)" "$(f 'learn wall time')" "${rows:-none}"
done

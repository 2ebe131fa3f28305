#!/usr/bin/env bash
# bench_transfer.sh - `ftpsfuzz serve` transfer throughput and session memory.
#
# Prints, in one run on this machine:
#  1. RETR and STOR of a 1 GiB file over loopback under PROT P, with curl
#     (curl's own clock: the transfer phase and the whole session) and with
#     bench_ftps_client, bench_tls_pair's BoringSSL client speaking FTPS;
#  2. a bare TLS connection over loopback (bench_tls_pair: BoringSSL both
#     ends, the server's own SSL_CTX, the same AEAD): a download, and an
#     upload written to the same file system and fsynced, as STOR does;
#     curl on the same bare server (HTTPS GET, and PUT + fsync), and
#     openssl s_client; then the ratios, each with the same client on both
#     sides (goal >= 0.8), and curl's against the BoringSSL pair;
#  3. server RSS per idle TLS control session with 1,000 sessions open
#     (goal <= 64 KiB).
# Use a release build (no sanitizers):
#   cmake --preset release && cmake --build build/release
#   bench/bench_transfer.sh build/release/cli/ftpsfuzz build/release/bench/bench_tls_pair
# usage: [ROUNDS=N] bench_transfer.sh FTPSFUZZ BENCH_TLS_PAIR [SIZE_MIB]
# Every figure is the median of ROUNDS (default 3) runs, the rounds
# interleaved so that a noisy moment hits all figures alike.
set -euo pipefail
FTPSFUZZ=$1
PAIR=$2
SIZE_MIB=${3:-1024}
ROUNDS=${ROUNDS:-3} # each figure is the median of ROUNDS interleaved runs
CLIENT=$(dirname "$PAIR")/bench_ftps_client
SESSIONS=1000
# TLS 1.3 with AES-128-GCM on both sides: what BoringSSL picks for itself
# with AES hardware, and what curl is told to offer.
CURL_TLS=(--tls13-ciphers TLS_AES_128_GCM_SHA256)

for c in curl python3; do
  command -v "$c" >/dev/null || { echo "bench_transfer: $c is required" >&2; exit 2; }
done
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ftpsfuzz-bench.XXXXXX")
SERVER_PID=
cleanup() {
  [ -n "$SERVER_PID" ] && kill -TERM "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" || true
  rm -rf "$WORK"
}
trap cleanup EXIT
ulimit -n $((SESSIONS * 2 + 256)) 2>/dev/null || true

mkdir -p "$WORK/root"
printf 'wonderland\n' | "$FTPSFUZZ" passwd --file "$WORK/users" --iterations 1000 alice 2>/dev/null
head -c $((SIZE_MIB * 1024 * 1024)) /dev/urandom >"$WORK/root/big.bin"
sync  # no writeback of the fresh file competing with the measurements
"$FTPSFUZZ" serve --allow-root --listen 127.0.0.1:0 --root "$WORK/root" --self-signed --users "$WORK/users" \
  --port-file "$WORK/port" --max-sessions $((SESSIONS + 50)) --max-per-ip $((SESSIONS + 50)) \
  --max-unauth $((SESSIONS + 50)) --max-unauth-per-ip $((SESSIONS + 50)) \
  2>"$WORK/server.log" &
SERVER_PID=$!
for _ in $(seq 1 100); do [ -s "$WORK/port" ] && break; sleep 0.05; done
PORT=$(cat "$WORK/port")
URL="ftp://127.0.0.1:$PORT"
C=(curl -sS --fail --ssl-reqd -k -u alice:wonderland "${CURL_TLS[@]}")

cipher=$("${C[@]}" -v "$URL/" -o /dev/null 2>&1 | sed -n 's/.*SSL connection using \(.*\)$/\1/p' | tail -n 1)
bytes=$((SIZE_MIB * 1024 * 1024))
mbps() { python3 -c "import sys; print('%.1f' % ($bytes / float(sys.argv[1]) / 1e6))" "$1"; }

# curl's own clock: the transfer phase (after pretransfer: from the transfer
# command or request to the end) and the whole session. curl 7.88 idles in
# poll() before an FTPS transfer while its data-connection handshake waits
# for the transfer command (0.2-1 s, with any server that starts the data
# TLS at the transfer command, as vsftpd does), so the whole-session figure
# is not the server's throughput.
CURL_W=(-w '%{time_pretransfer} %{time_total}\n')
curl_rates() { # curl_rates CURL-ARGS...: "<transfer MB/s> <session MB/s>", or "n/a n/a"
  local t
  t=$(curl -sS --fail "${CURL_W[@]}" "$@" -o /dev/null) || { echo "n/a n/a"; return; }
  read -r pre total <<<"$t"
  echo "$(mbps "$(python3 -c "print($total - $pre)")") $(mbps "$total")"
}
# The same transfers with the bare pair's BoringSSL client (same record and
# read/write sizes), so client-side costs cancel out of the ratio.
bssl_rate() { # bssl_rate retr|stor: MB/s, or n/a
  local out
  if [ "$1" = retr ]; then
    out=$("$CLIENT" --port "$PORT" --user alice --pass wonderland --retr /big.bin) || out=
  else
    out=$("$CLIENT" --port "$PORT" --user alice --pass wonderland --stor /big-up.bin \
      --bytes "$bytes") || out=
    rm -f "$WORK/root/big-up.bin"
  fi
  sed -n 's/.*MBps=\([0-9.]*\).*/\1/p' <<<"$out" | grep . || echo n/a
}
# The bare pair: a download, and an upload written to the same file system
# and fsynced, as STOR must before it answers 226.
pair_rate() { "$PAIR" --bytes "$bytes" "$@" | sed -n 's/.*MBps=\([0-9.]*\).*/\1/p' | grep . || echo n/a; }
pair_cipher=$("$PAIR" --bytes 1048576 | sed -n 's/^cipher=\([^ ]*\).*/\1/p')

# The same bare server read by `openssl s_client`: the TLS library curl uses
# (a reference for how much of the gap is the client's).
sclient_rate() {
  command -v openssl >/dev/null || { echo n/a; return; }
  rm -f "$WORK/pair.port"
  "$PAIR" --bytes "$bytes" --port-file "$WORK/pair.port" &
  local pid=$! t0 t1
  for _ in $(seq 1 100); do [ -s "$WORK/pair.port" ] && break; sleep 0.05; done
  t0=$(date +%s.%N)
  openssl s_client -connect "127.0.0.1:$(cat "$WORK/pair.port")" -quiet -ign_eof \
    </dev/null >/dev/null 2>&1 || true
  t1=$(date +%s.%N)
  wait "$pid" || true
  mbps "$(python3 -c "print($t1 - $t0)")"
}

# curl itself on a bare TLS connection (HTTPS GET, and PUT written to disk
# and fsynced; same server context and cipher): the client's own ceiling.
https_rates() { # https_rates get|put: "<transfer MB/s> <session MB/s>"
  rm -f "$WORK/pair.port"
  "$PAIR" --bytes "$bytes" --port-file "$WORK/pair.port" --http --sink "$WORK/root/https-sink.bin" &
  local pid=$! r
  for _ in $(seq 1 100); do [ -s "$WORK/pair.port" ] && break; sleep 0.05; done
  local url="https://127.0.0.1:$(cat "$WORK/pair.port")/big.bin"
  if [ "$1" = get ]; then
    r=$(curl_rates -k "${CURL_TLS[@]}" "$url")
  else
    r=$(curl_rates -k "${CURL_TLS[@]}" -T "$WORK/root/big.bin" "$url")
  fi
  wait "$pid" || r="n/a n/a"
  echo "$r"
}
# The rounds: every figure once per round, then the medians.
: >"$WORK/figures"
rec() { echo "$1 $2" >>"$WORK/figures"; }
for _ in $(seq 1 "$ROUNDS"); do
  read -r a b < <(curl_rates --ssl-reqd -k -u alice:wonderland "${CURL_TLS[@]}" "$URL/big.bin")
  rec retr "$a"; rec retr_s "$b"
  read -r a b < <(curl_rates --ssl-reqd -k -u alice:wonderland "${CURL_TLS[@]}" \
    -T "$WORK/root/big.bin" "$URL/big-up.bin")
  rec stor "$a"; rec stor_s "$b"
  cmp -s "$WORK/root/big.bin" "$WORK/root/big-up.bin" || { echo "STOR copy differs" >&2; exit 1; }
  rm -f "$WORK/root/big-up.bin"
  rec bssl_retr "$(bssl_rate retr)"
  rec bssl_stor "$(bssl_rate stor)"
  rec pair "$(pair_rate)"
  rec pair_up "$(pair_rate --upload --sink "$WORK/root/pair-sink.bin")"
  read -r a b < <(https_rates get)
  rec https_get "$a"; rec https_get_s "$b"
  read -r a b < <(https_rates put)
  rec https_put "$a"; rec https_put_s "$b"
  rec sclient "$(sclient_rate)"
done
med() { # med NAME: the median of NAME's figures (n/a if any run failed)
  python3 - "$1" "$WORK/figures" <<'EOF3'
import statistics, sys
v = [l.split()[1] for l in open(sys.argv[2]) if l.split()[0] == sys.argv[1]]
print('n/a' if not v or 'n/a' in v else '%.1f' % statistics.median(map(float, v)))
EOF3
}
for m in retr retr_s stor stor_s bssl_retr bssl_stor pair pair_up https_get https_get_s \
  https_put https_put_s sclient; do
  printf -v "$m" '%s' "$(med "$m")"
done

echo "== transfer of $SIZE_MIB MiB over loopback, PROT P, median of $ROUNDS, $pair_cipher (curl $(curl --version | head -n1 | cut -d' ' -f2): $cipher)"
printf '  %-42s %9s %14s\n' "" "transfer" "whole session"
row() { printf '  %-42s %9s %14s\n' "$1" "$2" "${3:-}"; }
row "RETR, curl" "$retr" "$retr_s"
row "STOR, curl (server fsyncs)" "$stor" "$stor_s"
row "RETR, BoringSSL FTPS client" "$bssl_retr"
row "STOR, BoringSSL FTPS client (server fsyncs)" "$bssl_stor"
row "bare TLS pair, download" "$pair"
row "bare TLS pair, upload + write + fsync" "$pair_up"
row "bare TLS server -> curl (HTTPS GET)" "$https_get" "$https_get_s"
row "curl -> bare TLS (HTTPS PUT + fsync)" "$https_put" "$https_put_s"
row "bare TLS server -> openssl s_client" "$sclient"
echo "  (MB/s)"
python3 - "$retr" "$stor" "$bssl_retr" "$bssl_stor" "$pair" "$pair_up" "$https_get" "$https_put" <<'EOF2'
import sys
def f(x):
    return None if x == 'n/a' else float(x)
r, s, br, bs, p, pu, g, u = map(f, sys.argv[1:])
def ratio(a, b):
    return 'n/a' if a is None or b is None else '%.2f' % (a / b)
print('  the same client on both sides (goal >= 0.8):')
print('    BoringSSL: RETR/bare download %s   STOR/bare upload+fsync %s' % (ratio(br, p), ratio(bs, pu)))
print('    curl:      RETR/HTTPS GET %s        STOR/HTTPS PUT+fsync %s' % (ratio(r, g), ratio(s, u)))
print('  curl against the BoringSSL pair: RETR/bare %s   STOR/bare %s   (curl\'s own ceiling on bare TLS: GET %s, PUT %s of it)'
      % (ratio(r, p), ratio(s, pu), ratio(g, p), ratio(u, pu)))
EOF2

# Memory per idle TLS control session: RSS delta over $SESSIONS sessions that
# completed AUTH TLS and the handshake and then sit idle.
python3 - "$PORT" "$SERVER_PID" "$SESSIONS" <<'EOF'
import socket, ssl, sys, time
port, pid, n = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])

def rss_kib():
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])

ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE

def session():
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    f = s.makefile("rb")
    assert f.readline().startswith(b"220")
    s.sendall(b"AUTH TLS\r\n")
    assert f.readline().startswith(b"234")
    t = ctx.wrap_socket(s, server_hostname="localhost")
    t.sendall(b"NOOP\r\n")
    assert t.recv(100).startswith(b"200")
    return t

warm = [session() for _ in range(20)]   # allocator and TLS tables warmed up
time.sleep(0.5)
base = rss_kib()
held = [session() for _ in range(n)]
time.sleep(1)
after = rss_kib()
per = (after - base) / n
print("== memory per idle TLS control session (%d open)" % n)
print("  server RSS %d KiB -> %d KiB: %.1f KiB per session   (goal <= 64 KiB)" % (base, after, per))
for t in held + warm:
    t.close()
EOF
kill -TERM "$SERVER_PID"
wait "$SERVER_PID"
SERVER_PID=

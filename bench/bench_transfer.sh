#!/usr/bin/env bash
# bench_transfer.sh - `ftpsfuzz serve` transfer throughput and session memory.
#
# Prints, in one run on this machine:
#  1. RETR and STOR of a 1 GiB file with curl over loopback under PROT P;
#  2. a bare TLS connection over loopback (bench_tls_pair: BoringSSL both
#     ends, the server's own SSL_CTX) with the same AEAD, and the ratios
#     RETR/bare and STOR/bare (goal >= 0.8);
#     and curl itself against the same bare server over HTTPS (GET and PUT
#     of the same size): what the client can take at all;
#  3. server RSS per idle TLS control session with 1,000 sessions open
#     (goal <= 64 KiB).
# Use a release build (no sanitizers):
#   cmake --preset release && cmake --build build/release
#   bench/bench_transfer.sh build/release/cli/ftpsfuzz build/release/bench/bench_tls_pair
# usage: bench_transfer.sh FTPSFUZZ BENCH_TLS_PAIR [SIZE_MIB]
set -euo pipefail
FTPSFUZZ=$1
PAIR=$2
SIZE_MIB=${3:-1024}
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
"$FTPSFUZZ" serve --listen 127.0.0.1:0 --root "$WORK/root" --self-signed --users "$WORK/users" \
  --port-file "$WORK/port" --max-sessions $((SESSIONS + 50)) --max-per-ip $((SESSIONS + 50)) \
  2>"$WORK/server.log" &
SERVER_PID=$!
for _ in $(seq 1 100); do [ -s "$WORK/port" ] && break; sleep 0.05; done
PORT=$(cat "$WORK/port")
URL="ftp://127.0.0.1:$PORT"
C=(curl -sS --fail --ssl-reqd -k -u alice:wonderland "${CURL_TLS[@]}")

cipher=$("${C[@]}" -v "$URL/" -o /dev/null 2>&1 | sed -n 's/.*SSL connection using \(.*\)$/\1/p' | tail -n 1)
bytes=$((SIZE_MIB * 1024 * 1024))

t0=$(date +%s.%N)
"${C[@]}" "$URL/big.bin" -o /dev/null
t1=$(date +%s.%N)
retr=$(python3 -c "print('%.1f' % ($bytes / ($t1 - $t0) / 1e6))")

t0=$(date +%s.%N)
"${C[@]}" -T "$WORK/root/big.bin" "$URL/big-up.bin"
t1=$(date +%s.%N)
stor=$(python3 -c "print('%.1f' % ($bytes / ($t1 - $t0) / 1e6))")
cmp -s "$WORK/root/big.bin" "$WORK/root/big-up.bin" || { echo "STOR copy differs" >&2; exit 1; }
rm -f "$WORK/root/big-up.bin"

pair_line=$("$PAIR" --bytes "$bytes")
pair=$(sed -n 's/.*MBps=\([0-9.]*\).*/\1/p' <<<"$pair_line")
pair_cipher=$(sed -n 's/^cipher=\([^ ]*\).*/\1/p' <<<"$pair_line")

# The same bare server read by `openssl s_client`: the TLS library curl uses
# (a reference for how much of the gap is the client's).
sclient=n/a
if command -v openssl >/dev/null; then
  "$PAIR" --bytes "$bytes" --port-file "$WORK/pair.port" &
  pair_pid=$!
  for _ in $(seq 1 100); do [ -s "$WORK/pair.port" ] && break; sleep 0.05; done
  t0=$(date +%s.%N)
  openssl s_client -connect "127.0.0.1:$(cat "$WORK/pair.port")" -quiet -ign_eof \
    </dev/null >/dev/null 2>&1 || true
  t1=$(date +%s.%N)
  wait "$pair_pid" || true
  sclient=$(python3 -c "print('%.1f' % ($bytes / ($t1 - $t0) / 1e6))")
fi

# curl itself on a bare TLS connection (HTTPS GET and PUT of the same size,
# same server context and cipher): the client's own ceiling, so the FTPS
# figures can be told apart from what curl can take at all.
https_get=n/a https_put=n/a
https_rate() { # https_rate get|put: MB/s of one curl exchange with bench_tls_pair --http
  rm -f "$WORK/pair.port"
  "$PAIR" --bytes "$bytes" --port-file "$WORK/pair.port" --http &
  local pid=$! t0 t1 ok=0
  for _ in $(seq 1 100); do [ -s "$WORK/pair.port" ] && break; sleep 0.05; done
  local url="https://127.0.0.1:$(cat "$WORK/pair.port")/big.bin"
  t0=$(date +%s.%N)
  if [ "$1" = get ]; then
    curl -sS --fail -k "${CURL_TLS[@]}" "$url" -o /dev/null && ok=1
  else
    curl -sS --fail -k "${CURL_TLS[@]}" -T "$WORK/root/big.bin" "$url" -o /dev/null && ok=1
  fi
  t1=$(date +%s.%N)
  wait "$pid" || ok=0
  if [ "$ok" = 1 ]; then python3 -c "print('%.1f' % ($bytes / ($t1 - $t0) / 1e6))"; else echo n/a; fi
}
https_get=$(https_rate get)
https_put=$(https_rate put)

echo "== transfer of $SIZE_MIB MiB over loopback, PROT P (curl $(curl --version | head -n1 | cut -d' ' -f2))"
printf '  %-34s %8s MB/s   (%s)\n' "RETR (curl download)" "$retr" "$cipher"
printf '  %-34s %8s MB/s   (%s)\n' "STOR (curl upload, incl. fsync)" "$stor" "$cipher"
printf '  %-34s %8s MB/s   (%s)\n' "bare TLS pair (BoringSSL)" "$pair" "$pair_cipher"
printf '  %-34s %8s MB/s\n' "bare TLS server -> openssl s_client" "$sclient"
printf '  %-34s %8s MB/s\n' "bare TLS server -> curl (HTTPS GET)" "$https_get"
printf '  %-34s %8s MB/s\n' "curl -> bare TLS server (HTTPS PUT)" "$https_put"
python3 -c "
r, s, p = $retr, $stor, $pair
print('  ratio RETR/bare %.2f   STOR/bare %.2f   (goal >= 0.8)' % (r / p, s / p))
g, u = '$https_get', '$https_put'
if g != 'n/a' and u != 'n/a':
    print('  the same client on bare TLS: RETR/curl-GET %.2f   STOR/curl-PUT %.2f' % (r / float(g), s / float(u)))"

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

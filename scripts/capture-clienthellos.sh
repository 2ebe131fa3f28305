#!/bin/sh
# capture-clienthellos.sh - record the first TLS flight (the ClientHello) of
# real FTPS clients and store it as seeds for the TLS harnesses:
#   corpus/seeds/fuzz_tls_server/   byte 0 flags, byte 1 chunk seed, the flight
#   corpus/seeds/fuzz_data_tls/      byte 0 = 3 (plaintext data client), the
#                                    flight as the data connection's bytes
# Files are named by the sha256 of their contents, so running it again adds
# only what is new (a client upgrade) and never duplicates.
#
# How: `ftpsfuzz serve` on 127.0.0.1 (self-signed, no users), and in front of
# it a small recording proxy (Python, loopback only). After the server's
# "234 " line the proxy keeps the client's bytes until the server's first
# TLS byte arrives: that is the client's first flight. Clients:
#   curl (OpenSSL), lftp (GnuTLS), Python ssl (OpenSSL), openssl s_client
#   -starttls ftp, gnutls-cli --starttls-proto=ftp, and BoringSSL (the
#   built-in client, through `ftpsfuzz run --connect`), with TLS 1.2 and 1.3,
#   with and without SNI, ALPN "ftp" and session tickets where the client
#   lets one choose, and resumption hellos (a ticket / PSK offered) from
#   openssl s_client -sess_in and Python.
# A client that is not installed is skipped with a note.
#
# usage: scripts/capture-clienthellos.sh [BUILD_DIR]    (default build/dev)
#   env FTPSFUZZ=path/to/ftpsfuzz overrides BUILD_DIR/cli/ftpsfuzz;
#   CAPTURE_KEEP=DIR also keeps the raw flights in DIR as <client>-<variant>.bin
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/dev}
ftpsfuzz=${FTPSFUZZ:-$build/cli/ftpsfuzz}
if [ ! -x "$ftpsfuzz" ]; then
  echo "capture-clienthellos.sh: $ftpsfuzz not found: build it first or set FTPSFUZZ" >&2
  exit 2
fi
command -v python3 >/dev/null || { echo "capture-clienthellos.sh: python3 is needed" >&2; exit 2; }

tmp=$(mktemp -d)
pids=""
cleanup() {
  for p in $pids; do kill "$p" 2>/dev/null || true; done
  for p in $pids; do wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

cat > "$tmp/proxy.py" <<'PY'
# Recording proxy: listen, forward to the upstream server, and write the
# client's first TLS flight after the server's "234 " line to OUTDIR/N.bin.
import os, select, socket, sys, threading

listen_port_file, upstream_port, outdir = sys.argv[1], int(sys.argv[2]), sys.argv[3]
counter = [0]
lock = threading.Lock()

def save(data):
    if not data:
        return
    with lock:
        counter[0] += 1
        n = counter[0]
    tmp = os.path.join(outdir, ".%d.tmp" % n)
    with open(tmp, "wb") as f:
        f.write(data)
    os.rename(tmp, os.path.join(outdir, "%04d.bin" % n))

def serve(client):
    up = socket.create_connection(("127.0.0.1", upstream_port))
    plain = b""          # server plaintext not yet split into lines
    after_234 = False    # the server said 234: client bytes are TLS now
    recording = False
    flight = b""
    try:
        while True:
            r, _, _ = select.select([client, up], [], [], 10)
            if not r:
                break
            if client in r:
                d = client.recv(65536)
                if not d:
                    break
                if recording:
                    flight += d
                up.sendall(d)
            if up in r:
                d = up.recv(65536)
                if not d:
                    break
                if recording:
                    save(flight)
                    recording = False
                if not after_234:
                    plain += d
                    while b"\n" in plain and not after_234:
                        line, plain = plain.split(b"\n", 1)
                        if line.startswith(b"234 "):
                            after_234 = True
                            recording = True
                client.sendall(d)
    except OSError:
        pass  # a client that resets the connection ends its capture
    finally:
        if recording:
            save(flight)
        client.close()
        up.close()

srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0))
srv.listen(16)
with open(listen_port_file + ".tmp", "w") as f:
    f.write(str(srv.getsockname()[1]))
os.rename(listen_port_file + ".tmp", listen_port_file)
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY

cat > "$tmp/client.py" <<'PY'
# Python ssl as an FTPS client: AUTH TLS, handshake, USER (so a TLS 1.3
# server's ticket arrives), QUIT; with --resume a second connection offers
# the first one's session.
import socket, ssl, sys

port, version, sni, alpn, tickets, resume = sys.argv[1:7]

def ctx_make():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    v = ssl.TLSVersion.TLSv1_2 if version == "1.2" else ssl.TLSVersion.TLSv1_3
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.maximum_version = v
    if alpn == "on":
        ctx.set_alpn_protocols(["ftp"])
    if tickets == "off":
        ctx.options |= ssl.OP_NO_TICKET
    return ctx

def reply(f):
    line = f.readline()
    while len(line) >= 4 and line[3:4] == b"-":
        line = f.readline()
    return line

def session(ctx, offer):
    s = socket.create_connection(("127.0.0.1", int(port)), timeout=5)
    f = s.makefile("rb")
    reply(f)
    s.sendall(b"AUTH TLS\r\n")
    if not reply(f).startswith(b"234"):
        return None
    t = ctx.wrap_socket(s, server_hostname="localhost" if sni == "on" else None, session=offer)
    tf = t.makefile("rb")
    t.sendall(b"USER nobody\r\n")
    reply(tf)
    t.sendall(b"QUIT\r\n")
    reply(tf)
    got = t.session
    t.close()
    return got

ctx = ctx_make()
first = session(ctx, None)
if resume == "on" and first is not None:
    session(ctx, first)
PY

mkdir -p "$tmp/root" "$tmp/caps"
"$ftpsfuzz" serve --allow-root --listen 127.0.0.1:0 --root "$tmp/root" --self-signed \
  --port-file "$tmp/port" 2>"$tmp/serve.log" &
pids="$pids $!"
for _ in $(seq 50); do [ -s "$tmp/port" ] && break; sleep 0.1; done
[ -s "$tmp/port" ] || { echo "capture-clienthellos.sh: ftpsfuzz serve did not start:" >&2; cat "$tmp/serve.log" >&2; exit 1; }
python3 "$tmp/proxy.py" "$tmp/pport" "$(cat "$tmp/port")" "$tmp/caps" &
pids="$pids $!"
for _ in $(seq 50); do [ -s "$tmp/pport" ] && break; sleep 0.1; done
[ -s "$tmp/pport" ] || { echo "capture-clienthellos.sh: the proxy did not start" >&2; exit 1; }
port=$(cat "$tmp/pport")

count=0
# capture NAME CMD...: run one client (at most 10 s), then file every flight
# it produced as NAME[-k].bin.
capture() {
  name=$1
  shift
  before=$(ls "$tmp/caps" | wc -l)
  timeout 10 "$@" </dev/null >/dev/null 2>&1 || true
  sleep 0.3
  k=0
  for f in $(ls "$tmp/caps" | sort | tail -n +"$((before + 1))"); do
    k=$((k + 1))
    mkdir -p "$tmp/named"
    cp "$tmp/caps/$f" "$tmp/named/$name-$k.bin"
  done
  if [ "$k" -eq 0 ]; then
    echo "capture: $name: no TLS flight recorded" >&2
  else
    count=$((count + k))
  fi
}
have() { command -v "$1" >/dev/null 2>&1 || { echo "capture: $1 not installed; skipped" >&2; return 1; }; }

if have curl; then
  for v in 1.2 1.3; do
    capture "curl-tls$v-nosni" curl -sS -k --ssl-reqd --tlsv$v --tls-max $v -u a:b "ftp://127.0.0.1:$port/"
    capture "curl-tls$v-sni" curl -sS -k --ssl-reqd --tlsv$v --tls-max $v -u a:b \
      --resolve "localhost:$port:127.0.0.1" "ftp://localhost:$port/"
  done
fi
if have lftp; then
  for v in 1.2 1.3; do
    if [ "$v" = 1.2 ]; then prio="NORMAL:-VERS-TLS1.3"; else prio="NORMAL"; fi
    capture "lftp-tls$v" lftp -c "set ftp:ssl-force true; set ssl:verify-certificate no; \
      set net:max-retries 1; set net:timeout 3; set ssl:priority $prio; \
      open -u a,b ftp://127.0.0.1:$port; ls"
  done
fi
if have python3; then
  for v in 1.2 1.3; do
    capture "python-tls$v-plain" python3 "$tmp/client.py" "$port" $v off off on off
    capture "python-tls$v-sni-alpn" python3 "$tmp/client.py" "$port" $v on on on off
    capture "python-tls$v-noticket" python3 "$tmp/client.py" "$port" $v on off off off
    capture "python-tls$v-resume" python3 "$tmp/client.py" "$port" $v on on on on
  done
fi
if have openssl; then
  for v in 1.2 1.3; do
    o="-tls1_$(echo $v | cut -c3)"
    capture "openssl-tls$v-nosni" openssl s_client -starttls ftp -connect "127.0.0.1:$port" $o -noservername
    capture "openssl-tls$v-sni-alpn" openssl s_client -starttls ftp -connect "127.0.0.1:$port" $o \
      -servername localhost -alpn ftp
    capture "openssl-tls$v-noticket" openssl s_client -starttls ftp -connect "127.0.0.1:$port" $o \
      -servername localhost -no_ticket
  done
  # A TLS 1.2 session (its ticket arrives in the handshake), then a hello
  # offering it.
  timeout 10 openssl s_client -starttls ftp -connect "127.0.0.1:$port" -tls1_2 \
    -sess_out "$tmp/sess.pem" </dev/null >/dev/null 2>&1 || true
  if [ -s "$tmp/sess.pem" ]; then
    rm -f "$tmp/caps/"*  # the -sess_out connection's hello is a plain one
    capture "openssl-tls1.2-resume" openssl s_client -starttls ftp -connect "127.0.0.1:$port" \
      -tls1_2 -sess_in "$tmp/sess.pem"
  fi
fi
if have gnutls-cli; then
  for v in 1.2 1.3; do
    if [ "$v" = 1.2 ]; then prio="NORMAL:-VERS-TLS1.3"; else prio="NORMAL:-VERS-TLS1.2"; fi
    capture "gnutls-tls$v-sni" gnutls-cli --starttls-proto=ftp --insecure -p "$port" \
      --priority "$prio" --sni-hostname localhost 127.0.0.1
    capture "gnutls-tls$v-nosni-alpn" gnutls-cli --starttls-proto=ftp --insecure -p "$port" \
      --priority "$prio" --disable-sni --alpn ftp 127.0.0.1
    capture "gnutls-tls$v-noticket" gnutls-cli --starttls-proto=ftp --insecure -p "$port" \
      --priority "$prio" --noticket 127.0.0.1
  done
fi
printf 'C: AUTH TLS\nT: handshake\nC: QUIT\n' > "$tmp/boring.fts"
capture "boringssl-tls1.3-sni-alpn" "$ftpsfuzz" run --connect "127.0.0.1:$port" "$tmp/boring.fts"

[ "$count" -gt 0 ] || { echo "capture-clienthellos.sh: nothing captured" >&2; exit 1; }

# put HARNESS FILE: store FILE under its content hash.
put() {
  mkdir -p "$root/corpus/seeds/$1"
  h=$(sha256sum "$2" | cut -d' ' -f1)
  cp "$2" "$root/corpus/seeds/$1/$h"
}

added=0
i=0
for f in "$tmp/named"/*.bin; do
  i=$((i + 1))
  # fuzz_tls_server: one write (flags 0); every third one also in
  # generated chunk sizes (flags 7) or pipelined behind AUTH (flags 8).
  printf '\000\000' | cat - "$f" > "$tmp/seed"
  put fuzz_tls_server "$tmp/seed"
  case $((i % 3)) in
    1) printf '\007\123' | cat - "$f" > "$tmp/seed"; put fuzz_tls_server "$tmp/seed" ;;
    2) printf '\010\000' | cat - "$f" > "$tmp/seed"; put fuzz_tls_server "$tmp/seed" ;;
  esac
  # fuzz_data_tls, plaintext data client (flags 3): the hello on the data
  # connection under PROT P, where no control session backs it.
  printf '\003' | cat - "$f" > "$tmp/seed"
  put fuzz_data_tls "$tmp/seed"
  added=$((added + 1))
  if [ -n "${CAPTURE_KEEP:-}" ]; then
    mkdir -p "$CAPTURE_KEEP"
    cp "$f" "$CAPTURE_KEEP/"
  fi
done
echo "capture-clienthellos.sh: $count flights captured, seeds written for $added" >&2

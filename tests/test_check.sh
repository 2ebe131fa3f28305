#!/usr/bin/env bash
# test_check.sh FTPSFUZZ - the checker's own safety and politeness
# (`ftpsfuzz check`, driver/check.h), on 127.0.0.1 only:
#   1. against `ftpsfuzz serve` without --user/--pass: the real user's name
#      and password never cross the wire, login-needing sequences are
#      reported as skipped, and exit 0 (no security finding);
#   2. against a listener that accepts and never writes: every sequence
#      ends in a timeout, reported, within a bound set by --timeout;
#   3. against a fake FTPS server that answers a second AUTH TLS with 234:
#      exit 1, NO_SECOND_234.fts saved, and that file replays with
#      `ftpsfuzz run --connect --oracle` to the same violation;
#      --concurrency 2 --rate 5 hold (the fake logs its connections);
#   4. against a fake that answers the client's close_notify with its 221
#      as an encrypted record, its own close_notify and a clean close: the
#      record is read inside TLS, not as plaintext, and no finding
#      (TLS_REQUIRED_STAYS_TLS was reported falsely).
# Exit 77 (skipped) when python3 or openssl is missing.
set -euo pipefail

FTPSFUZZ=${1:?usage: test_check.sh FTPSFUZZ}
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=interop/lib.sh
. "$HERE/interop/lib.sh" # $WORK, start_server (alice / wonderland), fail, need
need python3 openssl

# The fakes: "silent" accepts and never writes; "auth234" is a small FTPS
# server (python ssl) that answers AUTH with 234 even under TLS. Both write
# their port to PORTFILE and log "open|close <monotonic s> <id>" per
# connection.
cat >"$WORK/fake.py" <<'EOF'
import socket, ssl, sys, threading, time

mode, portfile, logfile = sys.argv[1], sys.argv[2], sys.argv[3]
cert = sys.argv[4] if len(sys.argv) > 4 else None
lock = threading.Lock()
log = open(logfile, "w", buffering=1)

def note(what, cid):
    with lock:
        log.write("%s %.6f %d\n" % (what, time.monotonic(), cid))

def read_line(s):
    buf = b""
    while not buf.endswith(b"\n") and len(buf) < 8192:
        c = s.recv(1)
        if not c:
            return None
        buf += c
    return buf.rstrip(b"\r\n").decode("latin-1")

def serve(conn, cid):
    note("open", cid)
    s = conn
    tls = False
    try:
        conn.settimeout(10)
        if mode == "silent":
            while conn.recv(4096):
                pass
            return
        s.sendall(b"220 fake ready\r\n")
        while True:
            line = read_line(s)
            if line is None:
                if mode == "bye" and tls:
                    # the client's close_notify: a parting 221 inside TLS,
                    # our close_notify, then the close
                    s.sendall(b"221 bye\r\n")
                    raw = s.unwrap()
                    # a half-close, then read what the client still sends
                    # (its PWD): closing with unread bytes would be a reset
                    raw.shutdown(socket.SHUT_WR)
                    while raw.recv(4096):
                        pass
                return
            time.sleep(0.05)  # a slow server: sequences overlap
            verb = line.split(" ")[0].upper()
            if verb == "AUTH":
                s.sendall(b"234 go ahead\r\n")  # even under TLS: NO_SECOND_234
                if not tls:
                    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                    ctx.load_cert_chain(cert)
                    s = ctx.wrap_socket(conn, server_side=True)
                    tls = True
            elif verb == "QUIT":
                s.sendall(b"221 bye\r\n")
                return
            elif verb == "NOOP":
                s.sendall(b"200 ok\r\n")
            elif verb == "USER" and mode == "bye":
                s.sendall(b"331 password\r\n")
            elif verb == "PASS" and mode == "bye":
                s.sendall(b"230 in\r\n")
            elif verb in ("USER", "PASS"):
                s.sendall(b"530 not logged in\r\n")
            else:
                s.sendall(b"502 not implemented\r\n")
    except Exception:
        pass
    finally:
        note("close", cid)
        try:
            conn.close()
        except Exception:
            pass

srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0))
srv.listen(16)
with open(portfile + ".tmp", "w") as f:
    f.write(str(srv.getsockname()[1]))
import os
os.rename(portfile + ".tmp", portfile)
cid = 0
while True:
    c, _ = srv.accept()
    cid += 1
    threading.Thread(target=serve, args=(c, cid), daemon=True).start()
EOF

# start_fake MODE NAME: sets FAKE_PORT; lib.sh's cleanup stops it by its PID.
start_fake() {
  local mode=$1 name=$2
  python3 "$WORK/fake.py" "$mode" "$WORK/$name.port" "$WORK/$name.log" "$WORK/both.pem" \
    >"$WORK/$name.err" 2>&1 &
  SERVER_PIDS+=("$!")
  for _ in $(seq 1 100); do
    [ -s "$WORK/$name.port" ] && { FAKE_PORT=$(cat "$WORK/$name.port"); return 0; }
    sleep 0.05
  done
  fail "fake $name did not start: $(cat "$WORK/$name.err")"
}

# row INV COLUMN: a number from the check's table (3 checked, 4 passed, 5 violated).
row() { awk -v n="$1" -v c="$2" '$1 == n { print $c }' "$3"; }

# --- 1. our server, no credentials ------------------------------------------
mkdir -p "$WORK/root/pub"
echo hello >"$WORK/root/pub/hello.txt"
start_server ours "$WORK/root"
set +e
"$FTPSFUZZ" check "127.0.0.1:$PORT" --out "$WORK/ours" --transcripts --timeout 3000 --rate 0 \
  >"$WORK/ours.out" 2>"$WORK/ours.err"
rc=$?
set -e
[ "$rc" -eq 0 ] || fail "check of our server without credentials exited $rc: $(tail -n 20 "$WORK/ours.out")"
grep -q "RESULT: no security invariant violated" "$WORK/ours.out" || fail "no RESULT line"
skipped=$(sed -n 's/.* \([0-9][0-9]*\) skipped (need a login).*/\1/p' "$WORK/ours.out")
[ "${skipped:-0}" -gt 0 ] || fail "no sequence was reported as skipped for want of a login"
grep -q "note: no credentials" "$WORK/ours.out" || fail "the output does not say why it did not log in"
n=$(ls "$WORK/ours/transcripts"/*.fts | wc -l)
[ "$n" -gt 0 ] || fail "no transcripts kept"
# The server's real account is alice / wonderland: neither may be sent.
if grep -h -E '^C: (USER alice|PASS wonderland)' "$WORK/ours/transcripts"/*.fts; then
  fail "the checker sent the real user's name or password without being given them"
fi
# A PASS only ever follows a name that is no account: the checker's
# impossible one, or "anonymous" (RFC 1635's public login, which the cover
# set tries against the declared anon=off), never with the real password.
bad=$(awk '/^C: USER / { user = substr($0, 9) }
  /^C: PASS/ && (!(user == "ftpsfuzz-nobody" || user == "anonymous") || $0 == "C: PASS wonderland") {
    print FILENAME ": " user " / " $0 }' \
  "$WORK/ours/transcripts"/*.fts)
[ -z "$bad" ] || fail "a PASS after a real user name or with a real password: $bad"
[ -n "$(grep -h '^C: PASS' "$WORK/ours/transcripts"/*.fts)" ] || fail "no PASS line at all: nothing was shown"
echo "ok: no credentials: $n transcripts, $skipped skipped, no real name or password sent"
kill -TERM "$SERVER_PID" 2>/dev/null || true

# --- 2. a silent server -----------------------------------------------------
start_fake silent silent
TIMEOUT_MS=300
set +e
"$FTPSFUZZ" check "127.0.0.1:$FAKE_PORT" --timeout "$TIMEOUT_MS" --rate 0 --quiet \
  >"$WORK/silent.out" 2>"$WORK/silent.err"
rc=$?
set -e
[ "$rc" -eq 0 ] || fail "check of a silent server exited $rc: $(cat "$WORK/silent.err")"
played=$(sed -n 's/^sequences: \([0-9][0-9]*\) played.*/\1/p' "$WORK/silent.out")
timedout=$(sed -n 's/.* \([0-9][0-9]*\) timed out.*/\1/p' "$WORK/silent.out")
[ "${played:-0}" -gt 0 ] || fail "silent server: nothing played: $(cat "$WORK/silent.out")"
[ "${timedout:-0}" -eq "$played" ] || fail "silent server: $timedout of $played sequences timed out"
grep -q "the server kept the client waiting" "$WORK/silent.out" || fail "the timeout is not reported"
# The bound, from the fake's side (the cover set's generation, before the
# sequences, is not the server's time): every connection waits about one
# step timeout for the greeting and is dropped; all of them together take
# about |played| timeouts.
python3 - "$WORK/silent.log" "$played" "$TIMEOUT_MS" <<'EOF' || fail "the silent server was waited on beyond --timeout"
import sys
opened, held = {}, []
for line in open(sys.argv[1]):
    what, t, cid = line.split()
    if what == "open":
        opened[cid] = float(t)
    else:
        held.append((opened[cid], float(t)))
n, limit = int(sys.argv[2]), int(sys.argv[3]) / 1000.0
held.sort()
longest = max(b - a for a, b in held)
shortest = min(b - a for a, b in held)
span = held[-1][1] - held[1][0]  # the sequences, after the reachability check
print("ok: silent server: %d connections held %.2f..%.2f s each (--timeout %.1f s), "
      "%d sequences in %.1f s" % (len(held), shortest, longest, limit, n, span))
# Slack for a loaded 2-core machine, where the fake notes an open only
# when its thread runs: each connection was held (not dropped at once), none
# near a second timeout, and on average about one timeout each.
sys.exit(0 if len(held) == n + 1 and shortest >= limit * 0.5 and longest <= limit + 1.0
         and span <= n * (limit + 0.7) else 1)
EOF

# --- 3. a server that answers a second AUTH with 234 ---------------------------
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
  -keyout "$WORK/key.pem" -out "$WORK/cert.pem" >/dev/null 2>&1 || fail "openssl req failed"
cat "$WORK/key.pem" "$WORK/cert.pem" >"$WORK/both.pem"
start_fake auth234 auth234
set +e
"$FTPSFUZZ" check "127.0.0.1:$FAKE_PORT" --policy tls-login=off,tls-data=off --timeout 3000 \
  --concurrency 2 --rate 5 --out "$WORK/fake" >"$WORK/fake.out" 2>"$WORK/fake.err"
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "a security violation must exit 1, got $rc: $(cat "$WORK/fake.out")"
grep -q "RESULT: security invariant violated" "$WORK/fake.out" || fail "no RESULT line"
[ "$(row NO_SECOND_234 5 "$WORK/fake.out")" -gt 0 ] || fail "NO_SECOND_234 not found"
[ -s "$WORK/fake/NO_SECOND_234.fts" ] || fail "no NO_SECOND_234.fts"
echo "ok: a second 234 is a security finding: exit 1"
set +e
"$FTPSFUZZ" run --connect "127.0.0.1:$FAKE_PORT" --timeout 3000 --oracle \
  "$WORK/fake/NO_SECOND_234.fts" >"$WORK/replay.out" 2>"$WORK/replay.err"
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "replaying NO_SECOND_234.fts exited $rc: $(cat "$WORK/replay.err")"
grep -q "^VIOLATION NO_SECOND_234 " "$WORK/replay.err" ||
  fail "the replay does not report NO_SECOND_234: $(cat "$WORK/replay.err")"
echo "ok: NO_SECOND_234.fts replays with run --connect to the same violation"
# Politeness, from the fake's log (the replay's connection excluded): at
# most 2 connections at once, and starts at least 1/5 s apart (the first,
# the reachability check, is not paced).
python3 - "$WORK/auth234.log" <<'EOF' || fail "--concurrency 2 --rate 5 not respected"
import sys
ev = []
for line in open(sys.argv[1]):
    what, t, _ = line.split()
    ev.append((float(t), what))
ev.sort()
opens = [t for t, w in ev if w == "open"][:-1]  # the last one is the replay
cur = peak = 0
for t, w in ev:
    cur += 1 if w == "open" else -1
    peak = max(peak, cur)
gaps = [b - a for a, b in zip(opens[1:], opens[2:])]
mean = (opens[-1] - opens[1]) / (len(opens) - 2)
print("connections %d, at most %d at once, gaps %.3f s smallest, %.3f s mean"
      % (len(opens), peak, min(gaps), mean))
# The checker paces its connect() calls 0.2 s apart. The fake notes an open
# when its thread runs, late by scheduling noise on a loaded machine, so one
# gap may shrink by what the one before grew: the mean carries the rate, the
# smallest gap only shows there was pacing at all (unpaced, with two workers,
# connections would open about together).
sys.exit(0 if peak == 2 and len(opens) > 5 and mean >= 0.19 and min(gaps) >= 0.1 else 1)
EOF
# --- 4. a parting 221 inside TLS after the client's close_notify -------------
# (CCC refused, then the client ends TLS anyway and sends PWD in plaintext)
start_fake bye bye
printf 'C: AUTH TLS\nT: handshake\nC: USER u\nC: PASS p\nC: CCC\nT: close_notify\nC: PWD\nW: 300\n' \
  >"$WORK/bye.fts"
set +e
"$FTPSFUZZ" run --connect "127.0.0.1:$FAKE_PORT" --timeout 3000 --oracle "$WORK/bye.fts" \
  >"$WORK/bye.out" 2>"$WORK/bye.err"
rc=$?
set -e
[ "$rc" -eq 0 ] || fail "a 221 record after the client's close_notify: exit $rc: $(cat "$WORK/bye.err")"
# what the server did, in order (the client's PWD and W: fall in between
# wherever the timing puts them)
grep -E '^(S|E): ' "$WORK/bye.out" | tr '\n' '|' |
  grep -Fq 'E: tls after close_notify|S: 221 bye|E: tls shutdown|E: closed|' ||
  fail "the 221 was not read inside TLS: $(cat "$WORK/bye.out")"
echo "ok: a 221 record after the client's close_notify is read inside TLS: no finding"
echo "PASS: test_check"

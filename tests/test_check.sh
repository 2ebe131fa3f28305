#!/usr/bin/env bash
# test_check.sh FTPSFUZZ - the checker's own safety and politeness
# (`ftpsfuzz check`, driver/check.h), on 127.0.0.1 only:
#   1. against `ftpsfuzz serve` without --user/--pass: the real user's name
#      and password never cross the wire, login-needing sequences are
#      reported as skipped, and exit 0 (no security finding);
#   2. against a listener that accepts and never writes, and an implicit-TLS
#      port: exit 3 "no FTP greeting" after one step timeout; against fakes
#      that stall on PROT or refuse every login: the data invariants are
#      inconclusive (timeout, login refused), never passed, exit 3; a fake
#      that answers PBSZ/STOU twice: ONE_FINAL_REPLY on that command;
#   3. against a fake FTPS server that answers a second AUTH TLS with 234:
#      exit 1, NO_SECOND_234.fts saved, and that file replays with
#      `ftpsfuzz run --connect --oracle` to the same violation;
#      --concurrency 2 --rate 5 hold (the fake logs its connections).
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

def tls_wrap(conn):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert)
    return ctx.wrap_socket(conn, server_side=True)

# A small FTPS server for the verdict fakes: "stall" logs in anyone and never
# answers PROT; "refuse" refuses every login; "double" answers STOU and PBSZ
# twice (530, then 500 a moment later) and the rest once.
def ftp(conn):
    s, tls = conn, False
    s.sendall(b"220 fake ready\r\n")
    while True:
        line = read_line(s)
        if line is None:
            return
        verb = line.split(" ")[0].upper()
        if verb == "AUTH" and line[5:].upper() in ("TLS", "SSL") and not tls:
            s.sendall(b"234 go ahead\r\n")
            s, tls = tls_wrap(conn), True
        elif verb == "AUTH":
            s.sendall(b"503 already under TLS\r\n" if tls else b"504 unknown mechanism\r\n")
        elif verb == "QUIT":
            s.sendall(b"221 bye\r\n")
            return
        elif mode == "double" and verb in ("STOU", "PBSZ"):
            s.sendall(b"530 Please login with USER and PASS.\r\n")
            time.sleep(0.02)
            s.sendall(b"500 Unknown command.\r\n")
        elif verb == "NOOP":
            s.sendall(b"200 ok\r\n")
        elif verb == "USER":
            s.sendall(b"331 password please\r\n" if tls else b"530 TLS first\r\n")
        elif verb == "PASS":
            s.sendall(b"230 logged in\r\n" if tls and mode == "stall" else b"530 login incorrect\r\n")
        elif verb == "PBSZ":
            s.sendall(b"200 PBSZ=0\r\n" if tls else b"503 AUTH first\r\n")
        elif verb == "PROT" and mode == "stall" and tls:
            while s.recv(4096):  # never answers: the step times out
                pass
            return
        elif verb == "PWD":
            s.sendall(b'257 "/"\r\n')
        else:
            s.sendall(b"530 not logged in\r\n")

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
        if mode == "implicit":  # TLS from the first byte (port 990 style)
            s = tls_wrap(conn)
            s.sendall(b"220 fake ready\r\n")
            while s.recv(4096):
                pass
            return
        if mode in ("stall", "refuse", "double"):
            ftp(conn)
            return
        s.sendall(b"220 fake ready\r\n")
        while True:
            line = read_line(s)
            if line is None:
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

# row INV COLUMN: a field of the check's table (3 checked, 4 passed, 5 violated,
# 6 inconclusive, 7 verdict; the reasons follow).
row() { awk -v n="$1" -v c="$2" '$1 == n { print $c }' "$3"; }

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
  -keyout "$WORK/key.pem" -out "$WORK/cert.pem" >/dev/null 2>&1 || fail "openssl req failed"
cat "$WORK/key.pem" "$WORK/cert.pem" >"$WORK/both.pem"

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
# Without a login nothing decides the data invariants: n/a, not passed
[ "$(row PROT_P_DATA_IS_TLS 7 "$WORK/ours.out")" = n/a ] || fail "PROT_P_DATA_IS_TLS not n/a without credentials"
[ "$(row NO_PIPELINED_INJECTION 7 "$WORK/ours.out")" = ok ] || fail "NO_PIPELINED_INJECTION not decided"
echo "ok: no credentials: $n transcripts, $skipped skipped, no real name or password sent"
kill -TERM "$SERVER_PID" 2>/dev/null || true

# --- 2. a silent server and an implicit-TLS port: not judged, exit 3 -------
# Neither sends a greeting (the implicit-TLS port waits for a ClientHello):
# the checker stops after one step timeout, says why, and never exits 0.
TIMEOUT_MS=300
for mode in silent implicit; do
  start_fake "$mode" "$mode"
  set +e
  "$FTPSFUZZ" check "127.0.0.1:$FAKE_PORT" --timeout "$TIMEOUT_MS" --rate 0 --quiet \
    --out "$WORK/$mode-out" >"$WORK/$mode.out" 2>"$WORK/$mode.err"
  rc=$?
  set -e
  [ "$rc" -eq 3 ] || fail "check of a $mode port exited $rc (want 3): $(cat "$WORK/$mode.out" "$WORK/$mode.err")"
  grep -q "^RESULT: not judged: no FTP greeting in 0.3 s: implicit TLS? try ftps://127.0.0.1:$FAKE_PORT" \
    "$WORK/$mode.out" || fail "$mode: no explanation: $(cat "$WORK/$mode.out")"
  grep -q '"exit": 3' "$WORK/$mode-out/report.json" || fail "$mode: report.json does not say exit 3"
  if awk '$4 ~ /^[0-9]+$/ && $4 > 0' "$WORK/$mode.out" | grep -q .; then
    fail "$mode: something passed: $(cat "$WORK/$mode.out")"
  fi
  # one connection (the greeting check), held about one step timeout
  python3 - "$WORK/$mode.log" "$TIMEOUT_MS" <<'EOF' || fail "$mode: the port was not left after one timeout"
import sys
opened, held = {}, []
for line in open(sys.argv[1]):
    what, t, cid = line.split()
    if what == "open":
        opened[cid] = float(t)
    else:
        held.append(float(t) - opened[cid])
limit = int(sys.argv[2]) / 1000.0
print("ok: %d connection(s), held %s s (--timeout %.1f s)"
      % (len(held), ", ".join("%.2f" % h for h in held), limit))
sys.exit(0 if len(held) == 1 and limit * 0.5 <= held[0] <= limit + 1.0 else 1)
EOF
  echo "ok: a $mode port is not judged: exit 3 with the explanation"
done

# --- 2b. timeouts and refused logins are inconclusive, never passed --------
# "stall" logs anyone in and never answers PROT; "refuse" refuses every
# login. What needs the data connection is then inconclusive (timeout /
# login refused), the run exits 3 and names it.
for mode in stall refuse; do
  start_fake "$mode" "$mode"
  set +e
  "$FTPSFUZZ" check "127.0.0.1:$FAKE_PORT" --user u --pass secret-pw --timeout 400 --settle 20 \
    --rate 0 --quiet --out "$WORK/$mode-out" >"$WORK/$mode.out" 2>"$WORK/$mode.err"
  rc=$?
  set -e
  [ "$rc" -eq 3 ] || fail "check of the $mode fake exited $rc (want 3): $(cat "$WORK/$mode.out")"
  reason=timeout
  [ "$mode" = refuse ] && reason="login refused"
  for inv in PROT_P_DATA_IS_TLS PROT_LEVEL_KEPT; do
    [ "$(row "$inv" 4 "$WORK/$mode.out")" -eq 0 ] || fail "$mode: $inv passed: $(cat "$WORK/$mode.out")"
    [ "$(row "$inv" 6 "$WORK/$mode.out")" -gt 0 ] || fail "$mode: $inv not inconclusive"
    [ "$(row "$inv" 7 "$WORK/$mode.out")" = NOT-JUDGED ] || fail "$mode: $inv verdict"
    grep -E "^$inv .*NOT-JUDGED +.*$reason [0-9]+" "$WORK/$mode.out" >/dev/null ||
      fail "$mode: $inv: the reason '$reason' is not counted: $(grep "^$inv " "$WORK/$mode.out")"
  done
  grep -E "^RESULT: not judged: [0-9]+ security invariants? not judged: .*PROT_P_DATA_IS_TLS \([0-9]+ inconclusive, mostly $reason\)" \
    "$WORK/$mode.out" >/dev/null || fail "$mode: RESULT line: $(grep RESULT "$WORK/$mode.out")"
  # report.json: every played sequence with its verdicts
  python3 - "$WORK/$mode-out/report.json" "$reason" <<'EOF' || fail "$mode: report.json"
import json, sys
r = json.load(open(sys.argv[1]))
seqs = r["sequences_played"]
v = [s["verdicts"].get("PROT_P_DATA_IS_TLS") for s in seqs]
assert r["exit"] == 3 and len(seqs) == r["sequences"]["played"], (r["exit"], len(seqs))
assert "passed" not in v and ("inconclusive: " + sys.argv[2]) in v, v
print("ok: report.json: %d sequences, PROT_P_DATA_IS_TLS %s" % (len(seqs), sorted(set(x for x in v if x))))
EOF
  echo "ok: $mode: data invariants inconclusive ($reason), exit 3"
done

# --- 2c. a command answered twice is blamed, not the one after it ---------
# The fake answers PBSZ and STOU with 530 and, 20 ms later, 500. With the
# settle wait the 500 is read before the next command is written.
start_fake double double
set +e
"$FTPSFUZZ" check "127.0.0.1:$FAKE_PORT" --timeout 2000 --settle 150 --rate 0 \
  --out "$WORK/double-out" --transcripts >"$WORK/double.out" 2>"$WORK/double.err"
set -e
grep -q "^ONE_FINAL_REPLY: VIOLATION ONE_FINAL_REPLY step [0-9]*: PBSZ answered twice: 530 then 500" \
  "$WORK/double.out" || fail "double: PBSZ not blamed: $(grep -E '^[A-Z_]+: VIOLATION' "$WORK/double.out")"
t="$WORK/double-out/transcripts/probe-pbsz-prot-plaintext.fts"
grep -A2 '^C: PBSZ 0' "$t" | grep -q '^S: 500 ' || fail "double: the 500 was not recorded before the next command: $(cat "$t")"
# PROT P and PROT C each got their own reply, judged on it
"$FTPSFUZZ" oracle "$t" >"$WORK/double-oracle.out" 2>&1 || true
if grep -E "VIOLATION ALLOWED_CODE .*PROT_[PC] answered 5(00|30)" "$WORK/double-oracle.out"; then
  fail "double: a shifted reply blamed on PROT"
fi
printf 'C: STOU\nC: NOOP\n' >"$WORK/stou.fts"
set +e
"$FTPSFUZZ" run --connect "127.0.0.1:$FAKE_PORT" --settle 150 --oracle "$WORK/stou.fts" \
  >"$WORK/stou.out" 2>"$WORK/stou.err"
set -e
grep -q "^VIOLATION ONE_FINAL_REPLY step [0-9]*: STOU answered twice: 530 then 500" "$WORK/stou.err" ||
  fail "run --settle: STOU not blamed: $(cat "$WORK/stou.out" "$WORK/stou.err")"
if grep -q "NOOP answered" "$WORK/stou.err"; then fail "run --settle: NOOP blamed: $(cat "$WORK/stou.err")"; fi
echo "ok: a command answered twice is blamed (PBSZ in check, STOU in run --settle)"

# --- 3. a server that answers a second AUTH with 234 ---------------------------
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
ev, span = [], {}
for line in open(sys.argv[1]):
    what, t, cid = line.split()
    ev.append((float(t), what))
    span.setdefault(cid, [0.0, float("inf")])[0 if what == "open" else 1] = float(t)
ev.sort()
opens = [t for t, w in ev if w == "open"][:-1]  # the last one is the replay
# Connections open at each open. The fake notes a close when its thread
# runs, which may be a moment after the checker closed and opened the next
# one: a close noted within 50 ms is scheduling noise, not a third at once.
peak = max(sum(1 for o, c in span.values() if o == t or o < t < c - 0.05) for t in opens)
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
echo "PASS: test_check"

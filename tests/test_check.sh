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
#      --concurrency 2 --rate 5 hold (the fake logs its connections);
#   4. against a fake that answers the client's close_notify with its 221
#      as an encrypted record, its own close_notify and a clean close: the
#      record is read inside TLS, not as plaintext, and no finding
#      (TLS_REQUIRED_STAYS_TLS was reported falsely).
#   5. against check_fake.py: commands pipelined behind AUTH that the server
#      runs and answers inside TLS, or in plaintext before the handshake, are
#      NO_PIPELINED_INJECTION (exit 1), the injected login shows, and a
#      server that drops them passes those probes.
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
# start_bg NAME CMD...: starts a fake that writes its port to $WORK/NAME.port
# and waits for it; sets FAKE_PORT.
start_bg() {
  local name=$1
  shift
  rm -f "$WORK/$name.port" # a name used before must not yield its old port
  "$@" >"$WORK/$name.err" 2>&1 &
  SERVER_PIDS+=("$!")
  for _ in $(seq 1 100); do
    [ -s "$WORK/$name.port" ] && { FAKE_PORT=$(cat "$WORK/$name.port"); return 0; }
    sleep 0.05
  done
  fail "fake $name did not start: $(cat "$WORK/$name.err")"
}
start_fake() { # start_fake MODE NAME
  start_bg "$2" python3 "$WORK/fake.py" "$1" "$WORK/$2.port" "$WORK/$2.log" "$WORK/both.pem"
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

# --- 5. commands pipelined behind AUTH (CVE-2011-1575 class) ------------------
# check_fake.py runs the lines it read with AUTH and answers them inside TLS
# after the handshake (--inject tls) or in plaintext after the 234 (--inject
# plain); without --inject it drops them, as a correct server does. It logs
# anyone in, so the pipelined USER/PASS is an injected login that PWD over
# TLS shows with a 257.
start_check_fake() { # start_check_fake NAME [OPTIONS...]
  local name=$1
  shift
  start_bg "$name" python3 "$HERE/check_fake.py" "$WORK/$name.port" "$WORK/both.pem" \
    "$WORK/$name.log" "$@"
}
# check_fake NAME [TARGET [OPTIONS...]]: runs check against the fake
# (default 127.0.0.1:$FAKE_PORT); sets rc.
check_fake() {
  local name=$1 target=${2:-127.0.0.1:$FAKE_PORT}
  shift $(($# < 2 ? $# : 2))
  set +e
  "$FTPSFUZZ" check "$target" --policy tls-login=off,tls-data=off,ccc=on \
    --user alice --pass wonderland --timeout 1000 --rate 0 --concurrency 4 --out "$WORK/$name" --transcripts \
    "$@" >"$WORK/$name.out" 2>"$WORK/$name.err"
  rc=$?
  set -e
}
# count NAME WHAT: a number from the "sequences:" line ("played", "timed out").
count() { sed -n "s/^sequences:.*[^0-9]\([0-9][0-9]*\) $2.*/\1/p" "$WORK/$1.out"; }
# verdict NAME PROBE: the progress line of one sequence.
verdict() { grep -E "^\[[0-9]+/[0-9]+\] $2 " "$WORK/$1.err" || echo "(no line for $2)"; }
# shows NAME PROBE REGEX: the probe's transcript, joined with '|', matches.
shows() { tr '\n' '|' <"$WORK/$1/transcripts/$2.fts" | grep -q -E "$3"; }

start_check_fake inject-tls --inject tls
check_fake inject-tls
[ "$rc" -eq 1 ] || fail "injection answered inside TLS: exit $rc: $(cat "$WORK/inject-tls.out")"
[ "$(row NO_PIPELINED_INJECTION 5 "$WORK/inject-tls.out")" -ge 6 ] ||
  fail "injection answered inside TLS not found by every AUTH probe: $(cat "$WORK/inject-tls.out")"
for p in probe-pipelined-behind-auth probe-pipelined-noop-feat-behind-auth \
  probe-pipelined-user-behind-auth probe-pipelined-login-behind-auth \
  probe-pipelined-behind-auth-ssl probe-pipelined-prot-behind-auth \
  probe-pipelined-behind-auth-after-ccc; do
  verdict inject-tls $p | grep -q "VIOLATION.* NO_PIPELINED_INJECTION" ||
    fail "inside TLS: $p: $(verdict inject-tls $p)"
done
shows inject-tls probe-pipelined-user-behind-auth "E: handshake ok\|S: 331 [^|]*\|C: NOOP" ||
  fail "the reply inside TLS is not recorded before the next command (quiet wait)"
shows inject-tls probe-pipelined-login-behind-auth "C: PWD\|S: 257 " ||
  fail "the injected login (PWD answered 257) is not in the transcript"
echo "ok: injection answered inside TLS found by 7 probes, the injected login shown, exit 1"

start_check_fake inject-plain --inject plain
check_fake inject-plain
[ "$rc" -eq 1 ] || fail "injection answered in plaintext: exit $rc: $(cat "$WORK/inject-plain.out")"
for p in probe-pipelined-behind-auth probe-pipelined-user-behind-auth \
  probe-pipelined-login-behind-auth probe-pipelined-behind-auth-ssl \
  probe-pipelined-behind-auth-after-ccc; do
  verdict inject-plain $p | grep -q "VIOLATION.* NO_PIPELINED_INJECTION" ||
    fail "in plaintext: $p: $(verdict inject-plain $p)"
done
shows inject-plain probe-pipelined-user-behind-auth "S: 234 [^|]*\|(T: handshake\|)?S: 331 " ||
  fail "the plaintext reply between 234 and the handshake is not recorded"
echo "ok: injection answered in plaintext before the handshake is NO_PIPELINED_INJECTION, exit 1"

start_check_fake no-inject
check_fake no-inject
[ "$rc" -ne 1 ] || fail "a server that drops what is pipelined behind AUTH: exit 1: $(cat "$WORK/no-inject.out")"
[ "$(row NO_PIPELINED_INJECTION 3 "$WORK/no-inject.out")" -ge 7 ] &&
  [ "$(row NO_PIPELINED_INJECTION 5 "$WORK/no-inject.out")" -eq 0 ] ||
  fail "a correct server: NO_PIPELINED_INJECTION not checked and passed: $(cat "$WORK/no-inject.out")"
echo "ok: a server that drops pipelined commands passes the injection probes"

# --- 6. servers as they are: implicit TLS, TLS versions -----------------------
# An implicit-TLS port (greeting inside TLS) whose data connections speak at
# most TLS 1.2: with ftps:// the sequences run inside TLS from the first
# byte, those about AUTH are left out and counted, and data is judged.
start_check_fake implicit --implicit --data-tls-max 1.2
check_fake implicit "ftps://127.0.0.1:$FAKE_PORT"
[ "$rc" -ne 1 ] || fail "implicit TLS fake: a finding: $(cat "$WORK/implicit.out")"
grep -q -E "^connection: implicit TLS \([1-9][0-9]* sequences about AUTH not played\), TLS 1.2-1.3$" \
  "$WORK/implicit.out" || fail "the report does not say implicit: $(cat "$WORK/implicit.out")"
grep -q '"implicit": true' "$WORK/implicit/report.json" || fail "report.json does not say implicit"
[ "$(count implicit played)" -gt 5 ] && [ "$(count implicit 'timed out')" -eq 0 ] ||
  fail "implicit TLS: sequences not played or timed out: $(cat "$WORK/implicit.out")"
[ "$(row PROT_P_DATA_IS_TLS 3 "$WORK/implicit.out")" -gt 0 ] ||
  fail "implicit TLS: no protected transfer judged: $(cat "$WORK/implicit.out")"
grep -q "data-tls TLSv1.2" "$WORK/implicit.log" || fail "the data connections did not use TLS 1.2"
shows implicit probe-prot-p-retr "^# implicit TLS: handshake before the greeting\|E: handshake ok\|S: 220 " ||
  fail "the greeting is not read inside TLS"
echo "ok: implicit TLS (ftps://): played inside TLS, AUTH sequences left out, TLS 1.2 data judged"
# The same port without ftps:// gives no greeting in plaintext: check stops
# after the first connection, judges nothing and says why (exit 3).
check_fake implicit-as-explicit "127.0.0.1:$FAKE_PORT" --timeout 300
[ "$rc" -eq 3 ] && grep -q "^RESULT: not judged: no FTP greeting in 0.3 s: implicit TLS? try ftps://" \
  "$WORK/implicit-as-explicit.out" ||
  fail "an implicit port checked as explicit: exit $rc: $(cat "$WORK/implicit-as-explicit.out")"
echo "ok: an implicit port checked without ftps:// times out everywhere"

# --tls-min/--tls-max bound what the client offers, on control and data
# (run --connect shares the runner): a control connection that needs TLS
# 1.3 fails under --tls-max 1.2; data at most TLS 1.2 fails under --tls-min 1.3.
start_check_fake versions --control-tls-min 1.3 --data-tls-max 1.2
printf 'C: AUTH TLS\nT: handshake\nC: USER a\nC: PASS b\nC: PBSZ 0\nC: PROT P\nC: PASV\nD: open\nC: LIST\nC: QUIT\n' \
  >"$WORK/versions.fts"
for v in "" "--tls-max 1.2" "--tls-min 1.3"; do
  # shellcheck disable=SC2086 # $v is two words or none
  "$FTPSFUZZ" run --connect "127.0.0.1:$FAKE_PORT" --timeout 2000 $v "$WORK/versions.fts" \
    >"$WORK/versions$v.out" 2>/dev/null || true
done
grep -q "^E: data tls " "$WORK/versions.out" || fail "default versions: no TLS data: $(cat "$WORK/versions.out")"
grep -q "^E: handshake failed " "$WORK/versions--tls-max 1.2.out" ||
  fail "--tls-max 1.2 against a TLS 1.3-only control connection: $(cat "$WORK/versions--tls-max 1.2.out")"
grep -q "^E: handshake ok" "$WORK/versions--tls-min 1.3.out" &&
  grep -q "^E: data failed " "$WORK/versions--tls-min 1.3.out" ||
  fail "--tls-min 1.3 against TLS 1.2-only data: $(cat "$WORK/versions--tls-min 1.3.out")"
check_fake versions-check "127.0.0.1:$FAKE_PORT" --tls-min 1.3
grep -q "^connection: explicit TLS (AUTH TLS), TLS 1.3-1.3$" "$WORK/versions-check.out" ||
  fail "the table header does not name the versions: $(head -n 3 "$WORK/versions-check.out")"
grep -q '"tls_min": "1.3"' "$WORK/versions-check/report.json" || fail "report.json: no tls_min"
! grep -q -l "^E: data tls " "$WORK/versions-check/transcripts"/*.fts &&
  grep -q -l "^E: data failed " "$WORK/versions-check/transcripts"/*.fts ||
  fail "--tls-min 1.3 against TLS 1.2-only data: a protected transfer worked, or none failed"
echo "ok: --tls-min/--tls-max bound control and data TLS (run --connect and check), reported"

# A server that refuses AUTH TLS (504) and takes AUTH SSL: the sequences use
# AUTH SSL, so they get TLS and data protection is judged; the report says so.
start_check_fake auth-ssl --auth-ssl-only
check_fake auth-ssl
[ "$rc" -ne 1 ] || fail "AUTH SSL-only fake: a finding: $(cat "$WORK/auth-ssl.out")"
grep -q "^connection: explicit TLS (AUTH SSL: the server refused AUTH TLS), TLS 1.2-1.3$" \
  "$WORK/auth-ssl.out" || fail "the report does not say AUTH SSL: $(head -n 3 "$WORK/auth-ssl.out")"
grep -q '"auth": "SSL"' "$WORK/auth-ssl/report.json" || fail "report.json does not say AUTH SSL"
[ "$(row PROT_P_DATA_IS_TLS 3 "$WORK/auth-ssl.out")" -gt 0 ] ||
  fail "AUTH SSL-only: no protected transfer judged: $(cat "$WORK/auth-ssl.out")"
shows auth-ssl probe-prot-p-retr "C: AUTH SSL\|S: 234 [^|]*\|T: handshake\|E: handshake ok" ||
  fail "AUTH SSL-only: the sequences did not use AUTH SSL"
echo "ok: an AUTH SSL-only server is checked with AUTH SSL, and the report says so"

# A server that loses a ClientHello sent on the data connection before its
# 150 (--data-drop-early): every protected transfer's data handshake hangs
# until the step timeout; check plays each such sequence once more with the
# data handshake after the 150, which works, judges that run, and says so.
start_check_fake drop-early --data-drop-early
check_fake drop-early
[ "$rc" -ne 1 ] || fail "drop-early fake: a finding: $(cat "$WORK/drop-early.out")"
retried=$(sed -n 's/^connection: .*; data TLS hung on \([0-9]*\) sequences, retried with the handshake after the transfer reply: \([0-9]*\) worked$/\1 \2/p' \
  "$WORK/drop-early.out")
[ -n "$retried" ] && [ "${retried% *}" -gt 0 ] && [ "${retried% *}" = "${retried#* }" ] ||
  fail "hung data handshakes not retried late: $(head -n 3 "$WORK/drop-early.out")"
grep -q "\"data_handshake_late_worked\": ${retried#* }" "$WORK/drop-early/report.json" ||
  fail "report.json does not count the late data handshakes"
[ "$(row PROT_P_DATA_IS_TLS 3 "$WORK/drop-early.out")" -gt 0 ] ||
  fail "drop-early: no protected transfer judged after the retry: $(cat "$WORK/drop-early.out")"
late=$(grep -l "^# client: data_handshake=late$" "$WORK/drop-early/transcripts"/*.fts || true)
# shellcheck disable=SC2086 # file names without spaces
[ -n "$late" ] && grep -q "^E: data tls " $late ||
  fail "the judged runs are not the late ones with protected data"
echo "ok: hung data handshakes are retried after the 150 (${retried% *} sequences, all worked), reported"
echo "PASS: test_check"

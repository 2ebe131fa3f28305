#!/usr/bin/env bash
# `ftpsfuzz serve` configuration errors (exit 2, a clear message), --help,
# SIGTERM/SIGINT shutdown with sessions open, logins without --users, and
# --anonymous (read-only).
# usage: serve_cli.sh FTPSFUZZ
FTPSFUZZ=$1
. "$(dirname "$0")/lib.sh"
need curl

mkdir -p "$WORK/root/pub"
printf 'hello\n' >"$WORK/root/pub/hello.txt"
make_users

# expect_usage WANT ARGS...: exit status 2 and WANT in the message.
expect_usage() {
  local want=$1 rc=0
  shift
  timeout 10 "$FTPSFUZZ" serve --allow-root "$@" >"$WORK/out" 2>&1 || rc=$?
  [ "$rc" -eq 2 ] || fail "serve $*: exit $rc, expected 2: $(cat "$WORK/out")"
  grep -qF -- "$want" "$WORK/out" || fail "serve $*: expected '$want' in: $(cat "$WORK/out")"
  echo "ok: $* -> $(head -n 1 "$WORK/out")"
}

R=(--root "$WORK/root")
expect_usage "unknown option '--bogus'" "${R[@]}" --self-signed --bogus x
expect_usage "--root DIR is required" --self-signed
expect_usage "--cert PEM --key PEM or --self-signed" "${R[@]}"
expect_usage "--tls-data 'maybe': expected on or off" "${R[@]}" --self-signed --tls-data maybe
expect_usage "--pasv-ports '9-3'" "${R[@]}" --self-signed --pasv-ports 9-3
expect_usage "--max-sessions '0'" "${R[@]}" --self-signed --max-sessions 0
expect_usage "nowhere:99: expected HOST:PORT" "${R[@]}" --self-signed --listen nowhere:99
expect_usage "$WORK/root/pub/hello.txt: not a directory" --root "$WORK/root/pub/hello.txt" --self-signed
expect_usage "$WORK/missing: no such directory" --root "$WORK/missing" --self-signed
expect_usage "$WORK/none.pem: cannot load the certificate" "${R[@]}" --cert "$WORK/none.pem" \
  --key "$WORK/none.pem"
printf 'not a certificate\n' >"$WORK/bad.pem"
expect_usage "$WORK/bad.pem: cannot load the certificate" "${R[@]}" --cert "$WORK/bad.pem" \
  --key "$WORK/bad.pem"
printf '# users\nalice:pbkdf2-sha256:1000:00:zz\n' >"$WORK/bad-users"
expect_usage "$WORK/bad-users:2:" "${R[@]}" --self-signed --users "$WORK/bad-users"
expect_usage "cannot read the users file" "${R[@]}" --self-signed --users "$WORK/no-users"

# A busy port.
start_server busy "$WORK/root"
expect_usage "127.0.0.1:$PORT: address already in use" "${R[@]}" --self-signed \
  --listen "127.0.0.1:$PORT"
stop_server "$SERVER_PID"

# --help documents the users file and how to make entries.
"$FTPSFUZZ" serve --help >"$WORK/help"
grep -q 'pbkdf2-sha256' "$WORK/help" && grep -q 'ftpsfuzz passwd' "$WORK/help" ||
  fail "--help does not document the users file"
echo "ok: --help documents the users file"

# Without --users nobody logs in; with --anonymous, anonymous reads only.
rm -f "$WORK/port-nousers"
"$FTPSFUZZ" serve --allow-root --listen 127.0.0.1:0 "${R[@]}" --self-signed --anonymous \
  --port-file "$WORK/port-nousers" >"$WORK/server-nousers.log" 2>&1 &
SERVER_PID=$!
SERVER_PIDS+=("$SERVER_PID")
for _ in $(seq 1 100); do [ -s "$WORK/port-nousers" ] && break; sleep 0.05; done
PORT=$(cat "$WORK/port-nousers")
C=(curl -sS --fail --ssl-reqd -k --max-time 30)
if "${C[@]}" -u "$USER_NAME:$USER_PASS" "ftp://127.0.0.1:$PORT/pub/hello.txt" -o /dev/null 2>/dev/null; then
  fail "alice logged in without --users"
fi
echo "ok: no --users: alice cannot log in"
"${C[@]}" -u anonymous:guest "ftp://127.0.0.1:$PORT/pub/hello.txt" -o "$WORK/anon.txt"
same_file "$WORK/root/pub/hello.txt" "$WORK/anon.txt" "anonymous download"
if "${C[@]}" -u anonymous:guest -T "$WORK/anon.txt" "ftp://127.0.0.1:$PORT/pub/new.txt" 2>/dev/null; then
  fail "anonymous upload accepted"
fi
[ ! -e "$WORK/root/pub/new.txt" ] || fail "anonymous upload stored a file"
echo "ok: anonymous is read-only"

# SIGINT with a session open: clean exit 0.
exec 3<>"/dev/tcp/127.0.0.1/$PORT"
read -r -t 5 greeting <&3 || fail "no greeting"
case $greeting in 220*) ;; *) fail "greeting: $greeting" ;; esac
kill -INT "$SERVER_PID"
rc=0
wait "$SERVER_PID" || rc=$?
SERVER_PIDS=()
[ "$rc" -eq 0 ] || fail "SIGINT: exit $rc"
exec 3<&-
grep -q 'session end: server shutting down' "$WORK/server-nousers.log" ||
  fail "the open session was not closed at shutdown"
echo "ok: SIGINT with a session open exits 0"
echo "PASS"

#!/usr/bin/env bash
# `openssl s_client -starttls ftp` and `gnutls-cli --starttls-proto=ftp`
# against `ftpsfuzz serve`: AUTH TLS, 234, the handshake completes, and
# commands inside TLS get their replies (login, PWD, QUIT).
# usage: starttls.sh FTPSFUZZ
FTPSFUZZ=$1
. "$(dirname "$0")/lib.sh"
need openssl gnutls-cli

mkdir -p "$WORK/root"
start_server main "$WORK/root"
CMDS="USER $USER_NAME\r\nPASS $USER_PASS\r\nPWD\r\nQUIT\r\n"

check_replies() {
  local who=$1 out=$2
  for want in '^230 ' '^257 "/"' '^221 '; do
    grep -q "$want" "$out" || fail "$who: no reply matching '$want' inside TLS: $(cat "$out")"
  done
  echo "ok: $who: handshake after 234, login and commands inside TLS"
}

(printf "$CMDS"; sleep 3) |
  timeout 20 openssl s_client -starttls ftp -connect "127.0.0.1:$PORT" -quiet -ign_eof \
    >"$WORK/openssl.out" 2>&1 || true
check_replies "openssl s_client" "$WORK/openssl.out"

(sleep 1; printf "$CMDS"; sleep 3) |
  timeout 20 gnutls-cli --starttls-proto=ftp --insecure -p "$PORT" 127.0.0.1 \
    >"$WORK/gnutls.out" 2>&1 || true
grep -q 'Handshake was completed' "$WORK/gnutls.out" ||
  fail "gnutls-cli: handshake not completed: $(cat "$WORK/gnutls.out")"
check_replies "gnutls-cli" "$WORK/gnutls.out"

# TLS 1.2 too (the server's minimum).
(printf "$CMDS"; sleep 3) |
  timeout 20 openssl s_client -tls1_2 -starttls ftp -connect "127.0.0.1:$PORT" -quiet -ign_eof \
    >"$WORK/openssl12.out" 2>&1 || true
check_replies "openssl s_client -tls1_2" "$WORK/openssl12.out"

# TLS 1.1 is refused: the handshake fails, nothing is served.
(printf "$CMDS"; sleep 1) |
  timeout 20 openssl s_client -tls1_1 -starttls ftp -connect "127.0.0.1:$PORT" -quiet -ign_eof \
    >"$WORK/openssl11.out" 2>&1 || true
if grep -q '^230 ' "$WORK/openssl11.out"; then fail "TLS 1.1 login accepted"; fi
echo "ok: TLS 1.1 refused"

[ "$(grep -c 'TLS established' "$WORK/server-main.log")" -ge 3 ] ||
  fail "server logged fewer than 3 TLS handshakes"
stop_server "$SERVER_PID"
echo "PASS"

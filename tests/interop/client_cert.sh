#!/usr/bin/env bash
# `ftpsfuzz serve --client-ca FILE [--client-cert MODE] [--cert-login]` with
# `openssl s_client -starttls ftp -cert ...`: a certificate from the CA with
# subject CN alice logs in as alice with `232` and no PASS; a look-alike
# certificate from another CA fails the handshake; under require a client
# without a certificate gets nothing; under request it logs in with PASS.
# usage: client_cert.sh FTPSFUZZ
FTPSFUZZ=$1
. "$(dirname "$0")/lib.sh"
need openssl

# A CA, alice's certificate from it, and a rogue CA with the same name.
mkcert() { # mkcert NAME SUBJECT [CA-NAME]
  local name=$1 subj=$2 ca=${3:-}
  if [ -z "$ca" ]; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
      -subj "$subj" -addext "basicConstraints=critical,CA:TRUE" \
      -keyout "$WORK/$name.key" -out "$WORK/$name.pem" 2>/dev/null
  else
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "$subj" \
      -keyout "$WORK/$name.key" -out "$WORK/$name.csr" 2>/dev/null &&
      openssl x509 -req -in "$WORK/$name.csr" -CA "$WORK/$ca.pem" -CAkey "$WORK/$ca.key" \
        -set_serial "0x$(openssl rand -hex 8)" -days 1 -out "$WORK/$name.pem" 2>/dev/null
  fi || fail "openssl: cannot make certificate $name"
}
mkcert ca "/CN=ftpsfuzz test CA"
mkcert rogue_ca "/CN=ftpsfuzz test CA"
mkcert alice "/O=ftpsfuzz test/CN=$USER_NAME" ca
mkcert rogue_alice "/O=ftpsfuzz test/CN=$USER_NAME" rogue_ca

# client OUT [s_client options...]: USER alice, PWD, QUIT inside TLS.
client() {
  local out=$1
  shift
  (printf "USER $USER_NAME\r\nPWD\r\nQUIT\r\n"; sleep 2) |
    timeout 20 openssl s_client -starttls ftp -connect "127.0.0.1:$PORT" -quiet -ign_eof "$@" \
      >"$WORK/$out" 2>&1 || true
}

mkdir -p "$WORK/root"
start_server req "$WORK/root" --client-ca "$WORK/ca.pem" --cert-login

client alice.out -cert "$WORK/alice.pem" -key "$WORK/alice.key"
grep -q '^232 User logged in, authorized by security data exchange' "$WORK/alice.out" ||
  fail "certificate login: no 232: $(cat "$WORK/alice.out")"
grep -q '^257 "/"' "$WORK/alice.out" || fail "certificate login: not logged in"
echo "ok: CN=$USER_NAME certificate: USER $USER_NAME -> 232, logged in without PASS"

client rogue.out -cert "$WORK/rogue_alice.pem" -key "$WORK/rogue_alice.key"
if grep -Eq '^(230|232|257|331) ' "$WORK/rogue.out"; then
  fail "a certificate from another CA got replies: $(cat "$WORK/rogue.out")"
fi
echo "ok: a look-alike certificate from another CA fails the handshake"

client none.out
if grep -Eq '^(230|232|257|331) ' "$WORK/none.out"; then
  fail "require: a client without a certificate got replies: $(cat "$WORK/none.out")"
fi
echo "ok: require: no certificate, no session"
# Both refusals were the server's handshake failing, not a lost connection.
[ "$(grep -c 'TLS handshake failed' "$WORK/server-req.log")" -eq 2 ] ||
  fail "expected 2 failed handshakes in the server log"
stop_server "$SERVER_PID"

start_server opt "$WORK/root" --client-ca "$WORK/ca.pem" --client-cert request --cert-login
client none2.out
grep -q '^331 ' "$WORK/none2.out" || fail "request: no certificate: expected 331: $(cat "$WORK/none2.out")"
echo "ok: request: no certificate -> 331 (password flow)"
stop_server "$SERVER_PID"

# Without --cert-login the certificate is verified but never stands in.
start_server nologin "$WORK/root" --client-ca "$WORK/ca.pem"
client alice2.out -cert "$WORK/alice.pem" -key "$WORK/alice.key"
grep -q '^331 ' "$WORK/alice2.out" || fail "no --cert-login: expected 331: $(cat "$WORK/alice2.out")"
echo "ok: without --cert-login: 331"
stop_server "$SERVER_PID"

# Bad configurations are refused with exit status 2 and a clear message.
rc=0
"$FTPSFUZZ" serve --allow-root --self-signed --root "$WORK/root" --listen 127.0.0.1:0 --cert-login \
  2>"$WORK/bad.err" || rc=$?
[ "$rc" -eq 2 ] && grep -q -- '--cert-login needs --client-ca' "$WORK/bad.err" ||
  fail "--cert-login without --client-ca: rc=$rc $(cat "$WORK/bad.err")"
rc=0
"$FTPSFUZZ" serve --allow-root --self-signed --root "$WORK/root" --listen 127.0.0.1:0 \
  --client-ca "$WORK/nonexistent.pem" 2>"$WORK/bad.err" || rc=$?
[ "$rc" -eq 2 ] && grep -q 'nonexistent.pem' "$WORK/bad.err" ||
  fail "missing CA file: rc=$rc $(cat "$WORK/bad.err")"
echo "ok: bad configurations refused"
echo "PASS"

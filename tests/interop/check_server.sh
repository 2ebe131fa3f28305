#!/usr/bin/env bash
# check_server.sh FTPSFUZZ SERVER MODE - `ftpsfuzz check` against a real FTPS
# server from Debian 12 packages, on 127.0.0.1 only.
#   SERVER: vsftpd | pureftpd | proftpd | pyftpdlib | ours (ftpsfuzz serve)
#   MODE:   optional (TLS offered) | required (TLS required for login and data)
#           | implicit (vsftpd only: implicit_ssl, checked as ftps://HOST:PORT)
# The packages conflict with each other (all provide ftp-server), so they are
# fetched with `apt-get download` into a cache (FTPSFUZZ_DEB_CACHE, default
# ~/.cache/ftpsfuzz/debs) and unpacked with `dpkg -x` into a temporary
# directory; the libraries they need that are not installed by default come
# the same way and are found through LD_LIBRARY_PATH. The server runs in the
# foreground on a free port with a self-signed certificate and a test user,
# and is always stopped by its PID. Exit 77 (skipped) when the packages or
# tools cannot be had. The known behaviours of each server (issue 7) must be
# found, each on the probe that shows it (driver/check_probes.c; every
# transcript is kept under out/transcripts/): the test fails if an expected
# violation is missing, or if a security invariant is violated that is not
# expected. A run whose setup failed, or (Pure-FTPd) that timed out where an
# expectation should show, is skipped with the reason, never passed.
set -euo pipefail

FTPSFUZZ=${1:?usage: check_server.sh FTPSFUZZ SERVER MODE}
SERVER=${2:?server}
MODE=${3:?mode}
CACHE=${FTPSFUZZ_DEB_CACHE:-$HOME/.cache/ftpsfuzz/debs}
# bounded: the whole suite (7 configurations) stays within minutes on 2 cores
WALKS=${FTPSFUZZ_CHECK_WALKS:-4}
MUTANTS=${FTPSFUZZ_CHECK_MUTANTS:-4}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ftpsfuzz-check-$SERVER.XXXXXX")
chmod 755 "$WORK"
SERVER_PID=
SYS_USER=
PASS="Check-$RANDOM-$RANDOM-pw"

cleanup() {
  local rc=$?
  if [ -n "$SERVER_PID" ]; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [ -n "$SYS_USER" ]; then
    userdel "$SYS_USER" >/dev/null 2>&1 || true
  fi
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ]; then
    for log in "$WORK"/server.log "$WORK"/check.err; do
      [ -f "$log" ] && { echo "--- $log (last 30 lines)"; tail -n 30 "$log"; }
    done
  fi
  if [ -n "${FTPSFUZZ_CHECK_KEEP:-}" ]; then # keep the outputs for a look
    mkdir -p "$FTPSFUZZ_CHECK_KEEP/$SERVER-$MODE"
    cp -r "$WORK"/out "$WORK"/*.out "$WORK"/*.err "$WORK"/*.log "$FTPSFUZZ_CHECK_KEEP/$SERVER-$MODE/" \
      2>/dev/null || true
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }

for tool in openssl python3; do
  command -v "$tool" >/dev/null 2>&1 || skip "'$tool' is not installed"
done

# fetch PKG...: the .debs, from the cache or apt-get download.
fetch() {
  mkdir -p "$CACHE"
  local missing=()
  for p in "$@"; do
    ls "$CACHE/${p}"_*.deb >/dev/null 2>&1 || missing+=("$p")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    command -v apt-get >/dev/null 2>&1 || skip "apt-get is not available to fetch ${missing[*]}"
    (cd "$CACHE" && timeout 300 apt-get download "${missing[@]}" >/dev/null 2>&1) ||
      skip "cannot download ${missing[*]} (no network or no Debian 12 sources?)"
  fi
  for p in "$@"; do
    local deb
    deb=$(ls "$CACHE/${p}"_*.deb | head -n 1)
    dpkg -x "$deb" "$WORK/root" || skip "dpkg -x $deb failed"
  done
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_listening() {
  for _ in $(seq 1 100); do
    if python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$PORT),0.2).close()" 2>/dev/null; then
      return 0
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || fail "$SERVER exited: $(tail -n 20 "$WORK/server.log")"
    sleep 0.1
  done
  fail "$SERVER did not listen on 127.0.0.1:$PORT"
}

# need_root: vsftpd and ProFTPD switch to the user, Pure-FTPd too.
need_root() { [ "$(id -u)" = 0 ] || skip "$SERVER needs root to switch to the test user"; }

cert() {
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
    -keyout "$WORK/key.pem" -out "$WORK/cert.pem" >/dev/null 2>&1 || fail "openssl req failed"
  cat "$WORK/key.pem" "$WORK/cert.pem" >"$WORK/both.pem"
  chmod 600 "$WORK/key.pem" "$WORK/both.pem"
}

PORT=$(free_port)
USER_NAME=ftpsck
HOME_DIR="$WORK/home"
mkdir -p "$WORK/root" "$HOME_DIR"
LIBS="$WORK/root/usr/lib/x86_64-linux-gnu:$WORK/root/lib/x86_64-linux-gnu"
POLICY_REQ=tls-login=on,tls-data=on,anon=off,ccc=off
POLICY_OPT=tls-login=off,tls-data=off,anon=off,ccc=off
[ "$MODE" = required ] || [ "$MODE" = optional ] || [ "$MODE" = implicit ] ||
  fail "MODE must be optional, required or implicit"
[ "$MODE" != implicit ] || [ "$SERVER" = vsftpd ] || fail "MODE implicit is for vsftpd"
POLICY=$POLICY_OPT
[ "$MODE" = optional ] || POLICY=$POLICY_REQ
# the address check and the replay use: ftps:// for implicit TLS
TARGET_PREFIX=
[ "$MODE" = implicit ] && TARGET_PREFIX=ftps://
# Pure-FTPd accepts CCC (its configuration, declared as such when TLS is
# optional; under -Y 3 accepting it is the finding TLS_REQUIRED_STAYS_TLS).
[ "$SERVER-$MODE" = pureftpd-optional ] && POLICY=tls-login=off,tls-data=off,anon=off,ccc=on

# system_user: a dedicated local user (vsftpd authenticates through PAM).
system_user() {
  command -v useradd >/dev/null 2>&1 || skip "useradd is not available"
  SYS_USER="ftpsck$$"
  SYS_USER=${SYS_USER:0:31}
  USER_NAME=$SYS_USER
  useradd -M -d "$HOME_DIR" -s /bin/sh "$SYS_USER" >/dev/null 2>&1 || skip "useradd failed"
  echo "$SYS_USER:$PASS" | chpasswd || skip "chpasswd failed"
  chown "$SYS_USER" "$HOME_DIR"
}

case "$SERVER" in
vsftpd)
  need_root
  fetch vsftpd libwrap0
  cert
  system_user
  mkdir -p "$WORK/empty"
  chmod 755 "$WORK/empty"
  FORCE=NO
  IMPLICIT=NO
  [ "$MODE" = optional ] || FORCE=YES
  [ "$MODE" = implicit ] && IMPLICIT=YES
  cat >"$WORK/vsftpd.conf" <<EOF
listen=YES
listen_ipv6=NO
listen_address=127.0.0.1
listen_port=$PORT
background=NO
anonymous_enable=NO
local_enable=YES
write_enable=YES
local_umask=022
# no such PAM service: PAM uses /etc/pam.d/other (pam_unix)
pam_service_name=ftpsfuzz-check-vsftpd
secure_chroot_dir=$WORK/empty
seccomp_sandbox=NO
isolate=NO
isolate_network=NO
check_shell=NO
xferlog_enable=NO
vsftpd_log_file=$WORK/vsftpd.log
ssl_enable=YES
implicit_ssl=$IMPLICIT
ssl_ciphers=HIGH
rsa_cert_file=$WORK/cert.pem
rsa_private_key_file=$WORK/key.pem
allow_anon_ssl=NO
force_local_logins_ssl=$FORCE
force_local_data_ssl=$FORCE
pasv_enable=YES
pasv_min_port=40000
pasv_max_port=49000
EOF
  LD_LIBRARY_PATH=$LIBS "$WORK/root/usr/sbin/vsftpd" "$WORK/vsftpd.conf" >"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  ;;
pureftpd)
  need_root
  fetch pure-ftpd libmemcached11 libmemcachedutil2 libhashkit2 libhiredis0.14
  cert
  chown nobody:nogroup "$HOME_DIR"
  # pure-pw hashes with argon2id at t=255: every PASS then costs the server
  # about two seconds of CPU (measured: a login session 2.7 s instead of
  # 0.4 s), which on a loaded machine pushed setup, cleanup and many steps
  # past the step timeout ('PWD said ""', inconclusive runs). Pure-FTPd
  # takes any crypt(3) hash in its password file: a SHA-512 one is cheap.
  HASH=$(openssl passwd -6 "$PASS")
  echo "$USER_NAME:$HASH:65534:65534::$HOME_DIR/./::::::::::::" >"$WORK/pureftpd.passwd"
  LD_LIBRARY_PATH=$LIBS "$WORK/root/usr/bin/pure-pw" mkdb "$WORK/pureftpd.pdb" \
    -f "$WORK/pureftpd.passwd" >/dev/null || fail "pure-pw mkdb failed"
  TLS=1
  [ "$MODE" = required ] && TLS=3
  LD_LIBRARY_PATH=$LIBS "$WORK/root/usr/sbin/pure-ftpd" -S "127.0.0.1,$PORT" \
    -l "puredb:$WORK/pureftpd.pdb" -E -Y "$TLS" -2 "$WORK/both.pem" -u 1 -p 40000:49000 -c 500 -C 500 -H \
    -g "$WORK/pure-ftpd.pid" >"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  ;;
proftpd)
  need_root
  fetch proftpd-core proftpd-mod-crypto libwrap0 libhiredis0.14 libmemcached11 \
    libmemcachedutil2 libhashkit2 libpcre2-posix3
  cert
  chown nobody:nogroup "$HOME_DIR"
  HASH=$(openssl passwd -6 "$PASS")
  echo "$USER_NAME:$HASH:65534:65534::$HOME_DIR:/bin/sh" >"$WORK/proftpd.passwd"
  echo "nogroup:x:65534:" >"$WORK/proftpd.group"
  chmod 600 "$WORK/proftpd.passwd"
  REQ=off
  [ "$MODE" = required ] && REQ=on
  cat >"$WORK/proftpd.conf" <<EOF
ServerType standalone
DefaultServer on
Port $PORT
DefaultAddress 127.0.0.1
SocketBindTight on
UseIPv6 off
User nobody
Group nogroup
PidFile $WORK/proftpd.pid
ScoreboardFile $WORK/proftpd.scoreboard
DelayTable none
WtmpLog off
UseReverseDNS off
TransferLog none
SystemLog $WORK/proftpd.log
ModulePath $WORK/root/usr/lib/proftpd
ModuleControlsACLs insmod,rmmod allow user root
LoadModule mod_tls.c
AuthOrder mod_auth_file.c
AuthUserFile $WORK/proftpd.passwd
AuthGroupFile $WORK/proftpd.group
RequireValidShell off
PassivePorts 40000 49000
MaxInstances 30
<Directory />
  AllowOverwrite on
</Directory>
<IfModule mod_tls.c>
  TLSEngine on
  TLSLog $WORK/tls.log
  TLSProtocol TLSv1.2 TLSv1.3
  TLSRSACertificateFile $WORK/cert.pem
  TLSRSACertificateKeyFile $WORK/key.pem
  TLSRequired $REQ
  TLSVerifyClient off
</IfModule>
EOF
  LD_LIBRARY_PATH=$LIBS "$WORK/root/usr/sbin/proftpd" -n -q -c "$WORK/proftpd.conf" \
    >"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  ;;
pyftpdlib)
  # python3-pyftpdlib's TLS_FTPHandler (pyOpenSSL), run by Debian's own
  # python3 as the invoking user: no user switch, no root needed
  [ -x /usr/bin/python3 ] || skip "/usr/bin/python3 is not installed"
  fetch python3-pyftpdlib
  /usr/bin/python3 -c 'import OpenSSL' 2>/dev/null || fetch python3-openssl
  cert
  REQ=no
  [ "$MODE" = required ] && REQ=yes
  cat >"$WORK/pyftpd.py" <<'EOF'
import sys
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import TLS_FTPHandler
from pyftpdlib.servers import FTPServer
port, home, req, user, pw, pem = sys.argv[1:7]
auth = DummyAuthorizer()
auth.add_user(user, pw, home, perm="elradfmwMT")
TLS_FTPHandler.certfile = pem
TLS_FTPHandler.authorizer = auth
TLS_FTPHandler.tls_control_required = TLS_FTPHandler.tls_data_required = req == "yes"
TLS_FTPHandler.passive_ports = range(40000, 49000)
FTPServer(("127.0.0.1", int(port)), TLS_FTPHandler).serve_forever()
EOF
  PYTHONPATH="$WORK/root/usr/lib/python3/dist-packages" /usr/bin/python3 "$WORK/pyftpd.py" "$PORT" \
    "$HOME_DIR" "$REQ" "$USER_NAME" "$PASS" "$WORK/both.pem" >"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  ;;
ours)
  printf '%s\n' "$PASS" | "$FTPSFUZZ" passwd --file "$WORK/users" --iterations 1000 \
    "$USER_NAME" >/dev/null 2>&1 || fail "ftpsfuzz passwd failed"
  ONOFF=off
  [ "$MODE" = required ] && ONOFF=on
  "$FTPSFUZZ" serve --allow-root --listen "127.0.0.1:$PORT" --root "$HOME_DIR" --self-signed \
    --users "$WORK/users" --tls-login "$ONOFF" --tls-data "$ONOFF" >"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  ;;
*)
  fail "unknown server '$SERVER' (vsftpd, pureftpd, proftpd, pyftpdlib, ours)"
  ;;
esac
wait_listening
echo "$SERVER ($MODE) listening on 127.0.0.1:$PORT, pid $SERVER_PID"

# FTPSFUZZ_SERVER_HOOK=CMD (bench/bench_learn_live.sh, the live learn
# test): run CMD HOST PORT USER PASS POLICY instead of the check, with the
# server up and FTPSFUZZ_SERVER_HOME naming the account's login directory
# (CMD may put files there and must take them away), and exit with its
# status (the server is stopped as always).
if [ -n "${FTPSFUZZ_SERVER_HOOK:-}" ]; then
  set +e
  FTPSFUZZ_SERVER_HOME=$HOME_DIR "$FTPSFUZZ_SERVER_HOOK" 127.0.0.1 "$PORT" "$USER_NAME" "$PASS" "$POLICY"
  exit $?
fi

STEP_TIMEOUT=${FTPSFUZZ_CHECK_TIMEOUT:-5000}
# Four connections at once: a check mostly waits (the settle after each
# answered step, the quiet wait for a close), so this cuts its time by half
# or more (pure-ftpd 91 -> 39 s) and exercises --concurrency on real servers.
CONCURRENCY=${FTPSFUZZ_CHECK_CONCURRENCY:-4}
set +e
"$FTPSFUZZ" check "${TARGET_PREFIX}127.0.0.1:$PORT" --user "$USER_NAME" --pass "$PASS" --policy "$POLICY" \
  --walks "$WALKS" --mutants "$MUTANTS" --seed 7 --timeout "$STEP_TIMEOUT" --rate 50 \
  --concurrency "$CONCURRENCY" ${FTPSFUZZ_CHECK_ARGS:-} \
  --out "$WORK/out" --transcripts >"$WORK/check.out" 2>"$WORK/check.err"
RC=$?
set -e
cat "$WORK/check.out"
timed_out=$(sed -n 's/.* \([0-9][0-9]*\) timed out.*/\1/p' "$WORK/check.out" | sed -n 1p)
# 3: a security invariant could not be judged (the table says which and why)
[ "$RC" -eq 0 ] || [ "$RC" -eq 1 ] || [ "$RC" -eq 3 ] || fail "ftpsfuzz check exited $RC"
[ -f "$WORK/out/report.json" ] || fail "no report.json"
# Without its working directory the checker played only what needs no
# login: that is no check of this server's known behaviours.
if ! grep -q "^working directory " "$WORK/check.out"; then
  note=$(sed -n 's/^note: //p' "$WORK/check.out" | head -n 1)
  [ "$SERVER" = pureftpd ] &&
    skip "Pure-FTPd: the checker's setup failed (${note:-no note}; ${timed_out:-0} steps timed out): not a check of it"
  fail "$SERVER ($MODE): the checker's setup failed: ${note:-no note}"
fi
if ! grep -q "working directory .*: removed" "$WORK/check.out"; then
  # Pure-FTPd keeps an interrupted upload (a step timeout) as a hidden
  # .pureftpd-upload.* file, which it does not list, so RMD of the checker's
  # directory fails. Anything else left behind is the checker's fault.
  # On a loaded machine Pure-FTPd also answers some steps after the
  # checker's timeout, and its cleanup session can be one of them; that is
  # reported (the checker says so itself), not failed.
  left=$(find "$HOME_DIR" -mindepth 1 ! -type d ! -name '.pureftpd-upload.*' 2>/dev/null | head -n 5)
  if [ "$SERVER" = pureftpd ] && { [ -z "$left" ] || [ "${timed_out:-0}" -gt 0 ]; }; then
    echo "note: Pure-FTPd: the working directory was not fully removed (${timed_out:-0} steps timed out): $left"
  else
    fail "the working directory was not removed${left:+: $left}"
  fi
fi
# Pure-FTPd on a loaded machine answers some steps after the step timeout;
# a run that timed out is inconclusive for it, and says so (skipped), rather
# than failing on what the slow answers hid.
slow_pureftpd() {
  [ "$SERVER" = pureftpd ] && [ "${timed_out:-0}" -gt 0 ]
}
if [ -n "$(ls -A "$HOME_DIR")" ]; then
  slow_pureftpd && echo "note: Pure-FTPd: files left in the home after timeouts: $(ls -A "$HOME_DIR")" ||
    fail "the checker left files in the home: $(ls -A "$HOME_DIR")"
fi

# violated NAME: the table lists NAME with at least one violation.
violated() { awk -v n="$1" '$1 == n && $5 > 0 { f = 1 } END { exit !f }' "$WORK/check.out"; }
# expect NAME...: each must be violated and have a replayable .fts.
expect() {
  for inv in "$@"; do
    if ! violated "$inv"; then
      slow_pureftpd && skip "Pure-FTPd answered ${timed_out} steps after the step timeout, so $inv could not be shown: inconclusive on this machine now"
      fail "$SERVER ($MODE): expected $inv to be violated"
    fi
    [ -s "$WORK/out/$inv.fts" ] || fail "no $inv.fts"
    echo "ok: found $inv"
  done
}
# probe_found PROBE INV PATTERN: the known behaviour shows where it is
# expected: the checker's log names INV among PROBE's violations, and
# PROBE's transcript holds a line matching PATTERN (grep -E).
probe_found() {
  local probe=$1 inv=$2 pattern=$3
  local line
  line=$(awk -v p="$probe" '$2 == p' "$WORK/check.err" | head -n 1)
  if ! awk -v p="$probe" -v i="$inv" '$2 == p { for (k = 3; k <= NF; k++) if ($k == i) f = 1 }
                                      END { exit !f }' "$WORK/check.err"; then
    # Pure-FTPd on a loaded machine may answer after the step timeout; a
    # probe that timed out shows nothing either way
    [ "$SERVER" = pureftpd ] && [ "$(echo "$line" | awk '{ print $3 }')" = timeout ] &&
      skip "Pure-FTPd kept $probe waiting past the step timeout, so $inv could not be shown: inconclusive on this machine now"
    fail "$SERVER ($MODE): $probe did not violate $inv: ${line:-not played}"
  fi
  grep -Eq "$pattern" "$WORK/out/transcripts/$probe.fts" ||
    fail "$SERVER ($MODE): $probe's transcript has no line matching '$pattern'"
  echo "ok: $probe: $inv ($pattern)"
}
# allowed_security NAME...: no other security invariant may be violated.
allowed_security() {
  local bad
  bad=$(awk '$2 == "security" && $5 > 0 { print $1 }' "$WORK/check.out")
  for inv in $bad; do
    case " $* " in *" $inv "*) ;; *) fail "$SERVER ($MODE): unexpected security violation $inv" ;; esac
  done
}

case "$SERVER-$MODE" in
ours-*)
  [ "$RC" -eq 0 ] || fail "our server has a security finding"
  allowed_security
  ;;
pureftpd-*)
  # a second AUTH TLS answered 234, with no new handshake
  probe_found probe-second-auth NO_SECOND_234 '^S: 234 '
  [ "$(grep -c '^S: 234 ' "$WORK/out/transcripts/probe-second-auth.fts")" -eq 2 ] ||
    fail "pureftpd ($MODE): probe-second-auth: expected two 234 replies"
  # PROT X after PROT P: "534 Fallback to [C]"
  probe_found probe-prot-x-after-prot-p PROT_LEVEL_KEPT '^S: 534 Fallback'
  probe_found probe-prot-without-pbsz PBSZ_BEFORE_PROT '^S: 200 '
  ;;&
pureftpd-optional)
  # ... and then the listing really comes in clear (the client answered
  # by non-TLS bytes reads them as clear data, driver/runner.h)
  probe_found probe-prot-x-after-prot-p PROT_P_DATA_IS_TLS '^E: data clear [1-9]'
  expect NO_SECOND_234 PROT_LEVEL_KEPT PROT_P_DATA_IS_TLS PBSZ_BEFORE_PROT
  allowed_security NO_SECOND_234 PROT_LEVEL_KEPT PROT_P_DATA_IS_TLS
  ;;
pureftpd-required)
  # under -Y 3: CCC accepted; plaintext USER answered 421 without a close;
  # the fallen-back level refuses transfers (521): no clear data
  probe_found probe-ccc-logged-in TLS_REQUIRED_STAYS_TLS '^E: tls shutdown'
  probe_found probe-plaintext-user REPLY_421_CLOSES '^S: 421 '
  expect NO_SECOND_234 PROT_LEVEL_KEPT TLS_REQUIRED_STAYS_TLS REPLY_421_CLOSES PBSZ_BEFORE_PROT
  allowed_security NO_SECOND_234 PROT_LEVEL_KEPT PROT_P_DATA_IS_TLS TLS_REQUIRED_STAYS_TLS
  ;;
vsftpd-implicit)
  # TLS from the first byte: the sequences about AUTH are left out and
  # counted, the rest runs inside TLS, data is protected and judged.
  grep -q "^connection: implicit TLS ([1-9][0-9]* sequences about AUTH not played)" \
    "$WORK/check.out" || fail "vsftpd (implicit): the report does not say implicit TLS"
  awk '$1 == "PROT_P_DATA_IS_TLS" && $3 > 0 { f = 1 } END { exit !f }' "$WORK/check.out" ||
    fail "vsftpd (implicit): no protected transfer judged"
  [ "${timed_out:-0}" -eq 0 ] || fail "vsftpd (implicit): $timed_out steps timed out"
  # the same as over explicit TLS: PROT accepted without PBSZ
  probe_found probe-prot-without-pbsz PBSZ_BEFORE_PROT '^S: 200 '
  allowed_security
  ;;
vsftpd-*)
  expect NO_PLAINTEXT_AFTER_234 ALLOWED_CODE PBSZ_BEFORE_PROT PROT_LEVEL_KEPT
  # "500 OOPS: <TLS error>" in plaintext after the handshake failed
  probe_found probe-garbage-after-234 NO_PLAINTEXT_AFTER_234 '^S: 500 OOPS'
  # ... and on the TLS control connection when a data connection's TLS
  # failed (a clear upload where vsftpd protects data by itself)
  probe_found probe-auth-ssl-stor NO_PLAINTEXT_AFTER_234 '^E: tls error plaintext 500 OOPS'
  # a second AUTH answered 530 before login
  probe_found probe-second-auth ALLOWED_CODE '^S: 530 '
  # PROT accepted without PBSZ
  probe_found probe-prot-without-pbsz PBSZ_BEFORE_PROT '^S: 200 '
  # data protected by itself after AUTH SSL / AUTH TLS-P, no PROT P given
  probe_found probe-auth-ssl-list-tls PROT_LEVEL_KEPT '^E: data tls [1-9]'
  probe_found probe-auth-tls-p-list-tls PROT_LEVEL_KEPT '^E: data tls [1-9]'
  allowed_security NO_PLAINTEXT_AFTER_234 PROT_LEVEL_KEPT
  ;;
proftpd-*)
  expect ALLOWED_CODE PBSZ_BEFORE_PROT PROT_LEVEL_KEPT
  # a second AUTH answered 503
  probe_found probe-second-auth ALLOWED_CODE '^S: 503 '
  # a line over ~4,100 bytes dropped without a reply: the NOOP and QUIT
  # behind it get the only two replies, and a command is left unanswered
  probe_found probe-overlong-line ONE_FINAL_REPLY '^E: closed'
  probe_found probe-overlong-line ALLOWED_CODE '^S: 221 '
  replies=$(grep -c '^S: [0-9][0-9][0-9] ' "$WORK/out/transcripts/probe-overlong-line.fts" || true)
  [ "$replies" -eq 3 ] || fail "proftpd ($MODE): probe-overlong-line: expected the greeting and 2 replies, got $replies"
  probe_found probe-prot-without-pbsz PBSZ_BEFORE_PROT '^S: 200 '
  probe_found probe-auth-ssl-list-tls PROT_LEVEL_KEPT '^E: data tls [1-9]'
  probe_found probe-auth-tls-p-list-tls PROT_LEVEL_KEPT '^E: data tls [1-9]'
  allowed_security PROT_LEVEL_KEPT
  ;;
pyftpdlib-*)
  # pyftpdlib 1.5.7 runs a command pipelined behind AUTH TLS after the
  # handshake and answers it inside TLS (CVE-2011-1575 class; shown by hand:
  # "AUTH TLS\r\nSYST\r\n" in one write, then the handshake: "215" arrives
  # over TLS). NO_PIPELINED_INJECTION must never show as passed; the probes
  # handshake at once and listen inside TLS, so they see the injection.
  [ "$(awk '$1 == "NO_PIPELINED_INJECTION" { print $4 }' "$WORK/check.out")" = 0 ] ||
    fail "pyftpdlib ($MODE): NO_PIPELINED_INJECTION counted as passed"
  [ "$(awk '$1 == "NO_PIPELINED_INJECTION" { print $5 }' "$WORK/check.out")" -gt 0 ] ||
    fail "pyftpdlib ($MODE): the STARTTLS injection was not found"
  [ "$RC" -eq 1 ] || fail "pyftpdlib ($MODE): exit $RC, want 1 (a security violation)"
  grep -q "^NO_PIPELINED_INJECTION: VIOLATION NO_PIPELINED_INJECTION .*\[probe-pipelined" \
    "$WORK/check.out" || fail "pyftpdlib ($MODE): no pipelining probe named as the example"
  echo "ok: the STARTTLS injection (a command pipelined behind AUTH run inside TLS) found, exit 1"
  # a second AUTH answered 503 (RFC 2228 has no 503 for AUTH)
  probe_found probe-second-auth ALLOWED_CODE '^S: 503 '
  # an overlong line answered twice ("500 Command too long." and a 500 for
  # its remainder): pipelined with NOOP and QUIT in one write, the extra
  # reply lands on QUIT, the last command answered
  probe_found probe-overlong-line ONE_FINAL_REPLY '^S: 500 Command too long'
  allowed_security NO_PIPELINED_INJECTION
  ;;&
pyftpdlib-required)
  # data commands refused with 550 (not 521/522/534) before PROT P
  probe_found probe-auth-ssl-list ALLOWED_CODE '^S: 550 '
  ;;
esac
# nobody else executes a command pipelined behind AUTH TLS
[ "$SERVER" != pyftpdlib ] && violated NO_PIPELINED_INJECTION && fail "NO_PIPELINED_INJECTION violated"
[ "$RC" -eq 1 ] && ! grep -q "RESULT: security invariant violated" "$WORK/check.out" &&
  fail "exit 1 without a security violation"
# A saved example replays with `ftpsfuzz run --connect`.
first=$(ls "$WORK/out"/*.fts 2>/dev/null | head -n 1 || true)
if [ -n "$first" ]; then
  set +e
  "$FTPSFUZZ" run --connect "${TARGET_PREFIX}127.0.0.1:$PORT" --timeout 2000 "$first" \
    >"$WORK/replay.out" 2>&1
  r=$?
  set -e
  [ "$r" -le 1 ] || fail "replaying $first exited $r: $(tail -n 5 "$WORK/replay.out")"
  grep -q '^S: 220' "$WORK/replay.out" || fail "replaying $first: no greeting"
  echo "ok: $(basename "$first") replays with run --connect"
fi
echo "PASS: $SERVER ($MODE)"

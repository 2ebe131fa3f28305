#!/usr/bin/env bash
# test_run_config.sh FTPSFUZZ - `ftpsfuzz run --config FILE` (driver/test_config.h):
#
# - ccc=on tls_login=off turns CCC's 534 into 200 (and ccc=on alone does not:
#   TLS required for login keeps the control connection in TLS); a script's
#   "# config:" line still applies on top of the file;
# - users=FILE (as `ftpsfuzz passwd` writes it) replaces alice with its users;
# - tree=DIR is served: a file RETRieved under PROT P arrives with the disk
#   file's sha256, symlinks and FIFOs are skipped with a note, and the disk
#   tree is unchanged after the session wrote, renamed and deleted in its copy;
# - greeting=TEXT is the 220 text; relative paths follow the config's directory;
# - bad lines, missing files and a tree over the byte cap exit 2 naming
#   FILE:LINE and what was expected.
set -u
FTPSFUZZ=${1:?usage: test_run_config.sh FTPSFUZZ}
FTPSFUZZ=$(realpath "$FTPSFUZZ") # every run starts in / (paths below are absolute)
for tool in sha256sum truncate mkfifo; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed"; exit 77; }
done
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# run_ok NAME ARGS...: ftpsfuzz run, started in / so that relative paths in
# a config file must follow the file's directory, must exit 0 (every S:/E:
# expectation met).
run_ok() {
  local name=$1
  shift
  if ! (cd / && "$FTPSFUZZ" run "$@" >"$W/$name.out" 2>"$W/$name.err"); then
    fail "$name: expected exit 0 from run $*"
    cat "$W/$name.out" "$W/$name.err"
  fi
}

# run_bad NAME CONF WANT: --config CONF must exit 2 with WANT on stderr.
run_bad() {
  local name=$1 conf=$2 want=$3 rc
  (cd / && "$FTPSFUZZ" run --config "$conf" "$W/noop.fts" >/dev/null 2>"$W/$name.err")
  rc=$?
  [ $rc -eq 2 ] || fail "$name: expected exit 2, got $rc"
  grep -qF -- "$want" "$W/$name.err" || { fail "$name: expected '$want' on stderr, got:"; cat "$W/$name.err"; }
}

printf 'C: NOOP\n' >"$W/noop.fts"

# --- the disk tree, its users file, its config ---
mkdir -p "$W/conf/site/pub" "$W/conf/site/sub/deep" "$W/conf/site/empty"
printf 'served from disk\n' >"$W/conf/site/pub/readme.txt"
head -c 70000 /dev/urandom >"$W/conf/site/sub/deep/blob.bin"
: >"$W/conf/site/pub/zero.txt"
ln -s /etc/passwd "$W/conf/site/pub/passwd-link"
mkfifo "$W/conf/site/pub/fifo"
printf 'b0b-secret\n' | "$FTPSFUZZ" passwd --file "$W/conf/users.txt" --iterations 1 bob >/dev/null 2>&1 ||
  fail "ftpsfuzz passwd could not write the users file"
cat >"$W/conf/run.conf" <<'EOF'
# a server for test_run_config.sh
  ccc=on
tls_login=off

users=users.txt
tree=site
greeting=Disk tree ready.
EOF
snapshot() { (cd "$W/conf/site" && find . -printf '%y %p %s %m %T@\n' | sort && find . -type f -exec sha256sum {} + | sort); }
snapshot >"$W/before.txt"

# --- CCC: 534 by default, 200 with the file; ccc=on alone stays 534 ---
ccc_script() { # ccc_script REPLY [DIRECTIVE]
  [ -n "${2:-}" ] && echo "# config: $2"
  cat <<EOF
S: 220 ftpsfuzz ready.
C: AUTH TLS
S: 234 Proceed with TLS negotiation.
T: handshake
E: handshake ok
C: USER $USER_NAME
S: 331 Password required.
C: PASS $USER_PASS
S: 230 User logged in.
C: CCC
S: $1
EOF
}
USER_NAME=alice USER_PASS=wonderland
ccc_script "534 CCC is refused by this server's policy." >"$W/ccc_default.fts"
run_ok ccc_default "$W/ccc_default.fts"
printf 'ccc=on\n' >"$W/ccc_only.conf"
run_ok ccc_only --config "$W/ccc_only.conf" "$W/ccc_default.fts"
printf 'ccc=on\ntls_login=off\n' >"$W/ccc_on.conf"
{
  ccc_script "200 CCC OK: send close_notify, then plaintext."
  printf 'T: close_notify\nE: tls shutdown\nC: PWD\nS: 257 "/" is the current directory.\n'
} >"$W/ccc_on.fts"
run_ok ccc_on --config "$W/ccc_on.conf" "$W/ccc_on.fts"
# the script's "# config:" line wins over the file
ccc_script "534 CCC is refused by this server's policy." "ccc=off" >"$W/ccc_directive.fts"
run_ok ccc_directive --config "$W/ccc_on.conf" "$W/ccc_directive.fts"

# --- users: bob logs in, alice no longer exists; the greeting is the file's ---
cat >"$W/users.fts" <<'EOF'
S: 220 Disk tree ready.
C: AUTH TLS
S: 234 Proceed with TLS negotiation.
T: handshake
E: handshake ok
C: USER alice
S: 331 Password required.
C: PASS wonderland
S: 530 Login incorrect.
C: USER bob
S: 331 Password required.
C: PASS b0b-secret
S: 230 User logged in.
EOF
run_ok users --config "$W/conf/run.conf" "$W/users.fts"

# --- tree: RETR under PROT P; writes change only the in-memory copy ---
size=$(stat -c %s "$W/conf/site/sub/deep/blob.bin")
sum=$(sha256sum "$W/conf/site/sub/deep/blob.bin" | cut -d' ' -f1)
cat >"$W/tree.fts" <<EOF
S: 220 Disk tree ready.
C: AUTH TLS
S: 234 Proceed with TLS negotiation.
T: handshake
E: handshake ok
C: USER bob
S: 331 Password required.
C: PASS b0b-secret
S: 230 User logged in.
C: PBSZ 0
S: 200 PBSZ=0
C: PROT P
S: 200 Protection level set to P.
C: TYPE I
S: 200 Type set to I.
C: SIZE /pub/readme.txt
S: 213 17
C: SIZE /pub/zero.txt
S: 213 0
C: SIZE /pub/passwd-link
S: 550 No such file or directory.
C: SIZE /pub/fifo
S: 550 No such file or directory.
C: MDTM /sub/deep/blob.bin
S: 213 20240101000000
C: EPSV
S: 229 Entering Extended Passive Mode (|||50000|)
D: open
C: RETR /sub/deep/blob.bin
S: 150 Opening BINARY mode data connection ($size bytes).
E: data tls $size bytes sha256=$sum
S: 226 Transfer complete.
C: EPSV
S: 229 Entering Extended Passive Mode (|||50001|)
D: open
C: STOR /pub/readme.txt
S: 150 Ok to send data.
D: send overwritten
D: close
E: data tls 0 bytes sha256=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
S: 226 Transfer complete.
C: SIZE /pub/readme.txt
S: 213 11
C: DELE /sub/deep/blob.bin
S: 250 File deleted.
C: RMD /sub/deep
S: 250 Directory removed.
C: RNFR /empty
S: 350 Ready for RNTO.
C: RNTO /renamed
S: 250 Renamed.
C: MKD /new
S: 257 "/new" created.
C: QUIT
S: 221 Goodbye.
E: tls shutdown
E: closed
EOF
run_ok tree --config "$W/conf/run.conf" "$W/tree.fts"
grep -qF "run.conf:6: tree=site: note: skipped /pub/passwd-link: a symbolic link" "$W/tree.err" ||
  fail "tree: expected a note about the skipped symlink"
grep -qF "run.conf:6: tree=site: note: skipped /pub/fifo: not a regular file or directory" \
  "$W/tree.err" || fail "tree: expected a note about the skipped FIFO"
# the same transcript byte by byte
run_ok tree_chunk1 --chunk 1 --config "$W/conf/run.conf" "$W/tree.fts"
snapshot >"$W/after.txt"
diff -u "$W/before.txt" "$W/after.txt" >/dev/null || { fail "the disk tree changed"; diff -u "$W/before.txt" "$W/after.txt"; }

# --- errors: FILE:LINE and what was expected, exit 2 ---
B=$W/bad.conf
printf '# fine\nccc=on\nccc=maybe\n' >"$B"
run_bad bad_value "$B" "bad.conf:3: expected key=value"
printf 'tls_login = off\n' >"$B"
run_bad bad_spaces "$B" "bad.conf:1: expected key=value"
printf '\nbogus\n' >"$B"
run_bad bad_key "$B" "bad.conf:2: expected key=value ("
printf 'max_failures=0\n' >"$B"
run_bad bad_number "$B" "bad.conf:1: expected key=value"
printf 'users=missing.txt\n' >"$B"
run_bad missing_users "$B" "bad.conf:1: users=missing.txt: $W/missing.txt: cannot open"
printf 'alice:plain:text\n' >"$W/badusers.txt"
printf 'ccc=off\nusers=badusers.txt\n' >"$B"
run_bad bad_users "$B" "bad.conf:2: users=badusers.txt: $W/badusers.txt:1: expected"
printf 'tree=no-such-dir\n' >"$B"
run_bad missing_tree "$B" "bad.conf:1: tree=no-such-dir: expected a readable directory"
printf 'tree=conf/site\ntree=conf/site\n' >"$B"
run_bad tree_twice "$B" "bad.conf:2: expected tree= at most once (already on line 1)"
printf 'greeting=\n' >"$B"
run_bad empty_greeting "$B" "bad.conf:1: expected greeting=TEXT"
printf 'greeting=a\tb\n' >"$B"
run_bad control_greeting "$B" "bad.conf:1: expected greeting=TEXT"
printf 'ccc=on\0\n' >"$B"
run_bad nul "$B" "bad.conf:1: expected text, got a NUL byte"
run_bad missing_conf "$W/nowhere.conf" "$W/nowhere.conf: cannot open the configuration file"
mkdir -p "$W/big"
truncate -s 17M "$W/big/sparse.bin"
printf 'tree=big\n' >"$B"
run_bad tree_cap "$B" "bad.conf:1: tree=big: expected at most 16777216 bytes of files"
# --config applies to the in-process server only
"$FTPSFUZZ" run --config "$W/ccc_on.conf" --connect 127.0.0.1:1 "$W/noop.fts" >/dev/null 2>&1
[ $? -eq 2 ] || fail "--config with --connect: expected exit 2"

# --help documents the format
"$FTPSFUZZ" run --help | grep -q "greeting=TEXT" || fail "run --help does not document --config"

if [ $fails -ne 0 ]; then
  echo "$fails failure(s)"
  exit 1
fi
echo "test_run_config: all passed"

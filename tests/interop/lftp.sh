#!/usr/bin/env bash
# lftp (GnuTLS) against `ftpsfuzz serve` with ftp:ssl-force and
# ftp:ssl-protect-data: mirror a directory tree up (mirror -R) and back down,
# every file compared by SHA-256, in passive and in active mode.
# usage: lftp.sh FTPSFUZZ
FTPSFUZZ=$1
. "$(dirname "$0")/lib.sh"
need lftp sha256sum

# A tree: nested directories, an empty file, all byte values, a few sizes.
SRC=$WORK/src
mkdir -p "$SRC/a/b/c" "$SRC/empty-dir" "$SRC/d"
: >"$SRC/empty.txt"
for i in $(seq 0 255); do printf "\\$(printf '%03o' "$i")"; done >"$SRC/a/bytes.bin"
head -c 1048576 /dev/urandom >"$SRC/a/b/one-mib.bin"
head -c 70001 /dev/urandom >"$SRC/a/b/c/odd.bin"
printf 'text\n' >"$SRC/d/readme.txt"
for i in $(seq 1 20); do head -c $((i * 997)) /dev/urandom >"$SRC/d/f$i.bin"; done

mkdir -p "$WORK/root"
start_server main "$WORK/root"

# tree_sums DIR: "sha256  relative/path" for every file, sorted.
tree_sums() { (cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum); }
tree_dirs() { (cd "$1" && find . -type d | sort); }

run_lftp() {
  lftp -c "set cmd:fail-exit yes; set net:max-retries 1; set net:timeout 20;
    set ftp:ssl-force true; set ftp:ssl-protect-data true; set ftp:ssl-protect-list true;
    set ssl:verify-certificate no; set ftp:passive-mode $1;
    open -u $USER_NAME,$USER_PASS ftp://127.0.0.1:$PORT; $2" >"$WORK/lftp.out" 2>&1 ||
    fail "lftp ($2): $(cat "$WORK/lftp.out")"
}

for mode in on off; do
  label=$([ "$mode" = on ] && echo passive || echo active)
  run_lftp "$mode" "mirror -R $SRC /tree-$label"
  [ "$(tree_sums "$SRC")" = "$(tree_sums "$WORK/root/tree-$label")" ] ||
    fail "mirror -R ($label): server tree differs"
  [ "$(tree_dirs "$SRC")" = "$(tree_dirs "$WORK/root/tree-$label")" ] ||
    fail "mirror -R ($label): directories differ"
  echo "ok: mirror -R up ($label mode), $(tree_sums "$SRC" | wc -l) files"
  run_lftp "$mode" "mirror /tree-$label $WORK/back-$label"
  [ "$(tree_sums "$SRC")" = "$(tree_sums "$WORK/back-$label")" ] ||
    fail "mirror ($label): downloaded tree differs"
  echo "ok: mirror down ($label mode)"
done

# A listing through lftp (MLSD or LIST, PROT P).
run_lftp on "cls -1 /tree-passive/d"
grep -q '/f20.bin$' "$WORK/lftp.out" || fail "cls: $(cat "$WORK/lftp.out")"
echo "ok: listing"

# The control connection was TLS for every session and no password was logged.
if grep -q "$USER_PASS" "$WORK/server-main.log"; then fail "the password is in the log"; fi
n_tls=$(grep -c 'TLS established' "$WORK/server-main.log")
n_start=$(grep -c 'session start' "$WORK/server-main.log")
[ "$n_tls" -eq "$n_start" ] || fail "$n_start sessions but $n_tls TLS handshakes"
echo "ok: $n_start sessions, all over TLS"
stop_server "$SERVER_PID"
echo "PASS"

#!/usr/bin/env bash
# curl (OpenSSL) against `ftpsfuzz serve`: --ssl-reqd listing, upload,
# download, resume both ways, EPSV, PASV (--disable-epsv),
# TYPE A, empty / all-256-bytes / 100 MiB files checked by SHA-256, and
# --ftp-ssl-ccc against a server started with --ccc --tls-login off.
# Every run ends with SIGTERM, which must stop the server with status 0.
# usage: curl.sh FTPSFUZZ
FTPSFUZZ=$1
. "$(dirname "$0")/lib.sh"
need curl sha256sum

mkdir -p "$WORK/root/pub" "$WORK/local"
L=$WORK/local
: >"$L/empty.bin"
python3 -c 'import sys; sys.stdout.buffer.write(bytes(range(256)) * 3)' >"$L/bytes.bin" 2>/dev/null ||
  for i in $(seq 0 255); do printf "\\$(printf '%03o' "$i")"; done >"$L/bytes.bin"
head -c $((100 * 1024 * 1024)) /dev/urandom >"$L/big.bin"
printf 'line one\nline two\n\nlast line\n' >"$L/unix.txt"
printf 'line one\r\nline two\r\n\r\nlast line\r\n' >"$L/dos.txt"

start_server main "$WORK/root"
URL="ftp://127.0.0.1:$PORT"
C=(curl -sS --fail --ssl-reqd -k --max-time 120 -u "$USER_NAME:$USER_PASS")

# Uploads (STOR, PROT P, EPSV) and downloads back (RETR).
for f in empty.bin bytes.bin big.bin; do
  "${C[@]}" -T "$L/$f" "$URL/pub/$f"
  same_file "$L/$f" "$WORK/root/pub/$f" "upload $f"
  "${C[@]}" "$URL/pub/$f" -o "$L/$f.back"
  same_file "$L/$f" "$L/$f.back" "download $f (EPSV)"
done

# PASV instead of EPSV.
"${C[@]}" --disable-epsv "$URL/pub/bytes.bin" -o "$L/bytes.pasv"
same_file "$L/bytes.bin" "$L/bytes.pasv" "download with PASV (--disable-epsv)"
"${C[@]}" --disable-epsv -T "$L/bytes.bin" "$URL/pub/bytes-pasv.bin"
same_file "$L/bytes.bin" "$WORK/root/pub/bytes-pasv.bin" "upload with PASV"

# Active mode (PORT/EPRT) is tested with ftplib and lftp: curl 7.87-7.88
# never starts TLS on an active data connection (curl/curl#10666).

# Listing (LIST) and name list (NLST).
"${C[@]}" "$URL/pub/" -o "$L/list.txt"
grep -q ' big.bin$' "$L/list.txt" || fail "LIST lacks big.bin: $(cat "$L/list.txt")"
grep -q '^-.* 104857600 .* big.bin$' "$L/list.txt" || fail "LIST size of big.bin: $(cat "$L/list.txt")"
"${C[@]}" -l "$URL/pub/" -o "$L/nlst.txt"
sort "$L/nlst.txt" | tr -d '\r' >"$L/nlst.sorted"
printf 'big.bin\nbytes-pasv.bin\nbytes.bin\nempty.bin\n' >"$L/nlst.want"
cmp -s "$L/nlst.sorted" "$L/nlst.want" || fail "NLST: $(cat "$L/nlst.txt")"
echo "ok: LIST and NLST"

# Resumed download (REST + RETR): keep the first 1000 bytes, continue.
head -c 1000 "$L/big.bin" >"$L/big.partial"
"${C[@]}" -C - "$URL/pub/big.bin" -o "$L/big.partial"
same_file "$L/big.bin" "$L/big.partial" "resumed download (-C -)"

# Resumed upload (SIZE + APPE): the server holds a prefix, curl sends the rest.
head -c 123457 "$L/big.bin" >"$WORK/root/pub/resume.bin"
head -c $((5 * 1024 * 1024)) "$L/big.bin" >"$L/resume.bin"
"${C[@]}" -C - -T "$L/resume.bin" "$URL/pub/resume.bin"
same_file "$L/resume.bin" "$WORK/root/pub/resume.bin" "resumed upload (-C - -T)"

# TYPE A (RFC 959 3.1.1.1): CRLF on the wire, LF on the server's disk. curl
# -B turns LF into CRLF when it sends and back when it receives (the wire
# form of a TYPE A download is checked byte for byte in ftplib.py).
"${C[@]}" -B -T "$L/unix.txt" "$URL/pub/ascii.txt"
same_file "$L/unix.txt" "$WORK/root/pub/ascii.txt" "TYPE A upload stored with LF"
"${C[@]}" -B "$URL/pub/ascii.txt" -o "$L/ascii.back"
same_file "$L/unix.txt" "$L/ascii.back" "TYPE A round trip"
"${C[@]}" "$URL/pub/ascii.txt" -o "$L/ascii.bin"
same_file "$L/unix.txt" "$L/ascii.bin" "TYPE I download of the same file is unchanged"

# Without TLS the default policy refuses the login.
if curl -sS --fail --max-time 20 -u "$USER_NAME:$USER_PASS" "$URL/pub/" -o /dev/null 2>/dev/null; then
  fail "plaintext login accepted under the TLS-required policy"
fi
echo "ok: plaintext login refused"
stop_server "$SERVER_PID"
grep -q 'login ok user="alice"' "$WORK/server-main.log" || fail "no login line in the server log"
if grep -q "$USER_PASS" "$WORK/server-main.log"; then fail "the password is in the log"; fi
echo "ok: server log has login lines and no password"

# CCC (RFC 4217 section 6): the control connection returns to plaintext
# after login. curl 7.88 sends no close_notify of its own after CCC (it reads
# the server's and goes on in plaintext), and after CCC it cannot read a
# PROT P data connection, so this runs with PROT C (--ftp-ssl-control);
# CCC with PROT P is tested with ftplib.
start_server ccc "$WORK/root" --ccc --tls-login off --tls-data off
URL="ftp://127.0.0.1:$PORT"
CC=(curl -sS --fail --ftp-ssl-control -k --max-time 60 -u "$USER_NAME:$USER_PASS" --ftp-ssl-ccc)
"${CC[@]}" "$URL/pub/bytes.bin" -o "$L/bytes.ccc" 2>"$WORK/ccc.err" ||
  fail "curl --ftp-ssl-ccc download: $(cat "$WORK/ccc.err")"
same_file "$L/bytes.bin" "$L/bytes.ccc" "download after CCC (--ftp-ssl-ccc)"
"${CC[@]}" -T "$L/bytes.bin" "$URL/pub/bytes-ccc.bin" 2>"$WORK/ccc.err" ||
  fail "curl --ftp-ssl-ccc upload: $(cat "$WORK/ccc.err")"
same_file "$L/bytes.bin" "$WORK/root/pub/bytes-ccc.bin" "upload after CCC (--ftp-ssl-ccc)"
grep -q 'TLS ended' "$WORK/server-ccc.log" || fail "server did not log the CCC"
stop_server "$SERVER_PID"
echo "PASS"

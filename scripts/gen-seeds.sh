#!/bin/sh
# gen-seeds.sh - regenerate corpus/seeds/<harness>/ for fuzz_cmdline,
# fuzz_session, fuzz_transcript and fuzz_sequence. Files are named by the sha256 of their
# contents (picotls style), so regenerating is idempotent and a seed's name
# says nothing but what it holds. Other harnesses' seed directories are left
# alone.
#
# usage: scripts/gen-seeds.sh [BUILD_DIR]     (default build/dev)
# Needs the ftpsfuzz binary (BUILD_DIR/cli/ftpsfuzz, or $FTPSFUZZ) for
# `ftpsfuzz encode`. Input byte 0 of every seed is the harness's selector
# byte (see the header comment of harnesses/<harness>.c).
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/dev}
ftpsfuzz=${FTPSFUZZ:-$build/cli/ftpsfuzz}
if [ ! -x "$ftpsfuzz" ]; then
  echo "gen-seeds.sh: $ftpsfuzz not found: build it first (cmake --build $build --target ftpsfuzz) or set FTPSFUZZ" >&2
  exit 2
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# put HARNESS FILE: store FILE under its content hash.
put() {
  h=$(sha256sum "$2" | cut -d' ' -f1)
  cp "$2" "$root/corpus/seeds/$1/$h"
}

# seed HARNESS SELECTOR_OCTAL PRINTF_FORMAT: selector byte + printf output.
seed() {
  { printf "\\$2"; printf "$3"; } > "$tmp/seed"
  put "$1" "$tmp/seed"
}

for h in fuzz_cmdline fuzz_session fuzz_transcript fuzz_sequence; do
  mkdir -p "$root/corpus/seeds/$h"
  find "$root/corpus/seeds/$h" -maxdepth 1 -type f ! -name '.*' -delete
done

# --- fuzz_cmdline: byte 0 = chunking (low 3 bits: max chunk 2^k) ---------
seed fuzz_cmdline 000 'USER alice\r\nPASS wonderland\r\n'
seed fuzz_cmdline 007 'AUTH TLS\r\nPBSZ 0\r\nPROT P\r\n'
seed fuzz_cmdline 013 'feat\nsyst\r\nNOOP\r\r\nnoop \r\n'
seed fuzz_cmdline 005 '\377\364\377\362ABOR\r\n'
seed fuzz_cmdline 002 'US\377\377ER x\r\nNO\377\373\001OP\r\n'
seed fuzz_cmdline 004 'NO\000OP\r\nQUIT\r\n'
seed fuzz_cmdline 001 'USERX a\r\nUS\r\nX\r\nCWD ..\r\n 1234\r\nRETR /pub/hello.txt\r\n'
seed fuzz_cmdline 003 'MKD /upload/\r\nRNFR a\rb\r\nRNTO c\r\n'
long=$(head -c 2048 /dev/zero | tr '\0' 'a')
seed fuzz_cmdline 006 "CWD ${long}\\r\\nCWD ${long#????}\\r\\nNOOP\\r\\n"

# --- fuzz_session: byte 0 = flags (bit 0 TLS, bits 1-3 chunk, bit 4 per line)
seed fuzz_session 000 'FEAT\r\nSYST\r\nNOOP\r\nHELP\r\nSTAT\r\nOPTS UTF8 ON\r\nUSER alice\r\nPASS wonderland\r\nQUIT\r\n'
seed fuzz_session 000 'PBSZ 0\r\nPROT P\r\nCCC\r\nAUTH\r\nAUTH XYZ\r\nPWD\r\nauth tls\r\n'
seed fuzz_session 000 'AUTH TLS\r\nUSER alice\r\n'
seed fuzz_session 020 'NOOP\r\nUS\377\364ER alice\r\nNO\000OP\r\nbare\nAUTH SSL\r\n\026\003\001\000\005hello'
seed fuzz_session 001 'USER alice\r\nPASS wonderland\r\nPBSZ 0\r\nPROT P\r\nPWD\r\nCWD /pub\r\nSIZE hello.txt\r\nMDTM hello.txt\r\nCWD /upload\r\nMKD new\r\nRNFR new\r\nRNTO renamed\r\nRMD renamed\r\nDELE /pub/hello.txt\r\nTYPE I\r\nQUIT\r\n'
seed fuzz_session 003 'USER alice\r\nPASS wonderland\r\nFEAT\r\nAUTH TLS\r\nPBSZ 0\r\nPROT C\r\nPROT S\r\nPROT X\r\nCCC\r\n'
seed fuzz_session 021 'USER alice\r\nPASS nope\r\nUSER alice\r\nPASS nope\r\nUSER alice\r\nPASS nope\r\nNOOP\r\n'
seed fuzz_session 011 'PBSZ x\r\nPROT P\r\nPBSZ 0\r\nUSER bob\r\nPASS\r\nCWD /pub\r\nREIN\r\nNOOP\r\n'
seed fuzz_session 015 'USER alice\r\nPASS wonderland\r\nCWD ..\r\nCWD ../../etc\r\nMKD /upload/a/b\r\nSIZE /\r\nRNFR /pub\r\nRNTO /upload/pub\r\nLIST\r\nPASV\r\n'

# --- fuzz_transcript: byte 0 even = binary form, odd = .fts text ----------
for f in "$root"/examples/*.fts "$root"/tests/*.fts "$root"/tests/*/*.fts; do
  [ -f "$f" ] || continue
  "$ftpsfuzz" encode "$f" -o "$tmp/bin"
  { printf '\000'; cat "$tmp/bin"; } > "$tmp/seed"
  put fuzz_transcript "$tmp/seed"
  { printf '\001'; cat "$f"; } > "$tmp/seed"
  put fuzz_transcript "$tmp/seed"
done

# --- fuzz_sequence: the binary form of every script (its S:/E: lines are
# ignored by the harness): examples, transcript tests, and the model's cover
# set and walks (corpus/seeds/scripts, made by scripts/gen-corpus.sh) ------
for f in "$root"/examples/*.fts "$root"/tests/scripts/*.fts "$root"/corpus/seeds/scripts/*.fts; do
  [ -f "$f" ] || continue
  "$ftpsfuzz" encode "$f" -o "$tmp/bin"
  put fuzz_sequence "$tmp/bin"
done

for h in fuzz_cmdline fuzz_session fuzz_transcript fuzz_sequence; do
  echo "corpus/seeds/$h: $(find "$root/corpus/seeds/$h" -maxdepth 1 -type f ! -name '.*' | wc -l) files"
done

#!/bin/sh
# gen-corpus.sh - regenerate corpus/seeds/scripts/: for every policy the
# model distinguishes (tls-login, tls-data, anon, ccc: 16), the model's cover
# set under that policy (`ftpsfuzz gen --cover --policy P`) and 10 random
# walks (`ftpsfuzz gen --walks 10 --seed 1 --policy P`); every script
# carries its "# config:" line. A script enters only if it adds coverage:
# one libFuzzer -merge=1 of them all with fuzz_sequence of the libfuzzer
# preset, whose coverage includes the policy (harnesses/state_feedback.h:
# a key per policy and per (policy-dependent row, policy)), so every policy
# keeps seeds and a script that repeats another policy's paths does not.
# Kept scripts are named by the sha256 of their content. The directory is
# rebuilt from scratch; binary harness seeds are scripts/gen-seeds.sh's job.
#
# usage: scripts/gen-corpus.sh [BUILD_DIR [FUZZ_BUILD_DIR]]
#   (defaults build/dev and build/libfuzzer)
# Needs BUILD_DIR/cli/ftpsfuzz (or $FTPSFUZZ) and the libFuzzer binary
# FUZZ_BUILD_DIR/harnesses/fuzz_sequence (or $FUZZ_SEQUENCE). Fails if a
# cover set does not reach 100% of the reachable transitions or a script
# breaks the oracle. Exit: 0 ok, 1 a cover set failed, 2 usage.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/dev}
fuzz_build=${2:-$root/build/libfuzzer}
ftpsfuzz=${FTPSFUZZ:-$build/cli/ftpsfuzz}
fuzz_sequence=${FUZZ_SEQUENCE:-$fuzz_build/harnesses/fuzz_sequence}
if [ ! -x "$ftpsfuzz" ]; then
  echo "gen-corpus.sh: $ftpsfuzz not found: build it first (cmake --build $build --target ftpsfuzz) or set FTPSFUZZ" >&2
  exit 2
fi
if [ ! -x "$fuzz_sequence" ]; then
  echo "gen-corpus.sh: $fuzz_sequence not found: build it first (cmake --preset libfuzzer && cmake --build --preset libfuzzer --target fuzz_sequence) or set FUZZ_SEQUENCE" >&2
  exit 2
fi

out=$root/corpus/seeds/scripts
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

mkdir -p "$tmp/keep" "$tmp/bin" "$tmp/merged"
for login in on off; do
  for data in on off; do
    for anon in on off; do
      for ccc in on off; do
        policy="tls-login=$login,tls-data=$data,anon=$anon,ccc=$ccc"
        d=$tmp/$login-$data-$anon-$ccc
        mkdir -p "$d"
        if ! "$ftpsfuzz" gen --cover --policy "$policy" -o "$d" > "$tmp/cover.log"; then
          cat "$tmp/cover.log" >&2
          echo "gen-corpus.sh: the cover set under $policy failed" >&2
          exit 1
        fi
        "$ftpsfuzz" gen --walks 10 --seed 1 --policy "$policy" -o "$d" > /dev/null
      done
    done
  done
done
# sha1 of the binary form -> script: libFuzzer names merged inputs by the
# SHA-1 of their content.
for f in "$tmp"/*-*-*-*/*.fts; do
  b=$tmp/bin/$(basename "$f" .fts)
  "$ftpsfuzz" encode "$f" -o "$b"
  echo "$(sha1sum "$b" | cut -d' ' -f1) $f" >> "$tmp/names"
done
if ! "$fuzz_sequence" -merge=1 "$tmp/merged" "$tmp/bin" > "$tmp/merge.log" 2>&1; then
  cat "$tmp/merge.log" >&2
  echo "gen-corpus.sh: libFuzzer merge failed" >&2
  exit 1
fi
for m in "$tmp"/merged/*; do
  f=$(grep "^$(basename "$m") " "$tmp/names" | head -n 1 | cut -d' ' -f2)
  cp "$f" "$tmp/keep/"
done
echo "gen-corpus.sh: $(ls "$tmp/keep" | wc -l) of $(ls "$tmp/bin" | wc -l) scripts add coverage"
# check's targeted probes (known violations) are kept whatever the merge says:
# each is one step from a bug class the oracle names (PROT X after PROT P,
# commands pipelined behind AUTH, ...).
"$ftpsfuzz" gen --probes -o "$tmp/keep" > /dev/null

mkdir -p "$out"
find "$out" -maxdepth 1 -name '*.fts' -exec rm -f {} +
cp "$tmp"/keep/*.fts "$out"/
echo "gen-corpus.sh: $(ls "$out" | grep -c '\.fts$') scripts in $out"

#!/bin/sh
# gen-corpus.sh - regenerate corpus/seeds/scripts/: the model's cover set for
# the built-in test configuration (`ftpsfuzz gen --cover`) and 50 random
# walks with seed 1 (`ftpsfuzz gen --walks 50 --seed 1`), as .fts client
# scripts named by the sha256 of their content. The directory is rebuilt from
# scratch so scripts the generator no longer makes disappear. Binary harness
# seeds are scripts/gen-seeds.sh's job.
#
# usage: scripts/gen-corpus.sh [BUILD_DIR]     (default build/dev)
# Needs BUILD_DIR/cli/ftpsfuzz (or $FTPSFUZZ). Fails if the cover set does not
# reach 100% of the reachable transitions or a script breaks the oracle.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/dev}
ftpsfuzz=${FTPSFUZZ:-$build/cli/ftpsfuzz}
if [ ! -x "$ftpsfuzz" ]; then
  echo "gen-corpus.sh: $ftpsfuzz not found: build it first (cmake --build $build --target ftpsfuzz) or set FTPSFUZZ" >&2
  exit 2
fi

out=$root/corpus/seeds/scripts
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$ftpsfuzz" gen --cover -o "$tmp/scripts"
"$ftpsfuzz" gen --walks 50 --seed 1 -o "$tmp/scripts"

mkdir -p "$out"
find "$out" -maxdepth 1 -name '*.fts' -exec rm -f {} +
cp "$tmp"/scripts/*.fts "$out"/
echo "gen-corpus.sh: $(ls "$out" | grep -c '\.fts$') scripts in $out"

#!/usr/bin/env bash
# test_campaign_libfuzzer.sh - a real 10-second campaign on fuzz_cmdline:
# `ftpsfuzz fuzz` configures and builds the libfuzzer preset itself (in
# BUILD_ROOT, so the first run takes about a minute), fuzzes, merges and
# writes summary.json with non-zero execs, edges and corpus, and the merged
# corpus to the persistent one. Findings and the persistent corpus go to a
# scratch directory, never to corpus/regressions or out/corpus.
# usage: test_campaign_libfuzzer.sh FTPSFUZZ SOURCE_DIR BUILD_ROOT [CMAKE_ARG...]
set -uo pipefail
ftpsfuzz=${1:?usage: $0 FTPSFUZZ SOURCE_DIR BUILD_ROOT [CMAKE_ARG...]}
src=${2:?} root=${3:?}
shift 3
cmake_args=()
for a in "$@"; do cmake_args+=(--cmake-arg "$a"); done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$ftpsfuzz" fuzz --harness fuzz_cmdline --time 10 --no-coverage --source "$src" \
  --build-root "$root" "${cmake_args[@]}" --out "$tmp/out" --regressions "$tmp/reg" \
  --corpus "$tmp/corpus"
rc=$?
if [ $rc -eq 2 ]; then
  echo "FAIL: ftpsfuzz fuzz failed (exit 2)"
  exit 1
fi
python3 - "$tmp/out/report/summary.json" "$tmp/corpus/fuzz_cmdline" <<'PY'
import json, os, sys
d = json.load(open(sys.argv[1]))
h = d["harnesses"][0]
kept = [f for f in os.listdir(sys.argv[2]) if not f.startswith(".")]
ok = h["name"] == "fuzz_cmdline" and h["ran"] and h["execs"] > 0 and h["edges"] > 0 \
     and h["corpus_merged"] > 0 and h["execs_per_s"] > 0 and len(kept) == h["corpus_merged"] \
     and h["previous"] is None and len(h["slices"]) == 1
print("summary:", {k: h[k] for k in ("execs", "execs_per_s", "edges", "corpus_merged", "findings")})
sys.exit(0 if ok else 1)
PY

#!/bin/bash -eu
# ClusterFuzzLite build: the same as OSS-Fuzz's (fuzz/oss-fuzz/build.sh),
# run from the source tree ($SRC/ftpsfuzz, the Dockerfile's WORKDIR).
set -euo pipefail # also when run as "bash build.sh", which ignores the #! flags
src=${FTPSFUZZ_SRC:-$PWD}
if [ ! -f "$src/fuzz/oss-fuzz/build.sh" ]; then
  src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
fi
FTPSFUZZ_SRC=$src exec bash "$src/fuzz/oss-fuzz/build.sh"

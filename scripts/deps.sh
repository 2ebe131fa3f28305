#!/usr/bin/env bash
# Installs, with apt-get and only when missing, the Debian 12 packages ftpsfuzz
# needs. Run as root (or with sudo). Safe to run again: it does nothing when
# everything is present.
set -euo pipefail

packages=(
  cmake ninja-build gcc make           # build
  clang-14 clang libclang-rt-14-dev llvm-14  # libFuzzer, sanitizer runtimes, coverage tools
  android-libboringssl-dev             # BoringSSL (headers in /usr/include/android)
  afl++                                # AFL++ engine
  graphviz spin                        # model pictures, SPIN model checking
  valgrind python3                     # tests
  procps                               # pgrep/pkill (tests/test_campaign.sh, test_replay.sh)
  zip unzip                            # OSS-Fuzz seed zips (fuzz/oss-fuzz/build.sh, its test)
  curl lftp openssl gnutls-bin         # interop tests with real FTPS clients
  testssl.sh sslscan                   # TLS scanners (tests/interop/scanners.sh)
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "deps: installing ${missing[*]}" >&2
if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
else
  SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

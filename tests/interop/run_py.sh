#!/usr/bin/env bash
# run_py.sh SCRIPT.py FTPSFUZZ: runs a Python interop test; exit 77 (skip)
# when python3 is missing.
set -eu
if ! command -v python3 >/dev/null 2>&1; then
  echo "SKIP: python3 is not installed (scripts/deps.sh installs it)"
  exit 77
fi
exec python3 "$(dirname "$0")/$1" "$2"

# lib.sh - shared by the interop tests: start `ftpsfuzz serve` on 127.0.0.1
# on a free port over a temporary root, always stop it, compare SHA-256.
# Source it after setting FTPSFUZZ (the binary); it makes $WORK and a trap.
set -euo pipefail

: "${FTPSFUZZ:?FTPSFUZZ must name the ftpsfuzz binary}"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ftpsfuzz-interop.XXXXXX")
SERVER_PIDS=()
USER_NAME=alice
USER_PASS=wonderland

cleanup() {
  local rc=$?
  for pid in "${SERVER_PIDS[@]:-}"; do
    [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${SERVER_PIDS[@]:-}"; do
    [ -n "$pid" ] && wait "$pid" 2>/dev/null || true
  done
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ]; then
    for log in "$WORK"/server*.log; do
      [ -f "$log" ] && { echo "--- $log (last 40 lines)"; tail -n 40 "$log"; }
    done
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# need CMD...: skip the test (exit 77) when a client binary is missing.
need() {
  for c in "$@"; do
    if ! command -v "$c" >/dev/null 2>&1; then
      echo "SKIP: '$c' is not installed (scripts/deps.sh installs it)"
      exit 77
    fi
  done
}

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

sha() { sha256sum "$1" | cut -d' ' -f1; }

# same_file A B WHAT: the two files have the same SHA-256.
same_file() {
  [ -f "$1" ] || fail "$3: $1 missing"
  [ -f "$2" ] || fail "$3: $2 missing"
  [ "$(sha "$1")" = "$(sha "$2")" ] || fail "$3: SHA-256 differs ($1 vs $2)"
  echo "ok: $3"
}

# make_users: a users file with alice/wonderland (cheap hash: many logins).
make_users() {
  printf '%s\n' "$USER_PASS" | "$FTPSFUZZ" passwd --file "$WORK/users" --iterations 1000 \
    "$USER_NAME" 2>/dev/null
}

# start_server NAME ROOT [serve options...]: starts a server, sets PORT and
# SERVER_PID, waits until it listens. Its log is $WORK/server-NAME.log.
start_server() {
  local name=$1 root=$2
  shift 2
  [ -f "$WORK/users" ] || make_users
  rm -f "$WORK/port-$name"
  "$FTPSFUZZ" serve --allow-root --listen 127.0.0.1:0 --root "$root" --self-signed --users "$WORK/users" \
    --port-file "$WORK/port-$name" "$@" >"$WORK/server-$name.log" 2>&1 &
  SERVER_PID=$!
  SERVER_PIDS+=("$SERVER_PID")
  for _ in $(seq 1 200); do
    if [ -s "$WORK/port-$name" ]; then
      PORT=$(cat "$WORK/port-$name")
      return 0
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || fail "server $name exited: $(cat "$WORK/server-$name.log")"
    sleep 0.05
  done
  fail "server $name did not start"
}

# stop_server PID: SIGTERM, which must end it with status 0.
stop_server() {
  local pid=$1 rc=0 i
  kill -TERM "$pid"
  wait "$pid" || rc=$?
  for i in "${!SERVER_PIDS[@]}"; do
    [ "${SERVER_PIDS[$i]}" = "$pid" ] && SERVER_PIDS[$i]=""
  done
  [ "$rc" -eq 0 ] || fail "server exited with $rc after SIGTERM"
}

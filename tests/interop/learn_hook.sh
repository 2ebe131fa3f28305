#!/usr/bin/env bash
# learn_hook.sh HOST PORT USER PASS POLICY - check_server.sh's
# FTPSFUZZ_SERVER_HOOK for `ftpsfuzz learn` (bench/bench_learn_live.sh,
# tests/interop/learn_live.sh): learns the server check_server.sh started,
# with check's --policy spelling turned into learn's --config keys, and the
# fixture RETR/RNFR ask for (pub/hello.txt, also a listing that is not
# empty) put into the login directory FTPSFUZZ_SERVER_HOME and taken away
# again (check_server.sh wants the home as it was). Exits with learn's
# status.
# Environment: LEARN_FTPSFUZZ the binary, LEARN_OUT the output directory
# (replaced), LEARN_ARGS more options for learn (split on blanks; later
# options win), LEARN_THEN a command run after learning as LEARN_THEN HOST
# PORT, the server and the fixture still there (to replay witnesses).
set -uo pipefail
host=$1 port=$2 user=$3 pass=$4 policy=$5
cfg=()
IFS=, read -ra items <<<"$policy"
for kv in "${items[@]}"; do
  kv=${kv/tls-login/tls_login}
  kv=${kv/tls-data/tls_data}
  kv=${kv/anon=/anonymous=}
  cfg+=(--config "$kv")
done
rm -rf "$LEARN_OUT"
home=${FTPSFUZZ_SERVER_HOME:?check_server.sh names the login directory}
owner=$(stat -c %u:%g "$home")
mkdir -p "$home/pub" && printf 'hello\n' >"$home/pub/hello.txt" && chown -R "$owner" "$home/pub"
trap 'rm -rf "$home/pub" "$home/ftpsfuzz-learn.txt"' EXIT
# shellcheck disable=SC2086 # LEARN_ARGS is a list of options
"$LEARN_FTPSFUZZ" learn --connect "$host:$port" --user "$user" --pass "$pass" "${cfg[@]}" \
  ${LEARN_ARGS:-} --quiet --out "$LEARN_OUT"
rc=$?
[ -z "${LEARN_THEN:-}" ] || "$LEARN_THEN" "$host" "$port"
exit $rc

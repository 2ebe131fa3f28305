#!/usr/bin/env bash
# TLS scanners against `ftpsfuzz serve` (explicit FTPS, AUTH TLS):
#   testssl.sh --starttls ftp   protocols (-p), cipher categories (-s),
#                               renegotiation (-R), via its own sockets
#   sslscan --starttls-ftp      protocols, every cipher suite it knows,
#                               renegotiation, groups
# Fails on any of: SSLv2, SSLv3, TLS 1.0 or TLS 1.1 offered; a weak cipher
# offered; insecure renegotiation. "Weak" here is NULL, anonymous, EXPORT,
# RC4/DES/LOW, 3DES/IDEA and also every CBC suite (testssl's "obsolete
# CBC", e.g. ECDHE-RSA-AES128-SHA): the server's policy is ECDHE + AEAD
# only, so any non-AEAD or non-ECDHE suite is a regression. TLS 1.3 suites
# are all AEAD. The scan must also see TLS 1.2 and 1.3 offered, so a
# scanner that could not connect never passes silently.
# Offline: --ip, -n none (no DNS), 127.0.0.1 only. Exit 77 if a scanner is
# missing (scripts/deps.sh installs both).
# usage: scanners.sh FTPSFUZZ
FTPSFUZZ=$1
. "$(dirname "$0")/lib.sh"
need testssl sslscan python3

mkdir -p "$WORK/root"
start_server scan "$WORK/root"
echo "server on 127.0.0.1:$PORT"

# --- sslscan (under a second) ---
timeout 120 sslscan --no-colour --starttls-ftp --xml="$WORK/sslscan.xml" "127.0.0.1:$PORT" \
  >"$WORK/sslscan.out" 2>&1 || fail "sslscan failed: $(cat "$WORK/sslscan.out")"
# Both scanners always run; every finding of both is listed before failing.
FINDINGS=0
if python3 - "$WORK/sslscan.xml" <<'EOF'; then
import re, sys
import xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
test = root.find("ssltest")
bad = []
if test is None:
    sys.exit("sslscan: no <ssltest> in its XML (did it connect?)")
enabled = {}
for p in test.findall("protocol"):
    name = "%s%s" % (p.get("type").upper(), p.get("version"))
    enabled[name] = p.get("enabled") == "1"
    print("sslscan: protocol %-8s %s" % (name, "enabled" if enabled[name] else "disabled"))
for name in ("SSL2", "SSL3", "TLS1.0", "TLS1.1"):
    if enabled.get(name, True):
        bad.append("protocol %s enabled (or not tested)" % name)
for name in ("TLS1.2", "TLS1.3"):
    if not enabled.get(name):
        bad.append("protocol %s not seen: the scan did not work" % name)
ciphers = [c for c in test.findall("cipher") if c.get("status") in ("accepted", "preferred")]
if not ciphers:
    bad.append("no accepted cipher suite seen: the scan did not work")
strong12 = re.compile(r"^ECDHE-(ECDSA|RSA)-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)$")
for c in ciphers:
    v, name = c.get("sslversion"), c.get("cipher")
    print("sslscan: %s %s %s" % (c.get("status"), v, name))
    ok = (v == "TLSv1.3" and name.startswith("TLS_")) or (v == "TLSv1.2" and strong12.match(name))
    if not ok:
        bad.append("weak or unexpected cipher suite %s %s" % (v, name))
for r in test.findall("renegotiation"):
    sup, sec = r.get("supported") == "1", r.get("secure") == "1"
    print("sslscan: renegotiation supported=%d secure=%d" % (sup, sec))
    if sup and not sec:
        bad.append("insecure renegotiation supported")
if not test.findall("renegotiation"):
    bad.append("no renegotiation result")
for b in bad:
    print("FINDING sslscan: " + b)
sys.exit(1 if bad else 0)
EOF
  echo "ok: sslscan: no old protocol, no weak cipher, no insecure renegotiation"
else
  FINDINGS=1
  cat "$WORK/sslscan.out"
fi

# --- testssl.sh (about a minute) ---
# Its socket pauses (USLEEP_*) are made for the Internet; on loopback a
# tenth of them is plenty and keeps the run short.
USLEEP_SND=0.02 USLEEP_REC=0.05 timeout 300 testssl --quiet --color 0 --warnings off -n none \
  --ip 127.0.0.1 --connect-timeout 10 --openssl-timeout 10 -t ftp -p -s -R \
  --jsonfile "$WORK/testssl.json" "127.0.0.1:$PORT" >"$WORK/testssl.out" 2>&1 ||
  [ -s "$WORK/testssl.json" ] || fail "testssl failed: $(cat "$WORK/testssl.out")"
if python3 - "$WORK/testssl.json" <<'EOF'; then
import json, sys
items = {x["id"]: x for x in json.load(open(sys.argv[1]))}
bad = []
def finding(i):
    return items[i]["finding"] if i in items else None
# id -> the finding must start with this
want = {
    "SSLv2": "not offered", "SSLv3": "not offered",
    "TLS1": "not offered", "TLS1_1": "not offered",
    "TLS1_2": "offered", "TLS1_3": "offered",
    "cipherlist_NULL": "not offered", "cipherlist_aNULL": "not offered",
    "cipherlist_EXPORT": "not offered", "cipherlist_LOW": "not offered",
    "cipherlist_3DES_IDEA": "not offered", "cipherlist_AVERAGE": "not offered",
    "cipherlist_STRONG": "offered",
    "secure_renego": "supported", "secure_client_renego": "not vulnerable",
}
for i, prefix in want.items():
    f = finding(i)
    print("testssl: %-22s %s" % (i, f))
    if f is None or not f.startswith(prefix):
        bad.append("%s: %r, expected %r" % (i, f, prefix))
# Anything testssl itself rates LOW or worse is a finding too.
for x in items.values():
    if x.get("severity") in ("LOW", "MEDIUM", "HIGH", "CRITICAL"):
        bad.append("%s rated %s: %s" % (x["id"], x["severity"], x["finding"]))
for b in bad:
    print("FINDING testssl: " + b)
sys.exit(1 if bad else 0)
EOF
  echo "ok: testssl: no old protocol, no weak cipher category, renegotiation secure"
else
  FINDINGS=1
  cat "$WORK/testssl.out"
fi
[ "$FINDINGS" -eq 0 ] || fail "scanner findings (see FINDING lines above)"

stop_server "$SERVER_PID"
echo "PASS"

#!/bin/sh
# gen-tls-seeds.sh - regenerate the hand-made seeds of fuzz_tls_mitm and
# fuzz_data_tls (their input formats are in the harnesses' header comments):
# every attacker opcode on handshake and application records of both
# directions, TLS 1.2 and 1.3, every data client kind and transfer. Files
# are named by the sha256 of their contents; captured ClientHellos
# (scripts/capture-clienthellos.sh) in the same directories are kept.
# usage: scripts/gen-tls-seeds.sh
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
python3 - "$root/corpus/seeds" <<'PY'
import hashlib, os, sys
base = sys.argv[1]

def put(harness, data):
    d = os.path.join(base, harness)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha256(data).hexdigest()), "wb") as f:
        f.write(data)

def op(code, s2c, index, a=0, b=0):
    return bytes([code | (0x80 if s2c else 0), index, a, b])

# fuzz_tls_mitm: byte 0 flags (bit 0 TLS 1.2, bits 1-3 chunking), then ops.
# Record indices (see the trace, FUZZ_TLS_TRACE=1): TLS 1.3 c2s #0 hello,
# #1 CCS, #2 Finished, #3.. commands; s2c #0 ServerHello, #1 CCS, #2 flight,
# #3.. tickets and replies. TLS 1.2 c2s #0 hello, #1-3 CKE CCS Finished;
# s2c #0-3 ServerHello..Done, #4-6 ticket CCS Finished.
for flags in (0x00, 0x01):
    put("fuzz_tls_mitm", bytes([flags]))
    put("fuzz_tls_mitm", bytes([flags | 0x02]))          # byte by byte
    for code in range(16):
        put("fuzz_tls_mitm", bytes([flags]) + op(code, False, 0, 20, 0x40))
        put("fuzz_tls_mitm", bytes([flags]) + op(code, True, 1, 7, 0x02))
        put("fuzz_tls_mitm", bytes([flags]) + op(code, False, 4, 9, 0x01))
    # benign combinations: split and refragment the hello, coalesce records
    put("fuzz_tls_mitm", bytes([flags | 0x08]) + op(2, False, 0, 3) + op(3, False, 0, 60)
        + op(3, True, 0, 30) + op(4, True, 1) + op(2, True, 2, 100))
put("fuzz_tls_mitm", bytes([0x00]) + op(8, False, 1, 1, 0) + op(9, True, 2) + op(5, False, 3))

# fuzz_data_tls: byte 0 flags (bits 0-1 client, bit 2 TLS 1.2, bits 3-4
# transfer, bit 5 connect after the command, bits 6-7 chunking), then ops,
# then optionally a partial operation whose first byte is more flags (bit 0
# require_tls_reuse off).
for kind in range(3):
    for tls12 in (0, 4):
        for xfer in range(4):
            put("fuzz_data_tls", bytes([kind | tls12 | xfer << 3]))
for flags in (0x20, 0x28, 0x40, 0x88, 0xc1):
    put("fuzz_data_tls", bytes([flags]))
for code in range(16):
    put("fuzz_data_tls", bytes([0x00]) + op(code, False, 0, 12, 0x10))
    put("fuzz_data_tls", bytes([0x08]) + op(code, False, 3, 5, 0x80))
    put("fuzz_data_tls", bytes([0x04]) + op(code, True, 2, 40, 0x04))
put("fuzz_data_tls", b"\x03USER alice\r\nhello in the clear\n")
put("fuzz_data_tls", b"\x0bplaintext upload\n")
# require_tls_reuse off: one byte after the whole operations, bit 0 set; a
# fresh session (and another connection's, which cannot resume) then succeeds.
for kind in range(3):
    for tls12 in (0, 4):
        for xfer in range(4):
            put("fuzz_data_tls", bytes([kind | tls12 | xfer << 3, 0x01]))
for code in range(16):
    put("fuzz_data_tls", bytes([0x01]) + op(code, False, 0, 12, 0x10) + b"\x01")
    put("fuzz_data_tls", bytes([0x0d]) + op(code, True, 2, 40, 0x04) + b"\x01")
PY

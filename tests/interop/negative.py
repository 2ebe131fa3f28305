"""Negative cases against `ftpsfuzz serve` (RFC 2577 and robustness):
path traversal never leaves the root, PORT/EPRT bounce refused, a second
client stealing a passive port refused, an upload cut off mid-way leaves the
old file and no temporary file, a client that never reads does not grow the
server's memory, session limits, the idle timeout, and a failed-login delay
that does not block other sessions.
usage: negative.py FTPSFUZZ
"""
import ftplib
import io
import os
import re
import socket
import ssl
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serverctl import (PASSWORD, USER, ReuseFTP_TLS, Server, Workdir, check,  # noqa: E402
                       client_context, sha256)


def expect_error(fn, code_prefix, what):
    try:
        resp = fn()
    except ftplib.all_errors as e:
        msg = str(e)
        check(msg.startswith(code_prefix), "%s -> %s" % (what, msg))
        return msg
    raise AssertionError("%s succeeded: %r" % (what, resp))


def traversal(srv, root, outside):
    f = srv.connect()
    for path in ["../../", "../..", "/../../..", "..\\..", "/etc", "%2e%2e"]:
        try:
            f.cwd(path)
        except ftplib.error_perm:
            pass
        check(f.pwd() == "/", "CWD %r stays at / (PWD %s)" % (path, f.pwd()))
    for path in ["../../etc/passwd", "/../../etc/passwd", "/etc/passwd", "../outside/secret.txt",
                 "link-dir/secret.txt", "link-file"]:
        expect_error(lambda: f.retrbinary("RETR " + path, lambda b: None), "550",
                     "RETR %r refused" % path)
    # The symlinks in the root are neither followed nor listed.
    expect_error(lambda: f.cwd("link-dir"), "550", "CWD through a symlink refused")
    names = f.nlst()
    check("link-dir" not in names and "link-file" not in names,
          "symlinks are not listed (%s)" % names)
    for path in ["link-dir/new.txt", "../outside/new.txt", "../../tmp/new.txt"]:
        expect_error(lambda: f.storbinary("STOR " + path, io.BytesIO(b"x")), "55",
                     "STOR %r refused" % path)
    check(not os.path.exists(os.path.join(outside, "new.txt")), "nothing written outside the root")
    with open(os.path.join(outside, "secret.txt"), "rb") as fh:
        check(fh.read() == b"secret\n", "the file outside the root is unchanged")
    f.quit()


def port_bounce(srv):
    f = srv.connect()
    expect_error(lambda: f.sendcmd("PORT 127,0,0,2,200,10"), "501", "PORT to another host")
    expect_error(lambda: f.sendcmd("PORT 10,1,2,3,200,10"), "501", "PORT to a third host")
    expect_error(lambda: f.sendcmd("PORT 127,0,0,1,0,25"), "501", "PORT to a privileged port")
    expect_error(lambda: f.sendcmd("EPRT |1|192.0.2.7|2121|"), "501", "EPRT to another host")
    f.quit()


def pasv_stealing(srv, root):
    data = os.urandom(100000)
    with open(os.path.join(root, "steal.bin"), "wb") as fh:
        fh.write(data)
    f = srv.connect()
    f.voidcmd("TYPE I")
    resp = f.sendcmd("PASV")
    m = re.search(r"\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)", resp)
    port = int(m.group(5)) * 256 + int(m.group(6))
    # The thief connects first, from another address (127.0.0.2 is loopback
    # too). The server must drop it and keep listening for the client.
    thief = socket.socket()
    thief.settimeout(5)
    thief.bind(("127.0.0.2", 0))
    thief.connect(("127.0.0.1", port))
    try:
        got = thief.recv(1)
    except (ConnectionResetError, socket.timeout) as e:
        got = e
    check(got == b"" or isinstance(got, ConnectionResetError),
          "the thief's connection is closed (%r)" % (got,))
    thief.close()
    real = socket.create_connection(("127.0.0.1", port), timeout=10)
    f.putcmd("RETR steal.bin")
    check(f.getresp().startswith("150"), "RETR started for the real client")
    conn = f.context.wrap_socket(real, server_hostname="127.0.0.1", session=f.sock.session)
    buf = b""
    while True:
        chunk = conn.recv(65536)
        if not chunk:
            break
        buf += chunk
    conn.close()
    check(f.voidresp().startswith("226"), "226 after the transfer")
    check(sha256(buf) == sha256(data), "the real client got the file")
    check("refused a data connection from 127.0.0.2" in srv.log(), "the steal attempt is logged")
    f.quit()


def temp_files(dirpath):
    return [n for n in os.listdir(dirpath) if n.startswith(".ftpsfuzz-upload-")]


def cut_upload(srv, root):
    old = os.urandom(50000)
    target = os.path.join(root, "keep.bin")
    with open(target, "wb") as fh:
        fh.write(old)
    # 1) TLS data connection closed without close_notify (a truncation).
    f = srv.connect()
    conn = f.transfercmd("STOR keep.bin")
    conn.sendall(os.urandom(300000))
    conn.shutdown(socket.SHUT_RDWR)  # SSLSocket.shutdown sends no close_notify
    conn.close()
    expect_error(f.voidresp, "426", "upload ended without close_notify")
    # 2) The client resets the data connection mid-way.
    conn = f.transfercmd("STOR keep.bin")
    conn.sendall(os.urandom(200000))
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()
    expect_error(f.voidresp, "4", "upload reset mid-way")
    f.quit()
    # 3) The client vanishes (control and data) mid-upload.
    f = srv.connect()
    conn = f.transfercmd("STOR keep.bin")
    conn.sendall(os.urandom(100000))
    for s in (conn, f.sock):
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
    time.sleep(0.5)
    with open(target, "rb") as fh:
        check(sha256(fh.read()) == sha256(old), "the old file is intact after cut uploads")
    check(temp_files(root) == [], "no temporary upload file is left (%s)" % temp_files(root))


def never_reads(srv, root):
    """Clients that ask for a large download, or pipeline many commands, and
    never read: the server's memory must stay bounded."""
    path = os.path.join(root, "large.bin")
    with open(path, "wb") as fh:
        fh.truncate(256 * 1024 * 1024)  # sparse: cheap to make, real to read
    base = srv.rss_kib()
    stuck = []
    for _ in range(8):
        f = srv.connect()
        conn = f.transfercmd("RETR large.bin")  # TLS handshake done, then never read
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stuck.append((f, conn))
    for _ in range(8):
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.setblocking(False)
        sent = 0
        blob = b"HELP\r\n" * 20000
        deadline = time.monotonic() + 3
        while sent < 4 * 1024 * 1024 and time.monotonic() < deadline:
            try:
                sent += s.send(blob)
            except BlockingIOError:
                time.sleep(0.05)
        stuck.append((None, s))
    time.sleep(2)
    grown = srv.rss_kib() - base
    # Unbounded buffering would hold ~256 MiB per download and ~4 MiB per
    # pipelining client; the core caps a session at a few hundred KiB.
    check(grown < 32 * 1024, "16 clients that never read grew the server by %d KiB (< 32 MiB)" % grown)
    # The server still serves others meanwhile.
    g = srv.connect()
    check(g.sendcmd("NOOP").startswith("200"), "another session is served meanwhile")
    g.quit()
    for f, s in stuck:
        s.close()
        if f is not None:
            f.sock.close()
    os.unlink(path)


def limits(work, root):
    with Server(work, root, ["--max-per-ip", "2", "--max-sessions", "3"]) as srv:
        a = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
        b = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
        check(a.recv(100).startswith(b"220") and b.recv(100).startswith(b"220"), "two sessions")
        c = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
        check(c.recv(100) == b"421 Too many connections.\r\n" and c.recv(100) == b"",
              "a third session from one address gets 421 and is closed")
        d = socket.socket()
        d.settimeout(5)
        d.bind(("127.0.0.2", 0))
        d.connect(("127.0.0.1", srv.port))
        check(d.recv(100).startswith(b"220"), "another address still gets in")
        e = socket.socket()
        e.settimeout(5)
        e.bind(("127.0.0.3", 0))
        e.connect(("127.0.0.1", srv.port))
        check(e.recv(100).startswith(b"421"), "past --max-sessions: 421")
        for s in (a, b, c, d, e):
            s.close()
    with Server(work, root, ["--idle-timeout", "1"]) as srv:
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
        t0 = time.monotonic()
        data = b""
        while True:
            chunk = s.recv(1000)
            if not chunk:
                break
            data += chunk
        took = time.monotonic() - t0
        check(data.startswith(b"220") and b"421 Idle timeout" in data and 0.8 < took < 5,
              "idle session closed after %.1f s with 421" % took)
        s.close()
        # Under TLS the session is closed without a plaintext reply.
        f = srv.connect(login=False, timeout=10)
        time.sleep(2.5)
        expect_error(lambda: f.sendcmd("NOOP"), "", "idle TLS session is closed")


def login_delay(srv):
    bad = srv.connect(login=False)
    good = srv.connect()
    t0 = time.monotonic()
    bad.putcmd("USER " + USER)
    bad.getresp()
    bad.putcmd("PASS wrong-" + PASSWORD[:1])
    # While the failed login is held, another session is answered at once.
    t1 = time.monotonic()
    check(good.sendcmd("NOOP").startswith("200") and time.monotonic() - t1 < 0.5,
          "other sessions are served during a failed-login delay")
    expect_error(bad.getresp, "530", "wrong password")
    took = time.monotonic() - t0
    check(took >= 1.0, "the failed login was answered after %.2f s (>= 1 s delay)" % took)
    good.quit()
    bad.close()


def main():
    ftpsfuzz = sys.argv[1]
    # Under AddressSanitizer freed memory is held in a quarantine (256 MiB by
    # default), which would hide what the RSS check measures.
    os.environ["ASAN_OPTIONS"] = os.environ.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=1"
    with Workdir(ftpsfuzz) as work:
        root = work.mkdir("root")
        outside = work.mkdir("outside")
        with open(os.path.join(outside, "secret.txt"), "wb") as fh:
            fh.write(b"secret\n")
        os.symlink(outside, os.path.join(root, "link-dir"))
        os.symlink(os.path.join(outside, "secret.txt"), os.path.join(root, "link-file"))
        with Server(work, root, ["--pasv-ports", "41000-41200"]) as srv:
            traversal(srv, root, outside)
            port_bounce(srv)
            pasv_stealing(srv, root)
            cut_upload(srv, root)
            login_delay(srv)
            never_reads(srv, root)
        limits(work, root)
    print("PASS")


if __name__ == "__main__":
    main()

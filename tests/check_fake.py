#!/usr/bin/env python3
"""check_fake.py - a small scripted FTPS server for tests/test_check.sh.

Usage: check_fake.py PORTFILE CERT LOG [options]

It logs anyone in (USER then PASS), serves PWD, NOOP, SYST, FEAT, AUTH
TLS/SSL, PBSZ, PROT, CCC, PASV, LIST and QUIT on 127.0.0.1, writes its port to
PORTFILE and one line per connection and transfer to LOG. Options plant
the behaviours `ftpsfuzz check` must tell apart:
  --inject tls    lines read in the same segment as AUTH run after the
                  handshake, answered inside TLS (CVE-2011-1575 class)
  --inject plain  ... run at once, answered in plaintext after the 234
  (default: they are dropped, as a correct server does)
  --implicit      implicit FTPS: TLS from the first byte, the greeting inside
  --auth-ssl-only AUTH TLS is refused (504), AUTH SSL works
  --data-drop-early
                  under PROT P, bytes the client sent on the data connection
                  before the 150 reply are discarded (a ClientHello sent at
                  connect is lost: that data handshake hangs)
  --control-tls-min V, --data-tls-max V
                  bound the TLS versions (1.2, 1.3) of the control / data
                  connections (python ssl minimum_version/maximum_version)
"""
import argparse
import os
import socket
import ssl
import sys
import threading
import time

ap = argparse.ArgumentParser()
ap.add_argument("portfile")
ap.add_argument("cert")
ap.add_argument("log")
ap.add_argument("--inject", choices=["none", "tls", "plain"], default="none")
ap.add_argument("--implicit", action="store_true")
ap.add_argument("--auth-ssl-only", action="store_true")
ap.add_argument("--data-drop-early", action="store_true")
ap.add_argument("--control-tls-min", choices=["1.2", "1.3"])
ap.add_argument("--data-tls-max", choices=["1.2", "1.3"])
args = ap.parse_args()

lock = threading.Lock()
log = open(args.log, "w", buffering=1)


def note(text):
    with lock:
        log.write("%.6f %s\n" % (time.monotonic(), text))


VERSIONS = {"1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}


def server_ctx(minimum=None, maximum=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert)
    if minimum is not None:
        ctx.minimum_version = VERSIONS[minimum]
    if maximum is not None:
        ctx.maximum_version = VERSIONS[maximum]
    return ctx


class Conn:
    def __init__(self, sock, cid):
        self.s = sock
        self.cid = cid
        self.buf = b""
        self.tls = False
        self.logged_in = False
        self.pbsz = False
        self.prot = "C"
        self.pasv = None

    def send(self, text):
        self.s.sendall(text.encode("latin-1"))

    def fill(self):
        data = self.s.recv(4096)
        if not data:
            raise EOFError
        self.buf += data

    def line(self):
        while b"\n" not in self.buf:
            if len(self.buf) > 8192:
                raise EOFError
            self.fill()
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r").decode("latin-1")

    def start_tls(self):
        self.s = server_ctx(minimum=args.control_tls_min).wrap_socket(self.s, server_side=True)
        self.tls = True
        self.pbsz = False
        self.prot = "C"
        self.logged_in = False  # RFC 2228: AUTH resets the session

    def auth(self, mech):
        if self.tls:
            self.send("503 TLS already on\r\n")
            return
        if mech not in ("TLS", "SSL", "TLS-C") or (args.auth_ssl_only and mech != "SSL"):
            self.send("504 unknown mechanism\r\n")
            return
        self.send("234 go ahead\r\n")
        pipelined, self.buf = self.buf, b""
        if pipelined and args.inject == "plain":
            note("injected-plain %d" % self.cid)
            self.run_lines(pipelined)
        self.start_tls()
        if pipelined and args.inject == "tls":
            note("injected-tls %d" % self.cid)
            self.run_lines(pipelined)

    def run_lines(self, data):
        for raw in data.split(b"\n"):
            if raw.strip():
                self.command(raw.rstrip(b"\r").decode("latin-1"))

    def data_accept(self):
        c, _ = self.pasv.accept()
        c.settimeout(5)
        self.pasv.close()
        self.pasv = None
        if self.prot == "P" and args.data_drop_early:
            time.sleep(0.05)
            c.setblocking(False)
            try:
                while c.recv(65536):
                    pass
            except BlockingIOError:
                pass
            c.settimeout(5)
            note("data-drained %d" % self.cid)
        return c

    def data_sock(self, c):
        if self.prot == "P":
            c = server_ctx(maximum=args.data_tls_max).wrap_socket(c, server_side=True)
            note("data-tls %s %d" % (c.version(), self.cid))
        return c

    def command(self, line):
        verb, _, arg = line.partition(" ")
        verb = verb.upper()
        if verb == "AUTH":
            self.auth(arg.upper())
        elif verb == "USER":
            self.send("331 password please\r\n")
        elif verb == "PASS":
            self.logged_in = True
            self.send("230 logged in\r\n")
        elif verb == "PWD":
            self.send('257 "/"\r\n' if self.logged_in else "530 log in first\r\n")
        elif verb == "NOOP":
            self.send("200 ok\r\n")
        elif verb == "SYST":
            self.send("215 UNIX Type: L8\r\n")
        elif verb == "FEAT":
            self.send("211-Features:\r\n AUTH TLS\r\n PBSZ\r\n PROT\r\n211 End\r\n")
        elif verb == "PBSZ":
            if self.tls:
                self.pbsz = True
                self.send("200 PBSZ=0\r\n")
            else:
                self.send("503 AUTH first\r\n")
        elif verb == "PROT":
            if not self.tls or not self.pbsz:
                self.send("503 PBSZ first\r\n")
            elif arg.upper() in ("C", "P"):
                self.prot = arg.upper()
                self.send("200 PROT %s\r\n" % self.prot)
            else:
                self.send("504 unknown level\r\n")
        elif verb == "PASV":
            if not self.logged_in:
                self.send("530 log in first\r\n")
                return
            if self.pasv:
                self.pasv.close()
            self.pasv = socket.socket()
            self.pasv.bind(("127.0.0.1", 0))
            self.pasv.listen(1)
            self.pasv.settimeout(5)
            p = self.pasv.getsockname()[1]
            self.send("227 Entering Passive Mode (127,0,0,1,%d,%d)\r\n" % (p >> 8, p & 255))
        elif verb == "LIST":
            if not self.logged_in or not self.pasv:
                self.send("425 use PASV first\r\n" if self.logged_in else "530 log in first\r\n")
                return
            try:
                d = self.data_accept()
                self.send("150 here it comes\r\n")
                d = self.data_sock(d)
                d.sendall(b"-rw-r--r-- 1 ftp ftp 6 Jan 1 00:00 hello.txt\r\n")
                if isinstance(d, ssl.SSLSocket):
                    try:
                        d.unwrap()  # our close_notify; the client may just close
                    except (OSError, ssl.SSLError):
                        pass
                d.close()
                note("data %s %d" % (self.prot, self.cid))
                self.send("226 done\r\n")
            except (OSError, ssl.SSLError) as e:
                note("data-failed %s %d" % (e, self.cid))
                self.send("425 no data connection\r\n")
        elif verb == "CCC":
            if not self.tls:
                self.send("533 no TLS to clear\r\n")
                return
            self.send("200 clearing\r\n")
            # The client's close_notify first, then ours: plaintext from here.
            if self.s.recv(1) != b"":
                raise EOFError
            self.s = self.s.unwrap()
            self.tls = False
        elif verb == "QUIT":
            self.send("221 bye\r\n")
            raise EOFError
        else:
            self.send("502 not implemented\r\n")


def serve(sock, cid):
    note("open %d" % cid)
    c = Conn(sock, cid)
    try:
        sock.settimeout(10)
        if args.implicit:
            c.start_tls()
        c.send("220 fake ready\r\n")
        while True:
            c.command(c.line())
    except (EOFError, OSError, ssl.SSLError, ValueError):
        pass
    finally:
        note("close %d" % cid)
        try:
            sock.close()
        except OSError:
            pass


srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0))
srv.listen(16)
with open(args.portfile + ".tmp", "w") as f:
    f.write(str(srv.getsockname()[1]))
os.rename(args.portfile + ".tmp", args.portfile)
n = 0
while True:
    conn, _ = srv.accept()
    n += 1
    threading.Thread(target=serve, args=(conn, n), daemon=True).start()

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
args = ap.parse_args()

lock = threading.Lock()
log = open(args.log, "w", buffering=1)


def note(text):
    with lock:
        log.write("%.6f %s\n" % (time.monotonic(), text))


def server_ctx(maximum=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert)
    if maximum is not None:
        ctx.maximum_version = maximum
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
        self.s = server_ctx().wrap_socket(self.s, server_side=True)
        self.tls = True
        self.pbsz = False
        self.prot = "C"
        self.logged_in = False  # RFC 2228: AUTH resets the session

    def auth(self, mech):
        if self.tls:
            self.send("503 TLS already on\r\n")
            return
        if mech not in ("TLS", "SSL", "TLS-C"):
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

    def data_sock(self):
        c, _ = self.pasv.accept()
        self.pasv.close()
        self.pasv = None
        if self.prot == "P":
            c = server_ctx().wrap_socket(c, server_side=True)
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
            self.send("150 here it comes\r\n")
            try:
                d = self.data_sock()
                d.sendall(b"-rw-r--r-- 1 ftp ftp 6 Jan 1 00:00 hello.txt\r\n")
                if isinstance(d, ssl.SSLSocket):
                    d = d.unwrap()
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

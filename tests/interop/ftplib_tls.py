"""Python ftplib.FTP_TLS against `ftpsfuzz serve`.

- with session reuse (the server's default policy) through ReuseFTP_TLS:
  prot_p, storbinary/retrbinary (empty, all 256 byte values, 4 MiB random),
  mlsd, nlst, rename, delete, mkd, rmd, size, cwd/pwd, active mode, and the
  wire form of a TYPE A download;
- stock FTP_TLS against the default policy: the transfer is refused with a
  522 whose text says what to do;
- stock FTP_TLS against a server with --tls-reuse off: transfers work;
- CCC (--ccc --tls-login off) followed by PROT P transfers.
usage: ftplib_tls.py FTPSFUZZ
"""
import ftplib
import io
import os
import ssl
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serverctl import (ReuseFTP_TLS, Server, Workdir, check, sha256)  # noqa: E402


def retr(f, path):
    buf = io.BytesIO()
    f.retrbinary("RETR " + path, buf.write)
    return buf.getvalue()


def roundtrip(f, name, data, label):
    f.storbinary("STOR " + name, io.BytesIO(data))
    back = retr(f, name)
    check(sha256(back) == sha256(data), "%s: %s (%d bytes) round trip" % (label, name, len(data)))


def reuse_client(srv, root):
    f = srv.connect(ReuseFTP_TLS)
    check(f.pwd() == "/", "PWD is /")
    f.mkd("up")
    check(os.path.isdir(os.path.join(root, "up")), "MKD made the directory")
    f.cwd("up")
    check(f.pwd() == "/up", "CWD/PWD")
    data = {
        "empty.bin": b"",
        "bytes.bin": bytes(range(256)) * 4,
        "random.bin": os.urandom(4 * 1024 * 1024),
    }
    for name, content in data.items():
        roundtrip(f, name, content, "reuse PASV")
        with open(os.path.join(root, "up", name), "rb") as fh:
            check(sha256(fh.read()) == sha256(content), "server copy of %s" % name)
    check(f.size("random.bin") == 4 * 1024 * 1024, "SIZE")
    check(sorted(f.nlst()) == sorted(data), "NLST lists the uploads")
    facts = dict(f.mlsd())  # no OPTS MLST: the server answers it 501
    check(facts["bytes.bin"]["type"] == "file" and facts["bytes.bin"]["size"] == "1024",
          "MLSD type and size facts")
    f.rename("bytes.bin", "renamed.bin")
    check(os.path.exists(os.path.join(root, "up", "renamed.bin")) and
          not os.path.exists(os.path.join(root, "up", "bytes.bin")), "RNFR/RNTO")
    f.delete("renamed.bin")
    check(not os.path.exists(os.path.join(root, "up", "renamed.bin")), "DELE")
    f.mkd("sub")
    f.rmd("sub")
    check(not os.path.exists(os.path.join(root, "up", "sub")), "RMD")

    # Active mode: the server connects to us (PORT/EPRT), still PROT P.
    f.set_pasv(False)
    roundtrip(f, "active.bin", os.urandom(300000), "reuse active (PORT)")
    f.set_pasv(True)

    # TYPE A: the file's LF go out as CRLF on the wire (RFC 959 3.1.1.1).
    with open(os.path.join(root, "up", "text.txt"), "wb") as fh:
        fh.write(b"a\nbb\n\nccc\n")
    f.voidcmd("TYPE A")
    with f.transfercmd("RETR text.txt") as conn:
        wire = b""
        while True:
            chunk = conn.recv(8192)
            if not chunk:
                break
            wire += chunk
        conn.unwrap()
    f.voidresp()
    check(wire == b"a\r\nbb\r\n\r\nccc\r\n", "TYPE A download is CRLF on the wire")
    # ... and CRLF comes in as LF.
    f.storlines("STOR lines.txt", io.BytesIO(b"x\ny\n"))
    with open(os.path.join(root, "up", "lines.txt"), "rb") as fh:
        check(fh.read() == b"x\ny\n", "TYPE A upload (storlines) stored with LF")
    f.quit()


def stock_refused(srv):
    f = srv.connect(ftplib.FTP_TLS)
    msg = None
    try:
        retr(f, "/up/empty.bin")
    except ftplib.error_perm as e:
        msg = str(e)
    except (ssl.SSLError, OSError):
        # The data connection was closed on us; the verdict is on the control
        # connection.
        try:
            f.voidresp()
        except ftplib.error_perm as e:
            msg = str(e)
    check(msg is not None and msg.startswith("522"), "stock FTP_TLS refused with 522: %r" % msg)
    check("session" in msg and ("reuse" in msg or "resume" in msg),
          "the 522 says the data connection must reuse the TLS session")
    f.quit()


def stock_allowed(srv):
    f = srv.connect(ftplib.FTP_TLS)
    roundtrip(f, "stock.bin", os.urandom(200000), "stock FTP_TLS with --tls-reuse off")
    f.quit()


def ccc_then_prot_p(srv):
    f = srv.connect(ReuseFTP_TLS)
    session = f.sock.session
    check(f.ccc().startswith("200"), "CCC accepted")

    # After CCC the control socket is plain; data connections still resume
    # the session negotiated before it.
    def ntransfercmd(cmd, rest=None):
        conn, size = ftplib.FTP.ntransfercmd(f, cmd, rest)
        conn = f.context.wrap_socket(conn, server_hostname=f.host, session=session)
        return conn, size

    f.ntransfercmd = ntransfercmd
    roundtrip(f, "ccc.bin", os.urandom(100000), "PROT P after CCC")
    check(f.sendcmd("NOOP").startswith("200"), "plaintext commands after CCC")
    f.quit()


def main():
    ftpsfuzz = sys.argv[1]
    with Workdir(ftpsfuzz) as work:
        root = work.mkdir("root")
        with Server(work, root) as srv:
            reuse_client(srv, root)
            stock_refused(srv)
        with Server(work, root, ["--tls-reuse", "off"]) as srv:
            stock_allowed(srv)
        with Server(work, root, ["--ccc", "--tls-login", "off"]) as srv:
            ccc_then_prot_p(srv)
    print("PASS")


if __name__ == "__main__":
    main()

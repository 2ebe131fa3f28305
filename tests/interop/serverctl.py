"""serverctl.py - start `ftpsfuzz serve` for a Python interop test and always
stop it.

    with Server(ftpsfuzz, root, extra_args) as srv:
        srv.port, srv.log_path, srv.rss_kib()

On exit the server gets SIGTERM and must exit with status 0; its log is
printed when the test failed. Every test uses a fresh temporary root and a
users file with alice/wonderland (cheap hash, so many logins stay fast).
"""
import ftplib
import hashlib
import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time

USER = "alice"
PASSWORD = "wonderland"


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def client_context():
    """A TLS client context that accepts the server's self-signed cert."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class ReuseFTP_TLS(ftplib.FTP_TLS):
    """FTP_TLS whose PROT P data connections resume the control connection's
    TLS session, as servers with require_ssl_reuse (vsftpd, ProFTPD, ours by
    default) demand."""

    def ntransfercmd(self, cmd, rest=None):
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)
        if self._prot_p:
            conn = self.context.wrap_socket(conn, server_hostname=self.host,
                                            session=self.sock.session)
        return conn, size


class Workdir:
    """A temporary directory removed at exit, with a users file."""

    def __init__(self, ftpsfuzz):
        self.ftpsfuzz = ftpsfuzz
        self.path = tempfile.mkdtemp(prefix="ftpsfuzz-interop.")
        self.users = os.path.join(self.path, "users")
        subprocess.run([ftpsfuzz, "passwd", "--file", self.users, "--iterations", "1000", USER],
                       input=(PASSWORD + "\n").encode(), check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def mkdir(self, *parts):
        p = os.path.join(self.path, *parts)
        os.makedirs(p, exist_ok=True)
        return p

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        shutil.rmtree(self.path, ignore_errors=True)
        return False


class Server:
    counter = 0

    def __init__(self, work, root, args=(), preexec_fn=None):
        Server.counter += 1
        self.preexec_fn = preexec_fn  # e.g. lower RLIMIT_NOFILE for the server only
        self.work = work
        self.root = root
        self.args = list(args)
        name = "server%d" % Server.counter
        self.port_file = os.path.join(work.path, name + ".port")
        self.log_path = os.path.join(work.path, name + ".log")
        self.proc = None
        self.port = None

    def __enter__(self):
        log = open(self.log_path, "wb")
        cmd = [self.work.ftpsfuzz, "serve", "--allow-root", "--listen", "127.0.0.1:0", "--root", self.root,
               "--self-signed", "--users", self.work.users, "--port-file", self.port_file]
        self.proc = subprocess.Popen(cmd + self.args, stdout=log, stderr=log,
                                     preexec_fn=self.preexec_fn)
        log.close()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if os.path.exists(self.port_file) and os.path.getsize(self.port_file) > 0:
                with open(self.port_file) as f:
                    self.port = int(f.read().strip())
                return self
            if self.proc.poll() is not None:
                raise RuntimeError("server exited: " + self.log())
            time.sleep(0.05)
        raise RuntimeError("server did not start")

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def rss_kib(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return -9

    def __exit__(self, exc_type, exc, tb):
        rc = self.stop()
        if exc_type is not None:
            sys.stderr.write("--- server log (last 40 lines)\n")
            sys.stderr.write("\n".join(self.log().splitlines()[-40:]) + "\n")
            return False
        if rc != 0:
            raise AssertionError("server exited with %r after SIGTERM" % rc)
        return False

    def connect(self, cls=ReuseFTP_TLS, login=True, prot_p=True, timeout=30):
        f = cls(context=client_context(), timeout=timeout)
        f.connect("127.0.0.1", self.port)
        if not login:
            f.auth()
        else:
            f.login(USER, PASSWORD)
            if prot_p:
                f.prot_p()
        return f


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print("ok: " + what)

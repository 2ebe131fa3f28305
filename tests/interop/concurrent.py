"""200 concurrent FTPS sessions against one `ftpsfuzz serve` process, each
logging in, uploading a small file under PROT P and downloading it again
(checked by SHA-256), all open at the same time. Bounded in count (200
sessions) and in time (the whole run must finish within 120 s).
usage: concurrent.py FTPSFUZZ
"""
import io
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serverctl import Server, Workdir, check, sha256  # noqa: E402

SESSIONS = 200
TIME_LIMIT = 120


def worker(srv, i, barrier, results):
    try:
        f = srv.connect(timeout=60)
        # Hold every session open until all are logged in: 200 at once.
        barrier.wait(timeout=90)
        data = os.urandom(1000 + 37 * i)
        name = "f%03d.bin" % i
        f.storbinary("STOR " + name, io.BytesIO(data))
        buf = io.BytesIO()
        f.retrbinary("RETR " + name, buf.write)
        f.quit()
        results[i] = sha256(buf.getvalue()) == sha256(data)
    except Exception as e:  # noqa: BLE001 - reported below
        results[i] = repr(e)
        try:
            barrier.abort()
        except Exception:  # noqa: BLE001
            pass


def main():
    ftpsfuzz = sys.argv[1]
    with Workdir(ftpsfuzz) as work:
        root = work.mkdir("root")
        args = ["--max-sessions", "250", "--max-per-ip", "250", "--max-unauth", "250",
                "--max-unauth-per-ip", "250", "--pasv-ports", "42000-42999"]
        with Server(work, root, args) as srv:
            barrier = threading.Barrier(SESSIONS)
            results = [None] * SESSIONS
            t0 = time.monotonic()
            threads = [threading.Thread(target=worker, args=(srv, i, barrier, results))
                       for i in range(SESSIONS)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=max(1, TIME_LIMIT - (time.monotonic() - t0)))
            took = time.monotonic() - t0
            bad = [(i, r) for i, r in enumerate(results) if r is not True]
            check(not bad, "all %d sessions transferred correctly (failures: %s)"
                  % (SESSIONS, bad[:5]))
            check(took < TIME_LIMIT, "200 concurrent sessions took %.1f s (< %d s)"
                  % (took, TIME_LIMIT))
            files = [n for n in os.listdir(root) if n.endswith(".bin")]
            check(len(files) == SESSIONS, "%d files on the server" % len(files))
            log = srv.log()
            check("(200 open)" in log, "the server had 200 sessions open at once")
    print("PASS")


if __name__ == "__main__":
    main()

"""`ftpsfuzz serve` under concurrency, signals and privileges (issue 13):

  1. concurrent APPEs to one file both land (50 rounds, two sessions);
  2. a committed upload keeps the old file's mode and owner; --run-as drops
     root, so a read-only file is no longer overwritten and someone else's
     file is not handed to the server's user;
  3. stale temporary upload files are removed at start-up (and counted);
  4. SIGHUP: a transfer in flight completes, the server keeps serving;
  5. SIGTERM drains: a slow download started before it completes with 226
     and the right SHA-256, new connections are refused, exit 0; a second
     SIGTERM stops at once;
  6. every log line matches the documented format; a failed login line has
     the address and the user, never the password;
  7. root without --run-as or --allow-root, or --run-as an unknown user:
     exit 2 with a clear message.
Parts 2 and 7 need root (CI runs as root) and say SKIP otherwise.
usage: serve_ops.py FTPSFUZZ [--race-only]   (--race-only: part 1, and it
reports lost rounds instead of failing; for before/after figures)
"""
import ftplib
import hashlib
import io
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serverctl import PASSWORD, USER, Server, Workdir, check, sha256  # noqa: E402

ROUNDS = 50
# The documented line format (README, "Log format").
LINE_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (#\d+ \S+|- -) \S.*$")
TMP_PREFIX = ".ftpsfuzz-upload-"


def wait_for(cond, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.02)
    raise AssertionError("timed out waiting for " + what)


def tmp_files(root):
    found = []
    for d, _, files in os.walk(root):
        found += [os.path.join(d, f) for f in files if f.startswith(TMP_PREFIX)]
    return found


# --- 1. concurrent APPE ---------------------------------------------------

def appe_race(srv, root, rounds):
    """Two sessions APPE to one file at the same moment, |rounds| times.
    Returns the number of rounds in which an append was lost (or a reply
    was not 226)."""
    a, b = srv.connect(), srv.connect()
    lost = 0
    for r in range(rounds):
        name = "race%02d.log" % r
        base = b"base\n"
        with open(os.path.join(root, name), "wb") as f:
            f.write(base)
        # Big enough that both uploads are open at once.
        pa = (b"A%02d" % r) * 20000
        pb = (b"B%02d" % r) * 20000
        barrier = threading.Barrier(2)
        replies = {}

        def up(ftp, payload, key):
            barrier.wait(timeout=10)
            try:
                replies[key] = ftp.storbinary("APPE " + name, io.BytesIO(payload))
            except ftplib.all_errors as e:
                replies[key] = repr(e)

        ts = [threading.Thread(target=up, args=(a, pa, "a")),
              threading.Thread(target=up, args=(b, pb, "b"))]
        for t in ts:
            t.start()
        for t in ts:
            t.join(timeout=30)
        with open(os.path.join(root, name), "rb") as f:
            got = f.read()
        ok = all(str(replies.get(k, "")).startswith("226") for k in "ab")
        if not ok or got not in (base + pa + pb, base + pb + pa):
            lost += 1
    a.quit()
    b.quit()
    return lost


# --- 2. mode, owner, privileges ------------------------------------------

def test_keep_mode_owner_as_root(work):
    root = work.mkdir("own")
    p = os.path.join(root, "secret")
    with open(p, "wb") as f:
        f.write(b"private")
    os.chown(p, 4242, 4343)
    os.chmod(p, 0o640)
    with Server(work, root) as srv:
        f = srv.connect()
        f.storbinary("APPE secret", io.BytesIO(b"!"))
        st = os.stat(p)
        check(st.st_mode & 0o7777 == 0o640 and (st.st_uid, st.st_gid) == (4242, 4343),
              "APPE kept mode 0640 and owner 4242:4343 (got %o %d:%d)"
              % (st.st_mode & 0o7777, st.st_uid, st.st_gid))
        f.storbinary("STOR secret", io.BytesIO(b"replaced"))
        st = os.stat(p)
        check(st.st_mode & 0o7777 == 0o640 and (st.st_uid, st.st_gid) == (4242, 4343),
              "STOR over it kept them too")
        f.storbinary("STOR fresh", io.BytesIO(b"new"))
        check(os.stat(os.path.join(root, "fresh")).st_mode & 0o7777 == 0o644,
              "a new file gets 0644 (umask 022)")
        ro = os.path.join(root, "readonly")
        with open(ro, "wb") as fh:
            fh.write(b"keep me")
        os.chmod(ro, 0o444)
        try:
            f.storbinary("STOR readonly", io.BytesIO(b"overwritten"))
            refused = False
        except ftplib.error_perm as e:
            refused = str(e).startswith("553")
        with open(ro, "rb") as fh:
            check(refused and fh.read() == b"keep me",
                  "even as root (--allow-root) a 0444 file is not overwritten")
        f.quit()


def test_run_as(work, user):
    pw = pwd.getpwnam(user)
    root = work.mkdir("runas")
    os.chown(root, pw.pw_uid, pw.pw_gid)
    ro = os.path.join(root, "readonly")
    with open(ro, "wb") as f:
        f.write(b"keep me")
    os.chown(ro, pw.pw_uid, pw.pw_gid)
    os.chmod(ro, 0o444)
    priv = os.path.join(root, "private")
    with open(priv, "wb") as f:
        f.write(b"mine")
    os.chown(priv, pw.pw_uid, pw.pw_gid)
    os.chmod(priv, 0o600)
    other = os.path.join(root, "roots")
    with open(other, "wb") as f:
        f.write(b"root's")
    os.chmod(other, 0o666)  # writable, but owned by root
    with Server(work, root, ["--run-as", user, "--umask", "027"]) as srv:
        # The port file is written before the drop (it may be root's).
        wait_for(lambda: "listening on" in srv.log(), 10, "the server to listen")
        with open("/proc/%d/status" % srv.proc.pid) as f:
            status = f.read()
        uids = re.search(r"^Uid:\s+(.*)$", status, re.M).group(1).split()
        check(all(int(u) == pw.pw_uid for u in uids), "--run-as %s: every uid is %d (%s)"
              % (user, pw.pw_uid, " ".join(uids)))
        f = srv.connect()
        try:
            f.storbinary("STOR readonly", io.BytesIO(b"overwritten"))
            refused = False
        except ftplib.error_perm:
            refused = True
        with open(ro, "rb") as fh:
            check(refused and fh.read() == b"keep me", "a 0444 file is not overwritten")
        f.storbinary("APPE private", io.BytesIO(b"+"))
        st = os.stat(priv)
        check(st.st_mode & 0o7777 == 0o600 and st.st_uid == pw.pw_uid,
              "APPE as %s kept mode 0600" % user)
        try:
            f.storbinary("STOR roots", io.BytesIO(b"taken"))
            refused = False
        except ftplib.error_perm as e:
            refused = str(e).startswith("553")
        st = os.stat(other)
        with open(other, "rb") as fh:
            check(refused and st.st_uid == 0 and fh.read() == b"root's",
                  "root's file is not replaced by one owned by %s" % user)
        f.storbinary("STOR new", io.BytesIO(b"n"))
        check(os.stat(os.path.join(root, "new")).st_mode & 0o7777 == 0o640,
              "--umask 027: a new file gets 0640")
        f.quit()
        check(not tmp_files(root), "no temporary file left behind")
    check("running as %s" % user in srv.log(), "the drop is logged")


def test_root_refusal(work):
    root = work.mkdir("refuse")
    base = [work.ftpsfuzz, "serve", "--listen", "127.0.0.1:0", "--root", root, "--self-signed"]
    r = subprocess.run(base, capture_output=True, timeout=10)
    err = r.stderr.decode()
    check(r.returncode == 2 and "refusing to serve as root" in err and "--run-as" in err,
          "as root without --run-as/--allow-root: exit 2, clear message")
    r = subprocess.run(base + ["--run-as", "no-such-user-ftpsfuzz"], capture_output=True,
                       timeout=10)
    check(r.returncode == 2 and "no-such-user-ftpsfuzz" in r.stderr.decode(),
          "--run-as an unknown user: exit 2, names it")
    r = subprocess.run(base + ["--run-as", "root"], capture_output=True, timeout=10)
    check(r.returncode == 2 and "is root" in r.stderr.decode(), "--run-as root: exit 2")


# --- 3. stale temporary files --------------------------------------------

def test_sweep(work):
    root = work.mkdir("sweep")
    sub = work.mkdir("sweep", "sub")
    stale = [os.path.join(root, TMP_PREFIX + "00000000000000aa.tmp"),
             os.path.join(sub, TMP_PREFIX + "00000000000000bb.tmp")]
    for p in stale:
        with open(p, "wb") as f:
            f.write(b"half an upload")
        os.utime(p, (time.time() - 3600, time.time() - 3600))
    keep = os.path.join(sub, "data.tmp")
    with open(keep, "wb") as f:
        f.write(b"not ours")
    with Server(work, root) as srv:
        f = srv.connect()  # the sweep runs before the first session
        f.quit()
        check(not any(os.path.exists(p) for p in stale) and os.path.exists(keep),
              "stale temporary files removed at start, others kept")
        check("removed 2 stale temporary upload file(s)" in srv.log(), "the sweep is counted")


# --- 4/5. signals ----------------------------------------------------------

def slow_download(srv, name, result, rate_bytes_s):
    """RETR |name| reading at about |rate_bytes_s|; stores the reply and the
    SHA-256 of what arrived in |result|."""
    try:
        f = srv.connect(timeout=60)
        f.voidcmd("TYPE I")
        conn = f.transfercmd("RETR " + name)
        result["started"] = True
        h = hashlib.sha256()
        chunk = 65536
        while True:
            data = conn.recv(chunk)
            if not data:
                break
            h.update(data)
            time.sleep(len(data) / rate_bytes_s)
        conn.unwrap() if hasattr(conn, "unwrap") else None
        conn.close()
        result["sha"] = h.hexdigest()
        result["reply"] = f.voidresp()
        f.quit()
    except (ftplib.all_errors + (ValueError,)) as e:
        result.setdefault("reply", repr(e))
        result.setdefault("sha", None)


def big_file(root, name, size):
    data = os.urandom(1 << 20) * (size >> 20)
    with open(os.path.join(root, name), "wb") as f:
        f.write(data)
    return sha256(data)


def test_sighup(work):
    root = work.mkdir("hup")
    want = big_file(root, "big.bin", 16 << 20)
    with Server(work, root) as srv:
        result = {}
        t = threading.Thread(target=slow_download, args=(srv, "big.bin", result, 16 << 20))
        t.start()
        wait_for(lambda: result.get("started"), 10, "the download to start")
        up = srv.connect()
        payload = os.urandom(300000)
        box = {}

        def store():
            try:
                box["r"] = up.storbinary("STOR up.bin", io.BytesIO(payload), blocksize=8192)
            except ftplib.all_errors as e:
                box["r"] = repr(e)

        ts = threading.Thread(target=store)
        ts.start()
        time.sleep(0.2)
        srv.proc.send_signal(signal.SIGHUP)
        t.join(timeout=60)
        ts.join(timeout=60)
        check(srv.proc.poll() is None, "SIGHUP: the server is still running")
        check(result.get("reply", "").startswith("226") and result.get("sha") == want,
              "SIGHUP: the download in flight completed (226, SHA-256 matches): %s"
              % result.get("reply"))
        check(str(box.get("r")).startswith("226"), "SIGHUP: the upload in flight got 226")
        with open(os.path.join(root, "up.bin"), "rb") as f:
            check(f.read() == payload, "SIGHUP: the upload is stored whole")
        up.quit()
        f = srv.connect()
        f.quit()
        check(True, "SIGHUP: a new session is served")
        check(not tmp_files(root), "SIGHUP: no temporary file left")
        check("SIGHUP" in srv.log(), "SIGHUP is logged")

    # --log FILE: rotated (renamed) and reopened on SIGHUP.
    logfile = os.path.join(work.path, "serve.log")
    with Server(work, root, ["--log", logfile]) as srv:
        f = srv.connect()
        f.quit()
        os.rename(logfile, logfile + ".1")
        srv.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: os.path.exists(logfile), 10, "the log to be reopened")
        f = srv.connect()
        f.quit()
        wait_for(lambda: "session end" in open(logfile).read(), 10, "a line in the new log")
        with open(logfile + ".1") as old, open(logfile) as new:
            o, n = old.read(), new.read()
        check('login ok user="alice"' in o and "SIGHUP: log reopened" in n
              and 'login ok user="alice"' in n and srv.proc.poll() is None,
              "--log FILE: rotated on SIGHUP, old lines in the old file, new in the new")


def test_sigterm_drain(work):
    root = work.mkdir("term")
    want = big_file(root, "big.bin", 24 << 20)
    srv = Server(work, root)
    srv.__enter__()
    try:
        idle = srv.connect()
        result = {}
        t = threading.Thread(target=slow_download, args=(srv, "big.bin", result, 16 << 20))
        t.start()
        wait_for(lambda: result.get("started"), 10, "the download to start")
        time.sleep(0.2)
        srv.proc.send_signal(signal.SIGTERM)
        time.sleep(0.2)
        try:
            socket.create_connection(("127.0.0.1", srv.port), timeout=2).close()
            refused = False
        except OSError:
            refused = True
        check(refused, "SIGTERM: a new connection is refused")
        t.join(timeout=60)
        check(result.get("reply", "").startswith("226") and result.get("sha") == want,
              "SIGTERM: the download in flight completed (226, SHA-256 matches): %s"
              % result.get("reply"))
        rc = srv.proc.wait(timeout=15)
        check(rc == 0, "SIGTERM: exit 0 after the drain")
        try:
            idle.voidcmd("NOOP")
            closed = False
        except (ftplib.all_errors + (ValueError,)):
            closed = True
        check(closed, "SIGTERM: the idle session was closed")
    finally:
        if srv.proc.poll() is None:
            srv.proc.kill()
            srv.proc.wait()
    log = srv.log()
    drain_at = log.find("draining")
    xfer_at = log.find('transfer download RETR path="/big.bin"')
    check(0 <= drain_at < xfer_at, "the download was still in flight when the drain began")

    # A second SIGTERM stops at once.
    srv = Server(work, root)
    srv.__enter__()
    try:
        result = {}
        t = threading.Thread(target=slow_download, args=(srv, "big.bin", result, 4 << 20))
        t.start()
        wait_for(lambda: result.get("started"), 10, "the download to start")
        time.sleep(0.2)
        srv.proc.send_signal(signal.SIGTERM)
        time.sleep(0.2)
        t0 = time.monotonic()
        srv.proc.send_signal(signal.SIGTERM)
        rc = srv.proc.wait(timeout=10)
        took = time.monotonic() - t0
        check(rc == 0 and took < 2, "a second SIGTERM stops at once (%.2f s, exit %d)"
              % (took, rc))
        t.join(timeout=60)
        check(not str(result.get("reply")).startswith("226"),
              "the cut download did not get 226 (%s)" % result.get("reply"))
    finally:
        if srv.proc.poll() is None:
            srv.proc.kill()
            srv.proc.wait()
    log += srv.log()

    # --drain S bounds the wait: a download too slow to finish is cut.
    srv = Server(work, root, ["--drain", "1"])
    srv.__enter__()
    try:
        result = {}
        t = threading.Thread(target=slow_download, args=(srv, "big.bin", result, 2 << 20))
        t.start()
        wait_for(lambda: result.get("started"), 10, "the download to start")
        time.sleep(0.2)
        t0 = time.monotonic()
        srv.proc.send_signal(signal.SIGTERM)
        rc = srv.proc.wait(timeout=10)
        took = time.monotonic() - t0
        check(rc == 0 and 0.8 < took < 3, "--drain 1: the server stops after about 1 s "
              "(%.2f s, exit %d)" % (took, rc))
        t.join(timeout=60)
        check(not str(result.get("reply")).startswith("226"), "--drain 1: the slow download was cut")
        check(re.search(r'drain time over.*\n.* transfer download RETR path="/big.bin" bytes=\d+ '
                        r'seconds=\S+ result=426\n', srv.log()),
              "--drain 1: the cut download is logged (result=426)")
    finally:
        if srv.proc.poll() is None:
            srv.proc.kill()
            srv.proc.wait()
    return log + srv.log()


def test_help(ftpsfuzz):
    out = subprocess.run([ftpsfuzz, "serve", "--help"], capture_output=True, timeout=10).stdout
    missing = [o for o in ("--run-as", "--allow-root", "--drain", "--umask", "--log")
               if o not in out.decode()]
    check(not missing, "serve --help lists the new options (missing: %s)" % missing)


# --- 6. log format ---------------------------------------------------------

def test_log_format(work):
    root = work.mkdir("logs")
    with Server(work, root) as srv:
        f = srv.connect(login=False)
        try:
            f.login(USER, "not-" + PASSWORD)
        except ftplib.error_perm:
            pass
        f.close()
        f = srv.connect(login=False)
        try:
            f.login("bob\x1b[31m\"", "hunter2")  # a terminal escape and a quote
        except ftplib.error_perm:
            pass
        f.close()
        f = srv.connect()
        f.storbinary("STOR a.txt", io.BytesIO(b"x" * 1000))
        f.retrbinary("RETR a.txt", lambda b: None)
        f.quit()
    log = srv.log()
    return log


def check_log(text):
    lines = text.splitlines()
    bad = [ln for ln in lines if not LINE_RE.match(ln)]
    check(lines and not bad, "all %d log lines match the documented format (bad: %s)"
          % (len(lines), bad[:3]))
    fails = [ln for ln in lines if ' login failed user="%s"' % USER in ln]
    check(fails and re.search(r" #\d+ 127\.0\.0\.1:\d+ login failed user=", fails[0]),
          "a failed login line has the session, the address and the user")
    check(PASSWORD not in text and "hunter2" not in text, "no password in the log")
    check(' login failed user="bob\\x1b[31m\\""\n' in text,
          "client text is quoted with escapes (no raw control bytes)")
    check(any(re.search(r" transfer upload STOR path=\"/a\.txt\" bytes=1000 seconds=\d+\.\d{3} "
                        r"result=226$", ln) for ln in lines), "the upload's transfer line")
    check(any(re.search(r" transfer download RETR path=\"/a\.txt\" bytes=1000 seconds=\d+\.\d{3} "
                        r"result=226$", ln) for ln in lines), "the download's transfer line")


# README's fail2ban filter, checked against real log lines where
# fail2ban-regex is installed.
F2B_FILTER = """[Definition]
failregex = ^ #\d+ <HOST>:\d+ login failed user=
datepattern = ^%%Y-%%m-%%dT%%H:%%M:%%S\.%%fZ
"""


def check_fail2ban(work, text):
    exe = shutil.which("fail2ban-regex")
    if not exe:
        print("SKIP: fail2ban-regex is not installed: README's filter is not run")
        return
    log = os.path.join(work.path, "f2b.log")
    conf = os.path.join(work.path, "f2b.conf")
    with open(log, "w") as f:
        f.write(text)
    with open(conf, "w") as f:
        f.write(F2B_FILTER)
    out = subprocess.run([exe, log, conf], capture_output=True, timeout=60).stdout.decode()
    want = sum(1 for ln in text.splitlines() if " login failed user=" in ln)
    m = re.search(r"Lines: \d+ lines, \d+ ignored, (\d+) matched", out)
    check(want >= 2 and m and int(m.group(1)) == want,
          "fail2ban-regex with README's filter matches the %d failed logins" % want)


def main():
    ftpsfuzz = sys.argv[1]
    race_only = "--race-only" in sys.argv[2:]
    t0 = time.monotonic()
    with Workdir(ftpsfuzz) as work:
        root = work.mkdir("race")
        with Server(work, root) as srv:
            lost = appe_race(srv, root, ROUNDS)
            if race_only:
                print("APPE race: %d of %d rounds lost an append" % (lost, ROUNDS))
                return 0
            check(lost == 0, "concurrent APPEs: %d of %d rounds lost an append" % (lost, ROUNDS))
            check(not tmp_files(root), "no temporary file left after the race")
        logs = srv.log()
        logs += test_log_format(work)
        check_log(logs)
        check_fail2ban(work, logs)
        test_help(ftpsfuzz)
        test_sweep(work)
        test_sighup(work)
        logs = test_sigterm_drain(work)
        check_log_lines = [ln for ln in logs.splitlines() if not LINE_RE.match(ln)]
        check(not check_log_lines, "drain log lines match the format")
        if os.geteuid() != 0:
            print("SKIP: not root: mode/owner across owners, --run-as and the root refusal "
                  "are not tested")
        else:
            test_keep_mode_owner_as_root(work)
            test_run_as(work, "nobody")
            test_root_refusal(work)
    print("serve_ops: %.1f s" % (time.monotonic() - t0))
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())

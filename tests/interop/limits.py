"""Resource limits of `ftpsfuzz serve` under attack and faults (issue 13):
EOF on the control connection after EPSV frees the passive port, the slot
and the per-address count at once; a trickled ClientHello or NOOPs do not
outlive --login-timeout; a legitimate login stays fast while other loopback
addresses (127.0.0.2.., all routed to lo) hold every unauthenticated slot
they may, and while they guess passwords; failures from one address delay
its next checks (back-off); 421 at the descriptor limit; a
passive port is free again when its session ends or nobody connects.
Bounded: a handful of servers, < 30 connections each but the descriptor
test (100), every wait has a deadline.
usage: limits.py FTPSFUZZ
"""
import ftplib
import os
import resource
import socket
import ssl
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serverctl import (PASSWORD, USER, ReuseFTP_TLS, Server, Workdir, check,  # noqa: E402
                       client_context)


def dial(port, src="127.0.0.1", timeout=5):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout, source_address=(src, 0))
    return s


def first_reply(s):
    buf = b""
    while not buf.endswith(b"\r\n"):
        chunk = s.recv(512)
        if not chunk:
            break
        buf += chunk
    return buf.decode("latin-1")


def closed_within(s, seconds):
    """Reads until EOF or reset; returns the seconds it took, None if the
    connection was still open after |seconds|."""
    t0 = time.monotonic()
    s.settimeout(0.2)
    while time.monotonic() - t0 < seconds:
        try:
            if s.recv(4096) == b"":
                return time.monotonic() - t0
        except socket.timeout:
            continue
        except OSError:
            return time.monotonic() - t0
    return None


def login(port, src="127.0.0.1", user=USER, password=PASSWORD):
    f = ReuseFTP_TLS(context=client_context(), timeout=10)
    f.connect("127.0.0.1", port, source_address=(src, 0))
    f.login(user, password)
    return f


def epsv_port(f):
    resp = f.sendcmd("EPSV")
    check(resp.startswith("229"), "EPSV answered 229: " + resp)
    return int(resp.split("|||")[1].split("|")[0])


def port_refuses(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return False
    except OSError:
        return True


def eof_after_epsv(work, root):
    with Server(work, root, ["--max-per-ip", "1"]) as srv:
        f = login(srv.port)
        p = epsv_port(f)
        # Close TCP without close_notify or QUIT, a passive offer pending.
        f.sock.close()
        f.file.close()
        t0 = time.monotonic()
        freed = False
        while time.monotonic() - t0 < 1.0:
            if port_refuses(p):
                s = dial(srv.port)
                greeting = first_reply(s)
                s.close()
                if greeting.startswith("220"):
                    freed = True
                    break
            time.sleep(0.05)
        check(freed, "EOF after EPSV: port %d, slot and per-address count free within 1 s (%.2f s)"
              % (p, time.monotonic() - t0))


def login_deadline(work, root):
    with Server(work, root, ["--login-timeout", "2", "--tls-login", "off"]) as srv:
        # A ClientHello trickled one byte every 0.3 s after AUTH TLS.
        hello = dial(srv.port)
        first_reply(hello)
        hello.sendall(b"AUTH TLS\r\n")
        check(first_reply(hello).startswith("234"), "AUTH TLS answered 234")
        noop = dial(srv.port)
        first_reply(noop)
        record = bytes([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]) + bytes(64)
        t0 = time.monotonic()
        ends = {}
        for i in range(len(record)):
            if time.monotonic() - t0 > 5:
                break
            for name, s, data in (("hello", hello, record[i:i + 1]), ("noop", noop, b"NOOP\r\n")):
                if name in ends:
                    continue
                try:
                    s.sendall(data)
                except OSError:
                    ends[name] = time.monotonic() - t0
                    continue
                s.settimeout(0.01)
                try:
                    got = s.recv(4096)
                    if got == b"" or b"421 Login timeout" in got:
                        ends[name] = time.monotonic() - t0
                except socket.timeout:
                    pass
                except OSError:
                    ends[name] = time.monotonic() - t0
            if len(ends) == 2:
                break
            time.sleep(0.3)
        for name in ("hello", "noop"):
            took = ends.get(name)
            check(took is not None and 1.5 < took < 4.5,
                  "a trickled %s is closed by --login-timeout 2 (after %s s)" % (
                      "ClientHello" if name == "hello" else "NOOP stream",
                      "%.1f" % took if took else "never"))
        hello.close()
        noop.close()
        check("login timeout" in srv.log(), "the log names the login timeout")


def timed_login(port):
    t0 = time.monotonic()
    f = login(port)
    took = time.monotonic() - t0
    f.quit()
    return took


def unauth_slots(work, root):
    args = ["--max-unauth", "12", "--max-unauth-per-ip", "4"]
    with Server(work, root, args) as srv:
        held = []
        refused = 0
        for a in range(2, 6):  # 4 addresses x 5 tries: 4 each allowed, 16 > 12 slots
            for _ in range(5):
                s = dial(srv.port, "127.0.0.%d" % a)
                g = first_reply(s)
                if g.startswith("421"):
                    refused += 1
                    s.close()
                else:
                    held.append(s)
        # 16 tries > 12 slots: the cap per address refuses the 5th of each,
        # and the last address gets its fair share (3) by eviction.
        check(refused == 5, "at most 4 per address, 3 each once the 12 slots are shared "
              "(%d of 20 refused)" % refused)
        check("evicted" in srv.log(), "full slots: the address holding the most loses its oldest")
        took = timed_login(srv.port)
        check(took < 1.0, "a legitimate login while they hold every slot: %.3f s (< 1 s)" % took)
        for s in held:
            s.close()


def guesser(port, src, stop, counts, conns):
    while not stop.is_set():
        try:
            f = ReuseFTP_TLS(context=client_context(), timeout=15)
            conns.append(f)
            f.connect("127.0.0.1", port, source_address=(src, 0))
            f.auth()
            while not stop.is_set():
                counts[0] += 1
                try:
                    f.sendcmd("USER root")
                    f.sendcmd("PASS guess%d" % counts[0])
                except ftplib.error_perm:
                    pass
        except (OSError, EOFError, ftplib.Error, ssl.SSLError, ValueError):
            time.sleep(0.05)


def guessing(work, root, extra=()):
    extra = list(extra)
    # Real users files cost 100,000 PBKDF2 iterations per check.
    users = os.path.join(work.path, "users-slow")
    subprocess.run([work.ftpsfuzz, "passwd", "--file", users, USER],
                   input=(PASSWORD + "\n").encode(), check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with Server(work, root, ["--users", users] + extra) as srv:
        stop = threading.Event()
        counts, conns = [0], []
        threads = [threading.Thread(target=guesser,
                                    args=(srv.port, "127.0.0.%d" % a, stop, counts, conns))
                   for a in range(2, 8) for _ in range(8)]  # 6 addresses x 8 connections
        for t in threads:
            t.start()
        try:
            time.sleep(2.5)
            worst = max(timed_login(srv.port) for _ in range(3))
        finally:
            stop.set()
            for f in list(conns):  # wake threads waiting for a held reply
                try:
                    f.sock.shutdown(socket.SHUT_RDWR)
                except (OSError, AttributeError):
                    pass
            for t in threads:
                t.join(timeout=20)
        check(counts[0] >= 48, "%d guesses were sent" % counts[0])
        check(worst < 1.0, "a legitimate login while 6 addresses guess: worst of 3 %.3f s (< 1 s)"
              % worst)


def backoff(work, root):
    with Server(work, root, ["--login-backoff-max", "2"]) as srv:
        # 4 connections from 127.0.0.9, each pipelining 3 wrong passwords.
        socks = []
        for _ in range(4):
            s = dial(srv.port, "127.0.0.9")
            first_reply(s)
            s.sendall(b"AUTH TLS\r\n")
            first_reply(s)
            t = client_context().wrap_socket(s, server_hostname="localhost")
            t.sendall(b"USER mallory\r\nPASS a\r\nUSER mallory\r\nPASS b\r\n"
                      b"USER mallory\r\nPASS c\r\n")
            socks.append(t)
        t0 = time.monotonic()
        while "back-off" not in srv.log() and time.monotonic() - t0 < 8:
            time.sleep(0.1)
        check("back-off after failed logins" in srv.log(),
              "failures from one address delay its next checks (%.1f s)" % (time.monotonic() - t0))
        took = timed_login(srv.port)
        check(took < 1.0, "another address logs in meanwhile: %.3f s" % took)
        for t in socks:
            t.close()


def fd_limit(work, root):
    def low_nofile():
        resource.setrlimit(resource.RLIMIT_NOFILE, (48, 48))
    args = ["--max-sessions", "500", "--max-per-ip", "500", "--max-unauth", "500",
            "--max-unauth-per-ip", "500"]
    with Server(work, root, args, preexec_fn=low_nofile) as srv:
        socks, greetings = [], []
        for _ in range(60):
            s = dial(srv.port, timeout=3)
            socks.append(s)
            try:
                greetings.append(first_reply(s)[:3])
            except socket.timeout:
                greetings.append("hang")
        check("hang" not in greetings, "no client hangs at the descriptor limit")
        check("421" in greetings and greetings[0] == "220",
              "past the limit clients get 421 (%d of 60)" % greetings.count("421"))
        for s in socks:
            s.close()
        time.sleep(0.2)
        s = dial(srv.port)
        check(first_reply(s).startswith("220"), "a new client is served once descriptors are free")
        s.close()
        check("file descriptors" in srv.log(), "the log names the descriptor limit")


def pasv_release(work, root):
    with Server(work, root, ["--pasv-ports", "61500-61500", "--data-timeout", "1"]) as srv:
        f = login(srv.port)
        check(epsv_port(f) == 61500, "EPSV offers the one port")
        f.quit()
        g = login(srv.port)
        check(epsv_port(g) == 61500, "the port is offered again right after QUIT")
        # Nobody connects: --data-timeout 1 frees it while |g| lives on.
        t0 = time.monotonic()
        h = login(srv.port)
        got = None
        while time.monotonic() - t0 < 4 and got is None:
            try:
                got = epsv_port(h)
            except (ftplib.error_temp, AssertionError):
                time.sleep(0.2)
        check(got == 61500, "an unused passive port is free after --data-timeout (%.1f s)"
              % (time.monotonic() - t0))
        check(g.sendcmd("NOOP").startswith("200"), "the session that left it goes on")
        g.quit()
        h.quit()
        # A PROT P transfer whose data connection never starts TLS: 426.
        f = login(srv.port)
        f.prot_p()
        p = epsv_port(f)
        d = socket.create_connection(("127.0.0.1", p), timeout=5)
        f.putcmd("LIST")
        check(f.getresp().startswith("150"), "LIST: 150, then the data TLS handshake is due")
        t0 = time.monotonic()
        try:
            resp = f.getresp()
        except ftplib.error_temp as e:
            resp = str(e)
        check(resp.startswith("426") and time.monotonic() - t0 < 3,
              "a data TLS handshake that never starts fails after --data-timeout: %s (%.1f s)"
              % (resp, time.monotonic() - t0))
        d.close()
        f.quit()


def main():
    ftpsfuzz = sys.argv[1]
    if len(sys.argv) > 2 and sys.argv[2] == "--inline":  # shows the guessing test can fail
        with Workdir(ftpsfuzz) as work:
            guessing(work, work.mkdir("root"), ["--login-workers", "0", "--login-backoff-max", "0"])
        return
    with Workdir(ftpsfuzz) as work:
        root = work.mkdir("root")
        for step in (eof_after_epsv, login_deadline, unauth_slots, guessing, backoff,
                     fd_limit, pasv_release):
            t0 = time.monotonic()
            step(work, root)
            print("(%s: %.1f s)" % (step.__name__, time.monotonic() - t0))


if __name__ == "__main__":
    main()

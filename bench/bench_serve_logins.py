#!/usr/bin/env python3
"""bench_serve_logins.py - `ftpsfuzz serve` under password guessing.

Prints, side by side for BEFORE (passwords checked on the event loop, no
back-off, no caps on unauthenticated connections: --login-workers 0
--login-backoff-max 0 and caps as large as --max-sessions, i.e. the old
server, with 300 sessions so the legitimate client is not simply refused) and AFTER (the defaults: 2 login workers, back-off, caps):
  1. correct logins per second the server sustains (32 asyncio clients in
     4 processes, each from its own address 127.0.1.N, logging in and out in
     a loop; a 100,000-iteration PBKDF2 users file);
  2. under guessing from 10 loopback addresses x 20 connections (127.0.0.2..
     127.0.0.11, all routed to lo): the server's CPU, the guesses it answered
     per second, and a legitimate client's login time (connect, AUTH TLS,
     USER/PASS; median and worst of the samples).
Then, for the defaults, the server's RSS per idle TLS control session with
1,000 sessions open (goal <= 64 KiB).
Use a release build:
  cmake --preset release && cmake --build build/release --target ftpsfuzz
  bench/bench_serve_logins.py build/release/cli/ftpsfuzz [SECONDS]
"""
import ftplib
import multiprocessing
import os
import resource
import shutil
import socket
import signal
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time

USER, PASSWORD = "alice", "wonderland"


_CTX = []


def ctx():
    """One client context per process (building one loads the system's CA
    store, ~30 ms: more than the login being measured)."""
    if not _CTX:
        c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        c.check_hostname = False
        c.verify_mode = ssl.CERT_NONE
        _CTX.append(c)
    return _CTX[0]


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def start(ftpsfuzz, work, args):
    port_file = os.path.join(work, "port")
    if os.path.exists(port_file):
        os.unlink(port_file)
    log = open(os.path.join(work, "server.log"), "wb")
    p = subprocess.Popen([ftpsfuzz, "serve", "--allow-root", "--listen", "127.0.0.1:0", "--root",
                          os.path.join(work, "root"), "--self-signed", "--users",
                          os.path.join(work, "users"), "--port-file", port_file] + args,
                         stdout=log, stderr=log)
    for _ in range(200):
        if os.path.exists(port_file) and os.path.getsize(port_file):
            return p, int(open(port_file).read())
        time.sleep(0.05)
    raise RuntimeError("server did not start")


def login_once(port, src="127.0.0.1"):
    f = ftplib.FTP_TLS(context=ctx(), timeout=60)
    t0 = time.monotonic()
    f.connect("127.0.0.1", port, source_address=(src, 0))
    f.login(USER, PASSWORD)
    took = time.monotonic() - t0
    f.quit()
    return took


async def login_async(port, src="127.0.0.1"):
    import asyncio
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(src, 0))
    try:
        async def reply():
            line = await reader.readline()
            while line[3:4] == b"-":  # a multi-line reply
                line = await reader.readline()
            return line
        assert (await reply()).startswith(b"220")
        writer.write(b"AUTH TLS\r\n")
        assert (await reply()).startswith(b"234")
        await writer.start_tls(ctx())
        writer.write(("USER %s\r\n" % USER).encode())
        assert (await reply()).startswith(b"331")
        writer.write(("PASS %s\r\n" % PASSWORD).encode())
        assert (await reply()).startswith(b"230")
        writer.write(b"QUIT\r\n")
        await reply()
    finally:
        writer.transport.abort()


def login_loop(port, seconds, done, first):
    """8 clients on one event loop logging in and out until |seconds| pass."""
    import asyncio

    async def client(stop_at, n, src):
        while time.monotonic() < stop_at:
            try:
                await login_async(port, src)
                n[0] += 1
            except (OSError, AssertionError, ssl.SSLError, EOFError):
                await asyncio.sleep(0.01)

    async def run():
        n = [0]
        stop_at = time.monotonic() + seconds
        # One address per client: the per-address caps are not what is measured.
        await asyncio.gather(*[client(stop_at, n, "127.0.1.%d" % (first + i)) for i in range(8)])
        return n[0]
    got = asyncio.run(run())
    with done.get_lock():
        done.value += got


def logins_per_second(port, seconds):
    """4 processes x 8 asyncio clients logging in and out: the client's
    own CPU is not what limits the figure."""
    done = multiprocessing.Value("l", 0)
    ps = [multiprocessing.Process(target=login_loop, args=(port, seconds, done, 1 + 8 * i))
          for i in range(4)]
    for p in ps:
        p.start()
    for p in ps:
        p.join()
    return done.value / seconds


def idle_session_kib(port, pid, n):
    """Server RSS per idle TLS control session (AUTH TLS, handshake, NOOP)."""
    def rss():
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])

    def session():
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
        f = s.makefile("rb")
        assert f.readline().startswith(b"220")
        s.sendall(b"AUTH TLS\r\n")
        assert f.readline().startswith(b"234")
        t = ctx().wrap_socket(s, server_hostname="localhost")
        t.sendall(b"NOOP\r\n")
        assert t.recv(100).startswith(b"200")
        return t
    warm = [session() for _ in range(20)]  # allocator and TLS tables warmed up
    time.sleep(0.5)
    base = rss()
    held = [session() for _ in range(n)]
    time.sleep(1)
    per = (rss() - base) / n
    for t in held + warm:
        t.close()
    return per


async def guess_conn(port, src, answered, stop_at):
    """One guessing connection, reconnecting when closed or refused."""
    import asyncio
    while time.monotonic() < stop_at:
        writer = None
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port,
                                                          local_addr=(src, 0))
            if not (await reader.readline()).startswith(b"220"):
                raise ConnectionError("refused")
            writer.write(b"AUTH TLS\r\n")
            if not (await reader.readline()).startswith(b"234"):
                raise ConnectionError("no TLS")
            await writer.start_tls(ctx())
            while time.monotonic() < stop_at:
                writer.write(b"USER root\r\nPASS guess\r\n")
                r1 = await reader.readline()
                r2 = await reader.readline()
                if not r1 or not r2:
                    break
                answered.value += 1
                if r2.startswith(b"421"):
                    break
        except (OSError, ConnectionError, ssl.SSLError, EOFError):
            await asyncio.sleep(0.2)  # refused or reset: retry soon, never spin
        finally:
            if writer is not None:
                writer.transport.abort()


def attacker(port, addrs, nconn, seconds, answered):
    """All guessing connections in one process on one event loop: the
    attack then costs the client little CPU, and its threads never compete
    for the GIL with the legitimate client's."""
    import asyncio

    async def run():
        stop_at = time.monotonic() + seconds
        await asyncio.gather(*[guess_conn(port, a, answered, stop_at)
                               for a in addrs for _ in range(nconn)],
                             return_exceptions=True)
    asyncio.run(run())


def under_guessing(pid, port, seconds):
    answered = multiprocessing.Value("l", 0, lock=False)
    addrs = ["127.0.0.%d" % a for a in range(2, 12)]  # 10 addresses x 20 connections
    pr = multiprocessing.Process(target=attacker, args=(port, addrs, 20, seconds + 4, answered))
    pr.start()
    time.sleep(3)  # the attack ramps up
    hz = os.sysconf("SC_CLK_TCK")
    c0, a0, t0 = cpu_ticks(pid), answered.value, time.monotonic()
    lat = []
    while time.monotonic() - t0 < seconds:
        try:
            lat.append(login_once(port))
        except (OSError, EOFError, ftplib.Error) as e:
            lat.append(float("inf"))
            print("  legitimate login failed: %r" % e)
        time.sleep(0.3)
    dt = time.monotonic() - t0
    cpu = (cpu_ticks(pid) - c0) / hz / dt * 100
    rate = (answered.value - a0) / dt
    pr.join(timeout=60)
    return cpu, rate, statistics.median(lat), max(lat), len(lat)


def main():
    ftpsfuzz = sys.argv[1]
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 10
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    work = tempfile.mkdtemp(prefix="bench-logins.")
    try:
        os.mkdir(os.path.join(work, "root"))
        subprocess.run([ftpsfuzz, "passwd", "--file", os.path.join(work, "users"), USER],
                       input=(PASSWORD + "\n").encode(), check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # BEFORE gets room for the legitimate client next to the 200
        # guessing connections, so its figure is the hashing, not a 421.
        modes = [("before", ["--login-workers", "0", "--login-backoff-max", "0",
                             "--max-sessions", "300", "--max-per-ip", "30",
                             "--max-unauth", "300", "--max-unauth-per-ip", "30",
                             "--login-timeout", "0"]),
                 ("after", [])]
        rows = []
        for name, args in modes:
            p, port = start(ftpsfuzz, work, args)
            try:
                lps = logins_per_second(port, seconds)
                cpu, rate, med, worst, n = under_guessing(p.pid, port, seconds)
            finally:
                p.send_signal(signal.SIGTERM)
                p.wait(timeout=30)
            rows.append((name, lps, cpu, rate, med, worst, n))
        # Memory: the defaults but caps large enough for 1,000 idle sessions.
        big = ["--max-sessions", "1100", "--max-per-ip", "1100", "--max-unauth", "1100",
               "--max-unauth-per-ip", "1100"]
        p, port = start(ftpsfuzz, work, big)
        try:
            kib = idle_session_kib(port, p.pid, 1000)
        finally:
            p.send_signal(signal.SIGTERM)
            p.wait(timeout=30)
        print("== ftpsfuzz serve under password guessing (100,000-iteration PBKDF2; %g s each)"
              % seconds)
        print("  %-7s %12s | %22s %10s %18s" % ("", "logins/s", "guessing: server CPU",
                                                "guesses/s", "legit login med/max"))
        for name, lps, cpu, rate, med, worst, n in rows:
            print("  %-7s %12.1f | %21.0f%% %10.1f %8.3f / %.3f s (%d)" % (
                name, lps, cpu, rate, med, worst, n))
        print("== memory per idle TLS control session (1000 open): %.1f KiB (goal <= 64 KiB)"
              % kib)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""ecmpdrive.py - the clients and the checks of scripts/ecmp-demo.sh
(topology: scripts/lib/ecmptopo.sh).

  ecmpdrive.py backend ADDR PORT NAME
      a backend: says NAME on a line, then echoes until EOF
  ecmpdrive.py drive --name NAME --prefixes P1,P2,.. --pids PID1,.. --logs L1,..
                     [--router resilient|hash-threshold]
      run in NAME-c against the VIP 198.19.0.1:80, each phase printed and
      checked:
      1. spread: 90 long connections, half of them without TCP timestamps
         (as Windows' clients), so with no owner id; every instance has some (its own
         figures, from its telemetry), the router has a path to each (and,
         resilient, its group has them all, with its buckets shared out).
      2. drain: the last instance gets SIGTERM while the 90 connections echo a
         line every 100 ms and new ones open 20 times a second: its VIP route
         goes within its withdraw_wait_ms, its flows move to the others, which
         hand every segment back to it (each of its connections counted once,
         "flows moved in"; those without timestamps copied to every
         instance), and no request fails. With the resilient router
         only its flows move: no bucket of another path changes hands and no
         other instance counts a flow moved in.
      3. backends: 40 client addresses each get a backend; one backend is
         added on every instance left; at most about 1/N of the clients move,
         each to the new backend, and every instance's Maglev table digest is
         the same before and after.
Exit status 0 when every check passed, 1 otherwise (the failed check said).
"""
import importlib.machinery
import json
import math
import os
import signal
import socket
import socketserver
import subprocess
import sys
import threading
import time

VIP, PORT = "198.19.0.1", 80
HERE = os.path.dirname(os.path.abspath(__file__))
ctl = importlib.machinery.SourceFileLoader(
    "l4proxyctl", os.path.join(HERE, "..", "l4proxyctl")).load_module()
failed = []


def check(ok, what):
    print(f"  {'ok' if ok else 'FAILED'}: {what}", flush=True)
    if not ok:
        failed.append(what)


def backend(addr, port, name):
    class H(socketserver.BaseRequestHandler):
        def handle(self):
            s = self.request
            s.sendall(name.encode() + b"\n")
            while True:
                b = s.recv(65536)
                if not b:
                    break
                s.sendall(b)
            try:
                s.shutdown(socket.SHUT_WR)
            except OSError:
                pass  # a health check's connect, closed at once

    class S(socketserver.ThreadingTCPServer):
        allow_reuse_address = True
        daemon_threads = True
        request_queue_size = 512

    srv = S((addr, int(port)), H)
    print(f"backend {name} on {addr}:{port}", flush=True)
    srv.serve_forever()


def readline(s):
    b = b""
    while not b.endswith(b"\n"):
        c = s.recv(1)
        if not c:
            raise ConnectionError(f"EOF after {b!r}")
        b += c
    return b.decode().strip()


class Long(threading.Thread):
    """A connection that echoes a numbered line every 100 ms until told to
    stop, then closes and reads to EOF; every echo checked."""

    def __init__(self, i):
        super().__init__(daemon=True)
        self.i, self.sent, self.err, self.stop, self.closed = i, 0, None, False, False
        self.s = socket.create_connection((VIP, PORT), timeout=10)
        self.backend = readline(self.s)

    def run(self):
        try:
            while not self.stop:
                line = f"conn {self.i} line {self.sent}\n".encode()
                self.s.sendall(line)
                got = b""
                while len(got) < len(line):
                    c = self.s.recv(len(line) - len(got))
                    if not c:
                        raise ConnectionError("EOF mid-echo")
                    got += c
                if got != line:
                    raise ValueError(f"echo {got!r} for {line!r}")
                self.sent += 1
                time.sleep(0.1)
            self.s.shutdown(socket.SHUT_WR)
            if self.s.recv(1) != b"":
                raise ValueError("data after our FIN")
            self.closed = True
        except (OSError, ValueError) as e:
            self.err = f"{type(e).__name__}: {e}"
        finally:
            self.s.close()


def one_request(src=None):
    """A short connection (from source address src): the backend's name,
    one echo; the name."""
    s = socket.socket()
    s.settimeout(10)
    try:
        if src:
            s.bind((src, 0))
        s.connect((VIP, PORT))
        name = readline(s)
        s.sendall(b"x\n")
        if readline(s) != "x":
            raise ValueError("bad echo")
        s.shutdown(socket.SHUT_WR)
        return name
    finally:
        s.close()


def routes(name):
    """The router's next hops for the VIP."""
    r = subprocess.run(["ip", "-n", f"{name}-rt", "-j", "route", "show", VIP],
                       capture_output=True, text=True)
    try:
        rs = json.loads(r.stdout or "[]")
    except ValueError:
        return []
    hops = []
    for x in rs:
        hops += [h["gateway"] for h in x.get("nexthops", [])] or [x.get("gateway")]
    return sorted(h for h in hops if h)


def buckets(name):
    """The router's resilient group for the VIP (scripts/lib/resfib.py): the
    gateway of each bucket, in bucket order; [] when it has none."""
    def j(*args):
        r = subprocess.run(["ip", "-n", f"{name}-rt", "-j", *args], capture_output=True,
                           text=True)
        try:
            return json.loads(r.stdout or "[]")
        except ValueError:
            return []
    rs = j("route", "show", "table", "100", VIP)
    if not rs or "nhid" not in rs[0]:
        return []
    via = {n["id"]: n.get("gateway") for n in j("nexthop", "show")}
    return [via.get(b["bucket"]["nhid"]) for b in j("nexthop", "bucket", "list", "id",
                                                      str(rs[0]["nhid"]))]


def shares(bs):
    return ", ".join(f"{h} {bs.count(h)}" for h in sorted(set(bs)))


def active(prefix):
    d = ctl.query(prefix, "/l4proxy/stats")
    return sum(d.get("listener_active", []))


def wait(cond, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.05)
    check(False, f"{what} (not within {timeout} s)")
    return False


def log_sum(path, word):
    """Sum of '<N> <word>' over a proxy's exit lines (one per lane)."""
    n = 0
    with open(path, errors="replace") as f:
        for line in f:
            if "cluster:" in line:
                parts = line.split("cluster:")[1].split(",")
                for p in parts:
                    if word in p:
                        n += int(p.split()[0])
    return n


def drive(args):
    opts = dict(zip(args[::2], args[1::2]))
    name = opts["--name"]
    prefixes = opts["--prefixes"].split(",")
    pids = [int(p) for p in opts["--pids"].split(",")]
    logs = opts["--logs"].split(",")
    router = opts.get("--router", "resilient")
    n = len(prefixes)
    hops = [f"198.18.0.1{i}" for i in range(1, n + 1)]

    print("\n== 1. the router learns the VIP from every instance; flows spread", flush=True)
    check(wait(lambda: routes(name) == hops, 30, f"{n} paths to {VIP}"),
          f"the router has {VIP} via {', '.join(routes(name))}")
    if router == "resilient":
        check(wait(lambda: sorted(set(buckets(name))) == hops, 10, "the resilient group"),
              f"its resilient group's buckets: {shares(buckets(name))}")
    # Half of them as a client without timestamps: the namespace's sysctl,
    # read at each connect.
    conns = [Long(i) for i in range(45)]
    with open("/proc/sys/net/ipv4/tcp_timestamps", "w") as f:
        f.write("0")
    try:
        conns += [Long(i) for i in range(45, 90)]
    finally:
        with open("/proc/sys/net/ipv4/tcp_timestamps", "w") as f:
            f.write("1")
    for c in conns:
        c.start()
    time.sleep(1.0)
    per = [active(p) for p in prefixes]
    print(f"  90 connections per instance: {per}; 45 of them without timestamps", flush=True)
    check(sum(per) == 90 and min(per) > 0, "every instance has flows, 90 in all")

    print(f"\n== 2. instance {n} stopped gracefully (SIGTERM): its route withdrawn first, "
          "its flows handed back to it, no request fails", flush=True)
    last = prefixes[-1]
    theirs = per[-1]
    short = {"ok": 0, "err": []}
    stop_short = []

    def shorts():
        while not stop_short:
            try:
                one_request()
                short["ok"] += 1
            except (OSError, ValueError) as e:
                short["err"].append(f"{type(e).__name__}: {e}")
            time.sleep(0.05)

    t = threading.Thread(target=shorts, daemon=True)
    t.start()
    time.sleep(0.5)
    before_b = buckets(name)
    t0 = time.monotonic()
    os.kill(pids[-1], signal.SIGTERM)
    if wait(lambda: routes(name) == hops[:-1], 10, f"the path via {hops[-1]} withdrawn"):
        print(f"  {VIP} via {', '.join(routes(name))} {time.monotonic() - t0:.1f} s after "
              "SIGTERM", flush=True)
    if router == "resilient":
        wait(lambda: hops[-1] not in buckets(name), 5, "its buckets handed to the others")
        after_b = buckets(name)
        kept = sum(1 for a, b in zip(before_b, after_b) if a != hops[-1] and a == b)
        print(f"  the resilient group's buckets: {shares(before_b)} -> {shares(after_b)}",
              flush=True)
        check(len(after_b) == len(before_b) and
              kept == sum(1 for a in before_b if a != hops[-1]),
              f"every bucket of the paths left kept its path ({kept})")
    time.sleep(3.0)  # past the proxy's withdraw_wait_ms: its drain runs
    stop_short.append(1)
    t.join()
    for c in conns:
        c.stop = True
    for c in conns:
        c.join(15)
    errs = [f"conn {c.i}: {c.err}" for c in conns if c.err] + short["err"]
    lines = sum(c.sent for c in conns)
    check(not errs, f"{lines} echoes on 90 long connections and {short['ok']} short "
                    f"connections, {len(errs)} failed" + (f": {errs[:3]}" if errs else ""))
    check(all(c.closed for c in conns if not c.err), "every long connection closed cleanly")
    gone = wait(lambda: not os.path.exists(f"/proc/{pids[-1]}"), 30,
                f"instance {n} exits once its pairs are done")
    moved_in = log_sum(logs[-1], "flows moved in") if gone else -1
    others = [ctl.query(p, "/l4proxy/vips") for p in prefixes[:-1]]
    handed = sum(o["strays_forwarded"] for o in others)
    flooded = sum(o["strays_flooded"] for o in others)
    among = sum(o["flows_moved_in"] for o in others)
    print(f"  instance {n}: {theirs} connections, {moved_in} of them moved by the router "
          f"and handed back to it; the others handed it {handed} segments by their "
          f"timestamps and copied {flooded} without to every instance", flush=True)
    print(f"  moved flows: {moved_in} of instance {n}'s {theirs}, and {among} of the other "
          f"instances' {90 - theirs}" + ("" if router == "resilient" else
                                          " (moved between them by the router's hash-threshold "
                                          "rehash, handed back too)"), flush=True)
    check(moved_in == theirs, f"every flow of instance {n} moved and was handed back to it")
    if router == "resilient":
        check(among == 0, f"only instance {n}'s flows moved")
    check(handed > 0, "the others handed its segments back")
    check(flooded > 0, "segments without timestamps went to every instance")

    print(f"\n== 3. a backend added: at most about 1/N of the clients move, all to it",
          flush=True)
    live = prefixes[:-1]
    srcs = [f"198.18.1.{i}" for i in range(100, 140)]
    digests = [ctl.query(p, "/l4proxy/maglev,web") for p in live]
    check(len(set(map(str, digests))) == 1, f"one Maglev table everywhere: {digests[0]}")
    before = {s: one_request(s) for s in srcs}
    for p in live:
        print(f"  {p}: {ctl.query(p, '/l4proxy/backend_add,web,198.18.2.14:8080')}",
              flush=True)

    def b4_up(p):
        d = ctl.query(p, "/l4proxy/backends,web")
        rows = dict(zip(d.get("addr", []), d.get("state", [])))
        return rows.get("198.18.2.14:8080") == "up"

    wait(lambda: all(b4_up(p) for p in live), 15, "the new backend is up everywhere")
    after = {s: one_request(s) for s in srcs}
    moved = [s for s in srcs if before[s] != after[s]]
    nb = len(set(before.values())) + 1
    print(f"  {len(moved)} of {len(srcs)} clients moved (1/{nb} would be "
          f"{len(srcs) / nb:.0f}); to: {sorted(set(after[s] for s in moved))}", flush=True)
    check(all(after[s] == "b4" for s in moved), "every client that moved went to the new one")
    check(0 < len(moved) <= math.ceil(2 * len(srcs) / nb),
          f"at most about 1/{nb} moved (bound {math.ceil(2 * len(srcs) / nb)})")
    digests2 = [ctl.query(p, "/l4proxy/maglev,web") for p in live]
    check(len(set(map(str, digests2))) == 1 and digests2 != digests,
          "a new table, the same everywhere")
    print("\n== 4. withdrawn when no backend is left, and by the operator; back after",
          flush=True)
    bes = [f"198.18.2.1{i}:8080" for i in range(1, 5)]
    for b in bes:
        ctl.query(live[0], f"/l4proxy/backend_disable,web,{b}")
    check(wait(lambda: routes(name) == hops[1:n - 1], 5, "instance 1's route withdrawn"),
          f"instance 1 with every backend disabled: {VIP} via {', '.join(routes(name))}")
    for b in bes:
        ctl.query(live[0], f"/l4proxy/backend_enable,web,{b}")
    check(wait(lambda: routes(name) == hops[:n - 1], 5, "instance 1's route back"),
          f"its backends enabled again: {VIP} via {', '.join(routes(name))}")
    print(f"  {live[-1]}: {ctl.query(live[-1], '/l4proxy/announce,off')}", flush=True)
    check(wait(lambda: routes(name) == hops[:n - 2], 5, f"instance {n - 1}'s route withdrawn"),
          f"announce off on instance {n - 1}: {VIP} via {', '.join(routes(name))}")
    check(one_request() in ("b1", "b2", "b3", "b4"), "the others still serve")
    ctl.query(live[-1], "/l4proxy/announce,on")
    check(wait(lambda: routes(name) == hops[:n - 1], 5, f"instance {n - 1}'s route back"),
          f"announce on: {VIP} via {', '.join(routes(name))}")
    print(f"\necmp: {'passed' if not failed else 'FAILED: ' + '; '.join(failed)}", flush=True)
    return 0 if not failed else 1


if __name__ == "__main__":
    if sys.argv[1:2] == ["backend"] and len(sys.argv) == 5:
        backend(*sys.argv[2:])
    elif sys.argv[1:2] == ["drive"]:
        sys.exit(drive(sys.argv[2:]))
    else:
        print(__doc__.strip(), file=sys.stderr)
        sys.exit(2)

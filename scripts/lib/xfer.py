# SPDX-License-Identifier: BSD-3-Clause
"""One timed, checked TCP transfer for scripts/bench/loss.py, run by Debian's
/usr/bin/python3 inside a namespace. Prints one line of JSON.

  xfer.py read ADDR PORT TIMEOUT          connect, read to EOF: seconds from
                                          connect to EOF, bytes, sha256
  xfer.py write ADDR PORT N SEED TIMEOUT  connect, send N seeded bytes, shut
                                          down, wait for the peer's close:
                                          seconds from connect to that close
  (both also print cc, the socket's congestion control, and data_seconds: from the first byte read, or from the end
  of connect() when writing, to the end: the transfer without the handshake,
  whose lost SYN, SYN-ACK or ACK costs a whole initial RTO, 1 s)
  xfer.py serve-source ADDR PORT N        accept one connection, send echo's
                                          --tcp-source pattern (N bytes), close,
                                          print the congestion control it ran
  xfer.py serve-sink ADDR PORT            accept one connection, read to EOF,
                                          print bytes and sha256, close
  xfer.py pattern-sha N                   sha256 of echo's source pattern, N bytes

With XFER_CC=NAME in the environment every socket it makes or accepts uses
congestion control NAME (TCP_CONGESTION; as root any the kernel has, where a
namespace's default can only be one of tcp_allowed_congestion_control).

The pattern is echo's (apps/echo/echo.c): a 64 KiB chunk, byte i of it
'\\n' when i % 64 == 63 and 'A' + i % 26 otherwise, repeated.
"""
import hashlib
import json
import os
import random
import socket
import sys
import time

CHUNK = bytes(10 if i % 64 == 63 else 65 + i % 26 for i in range(65536))


def pattern(n):
    while n > 0:
        piece = CHUNK[:min(n, len(CHUNK))]
        n -= len(piece)
        yield piece


def seeded(n, seed):
    rnd = random.Random(seed)
    while n > 0:
        k = min(n, 1 << 16)
        n -= k
        yield rnd.randbytes(k)


def congestion(s):
    """Put socket s on XFER_CC's congestion control, where one is asked for."""
    cc = os.environ.get("XFER_CC")
    if cc:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, cc.encode())
    return s


def cc_of(s):
    """The congestion control socket s runs."""
    return s.getsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, 16).rstrip(b"\0").decode()


def connect(addr, port, timeout):
    s = congestion(socket.socket())
    s.settimeout(timeout)
    try:
        s.connect((addr, port))
    except OSError:
        s.close()
        raise
    return s


def read_all(s, h, first=None):
    got = 0
    while True:
        b = s.recv(1 << 18)
        if not b:
            return got
        if first is not None and not first:
            first.append(time.monotonic())
        h.update(b)
        got += len(b)


def main(argv):
    mode = argv[1]
    if mode == "pattern-sha":
        h = hashlib.sha256()
        for p in pattern(int(argv[2])):
            h.update(p)
        print(json.dumps({"sha256": h.hexdigest()}))
        return 0
    if mode in ("read", "write"):
        addr, port = argv[2], int(argv[3])
        timeout = float(argv[-1])
        t0 = time.monotonic()
        h = hashlib.sha256()
        out = {"ok": False}
        first = []
        try:
            s = connect(addr, port, timeout)
            s.settimeout(max(timeout - (time.monotonic() - t0), 1))
            out["cc"] = cc_of(s)
            if mode == "read":
                out["bytes"] = read_all(s, h, first)
            else:
                first.append(time.monotonic())
                n = 0
                for p in seeded(int(argv[4]), int(argv[5])):
                    s.sendall(p)
                    h.update(p)
                    n += len(p)
                s.shutdown(socket.SHUT_WR)
                read_all(s, hashlib.sha256())  # the peer's close: it has it all
                out["bytes"] = n
            s.close()
            out["ok"] = True
        except OSError as e:
            out["error"] = str(e)
        t1 = time.monotonic()
        out["seconds"] = t1 - t0
        out["data_seconds"] = t1 - (first[0] if first else t0)
        out["sha256"] = h.hexdigest()
        print(json.dumps(out), flush=True)
        return 0
    addr, port = argv[2], int(argv[3])
    ls = congestion(socket.socket())
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, port))
    ls.listen(1)
    print(json.dumps({"listening": port}), flush=True)
    s, _ = ls.accept()
    congestion(s)
    if mode == "serve-source":
        for p in pattern(int(argv[4])):
            s.sendall(p)
        s.shutdown(socket.SHUT_WR)
        read_all(s, hashlib.sha256())
        print(json.dumps({"cc": cc_of(s)}), flush=True)
        s.close()
        return 0
    h = hashlib.sha256()
    n = read_all(s, h)
    s.close()
    print(json.dumps({"bytes": n, "sha256": h.hexdigest()}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""synflood.py - spoofed SYNs and a legitimate client, for the SYN flood test
and scripts/bench/synflood.sh. Run as root inside a namespace that the caller
made; sources and destination must be test addresses (198.18.0.0/15).

  synflood.py flood DST PORT --src CIDR --seconds S [--count N] [--pps R]
      raw-socket SYNs from random addresses of CIDR and random ports, as fast
      as one core allows (or at R per second), until S seconds or N packets; prints
      "flood: sent N in T s (R pps)"
  synflood.py probe DST PORT --count N [--timeout S] [--gap-ms G]
      N connections one after another, each sending a line and reading its
      echo; prints "probe: ok K of N, within 1 s J, p50 X ms p99 Y ms max Z ms"
"""
import argparse
import ipaddress
import random
import socket
import struct
import sys
import time

TEST_NET = ipaddress.ip_network("198.18.0.0/15")


def test_addr(s):
    a = ipaddress.ip_address(s)
    if a not in TEST_NET:
        raise argparse.ArgumentTypeError(f"{s}: not a test address (198.18.0.0/15)")
    return s


def test_net(s):
    n = ipaddress.ip_network(s, strict=False)
    if not n.subnet_of(TEST_NET):
        raise argparse.ArgumentTypeError(f"{s}: not inside 198.18.0.0/15")
    return n


def fold(s):
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return s


def flood(a):
    dst = socket.inet_aton(a.dst)
    base = int(a.src.network_address)
    span = a.src.num_addresses - 2 if a.src.num_addresses > 2 else 1
    first = 1 if a.src.num_addresses > 2 else 0
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    # TCP header with MSS and SACK-permitted options (as a real SYN has):
    # the checksum's constant part is summed once, the varying words per packet.
    opts = struct.pack("!BBHBB", 2, 4, 1460, 4, 2) + b"\x01\x01"
    tcp_len = 20 + len(opts)
    dst_words = struct.unpack("!HH", dst)
    const = fold(dst_words[0] + dst_words[1] + 6 + tcp_len + a.port + ((tcp_len // 4) << 12 | 0x02)
                 + 65535 + sum(struct.unpack(f"!{len(opts) // 2}H", opts)))
    rnd = random.Random(a.seed)
    sent = 0
    t0 = time.monotonic()
    end = t0 + a.seconds
    while sent < a.count:
        if sent % 256 == 0:
            now = time.monotonic()
            if now >= end:
                break
            if a.pps and sent > a.pps * (now - t0):  # ahead of the rate: wait
                time.sleep(sent / a.pps - (now - t0))
        src = base + first + rnd.randrange(span)
        sport = rnd.randrange(1024, 65535)
        seq = rnd.getrandbits(32)
        c = fold(const + (src >> 16) + (src & 0xffff) + sport + (seq >> 16) + (seq & 0xffff))
        ip = struct.pack("!BBHHHBBHI4s", 0x45, 0, 20 + tcp_len, 0, 0, 64, 6, 0, src, dst)
        tcp = struct.pack("!HHIIHHHH", sport, a.port, seq, 0, (tcp_len // 4) << 12 | 0x02,
                          65535, ~c & 0xffff, 0) + opts
        try:
            s.sendto(ip + tcp, (a.dst, 0))
            sent += 1
        except (BlockingIOError, OSError):
            pass
    t = time.monotonic() - t0
    print(f"flood: sent {sent} in {t:.2f} s ({sent / t:.0f} pps)", flush=True)


def probe(a):
    times = []
    ok = 0
    for i in range(a.count):
        t0 = time.monotonic()
        try:
            c = socket.create_connection((a.dst, a.port), timeout=a.timeout)
            c.settimeout(a.timeout)
            msg = f"probe {i}\n".encode()
            c.sendall(msg)
            got = b""
            while len(got) < len(msg):
                b = c.recv(64)
                if not b:
                    break
                got += b
            c.close()
            if got == msg:
                ok += 1
                times.append((time.monotonic() - t0) * 1000)
        except OSError:
            pass
        if a.gap_ms:
            time.sleep(a.gap_ms / 1000)
    times.sort()

    def pct(p):
        return times[min(len(times) - 1, int(p * len(times)))] if times else float("nan")

    within = sum(t <= 1000 for t in times)
    print(f"probe: ok {ok} of {a.count}, within 1 s {within}, p50 {pct(0.5):.1f} ms "
          f"p99 {pct(0.99):.1f} ms max {max(times) if times else float('nan'):.1f} ms",
          flush=True)
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("flood")
    f.add_argument("dst", type=test_addr)
    f.add_argument("port", type=int)
    f.add_argument("--src", type=test_net, required=True)
    f.add_argument("--seconds", type=float, required=True)
    f.add_argument("--count", type=int, default=10_000_000)
    f.add_argument("--seed", type=int, default=1)
    f.add_argument("--pps", type=float, default=0, help="at most this rate (0: as fast as it goes)")
    q = sub.add_parser("probe")
    q.add_argument("dst", type=test_addr)
    q.add_argument("port", type=int)
    q.add_argument("--count", type=int, required=True)
    q.add_argument("--timeout", type=float, default=5.0)
    q.add_argument("--gap-ms", type=float, default=0)
    a = p.parse_args()
    return flood(a) if a.cmd == "flood" else probe(a)


if __name__ == "__main__":
    sys.exit(main())

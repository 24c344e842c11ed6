#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""tcpattack.py - peers that try to pin a TCP server's buffers, for the
memory-budget integration test (tests/integration/test_tcp.py). Run as root
inside a namespace that the caller made, against a test address
(198.18.0.0/15); both modes run until SECONDS have passed or SIGTERM, then
reset every connection they opened and print one summary line.

  tcpattack.py ooo DST PORT --conns N --segs K --seconds S [--sport P]
      N connections opened by hand on a raw socket (source ports P..P+N-1,
      by default the N just below the namespace's ip_local_port_range, and
      never inside it: the kernel's own connect() there, the zerowin
      attack's among them, could take the same port, and a SYN of ours for
      its established connection is then answered with a challenge ACK;
      an nftables rule in this namespace drops the kernel's RSTs for them),
      each then sending K 1-byte segments out of order, a hole before each,
      so that nothing is ever readable; prints "ooo: ready" once they are
      sent, and at the end "ooo: conns N established E segments T"
  tcpattack.py zerowin DST PORT --conns N --seconds S
      N ordinary connections (CUBIC, whatever the machine's default) with
      the smallest receive buffer that send as
      fast as the server takes it and never read: an echo server's copy has
      nowhere to go; prints "zerowin: ready" once no connection takes more,
      at the end (SIGTERM or SECONDS) each half-closes and reads everything
      back; prints "zerowin: conns N established E sent B bytes read back R"
"""
import argparse
import os
import random
import select
import signal
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from synflood import fold, test_addr  # noqa: E402  (the same checks and sums)

stop = False


def on_term(_sig, _frm):
    global stop
    stop = True


def tcp_segment(src, dst, sport, dport, seq, ack, flags, payload=b"", window=64240):
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, window, 0, 0)
    seg = hdr + payload
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(seg))
    data = pseudo + seg
    if len(data) % 2:
        data += b"\0"
    csum = ~fold(sum(struct.unpack(f"!{len(data) // 2}H", data))) & 0xFFFF
    return seg[:16] + struct.pack("!H", csum) + seg[18:]


def local_addr(dst):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((dst, 9))
    a = s.getsockname()[0]
    s.close()
    return a


def ephemeral_ports():
    """This namespace's ip_local_port_range: the ports connect() takes."""
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        lo, hi = f.read().split()
    return int(lo), int(hi)


def attack_ports(conns, sport):
    """The source ports of the ooo attack, first and last: from sport, or
    the conns just below the ephemeral range; None where they would share
    ports with it (or leave 1..65535)."""
    lo, hi = ephemeral_ports()
    first = lo - conns if sport is None else sport
    last = first + conns - 1
    if first < 1 or last > 65535 or (first <= hi and last >= lo):
        return None
    return first, last


def ooo(a):
    SYN, ACK, RST = 0x02, 0x10, 0x04
    src = local_addr(a.dst)
    ports = attack_ports(a.conns, a.sport)
    if ports is None:
        lo, hi = ephemeral_ports()
        print(f"ooo: source ports {a.sport}..{a.sport + a.conns - 1} overlap this namespace's "
              f"ephemeral ports {lo}..{hi} (ip_local_port_range) or leave 1..65535: choose "
              "others, or leave --sport out", file=sys.stderr)
        sys.exit(2)
    a.sport, last = ports
    print(f"ooo: source ports {a.sport}..{last}", flush=True)
    subprocess.run(["nft", "add table inet rtattack"], check=True)
    subprocess.run(["nft", "add chain inet rtattack out "
                    "{ type filter hook output priority 0 ; }"], check=True)
    subprocess.run(["nft", f"add rule inet rtattack out tcp sport {a.sport}-{last} "
                    "tcp flags rst drop"], check=True)
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
    # The raw socket gets a copy of every TCP packet into the namespace, the
    # zerowin attack's flood among them: room for them, so that a SYN-ACK is
    # not dropped behind them (it once left 6 of 50 connections unmade).
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    conns = {}  # sport -> [iss, their next seq]
    try:
        for i in range(a.conns):
            sport = a.sport + i
            iss = random.getrandbits(32)
            conns[sport] = [iss, None]
            raw.sendto(tcp_segment(src, a.dst, sport, a.port, iss, 0, SYN), (a.dst, 0))
        # A SYN lost on the way (a full rx ring while the other attack runs)
        # is sent again each second, as a kernel's connect() would.
        deadline = time.monotonic() + 30
        resend = time.monotonic() + 1
        while time.monotonic() < deadline and any(v[1] is None for v in conns.values()):
            if time.monotonic() >= resend:
                for sport, (iss, theirs) in conns.items():
                    if theirs is None:
                        raw.sendto(tcp_segment(src, a.dst, sport, a.port, iss, 0, SYN),
                                   (a.dst, 0))
                resend = time.monotonic() + 1
            r, _, _ = select.select([raw], [], [], 0.2)
            if not r:
                continue
            while True:  # every packet waiting, not one per wake-up
                try:
                    pkt = raw.recv(65535, socket.MSG_DONTWAIT)
                except BlockingIOError:
                    break
                ihl = (pkt[0] & 15) * 4
                sp, dp, seq, ack, _off, flags = struct.unpack("!HHIIBB", pkt[ihl:ihl + 14])
                if sp != a.port or dp not in conns or (flags & (SYN | ACK)) != (SYN | ACK):
                    continue
                c = conns[dp]
                if c[1] is None and ack == (c[0] + 1) & 0xFFFFFFFF:
                    c[1] = (seq + 1) & 0xFFFFFFFF
                    raw.sendto(tcp_segment(src, a.dst, dp, a.port, c[0] + 1, c[1], ACK),
                               (a.dst, 0))
        est = [p for p, v in conns.items() if v[1] is not None]
        sent = 0
        for k in range(a.segs):
            for p in est:
                iss, theirs = conns[p]
                seq = (iss + 1 + 2 + 2 * k) & 0xFFFFFFFF
                raw.sendto(tcp_segment(src, a.dst, p, a.port, seq, theirs, ACK, b"x"),
                           (a.dst, 0))
                sent += 1
            if stop:
                break
        print("ooo: ready", flush=True)
        end = time.monotonic() + a.seconds
        while not stop and time.monotonic() < end:
            time.sleep(0.1)
        # The rule drops our own RSTs too: it goes first. Each RST is at
        # RCV.NXT, so the server drops the connection. Three rounds, 50 ms
        # apart: a round of 50 into a TAP whose reader is busy with the
        # other attack's last bytes lost 39 of them once (the connections,
        # with nothing to send, then stayed open), and a RST for a connection
        # already gone is ignored.
        subprocess.run(["nft", "delete table inet rtattack"], check=False)
        for _ in range(3):
            for p in est:
                iss, theirs = conns[p]
                raw.sendto(tcp_segment(src, a.dst, p, a.port, iss + 1, theirs, RST | ACK),
                           (a.dst, 0))
            time.sleep(0.05)
        print(f"ooo: conns {a.conns} established {len(est)} segments {sent}", flush=True)
    finally:
        subprocess.run(["nft", "delete table inet rtattack"], check=False,
                       stderr=subprocess.DEVNULL)


def zerowin(a):
    socks = []
    for _ in range(a.conns):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1)  # the kernel's minimum
        # CUBIC, whatever the machine's default: on a kernel defaulting to
        # bbr, a connection whose data the server refused for a while (its
        # memory budget) came out of it with BBR's bandwidth estimate at
        # 7 kbit/s and paced at that: 390 KB still unsent after the 120 s
        # read-back (ss -tin; 2 runs in 16). The attack is on the server's
        # buffers, not a test of the attacker's congestion control.
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, b"cubic")
        s.settimeout(10)
        try:
            s.connect((a.dst, a.port))
        except OSError as e:
            print(f"zerowin: connect: {e}", file=sys.stderr)
            s.close()
            continue
        s.setblocking(False)
        socks.append(s)
    chunk = b"z" * 65536
    sent = 0
    ready = False
    end = time.monotonic() + a.seconds
    while not stop and time.monotonic() < end:
        moved = 0
        for s in socks:
            try:
                n = s.send(chunk)
                sent += n
                moved += n
            except BlockingIOError:
                pass
            except OSError:
                pass
        if moved == 0:
            if not ready:  # every connection is blocked: the buffers are full
                print("zerowin: ready", flush=True)
                ready = True
            time.sleep(0.05)
    # At the end they leave cleanly, so the server ends with nothing open:
    # FIN, then read everything back until the server's FIN.
    got = 0
    open_ = []
    for s in socks:
        try:
            s.shutdown(socket.SHUT_WR)
            open_.append(s)
        except OSError as e:
            print(f"zerowin: shutdown: {e}", file=sys.stderr)
            s.close()
    deadline = time.monotonic() + 120
    while open_ and time.monotonic() < deadline:
        r, _, _ = select.select(open_, [], [], 1.0)
        for s in r:
            try:
                b = s.recv(1 << 16)
            except BlockingIOError:
                continue
            except OSError as e:
                print(f"zerowin: reading back: {e}", file=sys.stderr)
                b = b""
            if b:
                got += len(b)
            else:
                open_.remove(s)
                s.close()
    if open_:  # says why a read-back came up short: time, not the server
        print(f"zerowin: read-back deadline (120 s) passed with {len(open_)} connections "
              "still open", flush=True)
    for s in open_:
        s.close()
    print(f"zerowin: conns {a.conns} established {len(socks)} sent {sent} bytes "
          f"read back {got}", flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="mode", required=True)
    o = sub.add_parser("ooo")
    o.add_argument("dst", type=test_addr)
    o.add_argument("port", type=int)
    o.add_argument("--conns", type=int, required=True)
    o.add_argument("--segs", type=int, required=True)
    o.add_argument("--seconds", type=float, required=True)
    o.add_argument("--sport", type=int, default=None,
                   help="first source port (default: the N below ip_local_port_range)")
    z = sub.add_parser("zerowin")
    z.add_argument("dst", type=test_addr)
    z.add_argument("port", type=int)
    z.add_argument("--conns", type=int, required=True)
    z.add_argument("--seconds", type=float, required=True)
    a = p.parse_args()
    signal.signal(signal.SIGTERM, on_term)
    ooo(a) if a.mode == "ooo" else zerowin(a)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""resfib.py - resilient ECMP for the test router of scripts/lib/ecmptopo.sh.

FRR 8.4's zebra installs a BGP multipath route as a hash-threshold group
(RFC 2992): when one path goes, the hash ranges of the others are cut again
and some of their flows change path too. Routers built for anycast services
offer resilient (consistent) hashing instead, and Linux has it as resilient
nexthop groups (`ip nexthop ... type resilient`), which zebra cannot install.
This helper gives the test router that behaviour. Run in the router's
namespace, it follows the routes zebra installed from BGP (`proto bgp`, main
table) and keeps one resilient group per prefix in its own table, looked up
first (an `ip rule`):

  - a path withdrawn: only the buckets that pointed at it are handed to the
    others, so only its flows move;
  - a path added: it takes buckets once they have been idle for --idle
    seconds, so no flow that is sending moves;
  - a prefix withdrawn everywhere: its route and group go, and the lookup
    falls through to the main table (no route there either).

It never speaks BGP and never touches zebra's routes. Every change is
printed. SIGTERM removes its rule, routes and nexthops.

  resfib.py [--table N] [--buckets N] [--idle S] [--interval S]
"""
import json
import signal
import subprocess
import sys
import time

NH_BASE = 77000  # nexthop ids: 77001.. paths, 77501.. groups (far above zebra's own)
GROUP_BASE = 77500


def ip(*args, check=True):
    r = subprocess.run(["ip", *args], capture_output=True, text=True)
    if check and r.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {r.stderr.strip()}")
    return r.stdout


def bgp_routes():
    """{prefix: sorted [(gateway, dev)]} of the main table's BGP routes."""
    out = {}
    for r in json.loads(ip("-j", "route", "show", "proto", "bgp") or "[]"):
        dst = r["dst"] if "/" in r["dst"] else r["dst"] + "/32"
        hops = [(h["gateway"], h["dev"]) for h in r.get("nexthops", []) if "gateway" in h]
        if not hops and "gateway" in r:
            hops = [(r["gateway"], r["dev"])]
        if hops:
            out[dst] = sorted(hops)
    return out


class Fib:
    def __init__(self, table, buckets, idle):
        self.table, self.buckets, self.idle = table, buckets, idle
        self.paths = {}   # (gateway, dev) -> nexthop id
        self.groups = {}  # prefix -> [group id, [(gateway, dev)]]

    def path_id(self, hop):
        if hop not in self.paths:
            used = set(self.paths.values())
            nid = next(i for i in range(NH_BASE + 1, GROUP_BASE) if i not in used)
            ip("nexthop", "replace", "id", str(nid), "via", hop[0], "dev", hop[1])
            self.paths[hop] = nid
        return self.paths[hop]

    def sync(self, want):
        for prefix, hops in want.items():
            members = "/".join(str(self.path_id(h)) for h in hops)
            have = self.groups.get(prefix)
            if have is None:
                used = {g[0] for g in self.groups.values()}
                gid = next(i for i in range(GROUP_BASE + 1, GROUP_BASE + 500) if i not in used)
                ip("nexthop", "replace", "id", str(gid), "group", members, "type", "resilient",
                   "buckets", str(self.buckets), "idle_timer", str(self.idle))
                ip("route", "replace", prefix, "table", str(self.table), "nhid", str(gid))
                self.groups[prefix] = [gid, hops]
                print(f"resfib: {prefix} via {', '.join(h[0] for h in hops)} "
                      f"(group {gid}, {self.buckets} buckets)", flush=True)
            elif have[1] != hops:
                ip("nexthop", "replace", "id", str(have[0]), "group", members, "type", "resilient")
                gone = [h[0] for h in have[1] if h not in hops]
                new = [h[0] for h in hops if h not in have[1]]
                have[1] = hops
                print(f"resfib: {prefix} via {', '.join(h[0] for h in hops)}"
                      + (f"; {', '.join(gone)} gone, its buckets to the others" if gone else "")
                      + (f"; {', '.join(new)} added, takes buckets idle {self.idle} s"
                         if new else ""), flush=True)
        for prefix in [p for p in self.groups if p not in want]:
            gid = self.groups.pop(prefix)[0]
            ip("route", "del", prefix, "table", str(self.table), check=False)
            ip("nexthop", "del", "id", str(gid), check=False)
            print(f"resfib: {prefix} withdrawn everywhere", flush=True)
        inuse = {h for g in self.groups.values() for h in g[1]}
        for hop in [h for h in self.paths if h not in inuse]:
            ip("nexthop", "del", "id", str(self.paths.pop(hop)), check=False)

    def clear(self):
        self.sync({})
        ip("rule", "del", "pref", "100", "lookup", str(self.table), check=False)


def main(argv):
    opts = {"--table": "100", "--buckets": "128", "--idle": "10", "--interval": "0.05"}
    if len(argv) % 2 or any(a not in opts for a in argv[::2]):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    opts.update(zip(argv[::2], argv[1::2]))
    try:
        table, buckets, idle = int(opts["--table"]), int(opts["--buckets"]), int(opts["--idle"])
        interval = float(opts["--interval"])
    except ValueError as e:
        print(f"resfib.py: {e}", file=sys.stderr)
        return 2
    fib = Fib(table, buckets, idle)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    ip("rule", "del", "pref", "100", "lookup", str(table), check=False)
    ip("rule", "add", "pref", "100", "lookup", str(table))
    print(f"resfib: table {table} looked up first; resilient groups of {buckets} buckets, "
          f"idle_timer {idle} s", flush=True)
    try:
        while not stop:
            try:
                fib.sync(bgp_routes())
            except (RuntimeError, ValueError) as e:
                print(f"resfib: {e} (tried again)", flush=True)
            time.sleep(interval)
    finally:
        fib.clear()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

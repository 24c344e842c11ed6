#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Print a running l4proxy's listeners, backends and stack drops, read through
DPDK telemetry (dpdk-telemetry.py -f PREFIX). Lists come back from l4proxy as
tables of columns, since DPDK 22.11 nests one level only; this turns them
back into rows. Exit 1 if no answer came.

Usage: l4proxy_stats.py FILE_PREFIX [POOL ...]   (default pool: every pool)"""
import json
import subprocess
import sys


def ask(prefix, command):
    out = subprocess.run(["dpdk-telemetry.py", "-f", prefix], input=command + "\n",
                         capture_output=True, text=True, timeout=30).stdout
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("{"):
            return json.loads(line).get(command.split(",")[0])
    return None


def rows(table, prefix=""):
    cols = {k[len(prefix):]: v for k, v in table.items()
            if k.startswith(prefix) and isinstance(v, list)}
    return [dict(zip(cols, vals)) for vals in zip(*cols.values())]


def main(prefix, pools):
    stats = ask(prefix, "/l4proxy/stats")
    if not stats:
        print("l4proxy_stats: no answer from /l4proxy/stats", file=sys.stderr)
        return 1
    for ls in rows(stats, "listener_"):
        print(f"  listener {ls['name']:10} port {ls['port']:<5} pool {ls['pool']:10} "
              f"conns {ls['conns']} active {ls['active']} refused {ls['refused']}")
    names = pools or [p["name"] for p in rows(ask(prefix, "/l4proxy/pools") or {})]
    for name in names:
        for b in rows(ask(prefix, f"/l4proxy/backends,{name}") or {}):
            print(f"  pool {name:10} backend {b['addr']:21} {b['state']:8} conns {b['conns']:<6} "
                  f"active {b['active']:<4} bytes down {b['bytes_down']}")
    drops = [f"{k[5:]} {v}" for k, v in stats.items() if k.startswith("drop_") and v]
    print("  stack drops: " + (", ".join(drops) if drops else "none"))
    return 0


if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] in ("-h", "--help"):
        print(__doc__)
        sys.exit(0 if len(sys.argv) > 1 else 2)
    sys.exit(main(sys.argv[1], sys.argv[2:]))

#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Benchmark figures as JSON, so runs can be compared and plotted: one object
per run with the benchmark's name, the command that made it, the machine,
the commit, its parameters, one object per result row (medians and every
round's samples where the benchmark keeps them) and its goals.

As a module: write(path, bench, command, params, rows, goals).
As a command (for the shell benchmarks): benchjson.py FILE BENCH COMMAND < TSV,
where the TSV's first line names the columns; numbers become numbers, and a
column whose name ends in _rounds holds a comma-separated list."""
import datetime
import json
import os
import platform
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def machine():
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "")
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "kernel": platform.release()}


def commit():
    r = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                       capture_output=True, text=True)
    return r.stdout.strip() if r.returncode == 0 else ""


def write(path, bench, command, params, rows, goals=None):
    doc = {
        "bench": bench,
        "command": command,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "commit": commit(),
        "machine": machine(),
        "params": params,
        "results": rows,
        "goals": goals or [],
    }
    with open(path, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")


def number(v):
    for conv in (int, float):
        try:
            return conv(v)
        except ValueError:
            pass
    return v


def main(argv):
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    path, bench, command = argv[1:]
    lines = [l.rstrip("\n").split("\t") for l in sys.stdin if l.strip()]
    head, body = lines[0], lines[1:]
    rows = [{k: [number(x) for x in v.split(",") if x] if k.endswith("_rounds") else number(v)
             for k, v in zip(head, r)} for r in body]
    write(path, bench, command, {}, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

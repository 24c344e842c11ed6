#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""plot.py JSON PNG - a benchmark's figures (benchjson.py's file) as a PNG
chart, drawn by gnuplot (Debian's gnuplot-nox):

  proxy  req/s and CPU per request of every contender, keep-alive and close
  scale  Mpps per worker count (pktbench, testpmd); l4proxy req/s per lcore count
  loss   seconds per impairment spec, riptide and Linux, each direction
  pps    Mpps per port pair, pktbench and testpmd

The benchmarks call it for --plot PNG. As a module: plot(json_path, png_path)."""
import json
import subprocess
import sys

GNUPLOT = "gnuplot"
HEAD = ('set terminal pngcairo size {w},{h} font "sans,10"\nset output "{png}"\n'
        'set style data histograms\nset style histogram clustered gap 1\n'
        'set style fill solid 0.85 border -1\nset boxwidth 0.9\nset grid ytics\n'
        'set key top left\nset xtics rotate by -20\nset yrange [0:*]\n'
        'set bmargin 6\n')


def block(name, rows):
    """A gnuplot inline data block: rows of (label, value...)."""
    lines = [f"${name} << EOD"]
    for r in rows:
        lines.append(" ".join(f'"{v}"' if isinstance(v, str) else f"{v:.6g}" for v in r))
    lines.append("EOD")
    return "\n".join(lines) + "\n"


def title(doc, what):
    """A panel's title; the run (command, date, commit) goes once, at the foot."""
    return (f'set title "{what}" noenhanced\n'
            f'set label 99 "{doc["command"]}   ({doc["date"][:16]} UTC, {doc["commit"]})" '
            'at screen 0.01, screen 0.02 font "sans,8" noenhanced\n')


def proxy(doc):
    rows = [r for r in doc["results"] if "proxy" in r and "mode" in r]
    names = sorted({r["proxy"] for r in rows})
    get = {(r["proxy"], r["mode"]): r for r in rows}
    data = [(n, get.get((n, "keepalive"), {}).get("rps", 0), get.get((n, "close"), {}).get("rps", 0),
             get.get((n, "keepalive"), {}).get("cpu_us", 0),
             get.get((n, "close"), {}).get("cpu_us", 0)) for n in names]
    quota = doc["params"].get("quota_pct")
    return (block("d", data) + "set multiplot layout 1,2\n" +
            title(doc, f"l4proxy and its peers at {quota} % of a core: capacity") +
            'set ylabel "req/s"\n'
            'plot $d using 2:xtic(1) title "keep-alive", "" using 3 title "close"\n' +
            title(doc, "CPU per request (from /proc)") + 'set ylabel "CPU us per request"\n'
            'plot $d using 4:xtic(1) title "keep-alive", "" using 5 title "close"\n'
            "unset multiplot\n")


def scale(doc):
    pkt = [r for r in doc["results"] if "workers" in r]
    px = [r for r in doc["results"] if "lcores" in r]
    s = ""
    panels = (1 if pkt else 0) + (1 if px else 0)
    s += f"set multiplot layout 1,{max(panels, 1)}\n"
    if pkt:
        s += block("w", [(str(r["workers"]), r["pktbench_mpps"], r["testpmd_mpps"]) for r in pkt])
        s += (title(doc, "packets per second by workers (net_null, io)") +
              'set ylabel "Mpps (median)"\nset xlabel "workers"\n'
              'plot $w using 2:xtic(1) title "pktbench", "" using 3 title "testpmd"\n')
    if px:
        lanes = sorted({r["lcores"] for r in px})
        get = {(r["lcores"], r["mode"]): r["rps"] for r in px}
        s += block("p", [(str(n), get.get((n, "keepalive"), 0), get.get((n, "close"), 0))
                         for n in lanes])
        # Since scale.sh offers several loads, a row's req/s is its capacity:
        # the best of the loads' medians.
        ylabel = ("req/s (capacity: best median over the loads)" if any("levels" in r for r in px)
                  else "req/s (median)")
        s += (title(doc, f"l4proxy by lcores, {doc['params'].get('quota_pct', '?')} % per lcore") +
              f'set ylabel "{ylabel}"\nset xlabel "lcores"\n'
              'plot $p using 2:xtic(1) title "keep-alive", "" using 3 title "close"\n')
    return s + "unset multiplot\n"


def loss(doc):
    # Seconds span three decades (a clean 0.05 s to a stalled 40 s): a log
    # scale; the specs are long: written downwards.
    s = ("set logscale y\nset yrange [0.01:*]\nset xtics rotate by -90\nset bmargin 26\n"
         "set multiplot layout 1,2\n")
    for direction in ("send", "recv"):
        rows = [r for r in doc["results"] if r.get("direction") == direction]
        s += block(direction, [(r["spec"], r["riptide_s"], r["linux_s"]) for r in rows])
        who = "riptide -> Linux" if direction == "send" else "Linux -> riptide"
        s += (title(doc, f"{who}: seconds per transfer (median)") + 'set ylabel "seconds"\n'
              f'plot ${direction} using 2:xtic(1) title "riptide", "" using 3 title "Linux"\n')
    return s + "unset multiplot\n"


def pps(doc):
    rows = doc["results"]
    return (block("d", [(r["pair"], r["pktbench_mpps"], r["testpmd_mpps"]) for r in rows]) +
            title(doc, "packets per second by port pair") + 'set ylabel "Mpps (median)"\n'
            'plot $d using 2:xtic(1) title "pktbench", "" using 3 title "testpmd"\n')


CHARTS = {"proxy": (proxy, 1400, 560), "scale": (scale, 1400, 560), "loss": (loss, 1600, 900),
          "pps": (pps, 900, 560)}


def plot(json_path, png_path):
    with open(json_path) as f:
        doc = json.load(f)
    if doc["bench"] not in CHARTS:
        raise ValueError(f"plot: no chart for the {doc['bench']} benchmark "
                         f"(charts: {', '.join(sorted(CHARTS))})")
    fn, w, h = CHARTS[doc["bench"]]
    script = HEAD.format(w=w, h=h, png=png_path) + fn(doc)
    r = subprocess.run([GNUPLOT], input=script, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"plot: gnuplot failed: {r.stderr.strip()}")


def main():
    if len(sys.argv) != 3 or sys.argv[1] in ("-h", "--help"):
        print(__doc__)
        return 0 if len(sys.argv) == 2 else 2
    try:
        plot(sys.argv[1], sys.argv[2])
    except (ValueError, RuntimeError, OSError, KeyError) as e:
        print(e, file=sys.stderr)
        return 1
    print(f"plot: {sys.argv[2]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

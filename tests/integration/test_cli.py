# SPDX-License-Identifier: BSD-3-Clause
"""Every app reads addresses the same strict way (tcpstack/ipv4_addr.h):
trailing junk, a bad prefix or port is refused with exit status 2 and a
message that names the flag, before any port is touched."""
import os

import pytest

from conftest import BUILD, ROOT, run, unique

APPS = {name: os.path.join(BUILD, "apps", name, name) for name in ("echo", "l4proxy", "pktbench")}
APPS["tcp_bench"] = os.path.join(BUILD, "apps", "bench", "tcp_bench")
PROXY_OK = ["--ip", "198.18.0.2/24", "--listen", "80", "--backend", "198.18.0.3:80"]


@pytest.mark.parametrize("app,args,message", [
    ("echo", ["--ip", "198.18.0.2/24junk"], "--ip '198.18.0.2/24junk'"),
    ("echo", ["--ip", "198.18.0.2/33"], "--ip '198.18.0.2/33'"),
    ("echo", ["--ip", "198.18.0.2/24", "--gateway", "198.18.0.1x"], "--gateway '198.18.0.1x'"),
    ("echo", ["--ip", "198.18.0.2/24", "--tcp-client", "198.18.0.1:80x"],
     "--tcp-client '198.18.0.1:80x'"),
    ("echo", ["--ip", "198.18.0.2/24", "--hello", "198.18.0.1:0"], "--hello '198.18.0.1:0'"),
    ("echo", ["--ip", "198.18.0.2/24", "--udp-port", "7x"], "--udp-port '7x'"),
    ("l4proxy", ["--ip", "198.18.0.2/24junk", "--listen", "80", "--backend", "198.18.0.3:80"],
     "--ip '198.18.0.2/24junk'"),
    ("l4proxy", ["--ip", "198.18.0.2/24", "--listen", "80", "--backend", "1.2.3.4:80x"],
     "--backend: backend '1.2.3.4:80x' is not ADDR:PORT"),
    ("l4proxy", [*PROXY_OK, "--gateway", "198.18.0.1.5"], "--gateway '198.18.0.1.5'"),
    ("pktbench", ["--mode", "txonly", "--dst-ip", "198.18.0.2junk"], "--dst-ip '198.18.0.2junk'"),
    ("pktbench", ["--mode", "txonly", "--src-ip", "198.018.0.1"], "--src-ip '198.018.0.1'"),
])
def test_bad_address_refused_naming_the_flag(app, args, message):
    r = run([APPS[app], "-l", "0", "--no-pci", "--no-huge", "-m", "128",
             f"--file-prefix={unique('rtcli')}", "--vdev", "net_null0", "--", *args],
            check=False)
    assert r.returncode == 2, r.stdout + r.stderr
    assert message in r.stderr, r.stderr


@pytest.mark.parametrize("app,args", [
    ("echo", ["--ip", "198.18.0.2/24", "--duration", "0.3"]),
    ("l4proxy", [*PROXY_OK, "--health-interval", "0", "--duration", "0.3"]),
    ("pktbench", ["--mode", "rxonly", "--duration", "0.3", "--stats-interval", "0"]),
])
def test_dash_m_without_enough_hugepages_falls_back_and_says_so(app, args):
    """-m 400 on a machine without 400 MB of free hugepages used to end in
    'EAL: Permission denied'; now the app runs with --no-huge and says why
    and how to get hugepages, in one line. With enough free, it says nothing.
    (400: l4proxy's 4 KiB-page run needs between 300 and 320 MB since the
    scoreboard and ACK state grew in the sixth session.)"""
    enough = run([os.path.join(ROOT, "scripts", "hugepages.sh"), "available", "400"],
                 check=False).returncode == 0
    r = run([APPS[app], "-l", "0", "--no-pci", "-m", "400", f"--file-prefix={unique('rtcli')}",
             "--vdev", "net_null0", "--", *args], check=False, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    note = f"{app}: -m 400 wants 400 MB of hugepages and "
    if enough:
        assert note not in r.stdout, r.stdout
    else:
        lines = [l for l in r.stdout.splitlines() if l.startswith(note)]
        assert len(lines) == 1 and lines[0].endswith("scripts/hugepages.sh reserve 1G"), r.stdout


@pytest.mark.parametrize("app", sorted(APPS))
def test_version_names_riptide_and_dpdk_and_help_lists_it(app):
    r = run([APPS[app], "--version"])
    assert r.stdout.startswith(f"{app}: riptide 0.1.0 (DPDK 22.11"), r.stdout
    r = run([APPS[app], "--help"])
    assert "--version" in r.stdout, r.stdout


@pytest.mark.parametrize("app,args,message", [
    # Junk used to become 0 (strtoul(optarg, NULL, ...)); -5 used to run for ever.
    ("echo", ["--ip", "198.18.0.2/24", "--max-conns", "12x"],
     "echo: --max-conns '12x': a whole number 1..1000000"),
    ("echo", ["--ip", "198.18.0.2/24", "--max-conns", "-1"], "--max-conns '-1'"),
    ("echo", ["--ip", "198.18.0.2/24", "--bytes", "1e6"], "--bytes '1e6': a whole number"),
    ("echo", ["--ip", "198.18.0.2/24", "--time-wait", "99999999999"], "--time-wait '99999999999'"),
    ("echo", ["--ip", "198.18.0.2/24", "--duration", "-5"], "--duration '-5': seconds"),
    ("echo", ["--ip", "198.18.0.2/24", "--http-body", "lots"], "--http-body 'lots'"),
    ("l4proxy", [*PROXY_OK, "--duration", "-5"], "l4proxy: --duration '-5': seconds"),
    ("l4proxy", [*PROXY_OK, "--drain-timeout", "ten"], "l4proxy: --drain-timeout 'ten': seconds"),
    ("l4proxy", [*PROXY_OK, "--stats-interval", "1s"], "l4proxy: --stats-interval '1s': seconds"),
    # Negatives used to wrap (strtoul) and values above 2^32 to be cut to 32 bits.
    ("l4proxy", [*PROXY_OK, "--max-conns", "-1"], "l4proxy: --max-conns '-1': a whole number"),
    ("l4proxy", [*PROXY_OK, "--max-rate", "4294967297"], "--max-rate '4294967297': a whole"),
    ("l4proxy", [*PROXY_OK, "--connect-timeout", "0"],
     "l4proxy: --connect-timeout '0': a whole number 1..600000"),
    ("l4proxy", [*PROXY_OK, "--rise", "lots"], "l4proxy: --rise 'lots': a whole number 1..100"),
    ("l4proxy", [*PROXY_OK, "--fall", "0"], "l4proxy: --fall '0': a whole number 1..100"),
    ("l4proxy", [*PROXY_OK, "--listen", "80x"], "l4proxy: --listen '80x': a whole number"),
    ("l4proxy", [*PROXY_OK, "--tx-hold", "1001"], "l4proxy: --tx-hold '1001': a whole number"),
    ("l4proxy", [*PROXY_OK, "--rx-coalesce", "1001"],
     "l4proxy: --rx-coalesce '1001': a whole number"),
    ("l4proxy", [*PROXY_OK, "--rx-coalesce-after", "0"],
     "l4proxy: --rx-coalesce-after '0': a whole number"),
    ("l4proxy", [*PROXY_OK, "stray"], "l4proxy: 'stray': not a flag"),
    ("tcp_bench", ["--ip", "198.18.0.2/24", "--server", "198.18.0.1:7", "--mode", "rr",
                   "--seconds", "-1"], "tcp_bench: --seconds '-1': seconds"),
    ("tcp_bench", ["--ip", "198.18.0.2/24", "--server", "198.18.0.1:7x", "--mode", "rr"],
     "tcp_bench: --server '198.18.0.1:7x'"),
    ("tcp_bench", ["--ip", "198.18.0.2/24", "--server", "198.18.0.1:7", "--mode", "ping"],
     "tcp_bench: --mode 'ping': rr, bulk or conn"),
    ("tcp_bench", ["--ip", "198.18.0.2/24", "--mode", "rr"],
     "tcp_bench: --ip, --server and --mode are required"),
])
def test_bad_number_refused_naming_the_flag(app, args, message):
    r = run([APPS[app], "-l", "0", "--no-pci", "--no-huge", "-m", "128",
             f"--file-prefix={unique('rtcli')}", "--vdev", "net_null0", "--", *args],
            check=False)
    assert r.returncode == 2, r.stdout + r.stderr
    assert message in r.stderr, r.stderr

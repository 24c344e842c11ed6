# SPDX-License-Identifier: BSD-3-Clause
"""Every app reads addresses the same strict way (tcpstack/ipv4_addr.h):
trailing junk, a bad prefix or port is refused with exit status 2 and a
message that names the flag, before any port is touched."""
import os

import pytest

from conftest import BUILD, run, unique

APPS = {name: os.path.join(BUILD, "apps", name, name) for name in ("echo", "l4proxy", "pktbench")}
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

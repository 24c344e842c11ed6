# SPDX-License-Identifier: BSD-3-Clause
"""The README's main job, scripts/demo.sh, run whole on both of its ports:
AF_XDP on a veth (the default) and net_tap on the bridge (--tap). The demo
checks its own claims and ends with 'demo: passed (port: ...)'; this test
also reads the claims back from its output, so a demo that stopped checking
would still be caught."""
import os
import re

import pytest

from conftest import ROOT, is_root, run

DEMO = os.path.join(ROOT, "scripts", "demo.sh")


@pytest.mark.parametrize("args,port", [([], "net_af_xdp on a veth"),
                                       (["--tap"], "net_tap on the bridge")])
def test_demo_runs_and_checks_itself(args, port):
    if not is_root():
        pytest.skip("the demo needs root")
    r = run([DEMO, *args], check=False, timeout=600)
    out = r.stdout + r.stderr
    print(out)
    assert r.returncode == 0, out[-4000:]
    assert out.rstrip().endswith(f"demo: passed (port: {port})"), out[-2000:]
    answers = re.findall(r"^hello from backend (\d)$", r.stdout, re.M)
    assert len(answers) == 6 and set(answers) == {"1", "2", "3"}, r.stdout
    assert "requests: 100 answered 200, 0 failed" in r.stdout
    assert "198.18.100.12:80 is down" in r.stdout
    assert re.search(r"Requests/sec:\s+[1-9]", r.stdout), r.stdout
    assert "tcp connections at exit: 0 open" in r.stdout
    # everything it made is gone
    assert not re.search(r"^rtdemo\d+-", run(["ip", "netns", "list"]).stdout, re.M)


def test_demo_refuses_unknown_arguments():
    r = run([DEMO, "--bogus"], check=False)
    assert r.returncode == 2 and "unknown argument '--bogus'" in r.stderr

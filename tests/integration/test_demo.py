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
    # What a demo killed outright (SIGKILL: no cleanup) would leave: the
    # namespaces of a pid that is not running (above pid_max's default).
    stale = [f"rtdemo{DEAD_PID}-hub", f"rtdemo{DEAD_PID}-c"]
    for n in stale:
        run(["ip", "netns", "add", n])
    try:
        before = set(demo_namespaces())
        r = run([DEMO, *args], check=False, timeout=600)
    finally:
        after = set(demo_namespaces())
        for n in stale:
            run(["ip", "netns", "del", n], check=False)
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
    # everything it made is gone, and so is what the killed demo left (a
    # demo still running would be left alone: the pid is checked)
    assert not after - before, after
    assert f"removing what an earlier demo (pid {DEAD_PID}, no longer running) left behind" \
        in r.stdout
    assert not after & set(stale), after


DEAD_PID = 4194303


def demo_namespaces():
    return re.findall(r"^(rtdemo\d+-\S+)", run(["ip", "netns", "list"]).stdout, re.M)


def test_demo_refuses_unknown_arguments():
    r = run([DEMO, "--bogus"], check=False)
    assert r.returncode == 2 and "unknown argument '--bogus'" in r.stderr

# SPDX-License-Identifier: BSD-3-Clause
"""Fixtures for riptide's integration tests: network namespaces, DPDK
processes (unique --file-prefix, page files removed afterwards) and waiting
for interfaces. Every fixture cleans up in its teardown, which pytest runs
even when the test fails.

Run with Debian's interpreter: /usr/bin/python3 -m pytest tests/integration
"""
import glob
import itertools
import os
import shutil
import signal
import subprocess
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("RIPTIDE_BUILD", os.path.join(ROOT, "build-asan"))
_seq = itertools.count(1)
# LeakSanitizer's named third-party exceptions, also when pytest is run by
# hand rather than through scripts/test.sh (which sets the same).
os.environ.setdefault("LSAN_OPTIONS", f"suppressions={ROOT}/tests/sanitizers/lsan.supp:"
                      "print_suppressions=0")


def unique(prefix):
    """A name unique to this test run, short enough for an interface (15)."""
    return f"{prefix}{os.getpid() % 100000}{next(_seq)}"[:15]


class CommandFailed(subprocess.CalledProcessError):
    """A failed command whose message carries the end of its output, so that a
    CI log shows why (the plain error names only the command)."""

    def __str__(self):
        tail = lambda t: (t or "")[-2000:].strip()
        return (f"{super().__str__()}\n--- stdout (end) ---\n{tail(self.stdout)}"
                f"\n--- stderr (end) ---\n{tail(self.stderr)}")


def run(cmd, check=True, timeout=60, **kw):
    """Run a command (list or shell string); output captured as text."""
    r = subprocess.run(cmd, shell=isinstance(cmd, str), capture_output=True, text=True,
                       timeout=timeout, **kw)
    if check and r.returncode != 0:
        raise CommandFailed(r.returncode, r.args, r.stdout, r.stderr)
    return r


# What a sanitizer prints when it finds something (ASan, LSan, UBSan).
SANITIZER_MARKS = ("AddressSanitizer", "LeakSanitizer", "UndefinedBehaviorSanitizer",
                   "runtime error:")


def assert_clean_exit(rc, out, expect_rc=0, what="process"):
    """A riptide process ended as it should: exit status expect_rc (None: any),
    and no sanitizer report anywhere in its output."""
    found = [m for m in SANITIZER_MARKS if m in out]
    assert not found, f"{what}: sanitizer report ({found[0]}):\n{out[-6000:]}"
    if expect_rc is not None:
        assert rc == expect_rc, f"{what} exited with {rc}, expected {expect_rc}:\n{out[-3000:]}"


def is_root():
    return os.geteuid() == 0


def eal_memory_args(mb=256):
    """EAL memory flags: hugepages when the machine has them, else --no-huge."""
    ok = run([os.path.join(ROOT, "scripts", "hugepages.sh"), "available", str(mb)],
             check=False).returncode == 0
    return ["-m", str(mb)] if ok else ["--no-huge", "-m", str(mb)]


def wait_until(cond, timeout, what, alive=None):
    """Poll cond() until it is true; fail after timeout seconds, or at once if
    the process alive (a Popen) has exited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        if alive is not None and alive.poll() is not None:
            raise AssertionError(f"exited (status {alive.returncode}) before: {what}")
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout} s: {what}")


def wait_listening(netns, port, udp=False, timeout=10.0):
    """Wait until a socket in namespace netns (a name) listens on port."""
    flags = "-Hlun" if udp else "-Hltn"
    wait_until(lambda: run(["ip", "netns", "exec", netns, "ss", flags, f"sport = :{port}"],
                           check=False).stdout.strip() != "", timeout,
               f"a listener on port {port} in {netns}")


def wait_linux_closed(netns, port, timeout=15.0):
    """Wait until Linux in namespace netns holds no TCP connection to or from
    port that is still open or closing (TIME_WAIT is done: it has seen the
    peer's FIN and acknowledged it)."""
    states = ["established", "syn-sent", "syn-recv", "fin-wait-1", "fin-wait-2", "close-wait",
              "last-ack", "closing"]
    argv = ["ip", "netns", "exec", netns, "ss", "-Htn"]
    for st in states:
        argv += ["state", st]
    argv += [f"( sport = :{port} or dport = :{port} )"]
    wait_until(lambda: run(argv, check=False).stdout.strip() == "", timeout,
               f"Linux's connections on port {port} closed")


def wait_for_iface(name, netns=None, timeout=15.0):
    """Wait until an interface exists (in the root namespace or in netns)."""
    cmd = ["ip", "link", "show", "dev", name]
    if netns:
        cmd = ["ip", "-n", netns] + cmd[1:]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if run(cmd, check=False).returncode == 0:
            return
        time.sleep(0.05)
    raise TimeoutError(f"interface {name} did not appear within {timeout}s")


class Netns:
    def __init__(self, name):
        self.name = name
        run(["ip", "netns", "add", name])
        run(["ip", "-n", name, "link", "set", "lo", "up"])

    def exec(self, cmd, check=True, timeout=60):
        argv = ["ip", "netns", "exec", self.name]
        argv += ["sh", "-c", cmd] if isinstance(cmd, str) else list(cmd)
        return run(argv, check=check, timeout=timeout)

    def popen(self, cmd, **kw):
        argv = ["ip", "netns", "exec", self.name] + list(cmd)
        return subprocess.Popen(argv, **kw)

    def destroy(self):
        pids = run(["ip", "netns", "pids", self.name], check=False).stdout.split()
        for pid in pids:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
        run(["ip", "netns", "del", self.name], check=False)


@pytest.fixture(scope="session", autouse=True)
def no_dpdk_leftovers():
    """The EAL leaves /var/run/dpdk/<prefix> behind even on a clean exit, and
    a killed process leaves its page files: remove every rt* one at the end."""
    yield
    for d in glob.glob("/var/run/dpdk/rt*"):
        shutil.rmtree(d, ignore_errors=True)
    for f in glob.glob("/dev/hugepages*/rt*map_*"):
        try:
            os.unlink(f)
        except OSError:
            pass


@pytest.fixture
def netns():
    """Factory: netns() makes a namespace; all are removed at teardown."""
    if not is_root():
        pytest.skip("network namespaces need root")
    made = []

    def make(prefix="rtns"):
        ns = Netns(unique(prefix))
        made.append(ns)
        return ns

    yield make
    for ns in reversed(made):
        ns.destroy()


@pytest.fixture
def veth():
    """Factory: veth(ns_a, addr_a, ns_b, addr_b) joins two namespaces.
    Deleting either namespace deletes the pair, so teardown is belt and
    braces for pairs left in the root namespace."""
    made = []

    def make(ns_a, addr_a, ns_b, addr_b):
        a, b = unique("rva"), unique("rvb")
        run(["ip", "link", "add", a, "type", "veth", "peer", "name", b])
        made.append(a)
        for ns, ifc, addr in ((ns_a, a, addr_a), (ns_b, b, addr_b)):
            run(["ip", "link", "set", ifc, "netns", ns.name])
            run(["ip", "-n", ns.name, "addr", "add", addr, "dev", ifc])
            run(["ip", "-n", ns.name, "link", "set", ifc, "up"])
        return a, b

    yield make
    for a in made:
        run(["ip", "link", "del", a], check=False)


class DpdkProcess:
    """A DPDK program run with a unique --file-prefix; stop() ends it and
    removes whatever it left in hugetlbfs and /var/run/dpdk."""

    def __init__(self, argv, prefix, log_path):
        self.prefix = prefix
        self.log_path = log_path
        self.log = open(log_path, "w+b")
        # Line-buffered stdout, so waiting for a line works with a log file.
        # riptide's own programs line-buffer themselves: stdbuf's preload
        # would come before the sanitizer runtime, which ASan refuses.
        # (ours may come after a wrapper such as `ip netns exec`)
        build = os.path.abspath(BUILD)
        if not any(os.path.abspath(a).startswith(build) for a in argv if os.sep in a):
            argv = ["stdbuf", "-oL", "-eL"] + argv
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True)

    def output(self):
        self.log.flush()
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def wait_for_output(self, pattern, timeout=30.0):
        """Wait until the output contains pattern (a plain string)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if pattern in self.output():
                return
            if not self.alive():
                raise RuntimeError(f"process exited before printing {pattern!r}:\n"
                                   f"{self.output()[-3000:]}")
            time.sleep(0.05)
        raise TimeoutError(f"no {pattern!r} within {timeout}s:\n{self.output()[-3000:]}")

    def alive(self):
        return self.proc.poll() is None

    def stop(self, stdin_line=None, sig=signal.SIGINT, timeout=20, expect_rc=0):
        """End the process: a line on stdin (testpmd's 'press enter') or a
        signal; SIGKILL if it does not exit in time. Returns its output, after
        checking its exit status (expect_rc; None: any) and that no sanitizer
        reported anything (a process that had to be killed fails the check)."""
        if self.proc.poll() is None:
            try:
                if stdin_line is not None:
                    self.proc.stdin.write(stdin_line)
                    self.proc.stdin.flush()
                else:
                    os.killpg(self.proc.pid, sig)
                self.proc.wait(timeout=timeout)
            except (subprocess.TimeoutExpired, BrokenPipeError, ProcessLookupError):
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait()
        self.cleanup_files()
        out = self.output()
        assert_clean_exit(self.proc.returncode, out, expect_rc, what=self.prefix)
        return out

    def cleanup_files(self):
        for d in glob.glob("/dev/hugepages*") + glob.glob("/mnt/huge*"):
            for f in glob.glob(os.path.join(d, self.prefix + "map_*")):
                os.unlink(f)
        shutil.rmtree(os.path.join("/var/run/dpdk", self.prefix), ignore_errors=True)


@pytest.fixture
def dpdk_proc(tmp_path):
    """Factory: dpdk_proc(argv_before_prefix, app_args) starts a DPDK program
    with a unique --file-prefix (EAL args first, then '--' and app_args)."""
    if not is_root():
        pytest.skip("DPDK PMDs used here need root")
    procs = []

    def start(eal_argv, app_args=()):
        prefix = unique("rtpmd")
        argv = list(eal_argv) + [f"--file-prefix={prefix}"]
        if app_args:
            argv += ["--"] + list(app_args)
        p = DpdkProcess(argv, prefix, str(tmp_path / f"{prefix}.log"))
        procs.append(p)
        return p

    yield start
    for p in procs:
        p.stop(sig=signal.SIGKILL, timeout=5, expect_rc=None)


@pytest.fixture
def hugepages():
    """Hugepages for a test that cannot run without them (virtio-user shares
    its memory with vhost through file descriptors): the machine's, or 512 MB
    reserved here and released afterwards. Yields the EAL memory arguments.
    As root a failed reservation fails the test: it is not skipped unseen."""
    if not is_root():
        pytest.skip("hugepages need root")
    hp = os.path.join(ROOT, "scripts", "hugepages.sh")
    reserved = False
    if "--no-huge" in eal_memory_args(512):
        r = run([hp, "reserve", "2G"], check=False)
        assert r.returncode == 0 and "--no-huge" not in eal_memory_args(512), \
            f"could not reserve hugepages: {r.stdout}{r.stderr}"
        reserved = True
    yield eal_memory_args(512)
    if reserved:
        run([hp, "release"], check=False)

# SPDX-License-Identifier: BSD-3-Clause
"""riptide as a library others build on: `meson install` into a staging
directory puts libriptide.so, the public headers under include/riptide/ and
libriptide.pc in place; a program outside the tree (tests/install/
echo_server.c) builds with nothing but pkg-config and -Wall -Wextra -Werror,
and echoes 1 MB on each of 8 connections of a Linux peer, byte-exact. The
library exports what the public headers declare and nothing else."""
import glob
import os
import signal
import subprocess

from conftest import BUILD, DpdkProcess, eal_memory_args, run, unique, wait_for_iface

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PY = "/usr/bin/python3"

ECHO_CLIENTS = r"""
import os, socket, sys, threading
addr, port = sys.argv[1], int(sys.argv[2])
bad = []
def one(i):
    data = os.urandom(1 << 20)
    s = socket.create_connection((addr, port), timeout=30)
    def send():
        s.sendall(data); s.shutdown(socket.SHUT_WR)
    t = threading.Thread(target=send); t.start()
    got = bytearray()
    while True:
        d = s.recv(65536)
        if not d: break
        got += d
    t.join()
    if bytes(got) != data: bad.append((i, len(got)))
ts = [threading.Thread(target=one, args=(i,)) for i in range(8)]
for t in ts: t.start()
for t in ts: t.join()
print("echoed 8 bad %r" % bad)
"""


def install(tmp_path):
    dest = tmp_path / "stage"
    run(["meson", "install", "-C", BUILD, "--destdir", str(dest), "--no-rebuild", "--quiet"],
        timeout=300)
    pcs = glob.glob(str(dest / "usr/local/lib/*/pkgconfig/libriptide.pc"))
    assert pcs, f"no libriptide.pc under {dest}"
    return dest, os.path.dirname(pcs[0])


def test_installed_library_builds_and_runs_an_out_of_tree_program(netns, tmp_path):
    dest, pcdir = install(tmp_path)
    inc = dest / "usr/local/include/riptide"
    for h in ("stack_host.h", "tcp.h", "ex_slab.h", "ex_executor.h", "dp_port.h"):
        assert (inc / h).is_file(), h
    for h in ("tcp_priv.h", "stack_priv.h", "ex_priv.h"):
        assert not (inc / h).exists(), f"private header {h} installed"
    libdir = os.path.dirname(pcdir)
    so = os.path.join(libdir, "libriptide.so")
    exported = run(["nm", "-D", "--defined-only", so]).stdout
    names = {line.split()[-1].split("@")[0] for line in exported.splitlines() if " T " in line}
    assert {"stack_host_up", "tcp_listen", "ex_spawn_slab", "dp_port_init"} <= names
    assert not names & {"tcp_input", "tcp_output", "udp_attach", "ex_spawn_local"}, \
        "stack-internal entry points exported"
    # The installed .pc, its prefix moved into the staging directory (what
    # DESTDIR staging means); libdpdk's own .pc is the system's.
    with open(os.path.join(pcdir, "libriptide.pc")) as f:
        pc = f.read()
    assert pc.startswith("prefix=/usr/local\n"), pc
    (tmp_path / "pc").mkdir()
    (tmp_path / "pc" / "libriptide.pc").write_text(
        pc.replace("prefix=/usr/local", f"prefix={dest}/usr/local", 1))
    env = dict(os.environ, PKG_CONFIG_PATH=str(tmp_path / "pc"))
    flags = run(["pkg-config", "--cflags", "--libs", "libriptide"], env=env).stdout.split()
    # A sanitizer build's library needs the sanitizer runtime in the program.
    undefined = run(["nm", "-D", "--undefined-only", so]).stdout
    san = ["-fsanitize=address,undefined"] if "__asan_" in undefined else []
    exe = str(tmp_path / "echo_server")
    run(["cc", "-std=gnu11", "-Wall", "-Wextra", "-Werror", *san,
         os.path.join(ROOT, "tests/install/echo_server.c"), "-o", exe, *flags], env=env)

    ns = netns()
    ifc = unique("rte")
    prefix = unique("rtin")
    # The harness runs a program from outside the build under stdbuf (an
    # LD_PRELOAD), which a sanitizer runtime must be told to accept.
    asan = os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0"
    argv = ["ip", "netns", "exec", ns.name, "env", f"LD_LIBRARY_PATH={libdir}",
            f"ASAN_OPTIONS={asan}", exe, "-l", "0",
            "--no-pci", *eal_memory_args(), f"--file-prefix={prefix}",
            f"--vdev=net_tap0,iface={ifc}", "--", "198.18.76.2/24", "7"]
    proc = DpdkProcess(argv, prefix, str(tmp_path / "echo_server.log"))
    try:
        wait_for_iface(ifc, netns=ns.name)
        ns.exec(f"sysctl -qw net.ipv6.conf.{ifc}.disable_ipv6=1; "
                f"ip addr add 198.18.76.1/24 dev {ifc}; ip link set {ifc} up")
        proc.wait_for_output("echo_server: listening on 7")
        out = ns.exec([PY, "-c", ECHO_CLIENTS, "198.18.76.2", "7"], timeout=180).stdout
        assert "echoed 8 bad []" in out, out
        out = proc.stop(sig=signal.SIGINT)
        assert "echo_server: accepted 8" in out, out
        assert "echo_server: all mbufs returned to the pool" in out, out
    finally:
        proc.stop(sig=signal.SIGKILL, timeout=5, expect_rc=None)

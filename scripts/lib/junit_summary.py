#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Count test cases across JUnit XML files (meson's merged gtest log,
pytest's --junitxml, and test.sh's own checks), print each failing test's
name, and end with the line 'N passed, N failed[, N skipped]'.

Usage: junit_summary.py [--runner LABEL:STATUS:FILE ...] [FILE ...]

--runner says that the runner LABEL exited with STATUS and wrote FILE. A
runner that exited non-zero while FILE shows no failure (a binary that
crashed or timed out, a runner that died) counts as one failed test, so a
crash is never summed up as a pass. A missing or unreadable FILE counts as
one failed test too. Exit 1 if anything failed."""
import sys
import xml.etree.ElementTree as ET


def count(path):
    """(passed, failed names, skipped) of one file; None if unreadable."""
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as e:
        print(f"junit: cannot read {path}: {e}")
        return None
    passed = skipped = 0
    failures = []
    for case in root.iter("testcase"):
        name = f"{case.get('classname', '')}.{case.get('name', '')}".strip(".")
        if case.find("failure") is not None or case.find("error") is not None:
            failures.append(name)
        elif case.find("skipped") is not None:
            skipped += 1
        else:
            passed += 1
    return passed, failures, skipped


def main(argv):
    files, runners = [], []
    it = iter(argv)
    for a in it:
        if a == "--runner":
            label, status, path = next(it).split(":", 2)
            runners.append((label, int(status), path))
            files.append(path)
        else:
            files.append(a)
    passed = skipped = 0
    failures = []
    seen = {}
    for path in files:
        if path in seen:
            continue
        r = count(path)
        seen[path] = r
        if r is None:
            failures.append(f"(results missing: {path})")
            continue
        passed += r[0]
        failures += r[1]
        skipped += r[2]
    for label, status, path in runners:
        r = seen.get(path)
        if status != 0 and r is not None and not r[1]:
            failures.append(f"({label} exited with status {status} and no failing test "
                            f"in {path}: a crash, a timeout or a runner error)")
    for name in failures:
        print(f"FAILED: {name}")
    line = f"{passed} passed, {len(failures)} failed"
    if skipped:
        line += f", {skipped} skipped"
    print(line)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Count test cases across JUnit XML files (meson's merged gtest log,
pytest's --junitxml, and test.sh's own checks), print each failing test's
name, and end with the line 'N passed, N failed[, N skipped]'.
Exit 1 if anything failed or a file is missing or unreadable."""
import sys
import xml.etree.ElementTree as ET


def main(paths):
    passed = failed = skipped = 0
    failures = []
    broken = False
    for path in paths:
        try:
            root = ET.parse(path).getroot()
        except (OSError, ET.ParseError) as e:
            print(f"junit: cannot read {path}: {e}")
            failures.append(f"(results missing: {path})")
            broken = True
            continue
        for case in root.iter("testcase"):
            name = f"{case.get('classname', '')}.{case.get('name', '')}".strip(".")
            if case.find("failure") is not None or case.find("error") is not None:
                failed += 1
                failures.append(name)
            elif case.find("skipped") is not None:
                skipped += 1
            else:
                passed += 1
    for name in failures:
        print(f"FAILED: {name}")
    if broken:
        failed += 1
    line = f"{passed} passed, {failed} failed"
    if skipped:
        line += f", {skipped} skipped"
    print(line)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

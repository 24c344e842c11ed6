#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Check every tracked C/C++ file against .clang-format; write one JUnit
test case per file to the path given, print the unformatted ones."""
import subprocess
import sys
import xml.etree.ElementTree as ET


def main(out):
    files = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.c", "*.h", "*.cc"], capture_output=True,
                           text=True, check=True).stdout.split()
    suite = ET.Element("testsuite", name="format")
    bad = 0
    for f in files:
        case = ET.SubElement(suite, "testcase", classname="format", name=f)
        r = subprocess.run(["clang-format", "--dry-run", "-Werror", f], capture_output=True,
                           text=True)
        if r.returncode != 0:
            bad += 1
            ET.SubElement(case, "failure", message="not clang-formatted").text = r.stderr[-2000:]
            print(f"not formatted: {f} (fix: clang-format -i {f})")
    ET.ElementTree(suite).write(out)
    print(f"format: {len(files) - bad} of {len(files)} files formatted")


if __name__ == "__main__":
    main(sys.argv[1])

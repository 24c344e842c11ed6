#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""count-lines.py FILE... - lines of code in C files: not blank and not only
comment (block comments, // comments, or the inside of a /* */ block), the
way cloc counts them. Prints one line per file and, for two files, the
ratio of the first to the second."""
import re
import sys


def code_lines(path):
    with open(path) as f:
        text = f.read()
    # Keep the newlines of block comments, blank their text.
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    text = re.sub(r"//[^\n]*", "", text)
    return sum(1 for line in text.splitlines() if line.strip())


def main():
    counts = [(p, code_lines(p)) for p in sys.argv[1:]]
    for p, n in counts:
        print(f"{n:6d}  {p}")
    if len(counts) == 2:
        print(f"ratio {counts[0][1] / counts[1][1]:.2f}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""List C functions by length, longest first.

A function is a definition whose body opens with '{' alone at column 0 and
closes with '}' at column 0 (the house layout). Its length counts the lines
from the line after the signature's last line up to the closing brace, both
braces included.

  scripts/func_lengths.py [--over N] [--top N] DIR_OR_FILE...

Exit status is 1 when --over is given and some function is longer than N.
"""
import argparse
import os
import re
import sys

NAME = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*\(")


def c_files(paths):
    for p in paths:
        if os.path.isfile(p):
            yield p
            continue
        for root, dirs, files in os.walk(p):
            dirs.sort()
            for f in sorted(files):
                if f.endswith(".c"):
                    yield os.path.join(root, f)


def functions(path):
    with open(path, encoding="utf-8", errors="replace") as fh:
        lines = fh.read().split("\n")
    for i, line in enumerate(lines):
        if line != "{":
            continue
        # Walk back to the line that names the function.
        j = i - 1
        name = None
        while j >= 0 and j >= i - 8 and lines[j].strip():
            m = NAME.search(lines[j])
            if m and not lines[j].startswith((" ", "\t")):
                name = m.group(1)
                break
            j -= 1
        if name is None:
            continue
        k = i + 1
        while k < len(lines) and lines[k] != "}":
            k += 1
        yield name, i + 1, k - i + 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("paths", nargs="+")
    ap.add_argument("--over", type=int, default=None)
    ap.add_argument("--top", type=int, default=15)
    a = ap.parse_args()
    rows = []
    for f in c_files(a.paths):
        for name, line, n in functions(f):
            rows.append((n, f, line, name))
    rows.sort(key=lambda r: (-r[0], r[1], r[2]))
    shown = [r for r in rows if a.over is None or r[0] > a.over]
    for n, f, line, name in shown[: a.top if a.over is None else None]:
        print(f"{n:5d}  {name}  {f}:{line}")
    return 1 if a.over is not None and shown else 0


if __name__ == "__main__":
    sys.exit(main())

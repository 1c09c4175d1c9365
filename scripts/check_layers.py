#!/usr/bin/env python3
"""Check the layer rule: every arrow points down, and no two files call each other.

  scripts/check_layers.py --src DIR LIB.a...      check a built tree
  scripts/check_layers.py --self-test --cc CC     prove the check fails on a bad tree

The rooms, lowest first (one rank may hold several rooms, which must not use
each other):

  reference_impl/lib < reference_impl/server < harness/transport, harness/parse
  < harness/request < harness/fixture, harness/case < harness/run
  < harness/report, harness/lf < harness/cli

Two views of the code are checked, each against the same ranks:

  calls     From the static libraries, `nm` gives each object file the global
            symbols it defines and the ones it uses; a use resolved in another
            object file is an arrow from the user's source file to the
            definer's. An arrow into a higher rank or a sideways one (another
            room of the same rank) is a violation, and so is every circle of
            files (a strongly connected set of two or more files).
  includes  A quoted #include that resolves to a header inside a room (the
            room's own folder, or a library's include/ folder) is an arrow to
            that room; the same rank rule applies. The shared public folder
            harness/include/ is judged by calls alone.

Exit status 0 when clean, 1 with one line per violation otherwise.
Needs python3 (standard library only) and binutils `nm`.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

RANKS = [
    ["reference_impl/lib"],
    ["reference_impl/server"],
    ["harness/transport", "harness/parse"],
    ["harness/request"],
    ["harness/fixture", "harness/case"],
    ["harness/run"],
    ["harness/report", "harness/lf"],
    ["harness/cli"],
]
ROOM_RANK = {room: r for r, rooms in enumerate(RANKS) for room in rooms}

# Circles already known and being taken apart elsewhere, each with the reason.
# One is tolerated only while it holds exactly these files: a circle that grows,
# shrinks or is new fails the check. Delete an entry once its circle is gone
# (the check then says the entry is stale).
KNOWN_CIRCLES = {}
INCLUDE_RE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def room_of(rel):
    """The room a source-relative path lies in, or None (tests, fuzz, ...)."""
    rel = rel.replace(os.sep, "/")
    for room in ROOM_RANK:
        if rel.startswith(room + "/"):
            return room
    return None


def source_files(src):
    """Every .c and .h under the rooms, source-relative."""
    out = []
    for room in ROOM_RANK:
        base = os.path.join(src, room)
        for root, dirs, files in os.walk(base):
            dirs.sort()
            for f in sorted(files):
                if f.endswith((".c", ".h")):
                    out.append(os.path.relpath(os.path.join(root, f), src))
    return out


def arrow_problem(kind, frm, to, what):
    """A violation line for an arrow frm -> to, or None when it points down."""
    a, b = room_of(frm), room_of(to)
    if a is None or b is None or a == b:
        return None
    ra, rb = ROOM_RANK[a], ROOM_RANK[b]
    if rb < ra:
        return None
    way = "up" if rb > ra else "sideways"
    return f"{kind}: {frm} -> {to} ({what}): {a} points {way} to {b}"


def include_dirs(src, rel):
    """Where a quoted include in file rel may resolve, first match wins."""
    dirs = [os.path.dirname(rel)]
    for room in ROOM_RANK:
        inc = room + "/include"
        if os.path.isdir(os.path.join(src, inc)):
            dirs.append(inc)
        dirs.append(room)
        dirs.append(room + "/src")
    return dirs


def check_includes(src):
    problems = []
    for rel in source_files(src):
        with open(os.path.join(src, rel), encoding="utf-8", errors="replace") as fh:
            text = fh.read()
        for name in INCLUDE_RE.findall(text):
            for d in include_dirs(src, rel):
                cand = os.path.normpath(os.path.join(d, name))
                if os.path.isfile(os.path.join(src, cand)):
                    p = arrow_problem("include", rel, cand, name)
                    if p:
                        problems.append(p)
                    break
    return problems


def object_sources(src):
    """Map an object member name (basename.c.o / basename.o) to its source."""
    by_base = {}
    for rel in source_files(src):
        if rel.endswith(".c"):
            base = os.path.basename(rel)
            by_base.setdefault(base, []).append(rel)
    return by_base


def read_symbols(nm, libs):
    """{member: (defined set, undefined set)} over every archive given."""
    table = {}
    for lib in libs:
        out = subprocess.run([nm, "-A", "-P", lib], check=True, capture_output=True,
                             text=True).stdout
        for line in out.splitlines():
            # "lib.a[member.o]: symbol T value size" (GNU nm -A -P)
            head, _, rest = line.partition(": ")
            if not rest:
                head, _, rest = line.partition(" ")
                head = head.rstrip(":")
            m = re.search(r"\[([^\]]+)\]", head) or re.search(r":([^:]+)$", head)
            member = m.group(1) if m else head
            fields = rest.split()
            if len(fields) < 2:
                continue
            sym, kind = fields[0], fields[1]
            d, u = table.setdefault(member, (set(), set()))
            if kind in ("U", "w", "v"):
                u.add(sym)
            elif kind.isupper():
                d.add(sym)
    return table


def member_source(member, by_base):
    base = member[:-2] if member.endswith(".o") else member
    if not base.endswith(".c"):
        base += ".c"
    hits = by_base.get(base, [])
    return hits[0] if len(hits) == 1 else None


def call_graph(src, nm, libs):
    by_base = object_sources(src)
    table = read_symbols(nm, libs)
    definer = {}
    for member, (defined, _) in table.items():
        rel = member_source(member, by_base)
        if rel is None:
            continue  # generated sources (the embedded state document)
        for sym in defined:
            definer[sym] = rel
    graph = {}
    for member, (_, used) in table.items():
        rel = member_source(member, by_base)
        if rel is None:
            continue
        edges = graph.setdefault(rel, {})
        for sym in sorted(used):
            to = definer.get(sym)
            if to is not None and to != rel:
                edges.setdefault(to, sym)
    return graph


def circles(graph):
    """Strongly connected components of two or more files (Tarjan, iterative)."""
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = [0]
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.get(root, {}))))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on.add(root)
        while work:
            node, it = work[-1]
            nxt = next(it, None)
            if nxt is not None:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter[0]
                    counter[0] += 1
                    stack.append(nxt)
                    on.add(nxt)
                    work.append((nxt, iter(sorted(graph.get(nxt, {})))))
                elif nxt in on:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == node:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


def check_calls(src, nm, libs, known=None):
    graph = call_graph(src, nm, libs)
    known = KNOWN_CIRCLES if known is None else known
    problems = []
    for frm in sorted(graph):
        for to, sym in sorted(graph[frm].items()):
            p = arrow_problem("call", frm, to, sym)
            if p:
                problems.append(p)
    found = circles(graph)
    for comp in found:
        if frozenset(comp) in known:
            print(f"known circle, tolerated ({known[frozenset(comp)]}): " + ", ".join(comp))
            continue
        links = []
        for a in comp:
            for b, sym in sorted(graph[a].items()):
                if b in comp:
                    links.append(f"{os.path.basename(a)}->{os.path.basename(b)} ({sym})")
        problems.append("circle: " + ", ".join(comp) + ": " + "; ".join(links))
    for files in known:
        if sorted(files) not in found:
            print("stale KNOWN_CIRCLES entry (that circle is gone; delete it): " +
                  ", ".join(sorted(files)))
    return problems


def check(src, nm, libs, known=None):
    return check_includes(src) + check_calls(src, nm, libs, known)


SELF_TEST_TREE = {
    # lib calls up into the server, and includes a harness room's header.
    "reference_impl/lib/src/low.c":
        '#include "high.h"\nint aipa_low(void);\nint aipa_mid(void);\n'
        "int aipa_low(void) { return aipa_mid() + 1; }\n",
    "reference_impl/server/src/mid.c":
        "int aipa_mid(void);\nint aipa_low(void);\n"
        "int aipa_mid(void) { return 2; }\n",
    "harness/run/high.h": "int aipa_high(void);\n",
    # Two files of one room that call each other: a circle, no rank broken.
    "harness/run/ping.c":
        "int aipa_ping(int n);\nint aipa_pong(int n);\n"
        "int aipa_ping(int n) { return n ? aipa_pong(n - 1) : 0; }\n",
    "harness/run/pong.c":
        "int aipa_ping(int n);\nint aipa_pong(int n);\n"
        "int aipa_pong(int n) { return n ? aipa_ping(n - 1) : 1; }\n",
}


def self_test(cc, nm, ar):
    """Build a small tree that breaks each rule and assert each is reported."""
    tmp = tempfile.mkdtemp(prefix="check_layers.")
    try:
        for rel, text in SELF_TEST_TREE.items():
            path = os.path.join(tmp, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(text)
        libs = []
        for name, files in (("low", ["reference_impl/lib/src/low.c"]),
                            ("mid", ["reference_impl/server/src/mid.c"]),
                            ("high", ["harness/run/ping.c", "harness/run/pong.c"])):
            objs = []
            for rel in files:
                obj = os.path.join(tmp, os.path.basename(rel) + ".o")
                subprocess.run([cc, "-c", "-I", os.path.join(tmp, "harness/run"),
                                os.path.join(tmp, rel), "-o", obj], check=True)
                objs.append(obj)
            lib = os.path.join(tmp, f"lib{name}.a")
            subprocess.run([ar, "rcs", lib] + objs, check=True)
            libs.append(lib)
        problems = check(tmp, nm, libs, known={})
        want = {
            "include up": lambda p: p.startswith("include: reference_impl/lib/src/low.c"),
            "call up": lambda p: p.startswith("call: reference_impl/lib/src/low.c ->"
                                              " reference_impl/server/src/mid.c (aipa_mid)"),
            "circle": lambda p: p.startswith("circle: harness/run/ping.c, harness/run/pong.c"),
        }
        missing = [k for k, f in want.items() if not any(f(p) for p in problems)]
        for p in problems:
            print("  found:", p)
        if missing or len(problems) != len(want):
            print("self-test FAILED; not reported:", ", ".join(missing) or "-",
                  f"({len(problems)} problems for {len(want)} planted)")
            return 1
        print("self-test passed: every planted violation was reported")
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--src", help="source tree root")
    ap.add_argument("--nm", default="nm")
    ap.add_argument("--ar", default="ar")
    ap.add_argument("--cc", default="cc")
    ap.add_argument("--self-test", action="store_true")
    ap.add_argument("libs", nargs="*", help="static libraries of the rooms")
    a = ap.parse_args()
    if a.self_test:
        return self_test(a.cc, a.nm, a.ar)
    if not a.src or not a.libs:
        ap.error("--src and at least one library are required")
    problems = check(a.src, a.nm, a.libs)
    for p in problems:
        print(p)
    if problems:
        print(f"{len(problems)} layer violation(s); the rule: docs/internals/architecture.md")
        return 1
    print("layers clean: every arrow points down, no circle of files")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Compare ciguard's findings with zizmor 1.32's on the dev corpus, by file and line.

Usage: bench/expr-audits-vs-zizmor.py [--ciguard BIN] [--corpus DIR] [--anchors DIR] [-v] AUDIT...

For each audit: zizmor's findings (regular persona, and auditor), how many of them ciguard
reports at the same file and line (with any persona), and what ciguard reports that zizmor
does not. With -v, the lines missed and added, with their text.
"""
import argparse, collections, os, re, subprocess, sys

p = argparse.ArgumentParser()
p.add_argument("--ciguard", default=os.path.join(os.path.dirname(__file__), "..", "target", "debug", "ciguard"))
p.add_argument("--corpus", default="/work/shared/corpus")
p.add_argument("--anchors", default="/work/shared/anchors/zizmor-1.32.0")
p.add_argument("-v", "--verbose", action="store_true")
p.add_argument("audits", nargs="+")
a = p.parse_args()

def zizmor(name):
    out = collections.defaultdict(set)
    with open(os.path.join(a.anchors, name)) as f:
        next(f)
        for line in f:
            cols = line.rstrip("\n").split("\t")
            out[cols[3]].add((cols[0], int(cols[1])))
    return out

LINE = re.compile(r"^(.+?):(\d+):\d+: \w+\[([a-z-]+)\]: ")

def ciguard(persona):
    out = collections.defaultdict(set)
    r = subprocess.run([os.path.abspath(a.ciguard), "audit", "--no-config", "--color", "never", "--persona", persona, "."],
                       cwd=a.corpus, capture_output=True, text=True)
    for line in r.stdout.splitlines():
        m = LINE.match(line)
        if m:
            out[m.group(3)].add((m.group(1).removeprefix("./"), int(m.group(2))))
    return out

zr, za = zizmor("dev-regular.tsv"), zizmor("dev-auditor.tsv")
cr, ca = ciguard("regular"), ciguard("auditor")

def text(path, line):
    try:
        with open(os.path.join(a.corpus, path)) as f:
            return f.read().split("\n")[line - 1].strip()[:120]
    except OSError:
        return "?"

print(f"{'audit':26} {'zizmor':>7} {'matched':>8} {'recall':>7} {'z-audit':>8} {'matched':>8} {'ciguard':>8} {'cg-all':>7} {'extra':>6}")
for audit in a.audits:
    z, zaud, c, call = zr[audit], za[audit], cr[audit], ca[audit]
    m = len(z & call)
    recall = f"{100 * m / len(z):.1f}%" if z else "-"
    print(f"{audit:26} {len(z):7} {m:8} {recall:>7} {len(zaud):8} {len(zaud & call):8} {len(c):8} {len(call):7} {len(call - zaud):6}")
    if a.verbose:
        for path, line in sorted(z - call):
            print(f"  missed  {path}:{line}: {text(path, line)}")
        for path, line in sorted(call - zaud):
            print(f"  extra   {path}:{line}: {text(path, line)}")

#!/usr/bin/env python3
"""Compare ciguard's findings with zizmor 1.32's anchors on the dev corpus, by file and line.

Usage: bench/compare_zizmor.py [--ciguard PATH] [--corpus DIR] [--anchors DIR] [--show N]
       [--persona regular|auditor] AUDIT...

Runs `ciguard audit --persona auditor --no-config` once per corpus repository (as the anchors
were made), then for each audit prints: zizmor's (file, line) count, ours, how many of zizmor's
we reproduce, and up to N examples of each kind of difference. Both sides use the same
persona: `--persona auditor` (the default: every finding, dev-auditor.tsv) or `regular`
(dev-regular.tsv).
"""

import argparse
import collections
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
LINE = re.compile(r"^(?P<path>.+?):(?P<line>\d+):(?P<col>\d+): (?P<sev>\w+)\[(?P<audit>[\w-]+)\]: ")


def anchors(path, wanted):
    out = collections.defaultdict(set)
    with open(path) as f:
        next(f)
        for row in f:
            cols = row.rstrip("\n").split("\t")
            if len(cols) < 4 or cols[3] not in wanted:
                continue
            if len(cols) > 6 and cols[6]:
                continue  # suppressed by an inline ignore
            out[cols[3]].add((cols[0], int(cols[1])))
    return out


def ours(ciguard, corpus, wanted, persona):
    out = collections.defaultdict(set)
    for repo in sorted(os.listdir(corpus)):
        d = os.path.join(corpus, repo)
        if not os.path.isdir(d):
            continue
        p = subprocess.run([ciguard, "audit", "--no-config", "--persona", persona, "--color", "never", repo],
                           cwd=corpus, capture_output=True, text=True)
        for line in p.stdout.splitlines():
            m = LINE.match(line)
            if m and m["audit"] in wanted:
                path = m["path"][2:] if m["path"].startswith("./") else m["path"]
                out[m["audit"]].add((path, int(m["line"])))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ciguard", default=os.path.join(HERE, "..", "target", "debug", "ciguard"))
    ap.add_argument("--corpus", default="/work/shared/corpus")
    ap.add_argument("--anchors", default="/work/shared/anchors/zizmor-1.32.0")
    ap.add_argument("--show", type=int, default=3)
    ap.add_argument("--persona", choices=["regular", "auditor"], default="auditor")
    ap.add_argument("audits", nargs="+")
    a = ap.parse_args()
    wanted = set(a.audits)
    tsv = "dev-auditor.tsv" if a.persona == "auditor" else "dev-regular.tsv"
    auditor = anchors(os.path.join(a.anchors, tsv), wanted)
    got = ours(a.ciguard, a.corpus, wanted, a.persona)
    print(f"{'audit':32} {'zizmor':>7} {'ours':>7} {'reproduced':>11} {'extra':>6}")
    for audit in a.audits:
        theirs = auditor[audit]
        mine = got[audit]
        both = theirs & mine
        pct = f"{100 * len(both) / len(theirs):.1f}%" if theirs else "-"
        print(f"{audit:32} {len(theirs):>7} {len(mine):>7} {len(both):>5} {pct:>5} {len(mine - theirs):>6}")
        for label, diff in (("  missed", theirs - mine), ("  extra ", mine - theirs)):
            for path, line in sorted(diff)[: a.show]:
                print(f"{label} {path}:{line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

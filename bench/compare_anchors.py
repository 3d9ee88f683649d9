#!/usr/bin/env python3
"""Compares ciguard findings with zizmor's anchors by file and line, per audit.

Usage: compare_anchors.py FINDINGS.tsv ANCHORS.tsv [AUDIT ...]

FINDINGS.tsv: one finding a line, `path<TAB>line<TAB>...<TAB>audit...` (column 4 is the audit id),
paths relative to the corpus root — the layout of zizmor's anchors. Prints, per audit, how many
of zizmor's findings ciguard reproduces (same file and line), the ones it misses, and the count of
ciguard-only findings.
"""
import collections
import sys


def load(path):
    rows = collections.defaultdict(set)
    with open(path, encoding="utf-8") as f:
        for line in f:
            cols = line.rstrip("\n").split("\t")
            if len(cols) < 4 or cols[0] == "path":
                continue
            rows[cols[3]].add((cols[0], int(cols[1])))
    return rows


def zizmor_ignored(corpus, path, line, audit):
    """Whether a `# zizmor: ignore[audit]` comment sits near the finding (zizmor drops those from
    its anchors; it honours the comment anywhere in the step, approximated by 3 lines before and
    10 after)."""
    try:
        with open(f"{corpus}/{path}", encoding="utf-8") as f:
            lines = f.read().split("\n")
    except OSError:
        return False
    for text in lines[max(0, line - 4): line + 10]:
        if "zizmor: ignore[" in text and audit in text.split("zizmor: ignore[", 1)[1]:
            return True
    return False


def main():
    corpus = "/work/shared/corpus"
    ours, theirs = load(sys.argv[1]), load(sys.argv[2])
    audits = sys.argv[3:] or sorted(set(ours) | set(theirs))
    for audit in audits:
        a, z = ours.get(audit, set()), theirs.get(audit, set())
        both = a & z
        ignored = {x for x in a - z if zizmor_ignored(corpus, x[0], x[1], audit)}
        a = a - ignored
        pct = 100.0 * len(both) / len(z) if z else 100.0
        print(f"{audit}: zizmor {len(z)}, ciguard {len(a)}, reproduced {len(both)} ({pct:.1f}%), ciguard-only {len(a - z)} (+{len(ignored)} under `zizmor: ignore`)")
        for path, line in sorted(z - a):
            print(f"  missed  {path}:{line}")
        if True:
            for path, line in sorted(a - z):
                print(f"  extra   {path}:{line}")


if __name__ == "__main__":
    main()
